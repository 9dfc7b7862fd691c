"""Argument types and option groups shared by the ``%beam_ml`` forms and the CLI."""

from __future__ import annotations

import argparse
from typing import Any


def positive_int(value: str) -> int:
    """argparse type: a whole number > 0.

    >>> positive_int("5")
    5
    """
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {value!r}")
    return number


def add_read_options(parser: argparse.ArgumentParser, format: bool = True) -> None:
    """``--encoding``, ``--delimiter``, ``--no-header`` (and ``--format``): what pandas reads.

    The same flags on ``%beam_ml read`` and on every ``beam-ml`` command that reads data.
    """
    if format:
        parser.add_argument("--format", choices=("csv", "parquet", "json"), help="file format")
    parser.add_argument("--encoding", help="text encoding of CSV / JSON Lines (default utf-8)")
    parser.add_argument(
        "--delimiter", help="CSV field separator (default: detected among , ; tab |)"
    )
    parser.add_argument(
        "--no-header", dest="header", action="store_false", help="the CSV has no header line"
    )


def read_options(options: argparse.Namespace) -> dict[str, Any]:
    """The read options a parsed form or command gives, as ``Source`` keywords.

    >>> read_options(argparse.Namespace(encoding="latin-1", delimiter=None, header=True))
    {'encoding': 'latin-1'}
    """
    out: dict[str, Any] = {}
    for name in ("encoding", "delimiter", "format"):
        if getattr(options, name, None) is not None:
            out[name] = getattr(options, name)
    if getattr(options, "header", True) is False:
        out["header"] = False
    return out
