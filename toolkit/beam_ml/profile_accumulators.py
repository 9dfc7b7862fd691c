"""Mergeable per-column and per-dataset accumulators behind ``ProfileDataset``.

One accumulator per dataset holds one accumulator per column.  Everything in
them is either an exact count / moment (merged with the Chan / Pébay formulas)
or an Apache DataSketches sketch (KLL quantiles, HLL distinct counts, frequent
items), so an accumulator's size does not depend on the number of rows.

Per batch, all the work is vectorised pandas / numpy: one ``value_counts`` per
column, then the sketches are fed the batch's *unique* values with their counts
(HLL and frequent items take one item per call).  Frequent items get only the
batch's ``FI_FEED`` most frequent values; the largest count left out is added to
the column's error bound, so the reported bound stays honest.

The state round-trips through ``to_state()`` / ``from_state()`` as plain JSON
types (sketches as base64 strings), which is also how accumulators pickle.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import datasketches as ds
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError

# The batch's most frequent values fed to the frequent-items sketch.
FI_FEED = 1024
# Strings longer than this are cut in the top values (the HLL still sees all).
MAX_KEY_CHARS = 200
STATE_VERSION = 1

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal"}
_DATETIME_INFERRED = {"datetime", "datetime64", "date"}
_UNHASHABLE = (list, dict, set, np.ndarray, bytearray)


@dataclass(frozen=True)
class ProfileOptions:
    """The knobs of a profile; kept in its state so merges finalise the same way."""

    top_k: int = 10
    bins: int = 20
    kll_k: int = 200
    hll_lg_k: int = 12
    # duplicates = rows - distinct rows: a small difference of big numbers needs precision
    row_hll_lg_k: int = 16
    fi_lg_max_k: int = 10
    max_correlation_columns: int = 50
    missing_together_columns: int = 10
    categorical_max_distinct: int = 50
    categorical_max_ratio: float = 0.05
    missing_threshold: float = 0.2
    zeros_threshold: float = 0.1
    skew_threshold: float = 20.0
    imbalance_threshold: float = 0.5
    correlation_threshold: float = 0.9
    high_cardinality_threshold: int = 50
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def safe_text(value: str) -> str:
    """A string the sketches (UTF-8 in C++) accept: lone surrogates become escapes."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def merge_moments(
    a: tuple[float, float, float, float, float], b: tuple[float, float, float, float, float]
) -> tuple[float, float, float, float, float]:
    """Merge (n, mean, M2, M3, M4) of two parts exactly (Chan et al., Pébay 2008)."""
    na, ma, m2a, m3a, m4a = a
    nb, mb, m2b, m3b, m4b = b
    if nb == 0:
        return a
    if na == 0:
        return b
    n = na + nb
    d = mb - ma
    d_n = d / n
    mean = ma + d_n * nb
    m2 = m2a + m2b + d * d_n * na * nb
    m3 = m3a + m3b + d * d_n * d_n * na * nb * (na - nb) + 3.0 * d_n * (na * m2b - nb * m2a)
    m4 = (
        m4a
        + m4b
        + d * d_n**3 * na * nb * (na * na - na * nb + nb * nb)
        + 6.0 * d_n * d_n * (na * na * m2b + nb * nb * m2a)
        + 4.0 * d_n * (na * m3b - nb * m3a)
    )
    return (n, mean, m2, m3, m4)


def batch_moments(x: np.ndarray) -> tuple[float, float, float, float, float]:
    """(n, mean, M2, M3, M4) of a finite float array, two-pass for accuracy."""
    n = int(x.size)
    if n == 0:
        return (0, 0.0, 0.0, 0.0, 0.0)
    mean = float(x.mean())
    d = x - mean
    d2 = d * d
    return (n, mean, float(d2.sum()), float((d2 * d).sum()), float((d2 * d2).sum()))


