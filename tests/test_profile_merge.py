"""Property tests: Profile.merge is associative and commutative, and any split of
the rows into batches gives the same profile as one batch."""

from __future__ import annotations

import itertools
import math
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from beam_ml.profiling.accumulators import DatasetAccumulator, merge_moments
from beam_ml.profiling.dataset import Profile
from hypothesis import HealthCheck, given, settings

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def frames(draw: Any, min_rows: int = 0, max_rows: int = 40) -> pd.DataFrame:
    n = draw(st.integers(min_rows, max_rows))
    # eighths keep sums exact enough that merge order cannot change a moment
    nums = st.one_of(st.none(), st.integers(-800, 800).map(lambda i: i / 8))
    ints = st.integers(-5, 5)
    words = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "<d>", "é"]))
    flags = st.booleans()
    return pd.DataFrame(
        {
            "x": pd.Series(draw(st.lists(nums, min_size=n, max_size=n)), dtype="float64"),
            "k": pd.Series(draw(st.lists(ints, min_size=n, max_size=n)), dtype="int64"),
            "s": pd.Series(draw(st.lists(words, min_size=n, max_size=n)), dtype="object"),
            "b": pd.Series(draw(st.lists(flags, min_size=n, max_size=n)), dtype="bool"),
        }
    )


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal, with floats equal to 1e-9 relative (merge order changes rounding)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _top_as_sets(d: dict[str, Any]) -> dict[str, Any]:
    # ties in the top values may come out in either order
    for c in d["columns"].values():
        c["top"] = sorted(map(tuple, c["top"]), key=repr)
    return d


@SETTINGS
@given(frames(), frames(), frames())
def test_merge_is_associative(a: pd.DataFrame, b: pd.DataFrame, c: pd.DataFrame) -> None:
    pa, pb, pc = (Profile.from_frame(f) for f in (a, b, c))
    left = pa.merge(pb).merge(pc).to_dict()
    right = pa.merge(pb.merge(pc)).to_dict()
    assert_same(_top_as_sets(left), _top_as_sets(right))


@SETTINGS
@given(frames(), frames())
def test_merge_is_commutative(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pa, pb = Profile.from_frame(a), Profile.from_frame(b)
    assert_same(_top_as_sets(pa.merge(pb).to_dict()), _top_as_sets(pb.merge(pa).to_dict()))


@SETTINGS
@given(frames(min_rows=1), st.lists(st.floats(0, 1), max_size=4))
def test_splitting_the_rows_anywhere_gives_the_same_profile(
    df: pd.DataFrame, cuts: list[float]
) -> None:
    whole = Profile.from_frame(df).to_dict()
    points = sorted({0, len(df), *(int(c * len(df)) for c in cuts)})
    acc = DatasetAccumulator()
    for lo, hi in itertools.pairwise(points):
        acc.add_batch(df.iloc[lo:hi])
    batched = Profile.from_accumulator(acc).to_dict()
    parts = [Profile.from_frame(df.iloc[lo:hi]) for lo, hi in itertools.pairwise(points)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert_same(_top_as_sets(whole), _top_as_sets(batched))
    assert_same(_top_as_sets(whole), _top_as_sets(merged.to_dict()))


@SETTINGS
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    st.integers(0, 60),
)
def test_moments_merge_exactly_like_one_pass(values: list[float], cut: int) -> None:
    from beam_ml.profiling.accumulators import batch_moments

    x = np.array(values)
    cut = min(cut, len(x))
    merged = merge_moments(batch_moments(x[:cut]), batch_moments(x[cut:]))
    whole = batch_moments(x)
    assert merged[0] == whole[0]
    scale = max(1.0, float(np.abs(x).max()))
    for got, want, power in zip(merged[1:], whole[1:], (1, 2, 3, 4), strict=True):
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-7 * scale**power * len(x))
