"""Row-level rule kinds: each finds its failing rows in one pandas batch, vectorised.

``not_null``, ``type``, ``range``, ``allowed_values``, ``regex`` and ``length``:
``rule.failures(series)`` is a boolean array, True where a row fails. Text
columns repeat a lot, so text predicates run once per distinct value.

>>> import pandas as pd
>>> Range("x", min=0.0).failures(pd.Series([1.0, -1.0, None])).tolist()
[False, True, False]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import TYPE_FAMILY, TYPES, RowRule

__all__ = ["AllowedValues", "Length", "NotNull", "Range", "Regex", "TypeRule"]


def _notnull(series: pd.Series) -> np.ndarray:
    return np.asarray(series.notna(), dtype=bool)


def _per_unique(series: pd.Series, fails: Callable[[pd.Series], Any]) -> np.ndarray:
    """Run ``fails`` once per distinct non-null value: text columns repeat a lot.

    ``fails`` gets a Series of the distinct values and returns a boolean array.
    """
    codes, uniques = pd.factorize(series)
    out = np.zeros(len(series), dtype=bool)
    if len(uniques) == 0:
        return out
    per_value = np.asarray(fails(pd.Series(np.asarray(uniques, dtype=object))), dtype=bool)
    have = codes >= 0
    out[have] = per_value[codes[have]]
    return out


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _as_numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_numeric(series, errors="coerce")


@dataclass(frozen=True)
class NotNull(RowRule):
    """Rows where ``column`` is null fail; the check passes up to ``max_share``."""

    column: str
    max_share: float = 0.0
    kind: ClassVar[str] = "not_null"
    doc: ClassVar[str] = "no nulls"

    def failures(self, series: pd.Series) -> np.ndarray:
        return ~_notnull(series)


@dataclass(frozen=True)
class TypeRule(RowRule):
    """Non-null values that do not parse as ``type`` fail."""

    column: str
    type: str
    max_share: float = 0.0
    kind: ClassVar[str] = "type"
    doc: ClassVar[str] = "values of the expected type"

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise BeamMLError.expected(
                f"type to be one of {', '.join(TYPES)}", repr(self.type), "fix the rule's type"
            )

    def failures(self, series: pd.Series) -> np.ndarray:
        present = _notnull(series)
        family = TYPE_FAMILY[self.type]
        if family == "text":
            return np.zeros(len(series), dtype=bool)
        if family == "numeric":
            if pd.api.types.is_bool_dtype(series):
                return present
            if pd.api.types.is_numeric_dtype(series):
                return present & self._not_whole(series)
            return _per_unique(series, self._not_a_number)
        if family == "boolean":
            if pd.api.types.is_bool_dtype(series):
                return np.zeros(len(series), dtype=bool)
            return _per_unique(series, _not_boolean)
        # datetime
        if pd.api.types.is_datetime64_any_dtype(series):
            return np.zeros(len(series), dtype=bool)
        return _per_unique(series, _not_a_date)

    def _not_whole(self, values: pd.Series) -> np.ndarray:
        if self.type != "integer":
            return np.zeros(len(values), dtype=bool)
        arr = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(arr), arr != np.round(arr), False)

    def _not_a_number(self, values: pd.Series) -> np.ndarray:
        numbers = pd.to_numeric(values, errors="coerce")
        return ~np.asarray(numbers.notna(), dtype=bool) | self._not_whole(numbers)


def _not_boolean(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    ok = text.isin(["true", "false", "1", "0", "1.0", "0.0", "yes", "no"])
    return ~np.asarray(ok, dtype=bool)


def _not_a_date(values: pd.Series) -> np.ndarray:
    bad = ~np.asarray(_parse_dates(values, "ISO8601").notna(), dtype=bool)
    if bad.any():  # ISO 8601 is vectorised; other layouts only for what it missed
        idx = np.flatnonzero(bad)
        ok = np.asarray(_parse_dates(values.iloc[idx], "mixed").notna(), dtype=bool)
        bad[idx[ok]] = False
    return bad


def _parse_dates(series: pd.Series, layout: str) -> pd.Series:
    try:
        return pd.to_datetime(series, errors="coerce", format=layout)
    except (TypeError, ValueError, OverflowError):  # mixed time zones, odd objects
        return pd.to_datetime(series.astype(str), errors="coerce", format=layout, utc=True)


@dataclass(frozen=True)
class Range(RowRule):
    """Numeric values below ``min`` or above ``max`` fail (nulls and non-numbers do not)."""

    column: str
    min: float | None = None
    max: float | None = None
    max_share: float = 0.0
    kind: ClassVar[str] = "range"
    doc: ClassVar[str] = "values within [min, max]"

    def failures(self, series: pd.Series) -> np.ndarray:
        if _is_text(series):
            return _per_unique(series, self._outside)
        return self._outside(series)

    def _outside(self, series: pd.Series) -> np.ndarray:
        values = _as_numbers(series)
        if pd.api.types.is_datetime64_any_dtype(values):
            return np.zeros(len(series), dtype=bool)
        arr = np.asarray(values, dtype=float)
        bad = np.zeros(len(arr), dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.min is not None:
                bad |= arr < self.min
            if self.max is not None:
                bad |= arr > self.max
        return bad


@dataclass(frozen=True)
class AllowedValues(RowRule):
    """Non-null values outside ``values`` fail; the check tolerates ``max_share`` of rows."""

    column: str
    values: tuple[Any, ...]
    max_share: float = 0.0
    kind: ClassVar[str] = "allowed_values"
    doc: ClassVar[str] = "values from the allowed set"

    def failures(self, series: pd.Series) -> np.ndarray:
        present = _notnull(series)
        ok = np.asarray(series.isin(list(self.values)), dtype=bool)
        todo = present & ~ok
        if todo.any():
            # CSV batches may read "2007" as a number in one file and text in
            # another: compare the leftovers by their text form too.
            texts = {_text(v) for v in self.values}
            ok_text = np.asarray(series[todo].map(_text).isin(texts), dtype=bool)
            idx = np.flatnonzero(todo)
            ok[idx[ok_text]] = True
        return present & ~ok


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Regex(RowRule):
    """Non-null values whose text does not fully match ``pattern`` fail."""

    column: str
    pattern: str
    max_share: float = 0.0
    kind: ClassVar[str] = "regex"
    doc: ClassVar[str] = "text matching the pattern"

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise BeamMLError.expected(
                "a valid regular expression", f"{self.pattern!r} ({exc})", "fix the pattern"
            ) from None

    def failures(self, series: pd.Series) -> np.ndarray:
        return _per_unique(series, self._no_match)

    def _no_match(self, values: pd.Series) -> np.ndarray:
        ok = values.astype(str).str.fullmatch(self.pattern)
        return ~np.asarray(ok.fillna(False), dtype=bool)


@dataclass(frozen=True)
class Length(RowRule):
    """Non-null values whose text is shorter than ``min`` or longer than ``max`` fail."""

    column: str
    min: int | None = None
    max: int | None = None
    max_share: float = 0.0
    kind: ClassVar[str] = "length"
    doc: ClassVar[str] = "text length within [min, max]"

    def failures(self, series: pd.Series) -> np.ndarray:
        return _per_unique(series, self._bad_length)

    def _bad_length(self, values: pd.Series) -> np.ndarray:
        lengths = np.asarray(values.astype(str).str.len(), dtype=float)
        bad = np.zeros(len(values), dtype=bool)
        if self.min is not None:
            bad |= lengths < self.min
        if self.max is not None:
            bad |= lengths > self.max
        return bad
