"""Sketch helpers: the vectorised HLL registers, base64 state, text the sketches accept.

Apache DataSketches' ``hll_sketch.update`` and ``frequent_strings_sketch.update``
take one item per call; :class:`HllRegisters` updates a whole numpy array of
hashes at a time and still serialises as a real DataSketches HLL_8 sketch.

>>> import pandas as pd
>>> regs = HllRegisters(12)
>>> regs.update_hashes(pd.util.hash_array(np.array([1.0, 2.0, 2.0])))
>>> regs.estimate()
2.0
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import datasketches as ds
import numpy as np

from beam_ml.errors import BeamMLError

# The batch's most frequent values fed to the frequent-items sketch.
FI_FEED = 1024
# Of the values fed no more often than one left out, this many (they are shown, not counted).
FI_TIED = 64
# Strings longer than this are cut in the top values (the HLL still sees all).
MAX_KEY_CHARS = 200
# Batches of more sorted values than this reach KLL as a sketch of their own (kll_update_sorted).
KLL_BATCH_MIN = 2048
# DataSketches KLL serialisation (kll_sketch.hpp): preamble ints, serial version, family, M
_KLL_HEADER = (5, 1, 15, 8)
_RNG = np.random.default_rng()  # unseeded, as DataSketches' own compactions are
# DataSketches HLL serialisation: flags and mode byte (see HllRegisters.image)
_HLL_EMPTY = 4
_HLL_OUT_OF_ORDER = 16
_HLL_MODE_HLL = 2
_HLL_TYPE_8 = 2


def b64(data: bytes) -> str:
    """Bytes (a serialised sketch) as base64 text, for a JSON state.

    >>> unb64(b64(b"kll"))
    b'kll'
    """
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes of :func:`b64`'s text."""
    return base64.b64decode(text.encode("ascii"))


def safe_text(value: str) -> str:
    """A string the sketches (UTF-8 in C++) accept: lone surrogates become escapes.

    >>> safe_text("a\\udcffb")
    'a\\\\udcffb'
    """
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def register_values(w: np.ndarray, width: int) -> np.ndarray:
    """HLL register values of ``width``-bit words: leading zeros + 1, as uint8.

    Below 2**53 a float holds the word exactly, so its exponent is the bit
    length (one conversion, ~8 times faster than two ``frexp``); wider words
    take the exact bit length of each 32-bit half.

    >>> register_values(np.array([0, 1, 2**51], dtype=np.uint64), 52).tolist()
    [53, 52, 1]
    """
    if width <= 53:
        # exponent field e: 0 for 0.0, else 1023 + bit length - 1; the value is
        # width + 1 - bit length = min(width + 1023 - e, width + 1), in place
        e = w.astype(np.float64).view(np.uint64)
        e >>= np.uint64(52)
        np.subtract(np.uint64(width + 1023), e, out=e)
        np.minimum(e, np.uint64(width + 1), out=e)
        return e.astype(np.uint8)
    hi = np.frexp((w >> np.uint64(32)).astype(np.float64))[1]
    lo = np.frexp((w & np.uint64(0xFFFFFFFF)).astype(np.float64))[1]
    bits = np.where(hi > 0, hi + 32, lo)
    return (width - bits + 1).astype(np.uint8)


