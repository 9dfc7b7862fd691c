"""Finalising an accumulator: column types, histograms and their edges."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import Profile
from beam_ml.profiling.finalise import bin_edges


def test_histograms_count_every_finite_value_within_the_kll_bound():
    rng = np.random.default_rng(1)
    x = rng.normal(size=50_000)
    p = Profile.from_frame(pd.DataFrame({"x": x}))
    h = p.columns["x"].histogram
    assert sum(h["counts"]) == len(x)
    truth, _ = np.histogram(x, bins=h["edges"])
    eps = p.error_bounds["kll_rank"]
    assert np.abs(np.cumsum(h["counts"]) - np.cumsum(truth)).max() <= 2 * eps * len(x)
    qh = p.columns["x"].quantile_histogram
    assert sum(qh["counts"]) == len(x) and len(qh["edges"]) == len(qh["counts"]) + 1


def test_type_inference_per_column():
    df = pd.DataFrame(
        {
            "b": [True, False, True, True],
            "i": [1, 2, 3, 4],
            "wf": [1.0, 2.0, None, 4.0],
            "f": [1.5, 2.0, 3.0, 4.0],
            "d": ["2024-01-01", "2024-02-01T10:00:00", "2024-03-01", None],
            "dt": pd.to_datetime(["2020-01-01", "2021-01-01", None, "2022-05-05"]),
            "c": ["a", "b", "a", "a"],
        }
    )
    p = Profile.from_frame(df)
    types = {n: c.type for n, c in p.columns.items()}
    assert types == {
        "b": "boolean",
        "i": "integer",
        "wf": "integer",
        "f": "float",
        "d": "datetime",
        "dt": "datetime",
        "c": "categorical",
    }
    assert p.columns["b"].mean == 0.75 and dict(p.columns["b"].top) == {True: 3, False: 1}
    assert p.columns["d"].max == "2024-03-01T00:00:00"
    assert p.columns["dt"].min == "2020-01-01T00:00:00"
    many = Profile.from_frame(pd.DataFrame({"s": [f"id-{i}" for i in range(500)]}))
    assert many.columns["s"].type == "string"
    assert many.columns["s"].lengths == {
        "min": 4,
        "mean": pytest.approx(5.78),
        "max": 6,
        "empty": 0,
    }


def test_all_null_column_is_profiled_with_a_missing_alert():
    df = pd.DataFrame({"a": [1, 2, 3], "n": [None, None, None], "f": [np.nan] * 3})
    p = Profile.from_frame(df)
    kinds = {(a.column, a.kind) for a in p.alerts}
    assert p.columns["n"].count == 0 and p.columns["n"].nulls == 3
    assert p.columns["f"].type == "float" and p.columns["f"].quantiles is None
    assert ("n", "missing") in kinds and ("f", "missing") in kinds
    assert p.columns["n"].distinct == 0 and p.columns["n"].top == ()


def test_whole_floats_beyond_2_to_the_53_are_not_called_integers():
    p = Profile.from_frame(pd.DataFrame({"big": [1.0, 1e300], "ok": [1.0, 2.0**52]}))
    assert p.columns["big"].type == "float" and p.columns["big"].max == 1e300
    assert p.columns["ok"].type == "integer" and p.columns["ok"].max == 2**52


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (5.0, 5.0),  # all values equal
        (1.0, math.nextafter(1.0, 2.0)),  # a range of one ulp
        (0.0, 5e-324),  # subnormal
        (-1e308, 1e308),  # hi - lo overflows
        (-1.7976931348623157e308, 1.7976931348623157e308),  # the whole float range
        (1e308, 1.7976931348623157e308),
    ],
)
def test_bin_edges_are_finite_and_strictly_increasing_for_degenerate_ranges(lo, hi):
    edges = bin_edges(lo, hi, 20)
    assert edges[0] == lo and edges[-1] == hi
    assert all(math.isfinite(e) for e in edges)
    if lo < hi:
        assert all(a < b for a, b in itertools.pairwise(edges))
        assert 2 <= len(edges) <= 21
    else:
        assert edges == [lo, hi]


@pytest.mark.parametrize(
    "values",
    [
        [7.0] * 5,
        [1.0, math.nextafter(1.0, 2.0)] * 3,
        [0.0, 5e-324, 5e-324],
        [-1.7976931348623157e308, 1.7976931348623157e308, 0.0],
    ],
)
def test_degenerate_ranges_give_histograms_that_count_every_value(values):
    p = Profile.from_frame(pd.DataFrame({"x": values}))
    c = p.columns["x"]
    for hist in (c.histogram, c.quantile_histogram):
        assert sum(hist["counts"]) == len(values)
        assert len(hist["edges"]) == len(hist["counts"]) + 1
    assert p.cdf("x", [c.max]) == [1.0]
