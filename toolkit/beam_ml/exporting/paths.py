"""Portable defaults: the local files a notebook named, as the exported module finds them.

A notebook reads ``work/penguins.csv`` relative to its own folder. The exported
module's default for that option is written relative to the module's folder (or
absolute when the file lies outside it), and the module's ``absolute_paths`` makes
it absolute when it runs (see :mod:`beam_ml.exporting.codegen`), so the module runs
from any current folder and external SDK workers, which run in folders of their
own, get absolute paths. ``KIND:PATH`` model specs keep their ``KIND:``.

>>> local_file("sklearn:models/lr.pkl", [Path("/nowhere")]) is None
True
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

__all__ = ["absolute_default", "local_file", "portable_defaults"]

# module options that are never input files
_NOT_FILES = ("output", "output_format")


def _split(value: str) -> tuple[str, str]:
    """``("sklearn:", "models/lr.pkl")`` for a model spec, ``("", value)`` otherwise."""
    kind, sep, rest = value.partition(":")
    if sep and kind.isidentifier() and rest and not rest.startswith("//"):
        return f"{kind}:", rest
    return "", value


def local_file(value: str, bases: list[Path]) -> tuple[str, Path] | None:
    """``(KIND: prefix, file)`` for a relative default naming a local file (or a glob with
    a match), looked up in ``bases`` in order; None for anything else."""
    prefix, candidate = _split(value)
    if not candidate or "://" in value or os.path.isabs(candidate):
        return None
    for base in bases:
        found = base / candidate
        if found.exists() or (glob.has_magic(candidate) and glob.glob(str(found))):
            return prefix, found
    return None


def portable_defaults(
    options: dict[str, tuple[Any, str, tuple[str, ...]]], bases: list[Path], module_dir: Path
) -> list[str]:
    """Rewrite, in ``options`` (dest -> (default, help, aliases)), each default naming a
    local file: relative to ``module_dir``, or absolute outside it. Returns those dests.

    >>> opts = {"p_path": ("data.csv", "input", ())}
    >>> portable_defaults(opts, [Path("/nowhere")], Path("/tmp"))
    []
    """
    local = []
    home = module_dir.resolve()
    for dest, (default, help_text, aliases) in options.items():
        if not isinstance(default, str) or dest in _NOT_FILES:
            continue
        found = local_file(default, bases)
        if found is None:
            continue
        prefix, path = found
        # resolve the folder, not a glob's pattern
        where = path.parent.resolve() / path.name
        try:
            written = where.relative_to(home).as_posix()
        except ValueError:  # outside the module's folder: absolute
            written = str(where)
        options[dest] = (prefix + written, help_text, aliases)
        local.append(dest)
    return local


def absolute_default(value: str, module_dir: Path) -> str:
    """A ``LOCAL_PATHS`` default made absolute as the module makes it (``KIND:`` kept).

    >>> absolute_default("sklearn:models/lr.pkl", Path("/srv"))
    'sklearn:/srv/models/lr.pkl'
    """
    prefix, path = _split(value)
    if "://" in value or os.path.isabs(path):
        return value
    return prefix + os.path.abspath(os.path.join(module_dir, path))
