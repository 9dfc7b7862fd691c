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

from beam_ml.cli.infer import add_infer_parser, run_infer
from beam_ml.errors import BeamMLError

USAGE_ERROR = 2


# ---------------------------------------------------------------------------
# demo


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the end-to-end demo on the bundled datasets, reports into --out"
    )
    parser.add_argument("--out", default="out", help="folder for the reports (default: out)")


def _run_demo(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.cli import demo

    demo.run(args.out)
    return 0


# ---------------------------------------------------------------------------
# profile


def _add_profile(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="profile a dataset: types, statistics, sketches, correlations, alerts",
        description="Profile PATH (CSV, Parquet, JSON Lines; a file or a glob) in a Beam "
        "pipeline. Unknown --options go to Beam, e.g. --runner or --direct_num_workers.",
    )
    parser.add_argument("path", metavar="PATH", help="data to profile: a file or a glob")
    parser.add_argument("--sample", type=int, metavar="N", help="profile only the first N rows")
    parser.add_argument("--json", metavar="OUT", help="write the profile as JSON")
    parser.add_argument("--html", metavar="OUT", help="write a standalone HTML report")
    parser.add_argument("--quiet", action="store_true", help="print no summary and no progress")


def _run_profile(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.profiling.dataset import profile

    started = time.perf_counter()
    progress = not args.quiet and sys.stderr.isatty()
    result = profile(args.path, sample=args.sample, options=beam_args or None, progress=progress)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(result.to_json(indent=1))
    if args.html:
        result.to_html(args.html)
    if not args.quiet:
        print(result)
        print(f"profiled {result.rows:,} rows in {time.perf_counter() - started:.1f} s")
    return 0


# ---------------------------------------------------------------------------
# validate


def _add_validate(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check data against rules (or a reference), quarantine invalid rows",
        description="Check PATH against rules inferred from --reference or read from --rules. "
        "Exit code 0: every check passed; 1: a check failed; 2: a usage error.",
    )
    parser.add_argument("path", metavar="PATH", help="data to check: a file or a glob")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--reference",
        metavar="REF_PATH",
        help="reference data (or a profile JSON from Profile.to_json) to infer rules from",
    )
    given.add_argument("--rules", metavar="RULES.yaml", help="a rules YAML file")
    parser.add_argument("--write-rules", metavar="OUT.yaml", help="write the rules used as YAML")
    parser.add_argument("--json", metavar="OUT", help="write the report as JSON")
    parser.add_argument("--html", metavar="OUT", help="write the report as HTML")
    parser.add_argument(
        "--invalid-rows", metavar="OUT", help="write the invalid rows as JSON Lines"
    )
    parser.add_argument("--sample", type=int, metavar="N", help="check a uniform sample of N rows")


def _run_validate(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.validation.core import as_reference, infer_rules, validate
    from beam_ml.validation.rules import RuleSet

    options = beam_args or None
    if args.rules:
        rules, reference = RuleSet.read(args.rules), None
    else:
        reference = as_reference(args.reference, options=options)
        rules = infer_rules(reference)
    if args.write_rules:
        rules.write(args.write_rules)
    # without --invalid-rows only the report's samples need quarantined rows: bound them
    keep = None if args.invalid_rows else 10_000
    report = validate(
        args.path,
        rules,
        reference=reference,
        sample=args.sample,
        options=options,
        max_invalid_rows=keep,
    )
    if args.json:
        report.to_json(args.json)
    if args.html:
        report.to_html(args.html)
    if args.invalid_rows:
        report.write_invalid_rows(args.invalid_rows)
    print(report.text(failures_only=True))
    return 0 if report.passed else 1


# ---------------------------------------------------------------------------
# export


def _add_export(subparsers: Any) -> None:
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


def _run_export(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.exporting.module import check, export

    result = export(args.notebook, args.output)
    print(result)
    if not args.check:
        return 0
    report = check(args.notebook, args.sample, args.output, beam_args)
    print(report)
    return 0 if report.passed else 1


# ---------------------------------------------------------------------------

COMMANDS: dict[
    str, tuple[Callable[[Any], None], Callable[[argparse.Namespace, list[str]], int]]
] = {
    "demo": (_add_demo, _run_demo),
    "profile": (_add_profile, _run_profile),
    "validate": (_add_validate, _run_validate),
    "export": (_add_export, _run_export),
    "infer": (add_infer_parser, run_infer),
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
