"""A mergeable uniform sample: keep the ``n`` rows with the smallest keys of a seeded hash.

A row's key depends only on the seed, its file and its position (the batch
index), so the same seed keeps the same rows however the data is batched or
split across workers, in a notebook or on a runner; memory holds ``n`` rows
plus one batch.

>>> bottom = _BottomK(2, seed=0)
>>> kept = bottom.add_input(bottom.create_accumulator(), pd.DataFrame({"a": range(10)}))
>>> bottom.extract_output(kept).attrs["beam_ml_sample"]["population"]
10
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

# Where a sample says what it is: frame.attrs[SAMPLE_ATTR] (see describe_sample).
SAMPLE_ATTR = "beam_ml_sample"


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    result = pd.concat(frames) if len(frames) > 1 else frames[0]
    result.attrs = dict(frames[0].attrs)
    return result


def _row_keys(batch: pd.DataFrame, seed: int) -> np.ndarray:
    """A uniform 64-bit key per row, from the seed, the file and the row's position."""
    index = batch.index
    if pd.api.types.is_integer_dtype(index.dtype):
        positions = np.asarray(index, dtype=np.int64).view(np.uint64)
    else:
        positions = pd.util.hash_pandas_object(index.to_series(), index=False).to_numpy()
    salt = _mix(np.array([zlib.crc32(str(batch.attrs.get("file", "")).encode())], np.uint64))
    seeded = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    return _mix(_mix(positions ^ seeded) ^ salt)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads any 64-bit input into uniform 64-bit output."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


class _BottomK:
    """Keep the ``n`` rows with the smallest keys: a mergeable uniform sample.

    The accumulator is ``(kept rows or None, rows seen)``: the count is the
    population the sample is drawn from, which the sample then states.
    """

    key = "__beam_ml_sample_key"

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed

    def create_accumulator(self) -> tuple[pd.DataFrame | None, int]:
        return None, 0

    def add_input(
        self, accumulator: tuple[pd.DataFrame | None, int], batch: pd.DataFrame
    ) -> tuple[pd.DataFrame, int]:
        keyed = batch.assign(**{self.key: _row_keys(batch, self.seed)})
        keyed.attrs = dict(batch.attrs)
        kept, seen = accumulator
        return self._trim([kept, keyed]), seen + len(batch)

    def merge_accumulators(self, accumulators: Any) -> tuple[pd.DataFrame, int]:
        accumulators = list(accumulators)
        kept = self._trim([frame for frame, _ in accumulators])
        return kept, sum(seen for _, seen in accumulators)

    def _trim(self, parts: list[pd.DataFrame | None]) -> pd.DataFrame:
        frames = [p for p in parts if p is not None]
        merged = _concat(frames) if frames else pd.DataFrame({self.key: []})
        if len(merged) > self.n:
            merged = merged.nsmallest(self.n, self.key)
        return merged

    def extract_output(self, accumulator: tuple[pd.DataFrame | None, int]) -> pd.DataFrame:
        kept, seen = accumulator
        if kept is None:
            frame = pd.DataFrame()
        else:
            frame = kept.sort_values(self.key).drop(columns=[self.key])
            frame.attrs = dict(kept.attrs)
        frame.attrs[SAMPLE_ATTR] = {
            "method": "uniform",
            "rows": len(frame),
            "population": seen,
            "seed": self.seed,
        }
        return frame
