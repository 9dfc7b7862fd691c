"""One column's accumulator (``ColumnAccumulator``): picks how to add each batch by dtype.

Numbers and booleans go to :class:`~beam_ml.profiling.numeric.NumericColumn`,
text, datetimes and mixed values to :class:`~beam_ml.profiling.text.TextColumn`;
an object column is inferred per batch (``pd.api.types.infer_dtype``).

>>> acc = ColumnAccumulator(ProfileOptions())
>>> added = acc.add(pd.Series([1, 2, None]))
>>> acc.count, acc.nulls, added.isna.tolist()
(2, 1, [False, False, True])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from beam_ml.profiling.column_state import NULL_HASH, Added
from beam_ml.profiling.numeric import NumericColumn
from beam_ml.profiling.options import ProfileOptions
from beam_ml.profiling.text import TextColumn

__all__ = ["Added", "ColumnAccumulator", "ProfileOptions"]

_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal"}
_DATETIME_INFERRED = {"datetime", "datetime64", "date"}


def _arrow_strings(dtype: object) -> bool:
    """Text held in Arrow buffers (pandas' pyarrow strings)."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage in ("pyarrow", "pyarrow_numpy")
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(
            dtype.pyarrow_dtype
        )
    return False


def _as_arrow(series: pd.Series) -> object | None:
    """An object column of Python strings (and nulls) as Arrow strings, else None.

    Arrow's kernels then find the distinct strings, their lengths and any ISO 8601
    instants without a Python object per row (a column of timestamps as text is
    ~4x faster); the statistics and hashes are the same as on the object path.
    """
    if not pd.api.types.is_object_dtype(series.dtype):
        return None
    if pd.api.types.infer_dtype(series, skipna=True) != "string":
        return None
    import pyarrow as pa

    try:
        return pa.array(series.to_numpy(), type=pa.string(), from_pandas=True)
    except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates: the object path
        return None


class ColumnAccumulator(NumericColumn, TextColumn):
    """Exact counts, moments and sketches of one column, over any number of batches."""

    def add(self, series: pd.Series) -> Added:
        """Add one batch of the column.

        Returns the column as floats (or None if it is not numeric), a 64-bit
        hash per row (for the duplicate-row sketch) and the null mask.
        """
        if not self.dtype:
            self.dtype = str(series.dtype)
        n = len(series)
        dtype = series.dtype
        if (
            pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_bool_dtype(dtype)
            and not pd.api.types.is_complex_dtype(dtype)
        ):
            kind = "integer" if pd.api.types.is_integer_dtype(dtype) else "float"
            v = series.to_numpy(dtype=np.float64, na_value=np.nan)
            return self._add_numeric(v, kind)
        arrow = series.array.__arrow_array__() if _arrow_strings(dtype) else _as_arrow(series)
        if arrow is not None:
            hashes, isna = self._add_arrow_strings(arrow)
            return Added(None, hashes, isna)
        isna = series.isna().to_numpy()
        nulls = int(isna.sum())
        self.nulls += nulls
        hashes = np.full(n, NULL_HASH, dtype=np.uint64)
        values = series[~isna] if nulls else series
        if len(values):
            present = self._add_values(values)
            if nulls:
                hashes[~isna] = present
            else:
                hashes = present
        return Added(None, hashes, isna)

    def _add_values(self, values: pd.Series) -> np.ndarray:
        """Non-null values of a non-numeric dtype; returns their hashes."""
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return self._add_boolean(values.to_numpy(dtype=np.float64))
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return self._add_datetime(values)
        if isinstance(dtype, pd.StringDtype):
            return self._add_strings(values)
        if isinstance(dtype, pd.CategoricalDtype) or not pd.api.types.is_object_dtype(dtype):
            values = values.astype(object)
        inferred = pd.api.types.infer_dtype(values, skipna=False)
        if inferred == "string":
            return self._add_strings(values.to_numpy())
        if inferred == "boolean":
            return self._add_boolean(values.to_numpy(dtype=np.float64))
        if inferred in _NUMERIC_INFERRED:
            numeric = pd.to_numeric(values, errors="coerce")
            if not numeric.isna().any():
                kind = "integer" if inferred == "integer" else "float"
                return self._add_numeric(numeric.to_numpy(dtype=np.float64), kind).hashes
        if inferred in _DATETIME_INFERRED:
            parsed = pd.to_datetime(values, errors="coerce", utc=True)
            if not parsed.isna().any():
                return self._add_datetime(parsed)
        if inferred == "bytes":
            text = values.map(lambda b: bytes(b).decode("utf-8", "backslashreplace"))
            return self._add_strings(text.to_numpy())
        return self._add_mixed(values)
