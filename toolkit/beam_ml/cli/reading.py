"""What every ``beam-ml`` command that reads data shares: the read flags and their note."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from beam_ml.steps.forms_common import add_read_options, read_options

__all__ = ["add_read_options", "data_source"]


def data_source(path: str, args: argparse.Namespace, quiet: bool = False) -> Any:
    """``path`` with the command's read flags: the path itself when none is given.

    Says on stderr how the file was read when that is not the default (a
    detected ``;`` delimiter, say), so a file is never silently read as one column.
    """
    from beam_ml.sources import as_source

    options = read_options(args)
    source = as_source(path, **options)
    try:
        note = source.resolved().note()
    except Exception:  # a glob matching nothing, a remote path: the reader will say
        note = None
    if note and not quiet:
        print(f"{path}: {note}", file=sys.stderr)
    return source if options or note else path
