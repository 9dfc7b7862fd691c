"""Notebook latency: ``%load_ext beam_ml`` and each ``%beam_ml`` magic, in a real IPython.

    .venv/bin/python benchmarks/notebook_latency.py                 # penguins and flights
    .venv/bin/python benchmarks/notebook_latency.py --dataset penguins --repeats 5
    .venv/bin/python benchmarks/notebook_latency.py --direct        # also on DirectRunner

For each dataset (penguins: all 344 rows; flights: a uniform 1,000-row sample of
336,776) a fresh ``IPython.core.interactiveshell.InteractiveShell`` runs the
magics as a notebook does, through ``run_line_magic``:

- ``first``: the magic's first call in the process (it imports what it needs);
- ``new``: the same magic on a fresh preview (the session's cache cleared, the
  read re-done untimed): what editing a cell costs once everything is imported;
  the median of ``--repeats``;
- ``cached``: the magic again, unchanged: the session's cache answers.

``%load_ext beam_ml`` is timed in a fresh Python process each (median of
``--repeats``), since its cost is what it imports. Targets (issue 14): a preview
of profile, validate, infer and compare on a 1,000-row sample ≤ 0.3 s once the
extension is loaded (the ``new`` column); ``%load_ext`` ≤ 1 s.

With ``--direct`` the previews are also timed with ``BEAM_ML_RUNNER=direct``
(DirectRunner, what previews used before the local runner).
Timings depend on the machine's load: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS = {"profile": 0.3, "validate": 0.3, "infer": 0.3, "compare": 0.3}
LOAD_TARGET = 1.0
FEATURES = {
    "penguins": ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"),
    "flights": ("month", "day", "distance", "hour"),
}
LABEL = {"penguins": "species", "flights": "origin"}


def load_ext_seconds(repeats: int) -> float:
    """``%load_ext beam_ml`` in a fresh interpreter with IPython already imported."""
    code = (
        "import time\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "t = time.perf_counter()\n"
        "shell.run_line_magic('load_ext', 'beam_ml')\n"
        "print(time.perf_counter() - t)\n"
    )
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def models(dataset: str, path: str, folder: Path) -> tuple[str, str]:
    """Two small scikit-learn classifiers trained on the dataset, as pickles."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    features = list(FEATURES[dataset])
    frame = pd.read_csv(path, nrows=20_000).dropna(subset=[*features, LABEL[dataset]])
    specs = []
    for name, model in (
        ("lr", LogisticRegression(max_iter=500)),
        ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
    ):
        model.fit(frame[features].to_numpy(), frame[LABEL[dataset]])
        target = folder / f"{dataset}_{name}.pkl"
        target.write_bytes(pickle.dumps(model))
        specs.append(f"sklearn:{target}")
    return specs[0], specs[1]


def timed(shell: Any, line: str) -> float:
    from IPython.utils.capture import capture_output

    start = time.perf_counter()
    with capture_output():
        shell.run_line_magic("beam_ml", line)
    return time.perf_counter() - start


def magics(dataset: str, path: str, folder: Path, repeats: int) -> list[tuple[str, ...]]:
    """(magic, first, new, cached) seconds for one dataset in a fresh shell."""
    from IPython.core.interactiveshell import InteractiveShell

    a, b = models(dataset, path, folder)
    features = ",".join(FEATURES[dataset])
    read = f"read {dataset} {path} --sample 1000"
    lines = {
        "read": read,
        "profile": f"profile {dataset}",
        "validate": f"validate {dataset} --reference {dataset}_profile",
        "infer": f"infer {dataset} --model {a} --features {features}",
        "compare": f"compare {dataset} --model {a} --model {b} --features {features}",
    }
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "beam_ml")
    from beam_ml.notebook.magics import session

    rows = []
    try:
        for magic, line in lines.items():
            first = timed(shell, line)
            news = []
            for _ in range(repeats):
                session(shell).clear_cache()
                for earlier in lines.values():  # the inputs again, untimed
                    if earlier == line:
                        break
                    timed(shell, earlier)
                news.append(timed(shell, line))
            cached = timed(shell, line)
            rows.append((magic, first, statistics.median(news), cached))
    finally:
        InteractiveShell.clear_instance()
    return rows


def verdict(seconds: float, target: float | None) -> str:
    if target is None:
        return "–"
    return "ok" if seconds <= target else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("penguins", "flights", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--direct", action="store_true", help="also time on DirectRunner")
    args = parser.parse_args()
    import warnings

    warnings.filterwarnings("ignore")
    import beam_ml as bml

    datasets = ("penguins", "flights") if args.dataset == "both" else (args.dataset,)
    runners = [("local", None), *([("direct", "direct")] if args.direct else [])]
    print(f"notebook latency (load average {os.getloadavg()[0]:.1f}; noisy when above ~1)")
    load = load_ext_seconds(args.repeats)
    print(f"\n%load_ext beam_ml: {load:.3f} s  (target <= {LOAD_TARGET} s: "
          f"{verdict(load, LOAD_TARGET)})")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name, env in runners:
            if env:
                os.environ["BEAM_ML_RUNNER"] = env
            else:
                os.environ.pop("BEAM_ML_RUNNER", None)
            for dataset in datasets:
                path = str(bml.datasets.load(dataset))
                rows = magics(dataset, path, Path(tmp), args.repeats)
                print(f"\n{dataset}, 1,000-row sample, previews on the {name} runner")
                print(f"{'magic':10} {'first':>8} {'new':>8} {'cached':>8} {'target':>8}  verdict")
                for magic, first, new, cached in rows:
                    target = TARGETS.get(magic)
                    shown = f"{target:.1f}" if target else "–"
                    print(
                        f"{magic:10} {first:8.3f} {new:8.3f} {cached:8.4f} {shown:>8}  "
                        f"{verdict(new, target)}"
                    )


if __name__ == "__main__":
    main()
