"""``beam-ml demo``: the story of the tutorial notebooks, end to end, on bundled data.

1. Quickstart: profile the penguins, infer rules, validate a faulty copy.
2. Flights: profile 336,776 flights, check July against rules learnt from January.
3. Inference: train a scikit-learn and a torch model, preview, A/B, cascade.
4. Production: export the steps as a pipeline module, run it on DirectRunner with
   two worker processes, and check parity with the notebook preview.

Every step writes an HTML report into the output folder. Models are trained
here on the bundled data: nothing is downloaded.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beam_ml import datasets
from beam_ml.inference.preview import compare_models, preview_inference
from beam_ml.profiling.dataset import profile
from beam_ml.rendering import page
from beam_ml.validation import infer_rules, validate

PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def write_report(result: Any, path: Path, title: str) -> Path:
    """Write a result's standalone HTML report (its own page when it makes one)."""
    import inspect

    if "path" in inspect.signature(result.to_html).parameters:
        result.to_html(str(path))  # a profile or report writes its own page, with its source
    else:
        path.write_text(page(title, result.to_html()), encoding="utf-8")
    return path


class _Story:
    """Runs the chapters, timing each, and remembers what it wrote."""

    def __init__(self, out: Path, say: Callable[[str], None]) -> None:
        self.out = out
        self.say = say
        self.written: list[Path] = []
        out.mkdir(parents=True, exist_ok=True)

    def report(self, result: Any, name: str, title: str) -> None:
        self.written.append(write_report(result, self.out / name, title))

    def chapter(self, title: str, run: Callable[[], None]) -> None:
        started = time.perf_counter()
        self.say(f"== {title}")
        run()
        self.say(f"   done in {time.perf_counter() - started:.1f} s\n")


