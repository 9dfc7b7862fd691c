"""``beam-ml export NOTEBOOK.ipynb``: the notebook's steps as a module; ``--check``: parity."""

from __future__ import annotations

import argparse
from typing import Any


def add_export(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a saved notebook's %%beam_ml steps as a Beam pipeline module",
        description="Read the %beam_ml / %%beam_ml cells of a saved notebook (running nothing)"
        " and write a pipeline module plus requirements.txt. --check also runs the module"
        " on the notebook's sample and compares each step with the notebook's preview"
        " (exit 0 on parity, 1 on a difference).",
    )
    parser.add_argument("notebook", help="the saved .ipynb")
    parser.add_argument("-o", "--output", default="pipeline.py", help="module to write")
    parser.add_argument(
        "--check", action="store_true", help="run the module on the sample and compare"
    )
    parser.add_argument("--sample", type=int, help="rows of each input for --check")
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --check: also run the module on the full inputs and show each step's "
        "preview verdict beside the full run's",
    )


def run_export(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.exporting import check, export

    result = export(args.notebook, args.output)
    print(result)
    if not args.check:
        return 0
    report = check(args.notebook, args.sample, args.output, beam_args, full=args.full)
    print(report)
    return 0 if report.passed else 1
