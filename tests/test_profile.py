"""ProfileDataset / profile() / Profile against exact pandas, on real and generated data."""

from __future__ import annotations

import json
import math
import pickle

import apache_beam as beam
import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling.dataset import QUANTILES, Profile, ProfileDataset, profile, profile_dataframe
from beam_ml.runner import run_and_collect

REL = 1e-9


def _rank_range(values: np.ndarray, v: float) -> tuple[float, float]:
    """Share of values < v and <= v: any rank in between is exact for v."""
    s = np.sort(values)
    n = len(s)
    return np.searchsorted(s, v, "left") / n, np.searchsorted(s, v, "right") / n


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
                low, high = _rank_range(x, c.quantiles[str(q)])
                assert low - kll_eps <= q <= high + kll_eps, (name, q, low, high)
        # every value counted more often than the sketch's error appears, within it
        truth = s.dropna().astype(str if c.type in ("categorical", "string") else object)
        counts = truth.value_counts()
        shown = {_key(v): n for v, n in c.top}
        for value, n in counts.head(len(c.top)).items():
            if n > c.top_error and n > counts.iloc[min(len(c.top), len(counts)) - 1]:
                assert abs(shown[_key(value)] - n) <= c.top_error, (name, value)


def _key(v: object) -> object:
    return float(v) if isinstance(v, int | float | np.number) and not isinstance(v, bool) else v


@pytest.fixture(scope="module")
def penguins() -> tuple[pd.DataFrame, Profile]:
    path = bml.datasets.load("penguins")
    return pd.read_csv(path), profile(path)


@pytest.fixture(scope="module")
def flights() -> tuple[pd.DataFrame, Profile]:
    path = bml.datasets.load("flights")
    return pd.read_csv(path), profile(path)


# ----------------------------------------------------------------- real data
def test_penguins_profile_matches_exact_pandas(penguins):
    df, p = penguins
    assert p.rows == len(df) == 344
    assert list(p.columns) == list(df.columns)
    assert_matches_pandas(p, df)
    assert p.columns["species"].type == "categorical"
    assert p.columns["body_mass_g"].type == "integer"
    assert p.columns["bill_length_mm"].type == "float"
    # few distinct values: frequent items are exact
    assert dict(p.columns["species"].top) == df["species"].value_counts().to_dict()
    assert p.columns["species"].top_error == 0


def test_penguins_correlations_and_missing_together_match_pandas(penguins):
    df, p = penguins
    cols = p.correlations["columns"]
    expected = df[cols].corr()
    got = np.array(p.correlations["pearson"], dtype=float)
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-9, atol=1e-12)
    miss = p.missing_together
    na = df[miss["columns"]].isna().astype(int)
    np.testing.assert_array_equal(np.array(miss["counts"]), (na.T @ na).to_numpy())
    assert miss["columns"][0] == "sex"