def faulty_penguins(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the penguins with the faults a real feed has: nulls, outliers, a new class."""
    faulty = frame.copy()
    faulty.loc[faulty.index[:60], "bill_length_mm"] = np.nan  # a spike of nulls
    faulty.loc[faulty.index[60:70], "body_mass_g"] = 60_000.0  # grams typed as milligrams
    faulty.loc[faulty.index[70:80], "species"] = "Emperor"  # a class never seen before
    return pd.concat([faulty, faulty.iloc[:40]])  # duplicated rows


def quickstart(story: _Story) -> None:
    path = datasets.load("penguins")
    penguins = profile(path)
    story.report(penguins, "01_penguins_profile.html", "Penguins: profile")
    story.say(f"   profiled {penguins.rows} penguins: {len(penguins.alerts)} alerts")
    rules = infer_rules(penguins)
    rules_path = story.out / "penguins_rules.yaml"
    rules.to_yaml(str(rules_path))
    story.written.append(rules_path)
    faulty = faulty_penguins(pd.read_csv(path))
    report = validate(faulty, rules)
    story.report(report, "01_penguins_validation.html", "Penguins: a faulty copy, validated")
    invalid = story.out / "01_penguins_invalid_rows.jsonl"
    report.write_invalid_rows(str(invalid))
    story.written.append(invalid)
    failed = sum(not c["passed"] for c in report.to_dict()["checks"])
    story.say(
        f"   faulty copy: {failed} checks failed, {report.rows['invalid']} of"
        f" {report.rows['total']} rows quarantined"
    )


def flights(story: _Story) -> None:
    path = datasets.load("flights")
    everything = profile(path)
    story.report(everything, "02_flights_profile.html", "Flights 2013: profile")
    story.say(f"   profiled {everything.rows:,} flights, {len(everything.columns)} columns")
    frame = pd.read_csv(path)
    months = frame.month
    # Compare what a flight looks like, not when it flew: drop the calendar columns.
    frame = frame.drop(columns=["year", "month", "day", "time_hour"])
    january, july = frame[months == 1], frame[months == 7]
    reference = profile(january)
    report = validate(july, infer_rules(reference), reference=reference)
    story.report(report, "02_flights_july_vs_january.html", "Flights: July against January")
    failed = [f"{c.rule}:{c.column}" for c in report.failures]
    story.say(f"   July vs January: {len(failed)} checks failed: {', '.join(failed[:6])}")


def train_models(folder: Path) -> dict[str, str]:
    """Train a scikit-learn and a torch classifier of penguin species; save them."""
    import pickle

    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(datasets.load("penguins")).dropna(subset=PENGUIN_FEATURES)
    x = frame[PENGUIN_FEATURES].to_numpy(dtype="float32")
    y = frame.species.to_numpy()
    sklearn_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    folder.mkdir(parents=True, exist_ok=True)
    sklearn_path = folder / "penguins_logreg.pkl"
    sklearn_path.write_bytes(pickle.dumps(sklearn_model))

    torch.manual_seed(0)
    classes = sorted(set(y))
    target = torch.tensor([classes.index(v) for v in y])
    mean, std = x.mean(axis=0), x.std(axis=0)
    inputs = torch.tensor((x - mean) / std)
    net = torch.nn.Sequential(
        torch.nn.Linear(len(PENGUIN_FEATURES), 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
    )
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(200):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(inputs), target).backward()
        optimiser.step()

    class Standardised(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner
            self.register_buffer("mean", torch.tensor(mean))
            self.register_buffer("std", torch.tensor(std))

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            # Buffers are typed as Module attributes; TorchScript knows they are tensors.
            return self.inner((features - self.mean) / self.std)  # type: ignore[operator]

    torch_path = folder / "penguins_mlp.pt"
    torch.jit.script(Standardised(net).eval()).save(str(torch_path))
    (folder / "classes.json").write_text(json.dumps(classes))
    return {"sklearn": f"sklearn:{sklearn_path}", "torch": f"torchscript:{torch_path}"}


def inference(story: _Story) -> None:
    from beam_ml.inference.specs import parse_model_spec

    models = train_models(story.out / "models")
    path = datasets.load("penguins")
    frame = pd.read_csv(path).dropna(subset=PENGUIN_FEATURES)
    sklearn_model = parse_model_spec(models["sklearn"], features=PENGUIN_FEATURES)
    classes = json.loads((story.out / "models" / "classes.json").read_text())
    torch_model = parse_model_spec(models["torch"], features=PENGUIN_FEATURES, classes=classes)
    preview = preview_inference(frame, sklearn_model, sample=1000, device="auto")
    story.report(preview, "03_inference_sklearn.html", "Inference preview: scikit-learn")
    story.say(f"   scikit-learn: {len(preview.predictions)} predictions; {preview.device_reason}")
    asked_gpu = preview_inference(frame, torch_model, sample=1000, device="gpu")
    story.report(asked_gpu, "03_inference_torch.html", "Inference preview: torch")
    story.say(f"   torch: {asked_gpu.device_reason}")
    ab = compare_models(frame, sklearn_model, torch_model, sample=1000)
    story.report(ab, "03_inference_ab.html", "A/B: scikit-learn vs torch")
    agreement = ab.to_dict().get("agreement")
    story.say(f"   A/B agreement: {agreement}")


def production(story: _Story) -> None:
    """The notebook's steps as a session, exported, run with two workers, checked."""
    import subprocess
    import sys

    from beam_ml.exporting import check, export
    from beam_ml.notebook.session import Session
    from beam_ml.steps import InferStep, ProfileStep, ReadStep, TransformStep, ValidateStep

    session = Session(default_sample=200)
    session.add(ReadStep(name="penguins", path=datasets.load("penguins")))
    body = (
        f"df = df.dropna(subset={PENGUIN_FEATURES!r})\n"
        "df['bill_ratio'] = df.bill_length_mm / df.bill_depth_mm"
    )
    session.add(TransformStep(name="measured", input="penguins", body=body))
    session.add(ProfileStep(name="measured_profile", input="measured"))
    session.add(
        ValidateStep(name="measured_validate", input="measured", reference="measured_profile")
    )
    model = f"sklearn:{story.out / 'models' / 'penguins_logreg.pkl'}"
    features = tuple(PENGUIN_FEATURES)
    session.add(InferStep(name="species", input="measured", model=model, features=features))
    module = story.out / "pipeline.py"
    export(session, module)
    story.written += [module, story.out / "requirements.txt"]
    story.say(f"   exported {len(session.names())} steps to {module}")
    output = story.out / "pipeline_output"
    workers = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    command = [sys.executable, str(module), "--output", str(output), *workers]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the exported pipeline failed:\n{done.stderr[-3000:]}")
    files = sorted(p for p in output.rglob("*") if p.is_file())
    story.say(f"   ran it on DirectRunner with 2 processes: {len(files)} files in {output}")
    parity = check(session)
    story.report(parity, "04_parity.html", "Parity: exported module vs notebook preview")
    story.say(f"   parity with the preview: {'yes' if parity.passed else 'NO'}")
    if not parity.passed:
        raise RuntimeError(f"the exported module differs from the preview:\n{parity}")


CHAPTERS = (
    ("1. Quickstart: profile the penguins, validate a faulty copy", quickstart),
    ("2. Flights: a profile of 336,776 rows, July against January", flights),
    ("3. Inference preview: scikit-learn and torch, A/B", inference),
    ("4. Production: export, run with two workers, check parity", production),
)


def run(out: str = "out", say: Callable[[str], None] = print) -> list[Path]:
    """Run the whole demo into ``out``; return the files written."""
    story = _Story(Path(out), say)
    for title, chapter in CHAPTERS:
        story.chapter(title, functools.partial(chapter, story))
    say("Wrote:")
    for path in story.written:
        say(f"   {path}")
    return story.written


# ``beam-ml demo``


def add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the end-to-end demo on the bundled datasets, reports into --out"
    )
    parser.add_argument("--out", default="out", help="folder for the reports (default: out)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def run_demo(args: argparse.Namespace, beam_args: list[str]) -> int:
    run(args.out)
    return 0
