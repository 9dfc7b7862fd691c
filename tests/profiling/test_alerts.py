"""Alerts: raised where they apply, not where they do not."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from beam_ml.profiling import ALERT_KINDS, Profile


def _kinds(p: Profile) -> set[tuple[str | None, str]]:
    return {(a.column, a.kind) for a in p.alerts}


def test_alerts_are_raised_where_they_apply():
    rng = np.random.default_rng(0)
    n = 1000
    base = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "const": [7] * n,
            "id": np.arange(n),
            "missing": np.where(np.arange(n) < 300, np.nan, 1.0),
            "zeros": np.where(np.arange(n) < 200, 0.0, rng.normal(size=n)),
            "skewed": np.r_[np.ones(n - 1), 1e9],
            "imbalanced": ["a"] * (n - 4) + ["b"] * 4,
            "x": base,
            "y": base * 2 + 1,
            "inf": np.r_[np.inf, rng.normal(size=n - 1)],
            "names": [f"name {i % 120}" for i in range(n)],
        }
    )
    p = Profile.from_frame(df)
    kinds = _kinds(p)
    for expected in [
        ("const", "constant"),
        ("id", "unique"),
        ("missing", "missing"),
        ("zeros", "zeros"),
        ("skewed", "skewed"),
        ("imbalanced", "imbalanced"),
        ("x", "high_correlation"),
        ("inf", "infinite"),
        ("names", "high_cardinality"),
    ]:
        assert expected in kinds, expected
    assert ("x", "unique") not in kinds and ("names", "imbalanced") not in kinds
    assert p.columns["inf"].inf == 1 and p.columns["inf"].max < math.inf
    assert {a.kind for a in p.alerts} <= set(ALERT_KINDS)


def test_duplicate_rows_are_estimated_and_alerted():
    df = pd.DataFrame({"a": [1, 2, 3, 1, 2] * 20, "b": ["x", "y", "z", "x", "y"] * 20})
    p = Profile.from_frame(df)
    assert p.duplicates == int(df.duplicated().sum()) == 97
    assert (None, "duplicates") in _kinds(p)
    assert p.to_dict()["duplicates"]["estimate"] == 97


def test_the_infinite_alert_counts_each_sign():
    p = Profile.from_frame(pd.DataFrame({"x": [1.0, np.inf, np.inf, -np.inf, 2.0]}))
    (alert,) = [a for a in p.alerts if a.kind == "infinite"]
    assert alert.detail == "3 infinite values (+inf 2, -inf 1)"
    expected = {"column": "x", "kind": "infinite", "detail": alert.detail}
    assert json.loads(alert.to_json()) == expected


def test_mixed_types_name_their_python_types():
    p = Profile.from_frame(pd.DataFrame({"m": [1, "a", 2.5]}))
    (alert,) = [a for a in p.alerts if a.kind == "mixed_types"]
    assert "python types: float 1, int 1, str 1" in alert.detail