def test_flights_profile_matches_exact_pandas(flights):
    df, p = flights
    assert p.rows == 336_776
    assert_matches_pandas(p, df, ["dep_delay", "arr_delay", "distance", "carrier", "tailnum"])
    assert p.columns["time_hour"].type == "datetime"
    times = pd.to_datetime(df["time_hour"])
    assert p.columns["time_hour"].min == times.min().isoformat()
    assert p.columns["time_hour"].max == times.max().isoformat()
    # datetime quantiles: the rank of each reported instant is within the KLL bound
    instants = pd.DatetimeIndex(times.dropna()).asi8.astype(float)
    kll_eps = p.error_bounds["kll_rank"]
    assert list(p.columns["time_hour"].quantiles) == [str(q) for q in QUANTILES]
    for q, text in p.columns["time_hour"].quantiles.items():
        low, high = _rank_range(instants, float(pd.Timestamp(text).value))
        assert low - kll_eps <= float(q) <= high + kll_eps, (q, text, low, high)
    assert p.columns["dep_delay"].type == "integer"  # whole floats with NaN
    assert p.duplicate_bounds[0] == 0 and df.duplicated().sum() == 0
    kinds = {(a.column, a.kind) for a in p.alerts}
    assert ("year", "constant") in kinds
    assert ("air_time", "high_correlation") in kinds
    assert ("tailnum", "high_cardinality") in kinds


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_arrow_backed_strings_give_the_same_profile_as_python_strings(tmp_path, fmt):
    # profile() reads text as pandas' pyarrow strings; a pipeline may hand the
    # transform Python str (object) batches: every text statistic must agree.
    df = pd.read_csv(bml.datasets.load("flights"), nrows=60_000)
    df.loc[::7, "tailnum"] = None
    df.loc[::11, "dest"] = ""
    df["note"] = np.where(np.arange(len(df)) % 5 == 0, "x" * 300, "é ü " + df["origin"])
    path = tmp_path / f"flights.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path, index=False)

    def run(strings: str) -> dict:
        from beam_ml.sources.readers import ReadBatches, Source

        src = Source(str(path), batch_rows=7_000, strings=strings)

        def build(p):
            read = p | ReadBatches(src)
            return read.batches | ProfileDataset()

        (result,) = run_and_collect(build)
        return result.to_dict()

    arrow, python = run("arrow"), run("object")
    assert arrow["rows"] == python["rows"] == len(df)
    text = ["carrier", "tailnum", "origin", "dest", "note", "time_hour"]
    for name in text:
        a, b = arrow["columns"][name], python["columns"][name]
        keys = ["type", "count", "nulls", "distinct", "distinct_bounds", "top", "top_error"]
        keys += ["imbalance_ratio", "entropy", "lengths", "kinds", "min", "max"]
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}, name
    # CSV reads an empty field as null; Parquet keeps the empty strings
    empty = arrow["columns"]["dest"]["lengths"]["empty"]
    assert empty == (0 if fmt == "csv" else len(df.loc[::11]))
    assert arrow["columns"]["note"]["lengths"]["max"] == 300
    assert arrow["alerts"] == python["alerts"]


def test_flights_large_column_top_values_are_within_frequent_items_bound(flights):
    df, p = flights
    c = p.columns["dest"]
    truth = df["dest"].value_counts()
    for value, n in c.top:
        assert abs(truth[value] - n) <= c.top_error
    assert [v for v, _ in c.top[:3]] == truth.index[:3].tolist()


# ------------------------------------------------------------ generated data
def test_generated_data_sketches_stay_within_their_documented_bounds():
    rng = np.random.default_rng(7)
    n = 120_000
    df = pd.DataFrame(
        {
            "x": rng.lognormal(size=n),
            "k": rng.zipf(1.8, size=n).clip(max=10_000),
            "s": rng.integers(0, 30_000, size=n).astype(str),
        }
    )
    batches = [df.iloc[i : i + 17_000] for i in range(0, n, 17_000)]
    p = run_and_collect(lambda pl: pl | beam.Create(batches) | ProfileDataset())[0]
    assert_matches_pandas(p, df)
    assert p.columns["x"].kurtosis == pytest.approx(df["x"].kurt(), rel=1e-6)
    # the HLL estimate of 30k distinct strings is within its 3-sigma relative bound
    assert (
        abs(p.columns["s"].distinct - df["s"].nunique()) <= p.error_bounds["hll_relative"] * 30_000
    )
    # the many-valued integer column: heavy hitters found, counts within the error
    truth = df["k"].value_counts()
    got = dict(p.columns["k"].top)
    for value in truth.index[:5]:
        assert abs(got[int(value)] - truth[value]) <= p.columns["k"].top_error
    assert p.columns["x"].type == "float" and p.columns["k"].type == "integer"
    assert p.columns["s"].type == "string"


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


def test_cdf_and_quantile_answer_from_the_sketch_within_its_bound():
    rng = np.random.default_rng(3)
    x = rng.exponential(size=30_000)
    p = Profile.from_frame(pd.DataFrame({"x": x}))
    points = [0.1, 0.5, 1.0, 3.0]
    eps = p.error_bounds["kll_rank"]
    for point, share in zip(points, p.cdf("x", points), strict=True):
        assert abs(share - (x <= point).mean()) <= eps
    low, high = _rank_range(x, p.quantile("x", 0.9))
    assert low - eps <= 0.9 <= high + eps
    with pytest.raises(BeamMLError, match="numeric column"):
        Profile.from_frame(pd.DataFrame({"s": ["a"]})).cdf("s", [1.0])
    with pytest.raises(BeamMLError, match="column of the profile"):
        p.quantile("nope", 0.5)


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


# ------------------------------------------------------------------- alerts
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


