"""The whole dataset's accumulator behind ``ProfileDataset`` (``DatasetAccumulator``).

Rows, one :class:`~beam_ml.profiling.column.ColumnAccumulator` per column, the
co-moments of the numeric columns, which columns are missing together, and an
HLL of row hashes for the duplicate count. Its size does not depend on the
number of rows; it merges in place (CombineFn semantics) and pickles through its
JSON state.

>>> acc = DatasetAccumulator()
>>> acc.add_batch(pd.DataFrame({"a": [1, 1], "b": ["x", "x"]}))
>>> acc.rows, round(acc.row_hll.estimate())
(2, 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.profiling.associations import CategoryPairs
from beam_ml.profiling.column import ColumnAccumulator
from beam_ml.profiling.comoments import CoMoments
from beam_ml.profiling.moments import count_dtype, one_blas_thread
from beam_ml.profiling.options import ProfileOptions
from beam_ml.profiling.sketches import HllRegisters

STATE_VERSION = 1
_MIX = np.uint64(0x100000001B3)


class DatasetAccumulator:
    """Everything ``ProfileDataset`` keeps: rows, columns, co-moments, row hashes."""

    def __init__(self, options: ProfileOptions | None = None) -> None:
        self.options = options or ProfileOptions()
        self.rows = 0
        self.columns: dict[str, ColumnAccumulator] = {}
        self.row_hll = HllRegisters(self.options.row_hll_lg_k)
        self.null_names: list[str] = []
        self.null_co = np.zeros((0, 0))
        self.comoments = CoMoments()
        self.pairs = CategoryPairs(
            self.options.cramers_max_columns, self.options.cramers_max_categories
        )

    def add_batch(self, batch: Any) -> None:
        """Add one batch (a DataFrame, Series or list of records) of rows."""
        df = as_frame(batch)
        n = len(df)
        if df.shape[1] == 0:
            self.rows += n
            return
        names = unique_names(df.columns)
        for name in names:
            if name not in self.columns:
                # a column first seen now was missing (null) in all the earlier rows
                acc = ColumnAccumulator(self.options)
                acc.nulls = self.rows
                self.columns[name] = acc
        for name, acc in self.columns.items():
            if name not in names:
                acc.nulls += n
        self.rows += n
        if n == 0:
            return
        numeric_names: list[str] = []
        numeric_values: list[np.ndarray] = []
        # one row per column: each column's mask and floats are written contiguously
        null_rows = np.empty((len(names), n), dtype=bool)
        row_hash = np.zeros(n, dtype=np.uint64)
        limit = self.options.max_correlation_columns
        others: list[tuple[str, np.ndarray, np.ndarray]] = []  # non-numeric: for Cramér's V
        for i, name in enumerate(names):
            added = self.columns[name].add(df.iloc[:, i])
            null_rows[i] = added.isna
            # order-dependent mix, so (a, b) and (b, a) rows differ
            row_hash = row_hash * _MIX ^ added.hashes
            if added.floats is None:
                others.append((name, added.hashes, added.isna))
            elif len(numeric_names) < limit:
                numeric_names.append(name)
                numeric_values.append(added.floats)
        self._add_row_hashes(row_hash)
        self._add_nulls(names, null_rows.T)
        self._add_pairs(others, names)
        if numeric_names:
            x = np.stack(numeric_values).T  # rows x columns, Fortran order
            del numeric_values  # x is the only copy now: from_batch centres it in place
            batch_comoments = CoMoments.from_batch(numeric_names, x, overwrite=True)
            self.comoments = self.comoments.merge(batch_comoments)

    def _add_pairs(
        self, others: list[tuple[str, np.ndarray, np.ndarray]], names: list[str]
    ) -> None:
        cap = self.pairs.max_categories
        kept = []
        for other in others:
            # the column's HLL holds its exact set of hashes while small: too many, no pairs
            exact = self.columns[other[0]].hll.exact
            if exact is None or len(exact) > cap:
                self.pairs.drop(other[0])
            else:
                kept.append(other)
        self.pairs.add([o[0] for o in kept], [o[1] for o in kept], [o[2] for o in kept], names)

    def _add_row_hashes(self, hashes: np.ndarray) -> None:
        self.row_hll.update_hashes(hashes)

    def _add_nulls(self, names: list[str], mask: np.ndarray) -> None:
        self._align_nulls(names)
        holes = np.flatnonzero(mask.any(axis=0))
        if not holes.size:
            return
        sub: np.ndarray = mask[:, holes].astype(count_dtype(len(mask)))
        with one_blas_thread():
            co = (sub.T @ sub).astype(np.float64)
        idx = np.array([self.null_names.index(names[i]) for i in holes], dtype=np.intp)
        self.null_co[np.ix_(idx, idx)] += co

    def _align_nulls(self, names: Iterable[str]) -> None:
        new = [c for c in names if c not in set(self.null_names)]
        if not new:
            return
        p = len(self.null_names)
        grown = np.zeros((p + len(new), p + len(new)))
        grown[:p, :p] = self.null_co
        self.null_names = self.null_names + new
        self.null_co = grown

    def merge(self, other: DatasetAccumulator) -> None:
        """Merge ``other`` into this one (in place)."""
        self.pairs.merge(other.pairs, set(self.columns), set(other.columns))
        for name, acc in self.columns.items():
            if name not in other.columns:
                acc.nulls += other.rows
        for name, acc in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(acc)
            else:
                mine = ColumnAccumulator(self.options)
                mine.nulls = self.rows
                mine.merge(acc)
                self.columns[name] = mine
        self.rows += other.rows
        self.row_hll.merge(other.row_hll)
        self._align_nulls(other.null_names)
        if other.null_names:
            idx = np.array([self.null_names.index(c) for c in other.null_names], dtype=np.intp)
            self.null_co[np.ix_(idx, idx)] += other.null_co
        self.comoments = self.comoments.merge(other.comoments)

    def to_state(self) -> dict[str, Any]:
        """Plain JSON types: what a ``Profile`` keeps to merge and answer queries."""
        return {
            "version": STATE_VERSION,
            "options": self.options.to_dict(),
            "rows": self.rows,
            "columns": {name: acc.to_state() for name, acc in self.columns.items()},
            "row_hll": self.row_hll.to_state(),
            "null_names": self.null_names,
            "null_co": self.null_co.tolist(),
            "comoments": self.comoments.to_state(),
            "pairs": self.pairs.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DatasetAccumulator:
        """A fresh accumulator holding ``to_state()``'s output."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise BeamMLError.expected(
                f"a profile state of version {STATE_VERSION}",
                repr(state.get("version") if isinstance(state, dict) else type(state).__name__),
                "profile the data again with this version of beam-ml-toolkit",
            )
        options = ProfileOptions.from_dict(state["options"])
        acc = cls(options)
        acc.rows = int(state["rows"])
        acc.columns = {
            name: ColumnAccumulator.from_state(col, options)
            for name, col in state["columns"].items()
        }
        acc.row_hll = HllRegisters.from_state(state["row_hll"])
        acc.null_names = list(state["null_names"])
        p = len(acc.null_names)
        acc.null_co = np.asarray(state["null_co"], dtype=np.float64).reshape(p, p)
        acc.comoments = CoMoments.from_state(state["comoments"])
        # a state saved before the pairs were counted has no Cramér's V (and passes that on)
        acc.pairs = CategoryPairs.from_state(
            state.get("pairs"), options.cramers_max_columns, options.cramers_max_categories
        )
        return acc

    # Beam pickles accumulators between stages; sketches pickle as their bytes.
    def __getstate__(self) -> dict[str, Any]:
        return self.to_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(DatasetAccumulator.from_state(state).__dict__)


def as_frame(batch: Any) -> pd.DataFrame:
    """A batch as a DataFrame: DataFrames pass, Series / records are converted.

    >>> as_frame([{"a": 1}, {"a": 2}])["a"].tolist()
    [1, 2]
    """
    if isinstance(batch, pd.DataFrame):
        return batch
    if isinstance(batch, pd.Series):
        return batch.to_frame()
    if isinstance(batch, dict) or (
        isinstance(batch, list) and all(isinstance(r, dict) for r in batch)
    ):
        return pd.DataFrame(batch if isinstance(batch, list) else [batch])
    raise BeamMLError.expected(
        "a PCollection of pandas DataFrame batches",
        f"an element of type {type(batch).__name__}",
        "read the data with beam_ml.read_batches(pipeline, source)",
    )


def unique_names(columns: pd.Index) -> list[str]:
    """Column labels as distinct strings.

    >>> unique_names(pd.Index(["a", "a", 5]))
    ['a', 'a.1', '5']
    """
    names: list[str] = []
    seen: set[str] = set()
    for label in columns:
        name = str(label)
        base, k = name, 1
        while name in seen:
            name = f"{base}.{k}"
            k += 1
        seen.add(name)
        names.append(name)
    return names
