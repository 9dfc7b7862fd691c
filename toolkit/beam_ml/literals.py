"""Frozen specs as plain literals: what exported code writes back with ``repr()``.

Step specs (:mod:`beam_ml.steps`) and model specs (:mod:`beam_ml.inference.specs`)
serialise the same way, so an exported module can rebuild either from keyword
arguments that are only strings, numbers, lists, dicts and None.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def spec_dict(spec: Any) -> dict[str, Any]:
    """``{"kind": spec.kind, field: value, ...}`` of a frozen dataclass, tuples as lists.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Read:
    ...     path: str
    ...     columns: tuple[str, ...] = ()
    ...     kind = "read"
    >>> spec_dict(Read("a.csv", ("x", "y")))
    {'kind': 'read', 'path': 'a.csv', 'columns': ['x', 'y']}
    """
    data: dict[str, Any] = {"kind": spec.kind}
    for f in fields(spec):
        value = getattr(spec, f.name)
        data[f.name] = list(value) if isinstance(value, tuple) else value
    return data
