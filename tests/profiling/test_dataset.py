"""ProfileDataset and profile(): real files and pipelines, checked against exact pandas."""

from __future__ import annotations

import json

import apache_beam as beam
import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import QUANTILES, ProfileDataset, profile, profile_dataframe
from beam_ml.runner import run_and_collect


def _kinds(p) -> set[tuple[str | None, str]]:
    return {(a.column, a.kind) for a in p.alerts}


# ----------------------------------------------------------------- real data
def test_penguins_profile_matches_exact_pandas(penguins, matches_pandas):
    df, p = penguins
    assert p.rows == len(df) == 344
    assert list(p.columns) == list(df.columns)
    matches_pandas(p, df)
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


def test_flights_profile_matches_exact_pandas(flights, matches_pandas, ranks):
    df, p = flights
    assert p.rows == 336_776
    matches_pandas(p, df, ["dep_delay", "arr_delay", "distance", "carrier", "tailnum"])
    assert p.columns["time_hour"].type == "datetime"
    times = pd.to_datetime(df["time_hour"])
    assert p.columns["time_hour"].min == times.min().isoformat()
    assert p.columns["time_hour"].max == times.max().isoformat()
    # datetime quantiles: the rank of each reported instant is within the KLL bound
    instants = pd.DatetimeIndex(times.dropna()).asi8.astype(float)
    kll_eps = p.error_bounds["kll_rank"]
    assert list(p.columns["time_hour"].quantiles) == [str(q) for q in QUANTILES]
    for q, text in p.columns["time_hour"].quantiles.items():
        low, high = ranks(instants, float(pd.Timestamp(text).value))
        assert low - kll_eps <= float(q) <= high + kll_eps, (q, text, low, high)
    assert p.columns["dep_delay"].type == "integer"  # whole floats with NaN
    assert p.duplicate_bounds[0] == 0 and df.duplicated().sum() == 0
    kinds = _kinds(p)
    assert ("year", "constant") in kinds
    assert ("air_time", "high_correlation") in kinds
    assert ("tailnum", "high_cardinality") in kinds


def test_flights_large_column_top_values_are_within_frequent_items_bound(flights):
    df, p = flights
    c = p.columns["dest"]
    truth = df["dest"].value_counts()
    for value, n in c.top:
        assert abs(truth[value] - n) <= c.top_error
    assert [v for v, _ in c.top[:3]] == truth.index[:3].tolist()


def test_profile_names_its_source(penguins):
    _, p = penguins
    assert p.source == bml.datasets.load("penguins")
    assert p.to_dict()["source"] == p.source


# ------------------------------------------------------------ generated data
def test_generated_data_sketches_stay_within_their_documented_bounds(matches_pandas):
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
    matches_pandas(p, df)
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


# --------------------------------------------------------------- bad input
def test_empty_dataset_gives_an_empty_profile_with_an_alert():
    p = profile(pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}))
    assert p.rows == 0
    assert (None, "empty") in _kinds(p)
    assert p.columns["a"].count == 0 and p.columns["a"].mean is None
    json.loads(p.to_json())
    assert bml.Profile.empty().rows == 0
    none = run_and_collect(lambda pl: pl | beam.Create([]) | ProfileDataset())
    assert none[0].rows == 0 and none[0].columns == {}


def test_non_utf8_csv_gives_a_profile_or_a_clear_error(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"name,n\ncaf\xe9,1\nok,2\n")
    try:
        p = profile(str(path))
    except BeamMLError as error:
        assert "\n" not in str(error) and "encoding" in str(error)
    else:
        assert p.rows == 2


def test_a_non_dataframe_element_is_a_clear_error():
    with pytest.raises(BeamMLError, match="pandas DataFrame batches"):
        run_and_collect(lambda pl: pl | beam.Create([1, 2]) | ProfileDataset())


# ------------------------------------------------------------------- Beam
def test_profile_dataset_is_a_plain_ptransform_class():
    assert isinstance(ProfileDataset, type) and issubclass(ProfileDataset, beam.PTransform)
    assert ProfileDataset.__module__ == "beam_ml.profiling.dataset"
    assert bml.ProfileDataset is ProfileDataset


def test_profile_dataset_runs_in_a_pipeline_over_created_batches():
    df1 = pd.DataFrame({"a": [1.0, 2.0, None], "s": ["x", "y", "x"]})
    df2 = pd.DataFrame({"a": [4.0], "s": ["z"], "extra": [True]})
    [p] = run_and_collect(lambda pl: pl | beam.Create([df1, df2]) | ProfileDataset(top_k=2))
    assert p.rows == 4
    assert p.columns["a"].count == 3 and p.columns["a"].mean == pytest.approx(7 / 3)
    assert p.columns["extra"].nulls == 3 and p.columns["extra"].count == 1
    assert p.columns["s"].top == (("x", 2), ("y", 1))


def test_profile_dataset_accepts_a_beam_dataframe():
    from beam_ml.sources import read_dataframe

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
    from beam_ml.sources import DataFrameCoder

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


# KLL compacts with random coin flips: these differ from run to run, within its bound
_KLL_FIELDS = ("quantiles", "histogram", "quantile_histogram")


def _without_kll(profile_dict: dict) -> dict:
    columns = {
        name: {k: v for k, v in column.items() if k not in _KLL_FIELDS}
        for name, column in profile_dict["columns"].items()
    }
    return {**profile_dict, "columns": columns}


def test_an_in_memory_frame_is_profiled_here_as_a_pipeline_profiles_it(
    penguins, flights, matches_pandas, monkeypatch
):
    """bml.profile(df) calls ProfileCombineFn without a pipeline; DirectRunner agrees."""
    from beam_ml.runner import RUNNER_ENV, watch_progress

    for df in (penguins[0], flights[0].head(20_000)):
        told = []
        stop = watch_progress(told.append)
        try:
            here = profile(df)
        finally:
            stop()
        assert told[-1].done and told[-1].rows == len(df)  # the notebook's progress line
        matches_pandas(here, df)
        monkeypatch.setenv(RUNNER_ENV, "direct")  # the real FnApiRunner, not this process
        on_direct = profile(df)
        monkeypatch.delenv(RUNNER_ENV)
        assert _without_kll(here.to_dict()) == _without_kll(on_direct.to_dict())
        matches_pandas(on_direct, df)


def test_two_worker_threads_profile_sharded_files_as_one_process_does(
    flights, tmp_path, matches_pandas
):
    """Thread workers (the fast local mode) split the files and merge what pandas sees."""
    df, one_process = flights
    for i, part in enumerate(np.array_split(np.arange(len(df)), 3)):
        df.iloc[part].to_csv(tmp_path / f"flights-{i}.csv", index=False)
    flags = ["--direct_running_mode=multi_threading", "--direct_num_workers=2"]
    threaded = profile(str(tmp_path / "flights-*.csv"), options=flags)
    assert threaded.rows == one_process.rows == len(df)
    matches_pandas(threaded, df, ["dep_delay", "arr_delay", "distance", "carrier", "tailnum"])
    for name in ("dep_delay", "distance", "carrier"):
        mine, theirs = threaded.columns[name], one_process.columns[name]
        assert (mine.count, mine.nulls, mine.min, mine.max) == (
            theirs.count,
            theirs.nulls,
            theirs.min,
            theirs.max,
        )
        if mine.mean is not None:
            assert mine.mean == pytest.approx(theirs.mean, rel=1e-12)
    np.testing.assert_allclose(
        np.array(threaded.correlations["pearson"], dtype=float),
        np.array(one_process.correlations["pearson"], dtype=float),
        rtol=1e-9,
        atol=1e-12,
    )