class ColumnAccumulator:
    """Exact counts, moments and sketches of one column, over any number of batches."""

    def __init__(self, options: ProfileOptions) -> None:
        self.options = options
        self.dtype = ""  # the first pandas dtype seen, a hint for all-null columns
        self.count = 0  # non-null values
        self.nulls = 0
        self.nan = 0
        self.inf = 0
        self.zeros = 0
        self.negatives = 0
        self.nonwhole = 0  # finite numbers with a fractional part
        self.kinds: dict[str, int] = {}  # boolean/integer/float/datetime/string/other -> n
        self.pytypes: dict[str, int] = {}  # python type names seen in mixed columns
        self.unhashable = 0
        self.moments: tuple[float, float, float, float, float] = (0, 0.0, 0.0, 0.0, 0.0)
        self.min: float | None = None
        self.max: float | None = None
        self.dt_min: int | None = None  # datetimes as int64 nanoseconds (UTC)
        self.dt_max: int | None = None
        self.dt_utc = False  # some datetimes carried a time zone: report them in UTC
        self.len_n = 0
        self.len_sum = 0
        self.len_min: int | None = None
        self.len_max: int | None = None
        self.empty = 0
        self.fi_dropped = 0  # sum over batches of the largest count not fed to `fi`
        self.kll = ds.kll_doubles_sketch(options.kll_k)
        self.hll = ds.hll_sketch(options.hll_lg_k)
        self.fi = ds.frequent_strings_sketch(options.fi_lg_max_k)

    # ----------------------------------------------------------------- adding
    def add(self, series: pd.Series) -> np.ndarray | None:
        """Add one batch of the column; return it as floats (NaN = not a number)."""
        if not self.dtype:
            self.dtype = str(series.dtype)
        n = len(series)
        if n == 0:
            return None
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            self._add_boolean(series)
            return None
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
            kind = "integer" if pd.api.types.is_integer_dtype(dtype) else "float"
            return self._add_numeric(series, kind)
        if pd.api.types.is_datetime64_any_dtype(dtype):
            self._add_datetime(series)
            return None
        if isinstance(dtype, pd.CategoricalDtype) or not pd.api.types.is_object_dtype(dtype):
            series = series.astype(object)
        return self._add_object(series)

    def _count_nulls(self, series: pd.Series) -> pd.Series:
        isna = series.isna()
        nulls = int(isna.sum())
        self.nulls += nulls
        return series[~isna] if nulls else series

    def _add_boolean(self, series: pd.Series) -> None:
        values = self._count_nulls(series)
        if values.empty:
            return
        values = values.astype(bool)
        self.count += len(values)
        self._kind("boolean", len(values))
        x = values.to_numpy(dtype=np.float64)
        self.moments = merge_moments(self.moments, batch_moments(x))
        self._minmax(float(x.min()), float(x.max()))
        vc = values.value_counts()
        self._feed(vc.index.map(str).tolist(), vc.to_numpy(), vc.index.map(str).tolist())

    def _add_numeric(self, series: pd.Series, kind: str) -> np.ndarray:
        v = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(v)
        notnan = ~np.isnan(v)
        nulls = int(v.size - notnan.sum())
        self.nulls += nulls
        if kind == "float":
            self.nan += nulls
        present = v[notnan] if nulls else v
        if present.size == 0:
            return v
        self.count += int(present.size)
        self._kind(kind, int(present.size))
        x = v[finite] if present.size != int(finite.sum()) else present
        self.inf += int(present.size - x.size)
        self.negatives += int((present < 0).sum())
        if x.size:
            self.zeros += int((x == 0).sum())
            if kind == "float":
                self.nonwhole += int((x != np.floor(x)).sum())
            self.moments = merge_moments(self.moments, batch_moments(x))
            self._minmax(float(x.min()), float(x.max()))
            self.kll.update(np.ascontiguousarray(x))
        # floats as keys: ints and whole floats map to the same key across batches
        vc = pd.Series(present).value_counts()
        keys = vc.index.to_numpy(dtype=np.float64)
        self._feed(keys.tolist(), vc.to_numpy(), keys.astype(str).tolist())
        return np.where(finite, v, np.nan)

    def _add_datetime(self, series: pd.Series) -> None:
        values = self._count_nulls(series)
        if values.empty:
            return
        if getattr(values.dt, "tz", None) is not None:
            self.dt_utc = True
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        self._add_datetime_counts(values.value_counts())

    def _add_datetime_counts(self, vc: pd.Series) -> None:
        """Datetimes from unique values and their counts (a DatetimeIndex index)."""
        index = pd.DatetimeIndex(vc.index).as_unit("ns")
        counts = vc.to_numpy()
        total = int(counts.sum())
        self.count += total
        self._kind("datetime", total)
        ns = index.asi8
        lo, hi = int(ns.min()), int(ns.max())
        self.dt_min = lo if self.dt_min is None else min(self.dt_min, lo)
        self.dt_max = hi if self.dt_max is None else max(self.dt_max, hi)
        order = np.argsort(-counts, kind="stable")
        top = order[:FI_FEED]
        zone = "UTC" if self.dt_utc else None
        keys = [t.tz_localize(zone).isoformat() if zone else t.isoformat() for t in index[top]]
        self._feed(ns.tolist(), counts, keys, order=order)

    def _add_object(self, series: pd.Series) -> np.ndarray | None:
        values = self._count_nulls(series)
        if values.empty:
            return None
        inferred = pd.api.types.infer_dtype(values, skipna=False)
        if inferred == "string":
            self._add_strings(values)
            return None
        if inferred == "boolean":
            self._add_boolean(values)
            return None
        if inferred in _NUMERIC_INFERRED:
            numeric = pd.to_numeric(values, errors="coerce")
            if not numeric.isna().any():
                kind = "integer" if inferred == "integer" else "float"
                out = self._add_numeric(pd.Series(numeric.to_numpy(), index=values.index), kind)
                full = np.full(len(series), np.nan)
                full[~series.isna().to_numpy()] = out
                return full
        if inferred in _DATETIME_INFERRED:
            parsed = pd.to_datetime(values, errors="coerce", utc=True)
            if not parsed.isna().any():
                self._add_datetime(parsed)
                return None
        if inferred == "bytes":
            self._add_strings(values.map(lambda b: bytes(b).decode("utf-8", "backslashreplace")))
            return None
        self._add_mixed(values)
        return None

    def _add_mixed(self, values: pd.Series) -> None:
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
        text = values.map(as_text)
        self._add_strings(text, kinds={str(k): int(n) for k, n in kinds.items()})

    def _add_strings(self, values: pd.Series, kinds: dict[str, int] | None = None) -> None:
        vc = values.value_counts()
        index = vc.index
        counts = vc.to_numpy()
        if kinds is None and len(index) and self._looks_like_dates(index):
            parsed = pd.to_datetime(index, errors="coerce", format="ISO8601", utc=True)
            if not parsed.isna().any():
                self.dt_utc = self.dt_utc or _has_zone(index[0])
                dt = pd.Series(counts, index=parsed.tz_convert("UTC").tz_localize(None))
                self._add_datetime_counts(dt.groupby(level=0).sum())
                return
        total = int(counts.sum())
        self.count += total
        for kind, n in (kinds or {"string": total}).items():
            self._kind(kind, n)
        lengths = index.str.len().to_numpy(dtype=np.int64)
        self.len_n += total
        self.len_sum += int((lengths * counts).sum())
        lo, hi = int(lengths.min()), int(lengths.max())
        self.len_min = lo if self.len_min is None else min(self.len_min, lo)
        self.len_max = hi if self.len_max is None else max(self.len_max, hi)
        self.empty += int(counts[lengths == 0].sum())
        keys = index.tolist()
        top = keys[:FI_FEED]
        if hi > MAX_KEY_CHARS:
            top = [k if len(k) <= MAX_KEY_CHARS else k[: MAX_KEY_CHARS - 1] + "…" for k in top]
        self._feed(keys, counts, top)

    @staticmethod
    def _looks_like_dates(index: pd.Index) -> bool:
        sample = index[:5]
        return all(isinstance(v, str) and _ISO_DATE.match(v) for v in sample)

    def _kind(self, kind: str, n: int) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + n

    def _minmax(self, lo: float, hi: float) -> None:
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def _feed(
        self,
        hll_items: list[Any],
        counts: np.ndarray,
        fi_keys: list[str],
        order: np.ndarray | None = None,
    ) -> None:
        """Feed unique values to HLL (all) and frequent items (the most frequent)."""
        update = self.hll.update
        try:
            for item in hll_items:
                update(item)
        except (UnicodeEncodeError, TypeError):
            for item in hll_items:
                update(safe_text(item) if isinstance(item, str) else str(item))
        # fi_keys are in the order of `order` (or already sorted by count, descending)
        ranked = counts[order] if order is not None else counts
        fi_update = self.fi.update
        for key, c in zip(fi_keys[:FI_FEED], ranked[:FI_FEED].tolist(), strict=False):
            fi_update(safe_text(key), int(c))
        if len(ranked) > FI_FEED:
            self.fi_dropped += int(ranked[FI_FEED])

    # ---------------------------------------------------------------- merging
    def merge(self, other: ColumnAccumulator) -> None:
        """Merge ``other`` into this accumulator (in place; CombineFn semantics)."""
        if not self.dtype:
            self.dtype = other.dtype
        for name in ("count", "nulls", "nan", "inf", "zeros", "negatives", "nonwhole"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("unhashable", "len_n", "len_sum", "empty", "fi_dropped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.kinds.items():
            self._kind(kind, n)
        for t, n in other.pytypes.items():
            self.pytypes[t] = self.pytypes.get(t, 0) + n
        self.moments = merge_moments(self.moments, other.moments)
        if other.min is not None and other.max is not None:
            self._minmax(other.min, other.max)
        self.dt_utc = self.dt_utc or other.dt_utc
        self.dt_min = _opt(min, self.dt_min, other.dt_min)
        self.dt_max = _opt(max, self.dt_max, other.dt_max)
        self.len_min = _opt(min, self.len_min, other.len_min)
        self.len_max = _opt(max, self.len_max, other.len_max)
        self.kll.merge(other.kll)
        union = ds.hll_union(self.options.hll_lg_k)
        union.update(self.hll)
        union.update(other.hll)
        self.hll = union.get_result()
        self.fi.merge(other.fi)

    # ------------------------------------------------------------ serialising
    _PLAIN: ClassVar[tuple[str, ...]] = (
        "dtype",
        "count",
        "nulls",
        "nan",
        "inf",
        "zeros",
        "negatives",
        "nonwhole",
        "kinds",
        "pytypes",
        "unhashable",
        "min",
        "max",
        "dt_min",
        "dt_max",
        "dt_utc",
        "len_n",
        "len_sum",
        "len_min",
        "len_max",
        "empty",
        "fi_dropped",
    )

    def to_state(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in self._PLAIN}
        state["moments"] = list(self.moments)
        state["kll"] = _b64(self.kll.serialize())
        state["hll"] = _b64(self.hll.serialize_compact())
        state["fi"] = _b64(self.fi.serialize())
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any], options: ProfileOptions) -> ColumnAccumulator:
        acc = cls(options)
        for name in cls._PLAIN:
            setattr(acc, name, state[name])
        acc.kinds = dict(state["kinds"])
        acc.pytypes = dict(state["pytypes"])
        n, mean, m2, m3, m4 = state["moments"]
        acc.moments = (int(n), float(mean), float(m2), float(m3), float(m4))
        acc.kll = ds.kll_doubles_sketch.deserialize(_unb64(state["kll"]))
        acc.hll = ds.hll_sketch.deserialize(_unb64(state["hll"]))
        acc.fi = ds.frequent_strings_sketch.deserialize(_unb64(state["fi"]))
        return acc


