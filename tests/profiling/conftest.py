"""Shared data of the profiling tests: real datasets profiled once, exact pandas checks."""

from __future__ import annotations

from collections.abc import Callable

import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import QUANTILES, Profile

REL = 1e-9


def rank_range(values: np.ndarray, v: float) -> tuple[float, float]:
    """Share of values < v and <= v: any rank in between is exact for v."""
    s = np.sort(values)
    n = len(s)
    return np.searchsorted(s, v, "left") / n, np.searchsorted(s, v, "right") / n


def _key(v: object) -> object:
    return float(v) if isinstance(v, int | float | np.number) and not isinstance(v, bool) else v


def assert_matches_pandas(p: Profile, df: pd.DataFrame, columns: list[str] | None = None) -> None:
    """Counts, nulls, min, max exact; mean/std to 1e-9; sketches within their bounds."""
    kll_eps = p.error_bounds["kll_rank"]
    for name in columns or list(df.columns):
        s = df[name]
        c = p.columns[name]
        assert c.count == int(s.count()), name
        assert c.nulls == int(s.isna().sum()), name
        lo, hi = c.distinct_bounds
        assert lo <= s.nunique() <= hi, (name, s.nunique(), c.distinct_bounds)
        if c.type in ("float", "integer"):
            x = s.dropna().to_numpy(dtype=float)
            assert c.min == x.min() and c.max == x.max(), name
            assert c.mean == pytest.approx(x.mean(), rel=REL), name
            assert c.std == pytest.approx(s.std(), rel=REL), name
            assert c.skewness == pytest.approx(s.skew(), rel=1e-6, abs=1e-9), name
            assert c.kurtosis == pytest.approx(s.kurt(), rel=1e-6, abs=1e-9), name
            for q in QUANTILES:
                low, high = rank_range(x, c.quantiles[str(q)])
                assert low - kll_eps <= q <= high + kll_eps, (name, q, low, high)
        # each value shown is counted within the sketch's error; a value left out
        # cannot be more frequent than the least shown estimate plus that error
        truth = s.dropna().astype(str if c.type in ("categorical", "string") else object)
        if c.type == "datetime":  # shown as ISO 8601 text, whatever the column held
            truth = pd.to_datetime(truth, format="ISO8601").map(lambda t: t.isoformat())
        counts = {_key(v): n for v, n in truth.value_counts().items()}
        shown = {_key(v): n for v, n in c.top}
        for value, estimate in shown.items():
            assert abs(estimate - counts[value]) <= c.top_error, (name, value)
        least = min(shown.values(), default=0)
        for value, n in counts.items():
            if n > c.top_error and n > least + c.top_error:
                assert value in shown, (name, value, n)


@pytest.fixture(scope="session")
def matches_pandas() -> Callable[..., None]:
    """``assert_matches_pandas(profile, frame, columns=None)``."""
    return assert_matches_pandas


@pytest.fixture(scope="session")
def ranks() -> Callable[[np.ndarray, float], tuple[float, float]]:
    """``rank_range(values, v)``: the shares of values < v and <= v."""
    return rank_range


@pytest.fixture(scope="session")
def penguins() -> tuple[pd.DataFrame, Profile]:
    path = bml.datasets.load("penguins")
    return pd.read_csv(path), bml.profile(path)


@pytest.fixture(scope="session")
def flights() -> tuple[pd.DataFrame, Profile]:
    path = bml.datasets.load("flights")
    return pd.read_csv(path), bml.profile(path)