def test_duplicate_rows_are_estimated_and_alerted():
    df = pd.DataFrame({"a": [1, 2, 3, 1, 2] * 20, "b": ["x", "y", "z", "x", "y"] * 20})
    p = Profile.from_frame(df)
    assert p.duplicates == int(df.duplicated().sum()) == 97
    assert (None, "duplicates") in _kinds(p)
    assert p.to_dict()["duplicates"]["estimate"] == 97


# --------------------------------------------------------------- bad input
def test_empty_dataset_gives_an_empty_profile_with_an_alert():
    p = profile(pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}))
    assert p.rows == 0
    assert (None, "empty") in _kinds(p)
    assert p.columns["a"].count == 0 and p.columns["a"].mean is None
    json.loads(p.to_json())
    assert Profile.empty().rows == 0
    none = run_and_collect(lambda pl: pl | beam.Create([]) | ProfileDataset())
    assert none[0].rows == 0 and none[0].columns == {}


def test_all_null_column_is_profiled_with_a_missing_alert():
    df = pd.DataFrame({"a": [1, 2, 3], "n": [None, None, None], "f": [np.nan] * 3})
    p = Profile.from_frame(df)
    assert p.columns["n"].count == 0 and p.columns["n"].nulls == 3
    assert p.columns["f"].type == "float" and p.columns["f"].quantiles is None
    assert ("n", "missing") in _kinds(p) and ("f", "missing") in _kinds(p)
    assert p.columns["n"].distinct == 0 and p.columns["n"].top == ()


def test_mixed_types_raise_an_alert_and_are_profiled_as_text():
    df = pd.DataFrame({"m": [1, "two", 3.5, None, "two", True]})
    p = Profile.from_frame(df)
    c = p.columns["m"]
    assert c.count == 5 and c.nulls == 1
    assert c.type in ("categorical", "string")
    assert ("m", "mixed_types") in _kinds(p)
    assert dict(c.top)["two"] == 2
    # a column numeric in one batch and text in the next is mixed too
    a = pd.DataFrame({"v": [1.0, 2.0]})
    b = pd.DataFrame({"v": ["x", "y"]})
    merged = Profile.from_frame(a).merge(Profile.from_frame(b))
    assert ("v", "mixed_types") in _kinds(merged) and merged.columns["v"].count == 4


def test_nested_and_unhashable_values_never_crash():
    df = pd.DataFrame(
        {
            "lst": [[1, 2], [1, 2], None, [3]],
            "dct": [{"a": 1}, {"b": [1]}, {}, {"a": 1}],
            "k": range(4),
        }
    )
    p = profile(df)
    assert p.columns["lst"].count == 3 and p.columns["lst"].unhashable == 3
    assert dict(p.columns["lst"].top)["[1, 2]"] == 2
    assert ("dct", "unhashable") in _kinds(p)
    json.loads(p.to_json())


def test_huge_strings_are_counted_and_their_top_values_cut():
    big = "x" * 2_000_000
    p = Profile.from_frame(pd.DataFrame({"s": [big, big, "small"]}))
    c = p.columns["s"]
    assert c.lengths["max"] == 2_000_000 and c.distinct == 2
    assert len(c.top[0][0]) <= 200 and c.top[0][1] == 2
    assert len(p.to_json()) < 100_000


def test_non_utf8_bytes_and_lone_surrogates_are_profiled():
    df = pd.DataFrame({"b": [b"caf\xe9", b"ok", b"ok"], "s": ["a\udcffb", "plain", "plain"]})
    p = Profile.from_frame(df)
    assert p.columns["b"].count == 3 and dict(p.columns["b"].top)["ok"] == 2
    assert "caf\\xe9" in dict(p.columns["b"].top)
    assert p.columns["s"].distinct == 2
    text = p.to_json()
    assert Profile.from_json(text).columns["s"].count == 3
    p.to_html()


def test_non_utf8_csv_gives_a_profile_or_a_clear_error(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"name,n\ncaf\xe9,1\nok,2\n")
    try:
        p = profile(str(path))
    except BeamMLError as error:
        assert "\n" not in str(error) and "encoding" in str(error)
    else:
        assert p.rows == 2


def test_html_and_quote_column_names_are_escaped_everywhere():
    name = "<script>alert('x')</script>\"q"
    df = pd.DataFrame({name: ["<b>bold</b>", "<b>bold</b>", "&"], "n": [1, 2, 3]})
    p = Profile.from_frame(df)
    html_view = p._repr_mimebundle_()["text/html"]
    assert "<script>" not in html_view and "<b>bold" not in html_view
    assert "&lt;script&gt;" in html_view and "&lt;b&gt;bold&lt;/b&gt;" in html_view
    assert name in p.to_dict()["columns"]
    assert Profile.from_json(p.to_json()).columns[name].count == 3


