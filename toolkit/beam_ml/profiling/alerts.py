"""Findings worth a look in a profile (``Alert``) and the rules that raise them.

>>> import pandas as pd
>>> from beam_ml.profiling import Profile
>>> p = Profile.from_frame(pd.DataFrame({"c": [1, 1, 1], "k": [1, 2, 3]}))
>>> [(a.column, a.kind) for a in p.alerts]
[('c', 'constant'), ('k', 'unique')]
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from beam_ml.profiling.column_profile import NUMERIC_TYPES, ColumnProfile
from beam_ml.profiling.options import ProfileOptions

ALERT_KINDS = (
    "empty",
    "duplicates",
    "constant",
    "unique",
    "high_cardinality",
    "missing",
    "zeros",
    "skewed",
    "imbalanced",
    "high_correlation",
    "infinite",
    "mixed_types",
    "unhashable",
    "unreadable_lines",  # CSV lines the reader could not make rows (bml.profile adds it)
)


@dataclass(frozen=True)
class Alert:
    """A finding worth a look: ``column`` is None for dataset-level alerts.

    >>> Alert(None, "empty", "the dataset has no rows").to_dict()["kind"]
    'empty'
    """

    column: str | None
    kind: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {"column": self.column, "kind": self.kind, "detail": self.detail}

    def to_json(self) -> str:
        """JSON of ``to_dict()``."""
        return json.dumps(self.to_dict())


def find_alerts(
    rows: int,
    duplicates: int,
    duplicate_bounds: tuple[int, int],
    columns: dict[str, ColumnProfile],
    correlations: dict[str, Any],
    pytypes: dict[str, dict[str, int]],
    options: ProfileOptions,
) -> Iterator[Alert]:
    """The alerts of a finished profile's parts (``pytypes``: Python types per column).

    >>> [a.kind for a in find_alerts(0, 0, (0, 0), {}, {}, {}, ProfileOptions())]
    ['empty']
    """
    limits = {
        "missing": options.missing_threshold,
        "zeros": options.zeros_threshold,
        "skewed": options.skew_threshold,
        "imbalanced": options.imbalance_threshold,
        "high_correlation": options.correlation_threshold,
        "high_cardinality": float(options.high_cardinality_threshold),
        **options.thresholds,
    }
    if rows == 0:
        yield Alert(None, "empty", "the dataset has no rows")
    if duplicate_bounds[0] > 0:
        share = duplicates / rows
        yield Alert(None, "duplicates", f"about {duplicates} duplicate rows ({share:.1%})")
    for name, c in columns.items():
        if rows and c.nulls / rows > limits["missing"]:
            yield Alert(
                name, "missing", f"{c.nulls} of {rows} values missing ({c.nulls / rows:.1%})"
            )
        if c.count == 0:
            continue
        kinds = {k: n for k, n in c.kinds.items() if n}
        groups = {"integer": "number", "float": "number"}
        if len({groups.get(k, k) for k in kinds}) > 1:
            detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            types = pytypes.get(name) or {}
            if types:
                detail += (
                    " (python types: "
                    + ", ".join(f"{k} {n}" for k, n in sorted(types.items()))
                    + ")"
                )
            yield Alert(name, "mixed_types", f"values of several types: {detail}")
        if c.unhashable:
            yield Alert(
                name, "unhashable", f"{c.unhashable} nested values (lists, dicts…) profiled as text"
            )
        if c.inf:
            yield Alert(
                name, "infinite", f"{c.inf} infinite values (+inf {c.pos_inf}, -inf {c.neg_inf})"
            )
        if c.distinct == 1 and c.count > 0:
            value = c.top[0][0] if c.top else c.min
            yield Alert(name, "constant", f"every value is {value!r}")
            continue
        # unique: HLL allows it and no value is known to repeat
        most = c.top[0][1] - c.top_error if c.top else 1
        unique = c.count > 1 and c.distinct_bounds[1] >= c.count and most <= 1
        if unique and c.type not in ("float",):
            yield Alert(name, "unique", f"all {c.count} values are distinct")
        elif c.type in ("categorical", "string") and c.distinct > limits["high_cardinality"]:
            yield Alert(name, "high_cardinality", f"about {c.distinct} distinct values")
        if c.type in NUMERIC_TYPES and c.zeros / c.count > limits["zeros"]:
            yield Alert(name, "zeros", f"{c.zeros} zeros ({c.zeros / c.count:.1%})")
        if c.skewness is not None and abs(c.skewness) > limits["skewed"]:
            yield Alert(name, "skewed", f"skewness {c.skewness:.1f}")
        if c.type in ("categorical", "boolean") and c.entropy is not None and c.distinct > 1:
            balance = c.entropy / math.log2(c.distinct)
            if 1.0 - balance > limits["imbalanced"]:
                yield Alert(
                    name,
                    "imbalanced",
                    f"entropy {c.entropy:.2f} bits over {c.distinct} values; "
                    f"majority {c.top[0][0]!r}",
                )
    cols = correlations.get("columns", [])
    matrix = correlations.get("pearson", [])
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            r = matrix[i][j]
            if r is not None and abs(r) > limits["high_correlation"]:
                yield Alert(a, "high_correlation", f"Pearson r = {r:.2f} with {cols[j]!r}")
