"""Profile as a value: frozen, pure merges (associative, commutative), JSON and pickle."""

from __future__ import annotations

import itertools
import json
import math
import pickle
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import DatasetAccumulator, Profile
from hypothesis import HealthCheck, given, settings

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ queries
def test_cdf_and_quantile_answer_from_the_sketch_within_its_bound(ranks):
    rng = np.random.default_rng(3)
    x = rng.exponential(size=30_000)
    p = Profile.from_frame(pd.DataFrame({"x": x}))
    points = [0.1, 0.5, 1.0, 3.0]
    eps = p.error_bounds["kll_rank"]
    for point, share in zip(points, p.cdf("x", points), strict=True):
        assert abs(share - (x <= point).mean()) <= eps
    low, high = ranks(x, p.quantile("x", 0.9))
    assert low - eps <= 0.9 <= high + eps
    with pytest.raises(BeamMLError, match="numeric column"):
        Profile.from_frame(pd.DataFrame({"s": ["a"]})).cdf("s", [1.0])
    with pytest.raises(BeamMLError, match="column of the profile"):
        p.quantile("nope", 0.5)


def test_cdf_takes_infinite_and_repeated_points():
    p = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}))
    got = p.cdf("x", [math.inf, 2.0, -math.inf, 2.0, math.nan])
    assert got[:4] == [1.0, 0.5, 0.0, 0.5] and math.isnan(got[4])


# ------------------------------------------------------------ value object
def test_profile_is_frozen_and_merge_is_pure():
    a = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0]}))
    b = Profile.from_frame(pd.DataFrame({"x": [5.0]}))
    before = (a.to_json(), b.to_json())
    merged = a.merge(b)
    assert (a.to_json(), b.to_json()) == before
    assert merged.rows == 3 and merged.columns["x"].max == 5.0
    with pytest.raises(AttributeError):
        a.rows = 5  # type: ignore[misc]
    with pytest.raises(BeamMLError, match="Profile to merge"):
        a.merge("nope")  # type: ignore[arg-type]


def test_merge_keeps_a_shared_source_only():
    a = Profile.from_frame(pd.DataFrame({"x": [1.0]})).with_source("a.csv")
    assert a.merge(a).source == "a.csv"
    assert a.merge(Profile.from_frame(pd.DataFrame({"x": [2.0]}))).source is None


def test_json_round_trip_and_pickle_keep_everything(penguins):
    _, p = penguins
    again = Profile.from_json(p.to_json())
    assert again.to_dict() == p.to_dict()
    assert again.cdf("body_mass_g", [4000]) == p.cdf("body_mass_g", [4000])
    unpickled = pickle.loads(pickle.dumps(p))
    assert unpickled.to_dict() == p.to_dict()
    assert unpickled.merge(p).rows == 2 * p.rows
    with pytest.raises(BeamMLError, match=r"Profile\.to_json"):
        Profile.from_json(json.dumps(p.to_dict()))
    with pytest.raises(BeamMLError, match="profile JSON"):
        Profile.from_json("{not json")


def test_json_has_the_documented_schema(penguins):
    _, p = penguins
    data = json.loads(p.to_json())
    assert isinstance(data["rows"], int) and isinstance(data["duplicates"]["estimate"], int)
    for key in ("kll_rank", "hll_relative", "frequent_items"):
        assert 0 < data["error_bounds"][key] < 0.1
    column_keys = {
        "type", "count", "nulls", "nan", "inf", "zeros", "negatives", "mean", "std", "min",
        "max", "skewness", "kurtosis", "quantiles", "histogram", "quantile_histogram",
        "distinct", "top", "imbalance_ratio", "entropy", "lengths", "pos_inf", "neg_inf",
    }  # fmt: skip
    for name, c in data["columns"].items():
        assert column_keys <= set(c), name
        assert c["type"] in ("float", "integer", "boolean", "categorical", "string", "datetime")
        assert all(isinstance(pair, list) and len(pair) == 2 for pair in c["top"])
    num = data["columns"]["bill_length_mm"]
    assert set(num["quantiles"]) == {"0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99"}
    assert len(num["histogram"]["edges"]) == len(num["histogram"]["counts"]) + 1
    cat = data["columns"]["species"]
    assert cat["mean"] is None and cat["quantiles"] is None and cat["lengths"]["max"] == 9
    assert cat["entropy"] > 0 and cat["imbalance_ratio"] == pytest.approx(152 / 68)
    assert set(data["correlations"]) >= {"columns", "pearson"}
    assert {"column", "kind", "detail"} == set(data["alerts"][0]) if data["alerts"] else True
    assert isinstance(data["missing_together"]["columns"], list)
    assert json.loads(p.columns["species"].to_json())["name"] == "species"


# ----------------------------------------------------------- merge properties
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
