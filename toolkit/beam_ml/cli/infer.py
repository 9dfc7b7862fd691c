"""``beam-ml infer``: preview RunInference on a sample of a dataset, from a shell.

    beam-ml infer penguins.csv --model sklearn:model.pkl --features bill_length_mm,bill_depth_mm
    beam-ml infer data.parquet --model pytorch:mlp.pt --model-class mypkg.nets:MLP \\
        --model-params '{"width": 64}' --device gpu --require-gpu
    beam-ml infer data.csv --model sklearn:a.pkl --model-b sklearn:b.pkl --split 0.5

It is a ``_add_NAME`` / ``_run_NAME`` pair like the other subcommands of
:mod:`beam_ml.cli.main` (registered there as ``"infer": (add_infer_parser, run_infer)``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from beam_ml.cli.reading import add_read_options, data_source
from beam_ml.errors import BeamMLError


def add_infer_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "infer",
        help="preview RunInference on a sample: predictions, failed rows, device, metrics",
        description="Run Beam's RunInference on DirectRunner over a bounded sample of PATH "
        "(the first N rows, or a uniform sample with --random) and print what ran where. "
        "Unknown --options go to Beam as pipeline options.",
    )
    parser.add_argument("path", metavar="PATH", help="data: CSV, Parquet or JSON Lines")
    parser.add_argument(
        "--model", required=True, metavar="KIND:PATH",
        help="sklearn:PATH, pytorch:PATH (with --model-class), torchscript:PATH, "
        "custom:pkg.mod:handler",
    )  # fmt: skip
    parser.add_argument("--model-b", metavar="KIND:PATH", help="a second model: A/B comparison")
    parser.add_argument("--split", type=float, help="with --model-b: share of rows sent to A")
    parser.add_argument("--features", metavar="A,B", help="feature columns, in model order")
    parser.add_argument("--key", help="a key column carried through untouched (it may repeat)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--require-gpu", action="store_true", help="fail instead of using CPU")
    parser.add_argument("--sample", type=int, default=1000, metavar="N", help="rows (1000)")
    parser.add_argument("--random", action="store_true", help="a uniform sample, not the head")
    parser.add_argument("--seed", type=int, default=0, help="seed of --random")
    parser.add_argument("--method", choices=("predict", "predict_proba"), help="scikit-learn")
    parser.add_argument("--model-class", metavar="PKG.MOD:CLASS", help="PyTorch state dict")
    parser.add_argument("--model-params", metavar="JSON", help="PyTorch constructor params")
    parser.add_argument("--classes", metavar="A,B", help="labels of a PyTorch model's outputs")
    parser.add_argument("--preprocess", metavar="PKG.MOD:FN", help="DataFrame -> DataFrame")
    parser.add_argument("--postprocess", metavar="PKG.MOD:FN", help="DataFrame -> DataFrame")
    parser.add_argument(
        "--label", metavar="COL",
        help="column of true values: accuracy, F1, ROC AUC... or MAE, RMSE, R2; with --model-b "
        "also champion (A) vs challenger (B)",
    )  # fmt: skip
    parser.add_argument(
        "--task", choices=("auto", "classification", "regression"), default="auto",
        help="with --label (auto: from the predictions)",
    )  # fmt: skip
    parser.add_argument("--csv", metavar="OUT", help="write the predictions as CSV")
    parser.add_argument("--json", metavar="OUT", help="write the whole preview as JSON")
    parser.add_argument("--html", metavar="OUT", help="write the preview as an HTML page")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_read_options(parser)


def _spec(text: str, args: argparse.Namespace) -> Any:
    from beam_ml.inference import parse_model_spec

    options: dict[str, Any] = {"features": args.features, "key": args.key}
    for name in ("method", "model_class", "model_params", "preprocess", "postprocess"):
        options[name] = getattr(args, name)
    if args.classes:
        options["classes"] = [c.strip() for c in args.classes.split(",")]
    return parse_model_spec(text, **options)


def run_infer(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.inference import compare_models, preview_inference
    from beam_ml.inference.view import render_page

    common: dict[str, Any] = {
        "sample": args.sample,
        "device": args.device,
        "require_gpu": args.require_gpu,
        "how": "random" if args.random else "head",
        "seed": args.seed,
        "label": args.label,
        "task": args.task,
        "options": ["--runner=DirectRunner", *beam_args] if beam_args else None,
    }
    if args.split is not None and not args.model_b:
        raise BeamMLError.expected("--model-b with --split", "only --model", "add --model-b")
    if args.model_b:
        result: Any = compare_models(
            data_source(args.path, args, quiet=args.quiet), _spec(args.model, args),
            _spec(args.model_b, args), split=args.split,
            key=args.key, **common,
        )  # fmt: skip
    else:
        source = data_source(args.path, args, quiet=args.quiet)
        result = preview_inference(source, _spec(args.model, args), key=args.key, **common)
    from beam_ml.writing import replacing, write_text

    if args.csv:
        with replacing(args.csv) as temp:
            result.predictions.to_csv(temp)
    if args.json:  # under a temporary name, renamed when complete (an interrupted run: none)
        write_text(args.json, result.to_json())
    if args.html:
        write_text(args.html, render_page(result.to_dict()))
    if not args.quiet:
        print(result._repr_mimebundle_()["text/plain"])
        for line in evaluation_lines(result.evaluation):
            print(line)
    return 0


def evaluation_lines(evaluation: dict[str, Any] | None) -> list[str]:
    """A few plain lines of label metrics (4 significant digits) and the verdict.

    >>> evaluation_lines({"label": "y", "metrics": {"task": "regression", "rows": 9,
    ...                   "mae": 1.5, "rmse": 2.0, "r2": 0.5}})
    ['metrics against y: model: 9 rows, MAE 1.5, RMSE 2, R2 0.5']
    """
    if not evaluation:
        return []
    models = evaluation.get("models") or {"model": evaluation.get("metrics") or {}}
    parts = []
    for name, m in models.items():
        if m.get("task") == "classification" and m.get("accuracy") is not None:
            text = f"accuracy {m['accuracy']:.4g}, F1 macro {m['f1_macro']:.4g}"
            if m.get("roc_auc") is not None:
                text += f", ROC AUC {m['roc_auc']:.4g}"
        elif m.get("mae") is not None:
            text = f"MAE {m['mae']:.4g}, RMSE {m['rmse']:.4g}, R2 {m['r2']:.4g}"
        else:
            text = "no labelled rows"
        parts.append(f"{name}: {m.get('rows', 0)} rows, {text}")
    lines = [f"metrics against {evaluation.get('label')}: " + "; ".join(parts)]
    versus = evaluation.get("versus")
    if versus:
        low, high = versus["difference_ci"]
        ci = f" [{low:.4g}, {high:.4g}]" if low is not None and high is not None else ""
        diff = versus["difference"]
        lines.append(
            f"champion {versus['champion']} vs challenger {versus['challenger']} "
            f"({versus['metric']}, {versus['test']}): difference "
            f"{'n/a' if diff is None else format(diff, '.4g')}{ci}: {versus['verdict']}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """``beam-ml infer`` on its own (what :mod:`beam_ml.cli.main` runs once registered)."""
    parser = argparse.ArgumentParser(prog="beam-ml")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_infer_parser(subparsers)
    args, beam_args = parser.parse_known_args(argv)
    try:
        return run_infer(args, beam_args)
    except BeamMLError as error:
        print(f"beam-ml infer: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
