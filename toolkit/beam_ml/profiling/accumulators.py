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
import contextlib
import math
import re
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, NamedTuple

import datasketches as ds
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError

# The batch's most frequent values fed to the frequent-items sketch.
FI_FEED = 1024
# Strings longer than this are cut in the top values (the HLL still sees all).
MAX_KEY_CHARS = 200
STATE_VERSION = 1
# DataSketches HLL serialisation: flags and mode byte (see HllRegisters.image)
_HLL_EMPTY = 4
_HLL_OUT_OF_ORDER = 16
_HLL_MODE_HLL = 2
_HLL_TYPE_8 = 2

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal"}
_DATETIME_INFERRED = {"datetime", "datetime64", "date"}
_UNHASHABLE = (list, dict, set, np.ndarray, bytearray)
# the row-hash contribution of a missing value
NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0x100000001B3)


class Added(NamedTuple):
    """What adding one batch of a column gives the dataset accumulator."""

    floats: np.ndarray | None  # numeric values as floats, NaN = missing / not finite
    hashes: np.ndarray  # uint64 per row
    isna: np.ndarray  # bool per row


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


class HllRegisters:
    """An Apache DataSketches HLL_8 sketch, updated a whole numpy array at a time.

    ``hll_sketch.update`` takes one item per call: 12 million Python calls (the
    unique values of 1M rows x 20 columns) cost seconds. Here each batch's
    values are hashed by pandas (vectorised, 64 bits), the registers updated
    with numpy, and the registers become a real DataSketches sketch (its
    serialised HLL_8 image) for the estimate, the bounds and serialisation.
    Merging is the register-wise maximum, exactly what an HLL union does.

    Like DataSketches' own list/set modes, small sets stay exact: up to
    ``k / 8`` distinct hashes are kept as they are and counted exactly.
    """

    def __init__(self, lg_k: int) -> None:
        self.lg_k = lg_k
        self.regs = np.zeros(1 << lg_k, dtype=np.uint8)
        self.exact: np.ndarray | None = np.zeros(0, dtype=np.uint64)  # sorted, unique

    @property
    def limit(self) -> int:
        return 1 << max(self.lg_k - 3, 0)

    def update_hashes(self, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        h = np.asarray(hashes, dtype=np.uint64)
        if self.exact is not None:
            merged = np.union1d(self.exact, h)
            if len(merged) <= self.limit:
                self.exact = merged
                return
            self.exact = None
            h = merged
        self._registers(h)

    def _registers(self, h: np.ndarray) -> None:
        slots = (h & np.uint64((1 << self.lg_k) - 1)).astype(np.intp)
        w = h >> np.uint64(self.lg_k)
        # bit length of w, exactly: frexp of each 32-bit half (floats hold them exactly)
        hi = np.frexp((w >> np.uint64(32)).astype(np.float64))[1]
        lo = np.frexp((w & np.uint64(0xFFFFFFFF)).astype(np.float64))[1]
        bits = np.where(hi > 0, hi + 32, lo)
        values = (64 - self.lg_k - bits + 1).astype(np.uint8)  # leading zeros + 1
        np.maximum.at(self.regs, slots, values)

    def merge(self, other: HllRegisters) -> None:
        if self.exact is not None and other.exact is not None:
            self.update_hashes(other.exact)
            return
        np.maximum(self.regs, other.regs, out=self.regs)
        for exact in (self.exact, other.exact):
            if exact is not None and len(exact):
                self._registers(exact)
        self.exact = None

    def estimate(self) -> float:
        return float(len(self.exact)) if self.exact is not None else self.sketch().get_estimate()

    def bounds(self, std_devs: int) -> tuple[float, float]:
        if self.exact is not None:
            return float(len(self.exact)), float(len(self.exact))
        sketch = self.sketch()
        return sketch.get_lower_bound(std_devs), sketch.get_upper_bound(std_devs)

    def is_empty(self) -> bool:
        return self.exact is not None and not len(self.exact)

    def image(self) -> bytes:
        """The serialised DataSketches HLL_8 sketch (HLL mode, out-of-order)."""
        regs = self.regs
        empty = not regs.any()
        r = regs.astype(np.float64)
        kxq0 = float(np.exp2(-r[regs < 32]).sum())
        kxq1 = float(np.exp2(-r[regs >= 32]).sum())
        flags = _HLL_OUT_OF_ORDER | (_HLL_EMPTY if empty else 0)
        header = bytes([10, 1, 7, self.lg_k, 0, flags, 0, _HLL_MODE_HLL | _HLL_TYPE_8 << 2])
        zeros = int((regs == 0).sum())
        return header + struct.pack("<dddii", 0.0, kxq0, kxq1, zeros, 0) + regs.tobytes()

    def sketch(self) -> Any:
        """The DataSketches sketch of the registers (of the exact set, if still exact)."""
        regs = self
        if self.exact is not None:
            regs = HllRegisters(self.lg_k)
            regs.exact = None
            regs._registers(self.exact)
        if not regs.regs.any():
            return ds.hll_sketch(self.lg_k, ds.HLL_8)
        return ds.hll_sketch.deserialize(regs.image())

    def to_state(self) -> str | dict[str, Any]:
        if self.exact is not None:
            return {"lg_k": self.lg_k, "exact": _b64(self.exact.astype("<u8").tobytes())}
        return _b64(self.image())

    @classmethod
    def from_state(cls, state: str | dict[str, Any]) -> HllRegisters:
        if isinstance(state, dict):
            out = cls(int(state["lg_k"]))
            out.exact = np.frombuffer(_unb64(state["exact"]), dtype="<u8").astype(np.uint64)
            return out
        data = _unb64(state)
        lg_k = data[3] if len(data) > 3 else 0
        if data[:3] != bytes([10, 1, 7]) or len(data) != 40 + (1 << lg_k):
            raise BeamMLError.expected("an HLL_8 register image", f"{len(data)} bytes")
        out = cls(lg_k)
        out.exact = None
        out.regs = np.frombuffer(data[40:], dtype=np.uint8).copy()
        return out


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
        self.hll = HllRegisters(options.hll_lg_k)
        self.fi = ds.frequent_strings_sketch(options.fi_lg_max_k)

    # ----------------------------------------------------------------- adding
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

    def _add_boolean(self, x: np.ndarray) -> np.ndarray:
        self.count += len(x)
        self._kind("boolean", len(x))
        self.moments = merge_moments(self.moments, batch_moments(x))
        self._minmax(float(x.min()), float(x.max()))
        codes, uniques = pd.factorize(x)
        counts = np.bincount(codes, minlength=len(uniques))
        self._feed(
            pd.util.hash_array(uniques), counts, lambda idx: [str(u > 0.5) for u in uniques[idx]]
        )
        return pd.util.hash_array(x)

    def _add_numeric(self, v: np.ndarray, kind: str) -> Added:
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

    def _add_datetime(self, values: pd.Series) -> np.ndarray:
        if getattr(values.dt, "tz", None) is not None:
            self.dt_utc = True
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
        codes, uniques = pd.factorize(ns)
        self._add_datetime_counts(uniques, np.bincount(codes, minlength=len(uniques)))
        return pd.util.hash_array(ns)

    def _add_datetime_counts(self, ns: np.ndarray, counts: np.ndarray) -> None:
        """Datetimes (int64 nanoseconds, unique) with their counts."""
        total = int(counts.sum())
        self.count += total
        self._kind("datetime", total)
        lo, hi = int(ns.min()), int(ns.max())
        self.dt_min = lo if self.dt_min is None else min(self.dt_min, lo)
        self.dt_max = hi if self.dt_max is None else max(self.dt_max, hi)
        # quantiles of instants: KLL over float nanoseconds (exact to ~0.2 us today;
        # reported rounded to the microsecond)
        self.kll.update(np.repeat(ns.astype(np.float64), counts))
        zone = "UTC" if self.dt_utc else None

        def keys(idx: np.ndarray) -> list[str]:
            return [t.isoformat() for t in pd.DatetimeIndex(ns[idx], tz=zone)]

        self._feed(pd.util.hash_array(ns), counts, keys)

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

    def _kind(self, kind: str, n: int) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + n

    def _minmax(self, lo: float, hi: float) -> None:
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def _feed(
        self,
        hashes: np.ndarray,
        counts: np.ndarray,
        keys_of: Callable[[np.ndarray], list[str]],
    ) -> None:
        """Feed the hashes of the values to HLL, the FI_FEED most frequent to frequent items."""
        self.hll.update_hashes(hashes)
        m = len(counts)
        if m > FI_FEED:
            part = np.argpartition(-counts, FI_FEED)
            top = part[:FI_FEED]
            # any value left out has at most this count in this batch
            self.fi_dropped += int(counts[part[FI_FEED:]].max())
        else:
            top = np.arange(m)
        top = top[np.argsort(-counts[top], kind="stable")]
        keys = keys_of(top)
        try:
            "".join(keys).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (bytes read with surrogateescape)
            keys = [safe_text(k) for k in keys]
        deque(map(self.fi.update, keys, counts[top].tolist()), maxlen=0)

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
        self.hll.merge(other.hll)
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
        state["hll"] = self.hll.to_state()
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
        acc.hll = HllRegisters.from_state(state["hll"])
        acc.fi = ds.frequent_strings_sketch.deserialize(_unb64(state["fi"]))
        return acc


_BLAS: list[Any] = []


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Small matrix products on one BLAS thread.

    With several processes on few cores, OpenBLAS's spinning threads make a
    20 x 50,000 product take seconds instead of a millisecond.
    """
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except ImportError:  # optional: without it, products use BLAS's defaults
            _BLAS.append(None)
    controller = _BLAS[0]
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


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


def _count_dtype(rows: int) -> type:
    """Float type for 0/1 matrix products that count rows: float32 (half the memory)
    while its sums stay exact, i.e. below 2**24 rows; float64 above."""
    return np.float32 if rows < 2**24 else np.float64


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
    def from_batch(cls, names: list[str], x: np.ndarray, overwrite: bool = False) -> CoMoments:
        """``x``: rows x columns floats, NaN where a value is missing or not finite.

        ``overwrite=True`` lets it centre ``x`` in place (a float64 array the
        caller owns): one batch-sized temporary less at the profiler's peak.
        """
        out = cls(names)
        valid = ~np.isnan(x)
        rows, p = x.shape
        x0 = x if overwrite and x.dtype == np.float64 else np.array(x, dtype=np.float64)
        # centre on each column's batch mean first: keeps the sums well conditioned
        x0[~valid] = 0.0
        counts = valid.sum(axis=0)
        sums = x0.sum(axis=0)
        centre = np.divide(sums, counts, out=np.zeros(p), where=counts > 0)
        x0 -= centre
        x0[~valid] = 0.0
        x2 = x0 * x0
        # pairs whose second column has no hole in this batch: column sums suffice
        n = np.repeat(counts[:, None].astype(np.float64), p, axis=1)
        sx = np.repeat(x0.sum(axis=0)[:, None], p, axis=1)  # sum x_i where i, j valid
        sxx = np.repeat(x2.sum(axis=0)[:, None], p, axis=1)
        holes = np.flatnonzero(counts < rows)
        with one_blas_thread():
            sxy = x0.T @ x0
            if holes.size:
                mh = valid[:, holes].astype(np.float64)
                count_type = _count_dtype(rows)
                n[:, holes] = valid.astype(count_type).T @ mh.astype(count_type)
                sx[:, holes] = x0.T @ mh
                sxx[:, holes] = x2.T @ mh
        sy = sx.T
        syy = sxx.T
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
        self.row_hll = HllRegisters(self.options.row_hll_lg_k)
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
        null_mask = np.empty((n, len(names)), dtype=bool)
        row_hash = np.zeros(n, dtype=np.uint64)
        limit = self.options.max_correlation_columns
        for i, name in enumerate(names):
            added = self.columns[name].add(df.iloc[:, i])
            null_mask[:, i] = added.isna
            # order-dependent mix, so (a, b) and (b, a) rows differ
            row_hash = row_hash * _MIX ^ added.hashes
            if added.floats is not None and len(numeric_names) < limit:
                numeric_names.append(name)
                numeric_values.append(added.floats)
        self._add_row_hashes(row_hash)
        self._add_nulls(names, null_mask)
        if numeric_names:
            x = np.column_stack(numeric_values)
            del numeric_values  # x is the only copy now: from_batch centres it in place
            batch_comoments = CoMoments.from_batch(numeric_names, x, overwrite=True)
            self.comoments = self.comoments.merge(batch_comoments)

    def _add_row_hashes(self, hashes: np.ndarray) -> None:
        self.row_hll.update_hashes(hashes)

    def _add_nulls(self, names: list[str], mask: np.ndarray) -> None:
        self._align_nulls(names)
        holes = np.flatnonzero(mask.any(axis=0))
        if not holes.size:
            return
        sub: np.ndarray = mask[:, holes].astype(_count_dtype(len(mask)))
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
        return {
            "version": STATE_VERSION,
            "options": self.options.to_dict(),
            "rows": self.rows,
            "columns": {name: acc.to_state() for name, acc in self.columns.items()},
            "row_hll": self.row_hll.to_state(),
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
        acc.row_hll = HllRegisters.from_state(state["row_hll"])
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
