"""The ``beam-ml`` command line: ``profile``, ``validate``, ``export``, ``demo``.

Each subcommand is a pair of functions, ``_add_NAME(subparsers)`` and
``_run_NAME(args, beam_args) -> int``, registered in ``COMMANDS``. Arguments a
subcommand does not know are passed through as Beam pipeline options (e.g.
``--runner``). Exit codes: 0 success, 1 a check failed, 2 a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from beam_ml.errors import BeamMLError

USAGE_ERROR = 2


# ---------------------------------------------------------------------------
# demo


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="run the end-to-end demo on the bundled datasets")
    parser.add_argument("--out", default="out", help="folder for the reports (default: out)")
    parser.add_argument("--rows", type=int, default=5, help="rows to show of each dataset")


def _run_demo(args: argparse.Namespace, beam_args: list[str]) -> int:
    import pandas as pd

    from beam_ml import datasets, sources

    for name in datasets.names():
        started = time.perf_counter()
        path = datasets.load(name)
        bad: list[sources.BadRecord] = []
        rows = 0
        frame = pd.DataFrame()
        for batch in sources.iter_batches(path, bad):
            rows += len(batch)
            if frame.empty:
                frame = batch.head(args.rows)
        seconds = time.perf_counter() - started
        print(f"== {name}: {path}")
        print(
            f"   {rows:,} rows x {len(frame.columns)} columns, read in {seconds:.2f} s,"
            f" {len(bad)} bad lines"
        )
        print("   types: " + ", ".join(f"{c}={t}" for c, t in frame.dtypes.astype(str).items()))
        with pd.option_context("display.width", 120, "display.max_columns", 12):
            print(frame.to_string(max_cols=12))
        print()
    return 0


# ---------------------------------------------------------------------------

COMMANDS: dict[
    str, tuple[Callable[[Any], None], Callable[[argparse.Namespace, list[str]], int]]
] = {
    "demo": (_add_demo, _run_demo),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beam-ml",
        description="Profile, validate, preview RunInference and export Beam pipelines.",
        epilog="Unknown --options are passed to Beam as pipeline options (e.g. --runner).",
    )
    parser.add_argument("--verbose", action="store_true", help="show Beam's log lines")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add, _run in COMMANDS.values():
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``beam-ml``; returns the exit code."""
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    stray = [a for a in beam_args if not a.startswith("-")]
    if stray:
        parser.error(f"unexpected argument {stray[0]!r} (see beam-ml {args.command} --help)")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR)
    try:
        return COMMANDS[args.command][1](args, beam_args)
    except BeamMLError as error:
        print(f"beam-ml {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
