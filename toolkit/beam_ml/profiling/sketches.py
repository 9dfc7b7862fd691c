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
        exponent = (w.astype(np.float64).view(np.uint64) >> np.uint64(52)).astype(np.int64)
        bits = np.maximum(exponent - 1022, 0)  # 0.0 has exponent field 0
    else:
        hi = np.frexp((w >> np.uint64(32)).astype(np.float64))[1]
        lo = np.frexp((w & np.uint64(0xFFFFFFFF)).astype(np.float64))[1]
        bits = np.where(hi > 0, hi + 32, lo)
    return (width - bits + 1).astype(np.uint8)


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
        slots = (h & np.uint64((1 << self.lg_k) - 1)).astype(np.intp)
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