def _kll_level_capacity(k: int, num_levels: int, height: int, min_width: int = 8) -> int:
    """DataSketches' capacity of one KLL level (``kll_helper::level_capacity``)."""
    depth = num_levels - height - 1

    def aux(k: int, depth: int) -> int:  # k * (2/3)**depth, rounded as in C++
        return (((2 * k) << depth) // 3**depth + 1) >> 1

    capped = aux(k, depth) if depth <= 30 else aux(aux(k, depth // 2), depth - depth // 2)
    return max(min_width, capped)


def kll_update_sorted(kll: Any, values: np.ndarray) -> None:
    """Add sorted, finite floats to a DataSketches KLL sketch (``kll.update``'s result, faster).

    ``kll.update`` costs ~25 ns a value: a deep sketch compacts its level 0
    every few values. A large batch is compacted here the way KLL compacts a
    sorted level: the first value of an odd count stays, a random half of the
    rest (every other one) moves up at twice the weight, until at most k are
    left. That is a valid KLL sketch of the batch (every rank within 2 / k of
    the batch's size, always: under the sketch's own bound), merged in at once.

    >>> import datasketches as ds
    >>> kll = ds.kll_doubles_sketch(200)
    >>> kll_update_sorted(kll, np.arange(100_000, dtype=np.float64))
    >>> kll.n, abs(kll.get_quantile(0.5) - 50_000) < 1_000
    (100000, True)
    """
    n = len(values)
    k = int(kll.k)
    if n <= max(KLL_BATCH_MIN, k):
        kll.update(values)
        return
    levels: list[np.ndarray] = []  # the values kept at each level, level 0 first
    rest = values
    while len(rest) > k:
        levels.append(rest[: len(rest) % 2])
        rest = rest[len(rest) % 2 + int(_RNG.integers(2)) :: 2]
    levels.append(rest)
    sizes = np.array([len(level) for level in levels], dtype=np.int64)
    capacity = sum(_kll_level_capacity(k, len(levels), h) for h in range(len(levels)))
    starts = capacity - int(sizes.sum()) + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    preamble, version, family, m = _KLL_HEADER
    image = b"".join(
        [
            struct.pack(
                "<BBBBHBBQHBB", preamble, version, family, 0, k, m, 0, n, k, len(levels), 0
            ),
            starts.astype("<u4").tobytes(),
            struct.pack("<dd", float(values[0]), float(values[-1])),
            np.concatenate(levels).astype("<f8").tobytes(),
        ]
    )
    try:
        batch = ds.kll_doubles_sketch.deserialize(image)
    except (RuntimeError, ValueError):  # a DataSketches whose format differs: the slow way
        kll.update(values)
        return
    kll.merge(batch)


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
        self._image: bytes | None = None  # the image of the current registers, once made

    @property
    def limit(self) -> int:
        return 1 << max(self.lg_k - 3, 0)

    def update_hashes(self, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        self._image = None
        h = np.asarray(hashes, dtype=np.uint64)
        if self.exact is not None:
            # a sort, not np.union1d: numpy 2's hash-based unique is ~20x slower on 50k hashes
            merged = np.sort(np.concatenate([self.exact, h]))
            if len(merged) > 1:
                merged = merged[np.append(True, merged[1:] != merged[:-1])]
            if len(merged) <= self.limit:
                self.exact = merged
                return
            self.exact = None
            h = merged
        self._registers(h)

    def _registers(self, h: np.ndarray) -> None:
        # below 2**lg_k, the slots read the same as int64 (numpy's index type here)
        slots = (h & np.uint64((1 << self.lg_k) - 1)).view(np.int64)
        w = h >> np.uint64(self.lg_k)
        np.maximum.at(self.regs, slots, register_values(w, 64 - self.lg_k))

    def merge(self, other: HllRegisters) -> None:
        self._image = None
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
        if self._image is not None:
            return self._image
        regs = self.regs
        empty = not regs.any()
        r = regs.astype(np.float64)
        kxq0 = float(np.exp2(-r[regs < 32]).sum())
        kxq1 = float(np.exp2(-r[regs >= 32]).sum())
        flags = _HLL_OUT_OF_ORDER | (_HLL_EMPTY if empty else 0)
        header = bytes([10, 1, 7, self.lg_k, 0, flags, 0, _HLL_MODE_HLL | _HLL_TYPE_8 << 2])
        zeros = int((regs == 0).sum())
        image = header + struct.pack("<dddii", 0.0, kxq0, kxq1, zeros, 0) + regs.tobytes()
        self._image = image
        return image

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
            return {"lg_k": self.lg_k, "exact": b64(self.exact.astype("<u8").tobytes())}
        return b64(self.image())

    @classmethod
    def from_state(cls, state: str | dict[str, Any]) -> HllRegisters:
        if isinstance(state, dict):
            out = cls(int(state["lg_k"]))
            out.exact = np.frombuffer(unb64(state["exact"]), dtype="<u8").astype(np.uint64)
            return out
        data = unb64(state)
        lg_k = data[3] if len(data) > 3 else 0
        if data[:3] != bytes([10, 1, 7]) or len(data) != 40 + (1 << lg_k):
            raise BeamMLError.expected("an HLL_8 register image", f"{len(data)} bytes")
        out = cls(lg_k)
        out.exact = None
        out.regs = np.frombuffer(data[40:], dtype=np.uint8).copy()
        return out
