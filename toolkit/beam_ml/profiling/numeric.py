"""Adding a batch of numbers or booleans to a column (``NumericColumn``).

Only finite values reach the moments, min / max and the KLL sketch: ``NaN`` is
counted as missing, ``inf`` and ``-inf`` are counted apart (``inf``,
``pos_inf``) and kept out, so one infinity cannot turn the mean, the histogram
edges or the quantiles into ``inf`` or ``NaN``. Values near the float limits
(``1e308``) stay in: the moments are scaled (see :mod:`~beam_ml.profiling.moments`).

>>> from beam_ml.profiling import ColumnAccumulator, ProfileOptions
>>> acc = ColumnAccumulator(ProfileOptions())
>>> _ = acc.add(pd.Series([1.0, float("inf"), -float("inf"), None, 1e308]))
>>> acc.count, acc.nulls, acc.inf, acc.pos_inf, acc.max
(4, 1, 2, 1, 1e+308)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from beam_ml.profiling.column_state import Added, ColumnState
from beam_ml.profiling.moments import scaled_batch_moments


class NumericColumn(ColumnState):
    """A column's accumulator, with the ways to add numbers and booleans."""

    def _add_boolean(self, x: np.ndarray) -> np.ndarray:
        """Booleans as 0.0 / 1.0 floats; returns their hashes."""
        self.count += len(x)
        self._kind("boolean", len(x))
        self._moments(*scaled_batch_moments(x))
        self._minmax(float(x.min()), float(x.max()))
        codes, uniques = pd.factorize(x)
        counts = np.bincount(codes, minlength=len(uniques))
        self._feed(
            pd.util.hash_array(uniques), counts, lambda idx: [str(u > 0.5) for u in uniques[idx]]
        )
        return pd.util.hash_array(x)

    def _add_numeric(self, v: np.ndarray, kind: str) -> Added:
        """Floats (NaN = missing) of an ``"integer"`` or ``"float"`` column."""
        notnan = ~np.isnan(v)
        isna = ~notnan
        present_n = int(notnan.sum())
        nulls = int(v.size - present_n)
        self.nulls += nulls
        if kind == "float":
            self.nan += nulls
        hashes = pd.util.hash_array(v)
        if present_n == 0:
            return Added(v, hashes, isna)
        present = v[notnan] if nulls else v
        finite = np.isfinite(present)
        x = present[finite] if not finite.all() else present
        self.count += present_n
        self._kind(kind, present_n)
        if x.size < present.size:
            self.inf += int(present.size - x.size)
            self.pos_inf += int((present == np.inf).sum())
        self.negatives += int((present < 0).sum())
        if x.size:
            self.zeros += int((x == 0).sum())
            if kind == "float":
                self.nonwhole += int((x != np.floor(x)).sum())
            self._moments(*scaled_batch_moments(x))
            self._minmax(float(x.min()), float(x.max()))
            self.kll.update(np.ascontiguousarray(x))
        # floats as keys: ints and whole floats map to the same key across batches
        codes, uniques = pd.factorize(present)
        counts = np.bincount(codes, minlength=len(uniques))
        # while the HLL is exact it takes the (few) unique values' hashes, after that
        # the per-row hashes that are made anyway
        if self.hll.exact is not None and len(uniques) <= self.hll.limit:
            value_hashes = pd.util.hash_array(uniques)
        else:
            value_hashes = hashes[notnan] if nulls else hashes
        self._feed(value_hashes, counts, lambda idx: uniques[idx].astype(str).tolist())
        floats = v if x.size == v.size else np.where(np.isfinite(v), v, np.nan)
        return Added(floats, hashes, isna)
