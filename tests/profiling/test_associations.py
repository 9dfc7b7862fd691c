"""Cramér's V of categorical pairs: exact against pandas, mergeable, bounded, saved."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import Profile, ProfileOptions


def exact_cramers_v(df: pd.DataFrame, a: str, b: str, top_k: int | None = None) -> float:
    """Cramér's V from pandas' crosstab (rows where both are present), no bias correction."""
    pair = df[[a, b]].dropna().astype(str)
    if top_k is not None:
        for c in (a, b):
            keep = pair[c].value_counts().index[:top_k]
            if pair[c].nunique() > top_k + 1:
                pair[c] = pair[c].where(pair[c].isin(keep), "\0other")
    table = pd.crosstab(pair[a], pair[b]).to_numpy(dtype=float)
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return math.sqrt(chi2 / (n * (min(table.shape) - 1)))


def test_penguins_cramers_v_matches_exact_pandas(penguins):
    df, p = penguins  # profiled by bml.profile on DirectRunner
    v = p.correlations["cramers_v"]
    assert v["columns"] == ["species", "island", "sex"]
    for i, a in enumerate(v["columns"]):
        assert v["values"][i][i] == 1.0
        for j, b in enumerate(v["columns"]):
            if i != j:
                assert v["values"][i][j] == pytest.approx(exact_cramers_v(df, a, b), rel=1e-12)
    # species and island are associated, sex with neither
    assert v["values"][0][1] > 0.6 > 0.05 > v["values"][0][2]


def test_cramers_v_is_the_same_for_any_split_and_survives_json(penguins):
    df, whole = penguins
    parts = [Profile.from_frame(df.iloc[i : i + 97]) for i in range(0, len(df), 97)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    again = Profile.from_json(merged.to_json())
    for p in (merged, again):
        got = np.array(p.correlations["cramers_v"]["values"], dtype=float)
        want = np.array(whole.correlations["cramers_v"]["values"], dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert again.to_dict()["correlations"]["cramers_v"] == merged.correlations["cramers_v"]


def test_many_categories_are_cut_to_the_top_ones_and_too_many_leave_the_view():
    rng = np.random.default_rng(8)
    n = 6000
    a = rng.integers(0, 12, n)
    df = pd.DataFrame(
        {
            "a": np.array([f"a{i}" for i in range(12)])[a],
            "b": np.array([f"b{i}" for i in range(9)])[(a + rng.integers(0, 3, n)) % 9],
            "wide": np.char.add("w", rng.integers(0, 400, n).astype(str)),
            "flag": rng.random(n) < 0.4,
        }
    )
    df.loc[::13, "b"] = None
    options = ProfileOptions(cramers_top_k=4, cramers_max_categories=60)
    p = Profile.from_frame(df, options)
    v = p.correlations["cramers_v"]
    # "wide" has 400 distinct values: more than cramers_max_categories, so not counted
    assert v["columns"] == ["a", "b", "flag"]
    assert v["values"][0][1] == pytest.approx(exact_cramers_v(df, "a", "b", top_k=4), rel=1e-12)
    assert v["values"][0][2] == pytest.approx(exact_cramers_v(df, "a", "flag", top_k=4), rel=1e-12)
    # memory: one table per tracked pair, each at most max_categories squared
    acc = p.accumulator()
    assert set(acc.pairs.categories) == {"a", "b", "flag"}
    assert all(t.size <= 60 * 60 for t in acc.pairs.counts.values())


def test_a_state_saved_before_the_pairs_has_no_cramers_v():
    p = Profile.from_frame(pd.DataFrame({"x": ["a", "b", "a"], "y": ["c", "d", "c"]}))
    state = dict(p.state)
    del state["pairs"]
    old = Profile.from_state(state)
    assert old.correlations["cramers_v"] == {"columns": [], "values": []}
    # merged with a new profile, the counts would miss the old rows: still none
    assert old.merge(p).correlations["cramers_v"]["columns"] == []
