"""Import paths (``'pkg.mod:name'``) and model files, checked once with one clear error.

Specs hold literals only, so a model class, a handler factory or a pre/post-
processing function is named by its import path and imported where it runs.

>>> import_object("json:dumps").__name__
'dumps'
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from beam_ml.errors import BeamMLError, one_line


def import_object(path: str, what: str = "object") -> Any:
    """Import ``'pkg.mod:name'`` (or ``'pkg.mod.name'``) and return the object.

    >>> import json
    >>> import_object("json:dumps") is json.dumps
    True
    """
    if not isinstance(path, str) or not path.strip():
        raise BeamMLError.expected(f"a {what} import path like 'pkg.module:Name'", repr(path))
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise BeamMLError.expected(f"a {what} import path like 'pkg.module:Name'", repr(path))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BeamMLError.expected(
            f"an importable {what} {path!r}",
            f"{type(error).__name__}: {one_line(str(error), 120)}",
            "check the module name and that its folder is on sys.path (pip install it)",
        ) from error
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BeamMLError.expected(
                f"an importable {what} {path!r}",
                f"module {module_name!r} has no attribute {part!r}",
                "check the name after the colon",
            )
        obj = getattr(obj, part)
    return obj


def import_callable(path_or_fn: Any, what: str) -> Callable[[Any], Any] | None:
    """A function given as itself or by import path (None stays None).

    >>> import_callable("json:dumps", "function")([1])
    '[1]'
    """
    if path_or_fn is None or callable(path_or_fn):
        return path_or_fn
    fn = import_object(path_or_fn, what)
    if not callable(fn):
        raise BeamMLError.expected(f"a callable {what}", repr(path_or_fn))
    return fn


def check_model_file(path: str) -> None:
    """One clear error if a model file does not exist (local or remote paths).

    >>> check_model_file("model.pkl")  # doctest: +SKIP
    """
    from apache_beam.io.filesystems import FileSystems

    try:
        exists = FileSystems.exists(path)
    except Exception:  # an unknown scheme: let the loader report it
        exists = os.path.exists(path)
    if not exists:
        raise BeamMLError.expected(
            "an existing model file",
            f"{path!r}, which does not exist",
            "check the path (relative paths are read from the current folder)",
        )


def error_line(error: BaseException) -> str:
    """``'Type: message'`` on one line, for an error raised by user code."""
    return one_line(f"{type(error).__name__}: {error}", 200)
