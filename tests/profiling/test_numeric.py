"""Numbers: NaN, ±inf and values near the float limits (issue #18) in a real file.

Infinities are counted (``inf``, ``pos_inf``, ``neg_inf``) and kept out of the
moments, min / max, quantiles and histograms; every statistic of the finite
values matches exact pandas, or exact rational arithmetic where pandas itself
overflows.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml import cli
from beam_ml.profiling import QUANTILES, ColumnProfile

BIGGEST = 1.7976931348623157e308


def _write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False) if str(path).endswith(".csv") else frame.to_parquet(path)
    return str(path)


@pytest.fixture(scope="module")
def hostile() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    normal = rng.normal(10, 3, n)
    normal[[3, 50, 51]] = [np.inf, -np.inf, np.nan]
    edge = np.r_[[np.inf, -np.inf, np.nan, 1e308, -1e308], rng.normal(size=n - 5)]
    return pd.DataFrame(
        {
            "normal": normal,
            "edge": edge,
            "const": np.r_[[np.inf, -np.inf], np.full(n - 2, 7.0)],
            "huge": np.r_[[BIGGEST, -BIGGEST], np.zeros(n - 2)],
            "tiny": rng.normal(size=n) * 1e-300,  # pandas' squares underflow to 0
        }
    )


def _exact(values: np.ndarray) -> dict[str, float]:
    """Mean, std, skewness and kurtosis (pandas' estimators) in rational arithmetic."""
    exponent = math.frexp(float(np.abs(values).max()))[1] - 1
    unit = Fraction(2) ** exponent  # in units near the largest value: floats of them are fine
    x = [Fraction(float(v)) / unit for v in values]
    n = len(x)
    mean = sum(x) / n
    m2, m3, m4 = (sum((v - mean) ** k for v in x) for k in (2, 3, 4))
    std = math.sqrt(float(m2 / (n - 1))) * 2.0**exponent  # inf if beyond the largest float
    if m2 == 0:
        return {"mean": float(mean * unit), "std": std, "skewness": 0.0, "kurtosis": 0.0}
    skew = float(m3 / n) / float(m2 / n) ** 1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    kurt = float(Fraction(n * (n + 1) * (n - 1)) * m4 / ((n - 2) * (n - 3) * m2 * m2))
    kurt -= 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    return {"mean": float(mean * unit), "std": std, "skewness": skew, "kurtosis": kurt}


def _check_column(c: ColumnProfile, s: pd.Series, kll_eps: float) -> None:
    finite = s[np.isfinite(s)].to_numpy()
    assert c.count == int(s.count()) and c.nulls == int(s.isna().sum()) == c.nan
    assert c.inf == int(np.isinf(s).sum()) == c.pos_inf + c.neg_inf
    assert c.pos_inf == int((s == np.inf).sum()) and c.neg_inf == int((s == -np.inf).sum())
    assert c.min == finite.min() and c.max == finite.max()
    assert c.zeros == int((finite == 0).sum()) and c.negatives == int((s < 0).sum())
    exact = _exact(finite)
    # the mean of values of both signs near the limits is only as exact as their spread
    assert abs(c.mean - exact["mean"]) <= 1e-12 * max(abs(exact["mean"]), exact["std"])
    if math.isfinite(exact["std"]):
        assert c.std == pytest.approx(exact["std"], rel=1e-9)
    else:
        assert c.std is None  # beyond the largest float
    assert c.skewness == pytest.approx(exact["skewness"], rel=1e-6, abs=1e-9)
    assert c.kurtosis == pytest.approx(exact["kurtosis"], rel=1e-6, abs=1e-9)
    ordered = np.sort(finite)
    for q in QUANTILES:
        v = c.quantiles[str(q)]
        low = np.searchsorted(ordered, v, "left") / len(ordered)
        high = np.searchsorted(ordered, v, "right") / len(ordered)
        assert low - kll_eps <= q <= high + kll_eps, (q, v)
    for hist in (c.histogram, c.quantile_histogram):
        edges = hist["edges"]
        assert sum(hist["counts"]) == len(finite) and len(edges) == len(hist["counts"]) + 1
        assert all(math.isfinite(e) for e in edges)
        assert edges == sorted(set(edges)) or edges == [c.min, c.max] == [c.min, c.min]
        assert edges[0] == c.min and edges[-1] == c.max


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_of_infinities_and_extreme_values_profiles_without_error(tmp_path, hostile, suffix):
    p = bml.profile(_write(hostile, tmp_path / f"hostile{suffix}"))
    assert p.rows == len(hostile)
    for name in hostile.columns:
        _check_column(p.columns[name], hostile[name], p.error_bounds["kll_rank"])
    # the ordinary column matches pandas on its finite values, as any column does
    finite = hostile["normal"][np.isfinite(hostile["normal"])]
    c = p.columns["normal"]
    assert c.mean == pytest.approx(finite.mean(), rel=1e-9)
    assert c.std == pytest.approx(finite.std(), rel=1e-9)
    assert c.skewness == pytest.approx(finite.skew(), rel=1e-6)
    assert c.kurtosis == pytest.approx(finite.kurt(), rel=1e-6)
    kinds = {(a.column, a.kind) for a in p.alerts}
    assert {("normal", "infinite"), ("edge", "infinite"), ("const", "infinite")} <= kinds
    assert p.columns["huge"].type == "float" and p.columns["const"].type == "integer"
    json.loads(p.to_json())  # no NaN or Infinity in the JSON
    assert "+inf" in p.to_html() and "+inf 1" in str(p)


def test_correlations_of_extreme_columns_are_finite(tmp_path, hostile):
    p = bml.profile(_write(hostile, tmp_path / "hostile.csv"))
    cols = p.correlations["columns"]
    r = np.array(p.correlations["pearson"], dtype=float)
    finite = hostile.replace([np.inf, -np.inf], np.nan)[cols]
    expected = finite.corr().to_numpy()
    ok = np.isfinite(expected)
    np.testing.assert_allclose(r[ok], expected[ok], rtol=1e-9, atol=1e-12)
    # pandas overflows on the huge column; the scaled co-moments do not
    i = cols.index("huge")
    assert np.isfinite(r[i]).sum() > np.isfinite(expected[i]).sum()


def test_the_issue_values_alone_profile_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "issue.csv"
    path.write_text("x\ninf\n-inf\nNaN\n1e308\n-1e308\n")
    out_json, out_html = tmp_path / "p.json", tmp_path / "p.html"
    code = cli.main(["profile", str(path), "--json", str(out_json), "--html", str(out_html)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Traceback" not in printed.err
    x = json.loads(out_json.read_text())["columns"]["x"]
    assert (x["count"], x["nulls"], x["inf"], x["pos_inf"], x["neg_inf"]) == (4, 1, 2, 1, 1)
    assert (x["min"], x["max"], x["mean"]) == (-1e308, 1e308, 0.0)
    assert x["std"] == pytest.approx(math.sqrt(2) * 1e308, rel=1e-12)
    assert x["histogram"]["edges"][0] == -1e308 and sum(x["histogram"]["counts"]) == 2
    assert out_html.read_text().count("<svg") == 1


@pytest.mark.parametrize(
    "values",
    [
        [np.inf, -np.inf],  # nothing finite
        [np.inf, np.nan, 3.0],  # one finite value
        [BIGGEST, BIGGEST, BIGGEST],  # equal values at the limit
        [-BIGGEST, BIGGEST],  # a range wider than the largest float
        [5e-324, 0.0, 1e-320],  # subnormal values
    ],
)
def test_degenerate_numeric_columns_never_crash(values):
    p = bml.Profile.from_frame(pd.DataFrame({"x": values}))
    c = p.columns["x"]
    finite = [v for v in values if math.isfinite(v)]
    assert c.inf == sum(math.isinf(v) for v in values)
    if not finite:
        assert c.histogram is None and c.mean is None and c.quantiles is None
    else:
        assert sum(c.histogram["counts"]) == len(finite)
        assert c.min == min(finite) and c.max == max(finite)
    json.loads(p.to_json())
    p.to_html()