def _opt(fn: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


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


class CoMoments:
    """Pairwise-complete co-moments of numeric columns, for Pearson correlations.

    For each pair (i, j), over the rows where both are finite: the count, both
    means, both sums of squared deviations and the co-deviation; merged exactly.
    """

    def __init__(self, names: list[str] | None = None) -> None:
        self.names: list[str] = list(names or [])
        p = len(self.names)
        self.n = np.zeros((p, p))
        self.mx = np.zeros((p, p))
        self.my = np.zeros((p, p))
        self.mxx = np.zeros((p, p))
        self.myy = np.zeros((p, p))
        self.cxy = np.zeros((p, p))

    @classmethod
    def from_batch(cls, names: list[str], x: np.ndarray) -> CoMoments:
        """``x``: rows x columns floats, NaN where a value is missing or not finite."""
        out = cls(names)
        valid = ~np.isnan(x)
        mask = valid.astype(np.float64)
        # centre on each column's batch mean first: keeps the sums well conditioned
        counts = valid.sum(axis=0)
        sums = np.where(valid, x, 0.0).sum(axis=0)
        centre = np.divide(sums, counts, out=np.zeros(x.shape[1]), where=counts > 0)
        x0 = np.where(valid, x - centre, 0.0)
        n = mask.T @ mask
        sx = x0.T @ mask  # sum of x_i over rows where i and j are both valid
        sy = sx.T
        sxx = (x0 * x0).T @ mask
        syy = sxx.T
        sxy = x0.T @ x0
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(n > 0, n, 1.0)
            out.n = n
            out.mx = sx / safe + centre[:, None]
            out.my = sy / safe + centre[None, :]
            out.mxx = sxx - sx * sx / safe
            out.myy = syy - sy * sy / safe
            out.cxy = sxy - sx * sy / safe
        return out

    def _aligned(self, names: list[str]) -> CoMoments:
        if names == self.names:
            return self
        out = CoMoments(names)
        pos = {name: i for i, name in enumerate(names)}
        idx = np.array([pos[name] for name in self.names], dtype=np.intp)
        for attr in ("n", "mx", "my", "mxx", "myy", "cxy"):
            getattr(out, attr)[np.ix_(idx, idx)] = getattr(self, attr)
        return out

    def merge(self, other: CoMoments) -> CoMoments:
        names = self.names + [c for c in other.names if c not in set(self.names)]
        a, b = self._aligned(names), other._aligned(names)
        out = CoMoments(names)
        n = a.n + b.n
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(n > 0, n, 1.0)
            dx = b.mx - a.mx
            dy = b.my - a.my
            w = a.n * b.n / safe
            out.n = n
            out.mx = a.mx + dx * b.n / safe
            out.my = a.my + dy * b.n / safe
            out.mxx = a.mxx + b.mxx + dx * dx * w
            out.myy = a.myy + b.myy + dy * dy * w
            out.cxy = a.cxy + b.cxy + dx * dy * w
        return out

    def pearson(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = self.cxy / np.sqrt(self.mxx * self.myy)
        r[(self.n < 2) | ~np.isfinite(r)] = np.nan
        r = np.clip(r, -1.0, 1.0)
        np.fill_diagonal(r, np.where(np.diag(self.n) >= 2, 1.0, np.nan))
        return r

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"names": self.names}
        for attr in ("n", "mx", "my", "mxx", "myy", "cxy"):
            state[attr] = getattr(self, attr).tolist()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CoMoments:
        out = cls(state["names"])
        p = len(out.names)
        for attr in ("n", "mx", "my", "mxx", "myy", "cxy"):
            setattr(out, attr, np.asarray(state[attr], dtype=np.float64).reshape(p, p))
        return out


class DatasetAccumulator:
    """Everything ``ProfileDataset`` keeps: rows, columns, co-moments, row hashes."""

    def __init__(self, options: ProfileOptions | None = None) -> None:
        self.options = options or ProfileOptions()
        self.rows = 0
        self.columns: dict[str, ColumnAccumulator] = {}
        self.row_hll = ds.hll_sketch(self.options.row_hll_lg_k, ds.HLL_8)
        self.null_names: list[str] = []
        self.null_co = np.zeros((0, 0))
        self.comoments = CoMoments()

    def add_batch(self, batch: Any) -> None:
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
        null_mask = np.empty((n, len(names)), dtype=np.float64)
        limit = self.options.max_correlation_columns
        for i, name in enumerate(names):
            series = df.iloc[:, i]
            acc = self.columns[name]
            before = acc.nulls
            floats = acc.add(series)
            null_mask[:, i] = series.isna().to_numpy() if acc.nulls != before else 0.0
            if floats is not None and len(numeric_names) < limit:
                numeric_names.append(name)
                numeric_values.append(floats)
        self._add_row_hashes(df)
        self._add_nulls(names, null_mask)
        if numeric_names:
            x = np.column_stack(numeric_values)
            self.comoments = self.comoments.merge(CoMoments.from_batch(numeric_names, x))

    def _add_row_hashes(self, df: pd.DataFrame) -> None:
        try:
            hashes = pd.util.hash_pandas_object(df, index=False).to_numpy()
        except (TypeError, ValueError):
            # nested / unhashable values or undecodable bytes: hash their text instead
            text = df.astype(object).map(lambda v: safe_text(v) if isinstance(v, str) else repr(v))
            hashes = pd.util.hash_pandas_object(text, index=False).to_numpy()
        update = self.row_hll.update
        for h in np.unique(hashes).view(np.int64).tolist():
            update(h)

    def _add_nulls(self, names: list[str], mask: np.ndarray) -> None:
        if not mask.any():
            if names != self.null_names:
                self._align_nulls(names)
            return
        co = mask.T @ mask
        self._align_nulls(names)
        idx = np.array([self.null_names.index(c) for c in names], dtype=np.intp)
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
        union = ds.hll_union(self.options.row_hll_lg_k)
        union.update(self.row_hll)
        union.update(other.row_hll)
        self.row_hll = union.get_result(ds.HLL_8)
        self._align_nulls(other.null_names)
        if other.null_names:
            idx = np.array([self.null_names.index(c) for c in other.null_names], dtype=np.intp)
            self.null_co[np.ix_(idx, idx)] += other.null_co
        self.comoments = self.comoments.merge(other.comoments)

    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "options": self.options.to_dict(),
            "rows": self.rows,
            "columns": {name: acc.to_state() for name, acc in self.columns.items()},
            "row_hll": _b64(self.row_hll.serialize_compact()),
            "null_names": self.null_names,
            "null_co": self.null_co.tolist(),
            "comoments": self.comoments.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DatasetAccumulator:
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
        acc.row_hll = ds.hll_sketch.deserialize(_unb64(state["row_hll"]))
        acc.null_names = list(state["null_names"])
        p = len(acc.null_names)
        acc.null_co = np.asarray(state["null_co"], dtype=np.float64).reshape(p, p)
        acc.comoments = CoMoments.from_state(state["comoments"])
        return acc

    # Beam pickles accumulators between stages; sketches pickle as their bytes.
    def __getstate__(self) -> dict[str, Any]:
        return self.to_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(DatasetAccumulator.from_state(state).__dict__)


def as_frame(batch: Any) -> pd.DataFrame:
    """A batch as a DataFrame: DataFrames pass, Series / records are converted."""
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
    """Column labels as distinct strings ('a', 'a' -> 'a', 'a.1')."""
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


def finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
