"""pandas' 64-bit string hash, computed with numpy on Arrow's buffers (``hash_arrow_strings``).

``pd.util.hash_array`` hashes strings with SipHash-2-4 (key ``"0123456789123456"``)
over their UTF-8 bytes, then mixes the result; it needs Python ``str`` objects,
so for Arrow strings that means building them first. Here the same SipHash runs
over all the strings at once, eight bytes per step, straight from the Arrow
offsets and data: the hashes are bit for bit pandas' (the distinct counts and
duplicate rows do not change, and saved profiles still merge) at about a third
of the cost. Strings longer than :data:`LONG_BYTES` go to pandas (few steps for all).

>>> import pyarrow as pa
>>> strings = pa.array(["", "a", "héllo wörld, longer than eight bytes"])
>>> bool((hash_arrow_strings(strings) == pd.util.hash_array(
...     np.array(strings.to_pylist(), dtype=object), categorize=False)).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# strings of more bytes are hashed by pandas: each 8 bytes is one numpy step for all
LONG_BYTES = 256
_KEY = b"0123456789123456"
_K0 = np.uint64(int.from_bytes(_KEY[:8], "little"))
_K1 = np.uint64(int.from_bytes(_KEY[8:], "little"))
_U = np.uint64
# the bytes of a string's last, partial word that belong to it (by its length mod 8)
_TAIL_MASKS = np.array([(1 << (8 * r)) - 1 for r in range(8)], dtype=np.uint64)


def _rotl(x: np.ndarray, b: int, tmp: np.ndarray) -> None:
    """Rotate left by ``b`` bits, in place (``tmp``: scratch of the same size)."""
    np.right_shift(x, _U(64 - b), out=tmp)
    np.left_shift(x, _U(b), out=x)
    x |= tmp


def _round(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray, tmp: np.ndarray) -> None:
    """One SipRound, in place, with no temporary arrays."""
    v0 += v1
    _rotl(v1, 13, tmp)
    v1 ^= v0
    _rotl(v0, 32, tmp)
    v2 += v3
    _rotl(v3, 16, tmp)
    v3 ^= v2
    v0 += v3
    _rotl(v3, 21, tmp)
    v3 ^= v0
    v2 += v1
    _rotl(v1, 17, tmp)
    v1 ^= v2
    _rotl(v2, 32, tmp)


def _siphash(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """SipHash-2-4 of each byte string ``data[start : start + length]`` (``length <= 256``)."""
    m = len(starts)
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[: len(data)] = data
    # every 8-byte little-endian word of the buffer, at any byte offset (unaligned view)
    words = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
    full = lengths // 8
    most = int(full.max(initial=0))
    order = None
    if most and int(full.min()) != most:
        # longest first: the strings still hashing at step t are a prefix
        # (full <= 32: as uint8, a stable argsort is a radix sort)
        order = np.argsort((most - full).astype(np.uint8), kind="stable")
        starts, lengths, full = starts[order], lengths[order], full[order]
    v0 = np.full(m, _K0 ^ _U(0x736F6D6570736575))
    v1 = np.full(m, _K1 ^ _U(0x646F72616E646F6D))
    v2 = np.full(m, _K0 ^ _U(0x6C7967656E657261))
    v3 = np.full(m, _K1 ^ _U(0x7465646279746573))
    scratch = np.empty(m, dtype=np.uint64)
    active = np.bincount(full, minlength=most + 1)[::-1].cumsum()[::-1]
    with np.errstate(over="ignore"):
        for t in range(most):
            a = int(active[t + 1])
            word = words[starts[:a] + 8 * t].astype(np.uint64, copy=False)
            s0, s1, s2, s3, tmp = v0[:a], v1[:a], v2[:a], v3[:a], scratch[:a]
            s3 ^= word
            _round(s0, s1, s2, s3, tmp)
            _round(s0, s1, s2, s3, tmp)
            s0 ^= word
        b = words[starts + 8 * full].astype(np.uint64, copy=False)
        b &= _TAIL_MASKS[lengths & 7]
        b |= lengths.astype(np.uint64) << _U(56)
        v3 ^= b
        _round(v0, v1, v2, v3, scratch)
        _round(v0, v1, v2, v3, scratch)
        v0 ^= b
        v2 ^= _U(0xFF)
        for _ in range(4):
            _round(v0, v1, v2, v3, scratch)
        v0 ^= v1
        v0 ^= v2
        v0 ^= v3
    if order is None:
        return v0
    out = np.empty(m, dtype=np.uint64)
    out[order] = v0
    return out


def _mix(h: np.ndarray) -> np.ndarray:
    """pandas' final mix of a 64-bit hash (``_hash_ndarray``)."""
    with np.errstate(over="ignore"):
        h ^= h >> _U(30)
        h *= _U(0xBF58476D1CE4E5B9)
        h ^= h >> _U(27)
        h *= _U(0x94D049BB133111EB)
        h ^= h >> _U(31)
    return h


def hash_arrow_strings(strings: Any) -> np.ndarray:
    """``pd.util.hash_array(<the strings as Python str>, categorize=False)``, without them.

    ``strings``: a pyarrow string or large_string array without nulls.
    """
    import pyarrow as pa

    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    n = len(strings)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    _, offsets_buf, data_buf = strings.buffers()
    kind = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=kind)[strings.offset : strings.offset + n + 1]
    offsets = offsets.astype(np.int64)
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    data = data[offsets[0] : offsets[-1]]
    starts = offsets[:-1] - offsets[0]
    lengths = np.diff(offsets)
    long = lengths > LONG_BYTES
    if not long.any():
        return _mix(_siphash(data, starts, lengths))
    out = np.empty(n, dtype=np.uint64)
    short = ~long
    out[short] = _mix(_siphash(data, starts[short], lengths[short]))
    texts = np.array(strings.filter(pa.array(long)).to_pylist(), dtype=object)
    out[long] = pd.util.hash_array(texts, categorize=False)
    return out
