"""An exported pipeline on the full flights data (336,776 rows x 19 columns), end to end.

    .venv/bin/python benchmarks/export_bench.py            # median of 3 runs per mode
    .venv/bin/python benchmarks/export_bench.py --quick    # one run per mode

The steps (read -> transform -> profile, and a validate step against the profile)
are exported with ``beam_ml.exporting.module`` and the module runs as a user would run it:
``python pipeline.py --output DIR`` in a fresh process (whole-process wall time:
interpreter start, imports, pipeline construction, run, outputs written), on
DirectRunner with one process and with two worker processes. For scale, pandas
does the same read + filter + describe in memory in one process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from beam_ml import datasets
from beam_ml.exporting import export
from beam_ml.steps import ProfileStep, ReadStep, StepGraph, TransformStep, ValidateStep

BODY = "df = df[df.dep_delay > 0]\ndf['speed'] = df.distance / df.air_time * 60"
PANDAS = f"""
import pandas as pd
df = pd.read_csv({{path!r}})
{BODY}
df.describe(include="all")
"""


def _time(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one run per mode")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    path = datasets.load("flights")
    graph = StepGraph(
        [
            ReadStep("flights", path),
            TransformStep("delayed", "flights", BODY),
            ProfileStep("flights_profile", "flights"),
            ValidateStep("delayed_validate", "delayed", reference="flights_profile"),
        ]
    )
    with tempfile.TemporaryDirectory() as temp:
        module = export(graph, Path(temp) / "pipeline.py").path
        modes = {
            "pandas in memory (read, filter, describe)": [
                sys.executable,
                "-c",
                PANDAS.format(path=path),
            ],
            "exported module, DirectRunner, 1 process": [
                sys.executable,
                module,
                "--output",
                f"{temp}/out1",
            ],
            "exported module, DirectRunner, 2 worker processes": [
                sys.executable,
                module,
                "--output",
                f"{temp}/out2",
                "--direct_num_workers=2",
                "--direct_running_mode=multi_processing",
            ],
        }
        print(f"flights: 336,776 rows x 19 columns; {repeat} run(s) per mode, median seconds")
        print(f"{'mode':<52} {'seconds':>8}")
        for name, argv in modes.items():
            times = [_time(argv) for _ in range(repeat)]
            print(f"{name:<52} {statistics.median(times):>8.1f}")
        rows = sum(1 for f in Path(temp, "out1", "delayed").glob("rows-*.jsonl") for _ in f.open())
        print(f"rows written by the transform step: {rows:,}")


if __name__ == "__main__":
    main()