def test_duplicate_and_non_string_column_labels_get_distinct_names():
    df = pd.DataFrame([[1, 2, 3]], columns=["a", "a", 5])
    p = Profile.from_frame(df)
    assert list(p.columns) == ["a", "a.1", "5"]


def test_a_non_dataframe_element_is_a_clear_error():
    with pytest.raises(BeamMLError, match="pandas DataFrame batches"):
        run_and_collect(lambda pl: pl | beam.Create([1, 2]) | ProfileDataset())


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
        "distinct", "top", "imbalance_ratio", "entropy", "lengths",
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


def test_text_and_html_views_show_overview_alerts_and_a_histogram_per_column(penguins, tmp_path):
    _, p = penguins
    bundle = p._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Profile: 344 rows × 8 columns")
    html_view = bundle["text/html"]
    assert html_view.count("<svg") == len(p.columns)
    assert html_view.count("<tr>") == len(p.columns) + 1
    out = tmp_path / "report.html"
    page = p.to_html(out)
    assert out.read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>") and ".bml-hist" in page and "<script" not in page
    alerted = Profile.from_frame(pd.DataFrame({"c": [1, 1, 1], "<x>": [1, 2, 3]}))
    view = alerted._repr_mimebundle_()["text/html"]
    assert view.index("bml-alerts") < view.index("bml-columns")


def test_plot_draws_a_histogram_and_top_values(penguins):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    _, p = penguins
    ax = p.plot("body_mass_g")
    assert len(ax.patches) == 20
    ax = p.plot("species")
    assert len(ax.patches) == 3


# ------------------------------------------------------------------- Beam
def test_profile_dataset_runs_in_a_pipeline_over_created_batches():
    df1 = pd.DataFrame({"a": [1.0, 2.0, None], "s": ["x", "y", "x"]})
    df2 = pd.DataFrame({"a": [4.0], "s": ["z"], "extra": [True]})
    [p] = run_and_collect(lambda pl: pl | beam.Create([df1, df2]) | ProfileDataset(top_k=2))
    assert p.rows == 4
    assert p.columns["a"].count == 3 and p.columns["a"].mean == pytest.approx(7 / 3)
    assert p.columns["extra"].nulls == 3 and p.columns["extra"].count == 1
    assert p.columns["s"].top == (("x", 2), ("y", 1))


def test_profile_dataset_accepts_a_beam_dataframe():
    from beam_ml.sources.readers import read_dataframe

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["u", "v", "u"]})

    def build(pl):
        deferred = read_dataframe(pl, df)
        return profile_dataframe(deferred[deferred.a > 1])

    [p] = run_and_collect(build)
    assert p.rows == 2 and p.columns["a"].min == 2.0 and p.columns["b"].count == 2


def test_profile_takes_the_first_sample_rows_and_rejects_bad_options():
    df = pd.DataFrame({"a": range(100)})
    p = profile(df, sample=10)
    assert p.rows == 10 and p.columns["a"].max == 9
    with pytest.raises(BeamMLError, match="sample"):
        profile(df, sample=0)
    with pytest.raises(BeamMLError, match="ProfileDataset options"):
        ProfileDataset(colour="red")
    with pytest.raises(BeamMLError, match="top_k"):
        ProfileDataset(top_k=0)


def test_batches_get_a_dataframe_coder_that_sizes_them_without_pickling():
    from beam_ml.sources.readers import DataFrameCoder

    coder = DataFrameCoder()
    df = pd.DataFrame({"a": range(1000), "s": ["x"] * 1000})
    assert coder.decode(coder.encode(df)).equals(df)
    impl = coder.get_impl()
    assert impl.estimate_size(df) == int(df.memory_usage(index=False).sum()) + 64
    assert impl.get_estimated_size_and_observables(df) == (impl.estimate_size(df), [])

    def build(pl):
        batches = pl | beam.Create([df]) | beam.Map(lambda d: d)
        profiled = batches | ProfileDataset()
        assert batches.element_type is pd.DataFrame
        return profiled

    [p] = run_and_collect(build)
    assert p.rows == 1000
