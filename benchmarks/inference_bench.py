"""RunInference paths on DirectRunner: direct model, Beam's per-row default, our batches.

    .venv/bin/python benchmarks/inference_bench.py            # 100k and 1M rows, median of 3
    .venv/bin/python benchmarks/inference_bench.py --quick    # one run each
    .venv/bin/python benchmarks/inference_bench.py --rows 100000

Models: LogisticRegression on 16 features, and a torch MLP 20 -> 64 -> 2, both
saved to files and loaded inside each timed run (as a pipeline would). Paths,
each timed as a whole (pipeline construction, model load, run):

- direct:   the model called on numpy batches of 1024 rows, no Beam;
- default:  Beam's RunInference with its own handler, one row per element,
            then Beam's BatchElements (SklearnModelHandlerNumpy / PytorchModelHandlerTensor);
- preview:  beam_ml's RunModel: one element = one pandas batch of
            PREVIEW_BATCH_ROWS (8192) rows, the model runs once per batch, and
            the whole batches and the rows of retried batches are collected
            apart (the path, batch size and outputs preview_inference uses);
- merged:   the same, with the two outputs merged by RunModel's Flatten (the
            default, what an exported pipeline does): DirectRunner writes every
            frame through a buffer there;
- no model: the same batched source and sink, without a model.

Every Beam path reads the same source (slices of one .npy file) and ends in the
same sink (a Beam counter of rows, fused into the last stage and checked against
the row count afterwards), so differences are the inference step itself. The
paths run round-robin (an untimed warm-up round, then 3 timed rounds) so that a
shared machine's drifting load falls evenly on all of them.
"""

from __future__ import annotations

import argparse
import functools
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from beam_ml.inference.preview import PREVIEW_BATCH_ROWS

SOURCE_CHUNK = 49_152  # rows one source element reads from the .npy (a multiple of 8192)
BATCH = 1024
N_COLS = 20
LR_FEATURES = [f"f{i}" for i in range(16)]
MLP_FEATURES = [f"f{i}" for i in range(N_COLS)]


class MLP(torch.nn.Module):
    def __init__(self, n_in: int = 20, hidden: int = 64, n_out: int = 2) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def make_inputs(folder: str, rows: int) -> dict[str, str]:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    data = rng.standard_normal((rows, N_COLS)).astype(np.float32)
    data_path = os.path.join(folder, f"data_{rows}.npy")
    np.save(data_path, data)
    train = data[:10_000, :16].astype(np.float64)
    labels = (train @ rng.standard_normal(16) > 0).astype(int)
    lr = LogisticRegression(max_iter=1000).fit(train, labels)
    lr_path = os.path.join(folder, "lr.pkl")
    with open(lr_path, "wb") as handle:
        pickle.dump(lr, handle)
    torch.manual_seed(0)
    mlp_path = os.path.join(folder, "mlp.pt")
    torch.save(MLP().state_dict(), mlp_path)
    return {"data": data_path, "lr": lr_path, "mlp": mlp_path}


# --------------------------------------------------------------------------- sources


class ReadFrames:
    """Source element (a chunk number) -> pandas batches of ``rows`` rows."""

    def __init__(self, path: str, rows: int) -> None:
        self.path, self.rows = path, rows

    def __call__(self, chunk: int):
        data = np.load(self.path, mmap_mode="r")
        block = np.asarray(data[chunk * SOURCE_CHUNK : (chunk + 1) * SOURCE_CHUNK])
        frame = pd.DataFrame(block, columns=MLP_FEATURES)
        frame.index += chunk * SOURCE_CHUNK
        for start in range(0, len(frame), self.rows):
            yield frame.iloc[start : start + self.rows]


class ReadRows:
    """Source element (a chunk number) -> one numpy row (or tensor) per element."""

    def __init__(self, path: str, width: int, tensors: bool) -> None:
        self.path, self.width, self.tensors = path, width, tensors

    def __call__(self, chunk: int):
        data = np.load(self.path, mmap_mode="r")
        block = np.array(data[chunk * SOURCE_CHUNK : (chunk + 1) * SOURCE_CHUNK, : self.width])
        if self.tensors:
            yield from torch.from_numpy(block)
        else:
            yield from block.astype(np.float64)


