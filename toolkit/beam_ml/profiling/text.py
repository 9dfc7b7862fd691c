"""Adding a batch of strings, bytes or mixed Python values to a column (``TextColumn``).

Strings are counted once per distinct value (``pd.factorize``): lengths,
empties, HLL hashes and the frequent items. Strings that all look like ISO 8601
dates become datetimes; mixed types and nested values (lists, dicts) are
counted by type and profiled as their text.

>>> from beam_ml.profiling import ColumnAccumulator, ProfileOptions
>>> acc = ColumnAccumulator(ProfileOptions())
>>> _ = acc.add(pd.Series(["a", "bb", "", None]))
>>> acc.count, acc.nulls, acc.len_max, acc.empty
(3, 1, 2, 1)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.profiling.datetimes import DatetimeColumn
from beam_ml.profiling.sketches import MAX_KEY_CHARS, safe_text

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_UNHASHABLE = (list, dict, set, np.ndarray, bytearray)


def _has_zone(text: str) -> bool:
    return text.endswith("Z") or bool(re.search(r"[+-]\d{2}:?\d{2}$", text[10:]))


def _kind_of(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "boolean"
    if isinstance(v, int | np.integer):
        return "integer"
    if isinstance(v, float | np.floating):
        return "float"
    if isinstance(v, str | bytes):
        return "string"
    if isinstance(v, pd.Timestamp | np.datetime64):
        return "datetime"
    return "other"


class TextColumn(DatetimeColumn):
    """A column's accumulator, with the ways to add text and mixed values."""

    def _add_mixed(self, values: pd.Series) -> np.ndarray:
        """Mixed python types or nested values: count the types, profile them as text."""
        types = values.map(lambda v: type(v).__name__).value_counts()
        for name, n in types.items():
            self.pytypes[str(name)] = self.pytypes.get(str(name), 0) + int(n)
        unhashable = values.map(lambda v: isinstance(v, _UNHASHABLE))
        self.unhashable += int(unhashable.sum())

        def as_text(v: Any) -> str:
            if isinstance(v, bytes):
                return v.decode("utf-8", "backslashreplace")
            return v if isinstance(v, str) else repr(v)

        kinds = values.map(_kind_of).value_counts()
        text = values.map(as_text).to_numpy()
        return self._add_strings(text, kinds={str(k): int(n) for k, n in kinds.items()})

    def _add_strings(
        self, values: np.ndarray | pd.Series, kinds: dict[str, int] | None = None
    ) -> np.ndarray:
        """Non-null strings (or the text of mixed values, with their ``kinds``); hashes."""
        codes, uniques = pd.factorize(values)
        counts = np.bincount(codes, minlength=len(uniques))
        uniques = np.asarray(uniques, dtype=object)
        if kinds is None and len(uniques) and self._looks_like_dates(uniques):
            parsed = pd.to_datetime(pd.Index(uniques), errors="coerce", format="ISO8601", utc=True)
            if not parsed.isna().any():
                self.dt_utc = self.dt_utc or _has_zone(uniques[0])
                ns = parsed.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8
                # several strings may name one instant: count per instant
                ns_codes, ns_uniques = pd.factorize(ns)
                ns_counts = np.bincount(ns_codes, weights=counts).astype(np.int64)
                self._add_datetime_counts(ns_uniques, ns_counts)
                return pd.util.hash_array(ns)[codes]
        total = int(counts.sum())
        self.count += total
        for kind, n in (kinds or {"string": total}).items():
            self._kind(kind, n)
        lengths = np.fromiter(map(len, uniques), dtype=np.int64, count=len(uniques))
        self.len_n += total
        self.len_sum += int((lengths * counts).sum())
        lo, hi = int(lengths.min()), int(lengths.max())
        self.len_min = lo if self.len_min is None else min(self.len_min, lo)
        self.len_max = hi if self.len_max is None else max(self.len_max, hi)
        self.empty += int(counts[lengths == 0].sum())

        def keys(idx: np.ndarray) -> list[str]:
            out = uniques[idx].tolist()
            if hi > MAX_KEY_CHARS:
                out = [k if len(k) <= MAX_KEY_CHARS else k[: MAX_KEY_CHARS - 1] + "…" for k in out]
            return out

        try:
            unique_hashes = pd.util.hash_array(uniques, categorize=False)
        except UnicodeEncodeError:
            safe = np.array([safe_text(u) for u in uniques.tolist()], dtype=object)
            unique_hashes = pd.util.hash_array(safe, categorize=False)
        self._feed(unique_hashes, counts, keys)
        return unique_hashes[codes]

    @staticmethod
    def _looks_like_dates(uniques: np.ndarray) -> bool:
        sample = uniques[:5]
        return all(isinstance(v, str) and _ISO_DATE.match(v) for v in sample)
