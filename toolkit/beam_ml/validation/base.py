"""What every rule kind shares: ``Rule`` (id, columns, YAML mapping) and ``RowRule``.

A rule is data: a small frozen dataclass saying what the data should look like.
Dataset-level kinds are checked on a profile (`beam_ml.validation.checks`);
row-level kinds (`RowRule`) also find their failing rows in one pandas batch
(`beam_ml.validation.row_rules`), so every failing row can be quarantined.

Every rule has a ``level``: ``error`` (the default: a failure fails the report)
or ``warn`` (reported, but the report still passes); its ``scope`` (a class
attribute) says whether rows (``row``) or the whole dataset (``dataset``) are checked.

>>> from beam_ml.validation.row_rules import Range
>>> Range("x", min=0.0).id, Range("x", min=0.0, level="warn").to_dict()
('range:x', {'kind': 'range', 'level': 'warn', 'column': 'x', 'min': 0.0, 'max_share': 0.0})
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

TYPES = ("float", "integer", "boolean", "categorical", "string", "datetime")
# Types that may stand in for each other: whether a numeric column holds whole
# numbers, or a text column is "categorical" rather than "string", depends on the
# sample (a null turns integers into floats; cardinality decides categorical).
TYPE_FAMILY = {
    "float": "numeric",
    "integer": "numeric",
    "boolean": "boolean",
    "categorical": "text",
    "string": "text",
    "datetime": "datetime",
}
NUMERIC = ("float", "integer")
CATEGORICAL = ("categorical", "boolean", "string")
# The severities of a rule: an error fails the report, a warning is only reported.
LEVELS = ("error", "warn")
# What older rule files wrote as "level" (now the rule's scope): read as the default level.
OLD_LEVELS = ("row", "dataset")


@dataclass(frozen=True)
class Rule:
    """Base of every rule kind. ``kind`` is the YAML name; ``scope`` row or dataset.

    ``level`` (keyword only): ``error`` or ``warn``.
    """

    level: str = field(default="error", kw_only=True)
    kind: ClassVar[str] = ""
    scope: ClassVar[str] = "dataset"
    doc: ClassVar[str] = ""

    @property
    def target(self) -> str | None:
        """The column the rule is about (None for table-wide rules)."""
        return getattr(self, "column", None)

    @property
    def id(self) -> str:
        """A short stable name, e.g. ``range:body_mass_g``; used in ``_errors``."""
        target = self.target
        if target is None:
            cols = getattr(self, "columns", None)
            if isinstance(cols, tuple) and cols:
                return f"{self.kind}:{'+'.join(cols)}"
            return self.kind
        return f"{self.kind}:{target}"

    def columns_used(self) -> tuple[str, ...]:
        """The columns the rule reads (its column, or its ``columns``)."""
        target = self.target
        if target is not None:
            return (target,)
        cols = getattr(self, "columns", None)
        if isinstance(cols, tuple):
            return cols
        if isinstance(cols, dict):
            return tuple(cols)
        return ()

    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping of the rule: ``kind`` first, None fields left out."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out


class RowRule(Rule):
    """A rule that every row can pass or fail on its own."""

    scope: ClassVar[str] = "row"
    max_share: float

    def failures(self, series: pd.Series) -> np.ndarray:
        """Boolean array: True where the row fails this rule."""
        raise NotImplementedError
