"""The CombineFns of the validation graph: exact duplicates, kept rows, summed counts.

Each is a plain `beam.CombineFn`, so `ValidateDataset` combines in parallel on
any runner: duplicates as distinct 64-bit row hashes per column set, a bounded
sample of quarantined rows for the report, and per-rule failing-row counts that
stay exact however few rows are kept.

>>> fn = CountDuplicates([()])
>>> acc = fn.add_input(fn.create_accumulator(), pd.DataFrame({"x": [1, 1, 2]}))
>>> fn.extract_output(acc)[()]["duplicates"]
1
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd

# The key of `error_counts` holding the number of quarantined rows (not a rule id).
ROWS_KEY = "__rows__"


def row_hashes(batch: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """One 64-bit hash per row of ``columns`` (all when empty), stable across batches.

    Numbers hash as float64 and everything else as text, so a column read as int
    in one file and float in another still hashes the same.

    >>> a = row_hashes(pd.DataFrame({"x": [1]}), ())
    >>> bool(a[0] == row_hashes(pd.DataFrame({"x": [1.0]}), ())[0])
    True
    """
    cols = list(columns) or list(batch.columns)
    parts = {}
    for c in cols:
        s = batch[c]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            parts[c] = s.astype("float64")
        else:
            parts[c] = s.astype(str).where(s.notna(), "\x00null")
    frame = pd.DataFrame(parts)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


# Per column set: (rows seen, distinct row hashes, whether a batch lacked a column).
_Seen = tuple[int, np.ndarray, bool]


class CountDuplicates(beam.CombineFn):
    """Exact duplicated-row counts per column set (``()``: whole rows).

    Output: ``{columns: {"columns", "rows", "duplicates", "missing"}}``; ``missing``
    is True when some batch lacks one of the columns (the count is then unusable).
    """

    def __init__(self, column_sets: Iterable[tuple[str, ...]]) -> None:
        super().__init__()
        self.column_sets = tuple(sorted(set(column_sets)))

    def create_accumulator(self) -> dict[tuple[str, ...], _Seen]:
        return {cols: (0, np.empty(0, dtype=np.uint64), False) for cols in self.column_sets}

    def add_input(
        self, acc: dict[tuple[str, ...], _Seen], batch: pd.DataFrame
    ) -> dict[tuple[str, ...], _Seen]:
        for cols, (rows, seen, missing) in acc.items():
            if any(c not in batch.columns for c in cols):
                acc[cols] = (rows + len(batch), seen, True)
                continue
            hashes = row_hashes(batch, cols)
            acc[cols] = (rows + len(batch), np.unique(np.concatenate([seen, hashes])), missing)
        return acc

    def merge_accumulators(
        self, accs: Iterable[dict[tuple[str, ...], _Seen]]
    ) -> dict[tuple[str, ...], _Seen]:
        accs = list(accs)
        merged = {}
        for cols in self.column_sets:
            parts = [a[cols] for a in accs]
            merged[cols] = (
                sum(p[0] for p in parts),
                np.unique(np.concatenate([p[1] for p in parts])),
                any(p[2] for p in parts),
            )
        return merged

    def extract_output(self, acc: dict[tuple[str, ...], _Seen]) -> dict[tuple[str, ...], Any]:
        return {
            cols: {
                "columns": cols,
                "rows": int(rows),
                "duplicates": int(rows - len(seen)),
                "missing": missing,
            }
            for cols, (rows, seen, missing) in acc.items()
        }


def error_counts(invalid: pd.DataFrame) -> dict[str, int]:
    """How many rows of one invalid frame failed each rule (``__rows__``: all of them).

    >>> error_counts(pd.DataFrame({"_errors": [["a"], ["a", "b"]]}))
    {'__rows__': 2, 'a': 2, 'b': 1}
    """
    counts: dict[str, int] = {ROWS_KEY: len(invalid)}
    if len(invalid):
        exploded = invalid["_errors"].explode().dropna()
        counts.update({str(k): int(v) for k, v in exploded.value_counts().items()})
    return counts


class SumCounts(beam.CombineFn):
    """Sum dicts of counts key by key (the outputs of `error_counts`)."""

    def create_accumulator(self) -> dict[str, int]:
        return {}

    def add_input(self, acc: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
        for key, n in counts.items():
            acc[key] = acc.get(key, 0) + n
        return acc

    def merge_accumulators(self, accs: Iterable[dict[str, int]]) -> dict[str, int]:
        total: dict[str, int] = {}
        for acc in accs:
            self.add_input(total, acc)
        return total

    def extract_output(self, acc: dict[str, int]) -> dict[str, int]:
        return acc


class KeepRows(beam.CombineFn):
    """Keep up to ``n`` quarantined rows (all of them when ``n`` is None) in one frame."""

    def __init__(self, n: int | None) -> None:
        super().__init__()
        self.n = n

    def create_accumulator(self) -> list[pd.DataFrame]:
        return []

    def add_input(self, acc: list[pd.DataFrame], frame: pd.DataFrame) -> list[pd.DataFrame]:
        room = len(frame) if self.n is None else self.n - sum(len(f) for f in acc)
        if room > 0 and len(frame):
            acc.append(frame.head(room))
        return acc

    def merge_accumulators(self, accs: Iterable[list[pd.DataFrame]]) -> list[pd.DataFrame]:
        kept: list[pd.DataFrame] = []
        for acc in accs:
            for frame in acc:
                self.add_input(kept, frame)
        return kept

    def extract_output(self, acc: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(acc, ignore_index=True) if acc else pd.DataFrame()
