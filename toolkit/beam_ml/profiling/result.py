"""The profile of a dataset (``Profile``): a frozen value that merges, serialises and shows.

``Profile`` keeps its accumulator state (plain JSON, the sketches as base64), so
two profiles ``merge`` into the profile of the whole without changing either,
``cdf`` / ``quantile`` answer from a column's KLL sketch, and it round-trips
through ``to_json`` / ``from_json`` and pickle. Its views (text, HTML from the
``profile*.html`` templates, matplotlib) all read ``to_dict()``.

>>> import pandas as pd
>>> p = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
>>> p.columns["x"].mean, p.quantile("x", 0.5)
(2.0, 2.0)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.profiling.accumulator import DatasetAccumulator
from beam_ml.profiling.alerts import Alert
from beam_ml.profiling.column import ColumnAccumulator
from beam_ml.profiling.column_profile import NUMERIC_TYPES, ColumnProfile
from beam_ml.profiling.finalise import profile_fields
from beam_ml.profiling.moments import finite_or_none
from beam_ml.profiling.options import ProfileOptions
from beam_ml.profiling.view import plot_column, profile_html, profile_page, profile_text
from beam_ml.rendering import HtmlRepr

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True, repr=False)
class Profile(HtmlRepr):
    """The profile of a dataset: per-column statistics, correlations and alerts.

    >>> p = Profile.empty()
    >>> p.rows, p.columns, p.alerts
    (0, {}, (Alert(column=None, kind='empty', detail='the dataset has no rows'),))
    """

    rows: int
    columns: dict[str, ColumnProfile]
    alerts: tuple[Alert, ...]
    duplicates: int
    duplicate_bounds: tuple[int, int]
    correlations: dict[str, Any]
    missing_together: dict[str, Any]
    error_bounds: dict[str, float]
    state: dict[str, Any] = field(repr=False, compare=False)
    # what was profiled (a path, a glob, "<DataFrame: ...>"), for reports; None if unknown
    source: str | None = field(default=None, compare=False)

    # ------------------------------------------------------------ building
    @classmethod
    def empty(cls, options: ProfileOptions | None = None) -> Profile:
        """The profile of no rows."""
        return cls.from_accumulator(DatasetAccumulator(options))

    @classmethod
    def from_accumulator(cls, acc: DatasetAccumulator, source: str | None = None) -> Profile:
        """The profile of what ``acc`` holds (``acc`` does not change)."""
        return cls(**profile_fields(acc), source=source)

    @classmethod
    def from_state(cls, state: dict[str, Any], source: str | None = None) -> Profile:
        """The profile of a state (``Profile.state``, ``DatasetAccumulator.to_state()``)."""
        return cls.from_accumulator(DatasetAccumulator.from_state(state), source)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, options: ProfileOptions | None = None) -> Profile:
        """Profile an in-memory DataFrame without a pipeline (same accumulators).

        >>> Profile.from_frame(pd.DataFrame({"a": [1, None]})).columns["a"].nulls
        1
        """
        acc = DatasetAccumulator(options)
        acc.add_batch(frame)
        return cls.from_accumulator(acc)

    def accumulator(self) -> DatasetAccumulator:
        """A fresh, mutable accumulator holding this profile's state."""
        return DatasetAccumulator.from_state(self.state)

    # ----------------------------------------------------------- combining
    def merge(self, other: Profile) -> Profile:
        """The profile of both datasets together; neither side changes.

        >>> a = Profile.from_frame(pd.DataFrame({"x": [1, 2]}))
        >>> b = Profile.from_frame(pd.DataFrame({"x": [3]}))
        >>> a.merge(b).rows, a.rows
        (3, 2)
        """
        if not isinstance(other, Profile):
            raise BeamMLError.expected("a Profile to merge", type(other).__name__)
        acc = self.accumulator()
        acc.merge(other.accumulator())
        return Profile.from_accumulator(acc, self.source if self.source == other.source else None)

    # ------------------------------------------------------------- queries
    def _sketch(self, column: str) -> Any:
        """The column's KLL sketch of its finite values (a copy)."""
        col = self._column(column)
        if col.type not in (*NUMERIC_TYPES, "boolean"):
            raise BeamMLError.expected(
                f"a numeric column for {column!r}", f"type {col.type!r}", "pick a numeric column"
            )
        state = self.state["columns"][column]
        return ColumnAccumulator.from_state(state, ProfileOptions()).kll

    def _column(self, column: str) -> ColumnProfile:
        if column not in self.columns:
            names = ", ".join(repr(c) for c in list(self.columns)[:10])
            raise BeamMLError.expected(
                "a column of the profile", repr(column), f"use one of {names}"
            )
        return self.columns[column]

    def cdf(self, column: str, points: Sequence[float]) -> list[float]:
        """Share of the finite values of ``column`` that are <= each point (from KLL).

        >>> Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})).cdf("x", [2, 10])
        [0.5, 1.0]
        """
        kll = self._sketch(column)
        pts = [float(p) for p in points]
        if kll.is_empty():
            return [math.nan for _ in pts]
        # the sketch takes finite, distinct, increasing split points only
        order = sorted({p for p in pts if math.isfinite(p)})
        by_point = dict(zip(order, kll.get_cdf(order, True)[:-1], strict=True)) if order else {}
        by_point.update({math.inf: 1.0, -math.inf: 0.0})
        return [math.nan if math.isnan(p) else float(by_point[p]) for p in pts]

    def quantile(self, column: str, q: float) -> float:
        """The ``q`` quantile of the finite values of ``column`` (from KLL).

        >>> Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0]})).quantile("x", 0.5)
        2.0
        """
        return self.quantiles(column, [q])[0]

    def quantiles(self, column: str, qs: list[float]) -> list[float]:
        """The quantiles of ``column`` at each of ``qs``, reading its sketch once.

        >>> Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0]})).quantiles("x", [0.0, 1.0])
        [1.0, 3.0]
        """
        for q in qs:
            if not 0.0 <= float(q) <= 1.0:
                raise BeamMLError.expected("q between 0 and 1", repr(q))
        kll = self._sketch(column)
        if kll.is_empty():
            return [math.nan] * len(qs)
        return [float(kll.get_quantile(float(q))) for q in qs]

    # ---------------------------------------------------------- serialising
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; the layout of ``beam-ml profile --json``."""
        return {
            "source": self.source,
            "rows": self.rows,
            "duplicates": {
                "estimate": self.duplicates,
                "lower": self.duplicate_bounds[0],
                "upper": self.duplicate_bounds[1],
            },
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
            "correlations": json.loads(json.dumps(self.correlations)),
            "missing_together": json.loads(json.dumps(self.missing_together)),
            "alerts": [a.to_dict() for a in self.alerts],
            "error_bounds": dict(self.error_bounds),
        }

    def to_json(self, indent: int | None = None, state: bool = True) -> str:
        """JSON of ``to_dict()`` plus (by default) the state that ``from_json`` needs."""
        data = self.to_dict()
        if state:
            data["state"] = self.state
        return json.dumps(data, indent=indent, allow_nan=False, default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        """Rebuild a profile (sketches included) from ``to_json()``'s output."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise BeamMLError.expected("profile JSON", f"unreadable text ({error})") from error
        if not isinstance(data, dict) or "state" not in data:
            raise BeamMLError.expected(
                "JSON written by Profile.to_json() (with its 'state')",
                "JSON without it",
                "write it with profile.to_json() or beam-ml profile --json",
            )
        return cls.from_state(data["state"], data.get("source"))

    def with_source(self, source: str | None) -> Profile:
        """The same profile, naming what was profiled (for reports)."""
        return replace(self, source=source)

    # -------------------------------------------------------------- viewing
    def _text(self) -> str:
        return profile_text(self.to_dict())

    def __str__(self) -> str:
        return self._text()

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """The HTML view (CSS inlined, no JavaScript).

        Without ``path``: the notebook view. With ``path``: a standalone page
        (title, source, rows and the time it was written) is written there and returned.
        """
        data = self.to_dict()
        if path is None:
            return profile_html(data)
        page = profile_page(data)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(page)
        return page

    def plot(self, column: str, ax: Axes | None = None) -> Axes:
        """Draw the column's histogram (or top values) with matplotlib."""
        self._column(column)
        return plot_column(self.to_dict(), column, ax)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return finite_or_none(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
