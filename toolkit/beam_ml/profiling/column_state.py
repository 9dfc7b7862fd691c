"""What one column's accumulator holds, and how it merges and serialises (``ColumnState``).

The counts, moments and sketches are the same for every kind of value; the
ways of *adding* a batch live in :mod:`~beam_ml.profiling.numeric`,
:mod:`~beam_ml.profiling.datetimes` and :mod:`~beam_ml.profiling.text`, and
:class:`~beam_ml.profiling.column.ColumnAccumulator` picks one per batch.

The state is plain JSON types (sketches as base64), which is also how the
accumulators pickle between Beam stages.

>>> state = ColumnState(ProfileOptions()).to_state()
>>> ColumnState.from_state(state, ProfileOptions()).count
0
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, Self

import datasketches as ds
import numpy as np

from beam_ml.profiling.moments import EMPTY_MOMENTS, Moments, merge_scaled_moments
from beam_ml.profiling.options import ProfileOptions
from beam_ml.profiling.sketches import FI_FEED, FI_TIED, HllRegisters, b64, safe_text, unb64

# the row-hash contribution of a missing value
NULL_HASH = np.uint64(0x9E3779B97F4A7C15)


class Added(NamedTuple):
    """What adding one batch of a column gives the dataset accumulator."""

    floats: np.ndarray | None  # numeric values as floats, NaN = missing / not finite
    hashes: np.ndarray  # uint64 per row
    isna: np.ndarray  # bool per row


def _opt(fn: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


class ColumnState:
    """Exact counts, moments and sketches of one column, over any number of batches."""

    def __init__(self, options: ProfileOptions) -> None:
        self.options = options
        self.dtype = ""  # the first pandas dtype seen, a hint for all-null columns
        self.count = 0  # non-null values (infinities included)
        self.nulls = 0
        self.nan = 0
        self.inf = 0  # +inf and -inf; kept out of the moments, min / max and sketches
        self.pos_inf = 0
        self.zeros = 0
        self.negatives = 0
        self.nonwhole = 0  # finite numbers with a fractional part
        self.kinds: dict[str, int] = {}  # boolean/integer/float/datetime/string/other -> n
        self.pytypes: dict[str, int] = {}  # python type names seen in mixed columns
        self.unhashable = 0
        # (n, mean, M2, M3, M4) of the finite values divided by `scale` (see moments.py)
        self.moments: Moments = EMPTY_MOMENTS
        self.scale = 1.0
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

    # ---------------------------------------------------------------- helpers
    def _kind(self, kind: str, n: int) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + n

    def _minmax(self, lo: float, hi: float) -> None:
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def _moments(self, m: Moments, scale: float) -> None:
        self.moments, self.scale = merge_scaled_moments(self.moments, self.scale, m, scale)

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
            dropped = int(counts[part[FI_FEED:]].max())
            self.fi_dropped += dropped
            # values no more frequent than one left out cannot tighten the error bound
            # (it is at least `dropped`): feed a few of them to show, not a thousand
            tied = counts[top] <= dropped
            if int(tied.sum()) > FI_TIED:
                top = np.concatenate([top[~tied], top[tied][:FI_TIED]])
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
    _SUMMED: ClassVar[tuple[str, ...]] = (
        "count",
        "nulls",
        "nan",
        "inf",
        "pos_inf",
        "zeros",
        "negatives",
        "nonwhole",
        "unhashable",
        "len_n",
        "len_sum",
        "empty",
        "fi_dropped",
    )

    def merge(self, other: ColumnState) -> None:
        """Merge ``other`` into this accumulator (in place; CombineFn semantics)."""
        if not self.dtype:
            self.dtype = other.dtype
        for name in self._SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.kinds.items():
            self._kind(kind, n)
        for t, n in other.pytypes.items():
            self.pytypes[t] = self.pytypes.get(t, 0) + n
        self._moments(other.moments, other.scale)
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
    # every summed count is saved too: a count added to _SUMMED cannot be left out here
    _PLAIN: ClassVar[tuple[str, ...]] = (
        "dtype",
        *_SUMMED,
        "kinds",
        "pytypes",
        "scale",
        "min",
        "max",
        "dt_min",
        "dt_max",
        "dt_utc",
        "len_min",
        "len_max",
    )
    # what states written before these fields existed mean
    _DEFAULTS: ClassVar[dict[str, Any]] = {"pos_inf": 0, "scale": 1.0}

    def to_state(self) -> dict[str, Any]:
        """Plain JSON types (sketches as base64)."""
        state = {name: getattr(self, name) for name in self._PLAIN}
        state["moments"] = list(self.moments)
        state["kll"] = b64(self.kll.serialize())
        state["hll"] = self.hll.to_state()
        state["fi"] = b64(self.fi.serialize())
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any], options: ProfileOptions) -> Self:
        """An accumulator (of this class) holding ``to_state()``'s output."""
        acc = cls(options)
        for name in cls._PLAIN:
            setattr(acc, name, state[name] if name in state else cls._DEFAULTS[name])
        acc.kinds = dict(state["kinds"])
        acc.pytypes = dict(state["pytypes"])
        n, mean, m2, m3, m4 = state["moments"]
        acc.moments = (int(n), float(mean), float(m2), float(m3), float(m4))
        acc.scale = float(acc.scale)
        acc.kll = ds.kll_doubles_sketch.deserialize(unb64(state["kll"]))
        acc.hll = HllRegisters.from_state(state["hll"])
        acc.fi = ds.frequent_strings_sketch.deserialize(unb64(state["fi"]))
        return acc
