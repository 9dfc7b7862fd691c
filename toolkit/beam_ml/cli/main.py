"""The ``beam-ml`` command line: ``profile``, ``validate``, ``export``, ``demo``.

Each subcommand is a module of this package with a pair of functions,
``add_NAME(subparsers)`` and ``run_NAME(args, beam_args) -> int``, registered in
``COMMANDS``. Arguments a
subcommand does not know are passed through as Beam pipeline options (e.g.
``--runner``). Exit codes: 0 success, 1 a check failed, 2 a usage error, 130
interrupted (Ctrl-C). While Beam runs, a progress bar on stderr shows the rows
read and the time (off with ``--quiet`` or when stderr is not a terminal).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from beam_ml.cli import demo, export, infer, profile, validate
from beam_ml.cli.progress import progress_bar, wanted
from beam_ml.errors import BeamMLError

USAGE_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


COMMANDS: dict[
    str, tuple[Callable[[Any], None], Callable[[argparse.Namespace, list[str]], int]]
] = {
    "demo": (demo.add_demo, demo.run_demo),
    "profile": (profile.add_profile, profile.run_profile),
    "validate": (validate.add_validate, validate.run_validate),
    "export": (export.add_export, export.run_export),
    "infer": (infer.add_infer_parser, infer.run_infer),
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
        # rows read and time on stderr while Beam runs (not with --quiet, nor into a pipe)
        with progress_bar(args.command, wanted(args)):
            return COMMANDS[args.command][1](args, beam_args)
    except BeamMLError as error:
        print(f"beam-ml {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as error:
        # Ctrl-C: one line (how far the run got), no traceback, the shell's exit code
        said = str(error) or "interrupted"
        print(f"beam-ml {args.command}: {said}", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