class _CountRows:
    """The sink: add each element's size to a Beam counter (fused; no extra stage)."""

    def __init__(self, size: Callable) -> None:
        self.size = size

    def __call__(self, element: Any) -> None:
        from apache_beam.metrics.metric import Metrics

        Metrics.counter("bench", "rows").inc(self.size(element))


def _count(p, elements, size: Callable = len, label: str = "") -> None:
    import apache_beam as beam

    _ = elements | f"{label}Count" >> beam.Map(_CountRows(size))


def _chunks(p, rows: int):
    import apache_beam as beam

    return p | "Chunks" >> beam.Create(list(range((rows + SOURCE_CHUNK - 1) // SOURCE_CHUNK)))


def _run(build: Callable, rows: int) -> None:
    """Run the pipeline; check that the sink saw every row (a lost row fails the bench)."""
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    p = beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"]))
    build(p)
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("rows"))["counters"]
    counted = sum(c.committed for c in counters)
    if counted != rows:
        raise AssertionError(f"the sink counted {counted:,} rows, expected {rows:,}")


# --------------------------------------------------------------------------- paths


def direct(model: str, files: dict[str, str], rows: int) -> None:
    data = np.load(files["data"], mmap_mode="r")
    if model == "lr":
        with open(files["lr"], "rb") as handle:
            lr = pickle.load(handle)
        for start in range(0, rows, BATCH):
            lr.predict(np.asarray(data[start : start + BATCH, :16], dtype=np.float64))
        return
    mlp = MLP()
    mlp.load_state_dict(torch.load(files["mlp"]))
    mlp.eval()
    with torch.no_grad():
        for start in range(0, rows, BATCH):
            mlp(torch.from_numpy(np.array(data[start : start + BATCH])))


def beam_default(model: str, files: dict[str, str], rows: int) -> None:
    import apache_beam as beam
    from apache_beam.ml.inference.base import RunInference

    if model == "lr":
        from apache_beam.ml.inference.sklearn_inference import SklearnModelHandlerNumpy

        handler: Any = SklearnModelHandlerNumpy(model_uri=files["lr"])
        reader = ReadRows(files["data"], 16, tensors=False)
    else:
        from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

        handler = PytorchModelHandlerTensor(
            state_dict_path=files["mlp"], model_class=MLP, model_params={}, device="CPU"
        )
        reader = ReadRows(files["data"], N_COLS, tensors=True)

    def build(p):
        rows_pc = _chunks(p, rows) | "Rows" >> beam.FlatMap(reader)
        _count(p, rows_pc | RunInference(handler), size=lambda _: 1)

    _run(build, rows)


def preview_path(model: str, files: dict[str, str], rows: int, flatten: bool = False) -> None:
    import apache_beam as beam
    from beam_ml.inference.preview import PytorchModel, RunModel, SklearnModel

    spec: Any
    if model == "lr":
        spec = SklearnModel(path=files["lr"], features=LR_FEATURES)
    else:
        spec = PytorchModel(path=files["mlp"], model_class="__main__:MLP", features=MLP_FEATURES)

    def build(p):
        reader = ReadFrames(files["data"], PREVIEW_BATCH_ROWS)
        batches = _chunks(p, rows) | "Batches" >> beam.FlatMap(reader)
        out = batches | RunModel(spec, device="CPU", passthrough=False, flatten=flatten)
        if flatten:
            _count(p, out)
        else:
            _count(p, out["predictions"])
            _count(p, out["retried"], label="Retried ")

    _run(build, rows)


def no_model(model: str, files: dict[str, str], rows: int) -> None:
    import apache_beam as beam

    def build(p):
        reader = ReadFrames(files["data"], PREVIEW_BATCH_ROWS)
        batches = _chunks(p, rows) | "Batches" >> beam.FlatMap(reader)
        _count(p, batches)

    _run(build, rows)


PATHS = {
    "direct": direct,
    "default": beam_default,
    "preview": preview_path,
    "merged": functools.partial(preview_path, flatten=True),
    "no model": no_model,
}


def timed(fn: Callable) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per path, not 3")
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument(
        "--paths", nargs="*", default=list(PATHS), choices=list(PATHS), help="paths to time"
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=list(PATHS), help="paths to skip")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 3
    import logging
    import warnings

    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    # One torch thread for every path: on a shared 2-core machine torch's
    # intra-op threads spin against other processes and make timings erratic.
    torch.set_num_threads(args.torch_threads)
    print(
        f"# inference_bench: median of {repeat}; cores={os.cpu_count()}; "
        f"torch threads={args.torch_threads}; load average {os.getloadavg()[0]:.1f} at start"
    )
    with tempfile.TemporaryDirectory(prefix="beam-ml-bench-") as folder:
        for rows in args.rows:
            files = make_inputs(folder, rows)
            runs = [
                (model, name)
                for model in ("lr", "mlp")
                for name in PATHS
                if name in args.paths and name not in args.skip
            ]
            # Round-robin, not path after path: on a shared machine the load
            # drifts, and interleaving spreads it evenly over the paths. Round 0
            # is an untimed warm-up (one-off imports: Beam's ML modules, torch).
            times: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
            for round_ in range(repeat + 1):
                for model, name in runs:
                    if round_ == 0 and name == "default" and rows > 100_000:
                        continue  # the per-row path is too slow to run twice for a warm-up
                    seconds = timed(functools.partial(PATHS[name], model, files, rows))
                    if round_:
                        times[(model, name)].append(seconds)
                        print(f"  {rows:>9,} {model:<4} {name:<8} {seconds:8.3f} s",
                              file=sys.stderr, flush=True)  # fmt: skip
            results = {run: statistics.median(values) for run, values in times.items()}
            report(rows, results)
    return 0


def report(rows: int, r: dict[tuple[str, str], float]) -> None:
    print(f"\n## {rows:,} rows, DirectRunner, whole run incl. model load (seconds)")
    print("| path | LogisticRegression, 16 features | torch MLP 20->64->2 |")
    print("|---|---|---|")
    for name, label in (
        ("direct", "model called directly, numpy batches of 1024"),
        ("default", "Beam default RunInference (one row per element)"),
        ("preview", f"beam_ml RunModel (pre-batched pandas, {PREVIEW_BATCH_ROWS} rows)"),
        ("merged", "same, outputs merged by a Flatten (RunModel's default)"),
        ("no model", "same source and sink, no model"),
    ):
        cells = []
        for model in ("lr", "mlp"):
            if (model, name) not in r or (model, "direct") not in r:
                cells.append(f"{r[(model, name)]:.3f}" if (model, name) in r else "-")
                continue
            value = r[(model, name)]
            ratio = value / r[(model, "direct")]
            shown = f"{value:.3f}" if name == "direct" else f"{value:.3f} ({ratio:.1f}x direct)"
            cells.append(shown)
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    print()
    for model, label in (("lr", "LogisticRegression"), ("mlp", "torch MLP")):
        parts = []
        if (model, "default") in r and (model, "preview") in r:
            speedup = r[(model, "default")] / r[(model, "preview")]
            parts.append(f"default/preview = {speedup:.1f}x (target >= 5x on 1M)")
        if all((model, n) in r for n in ("preview", "no model", "direct")):
            extra = r[(model, "preview")] - r[(model, "no model")]
            parts.append(
                f"(preview - no model)/direct = {extra / r[(model, 'direct')]:.2f}x "
                "(target <= 1.5x on 1M)"
            )
        if all((model, n) in r for n in ("merged", "no model", "direct")):
            extra = r[(model, "merged")] - r[(model, "no model")]
            parts.append(f"(merged - no model)/direct = {extra / r[(model, 'direct')]:.2f}x")
        if parts:
            print(f"{label}: " + "; ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
