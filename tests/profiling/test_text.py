"""Text, bytes, mixed and nested values: counted, typed and kept out of harm's way."""

from __future__ import annotations

import json

import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import Profile, ProfileDataset, profile
from beam_ml.runner import run_and_collect


def _kinds(p: Profile) -> set[tuple[str | None, str]]:
    return {(a.column, a.kind) for a in p.alerts}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_arrow_backed_strings_give_the_same_profile_as_python_strings(tmp_path, fmt):
    # profile() reads text as pandas' pyarrow strings; a pipeline may hand the
    # transform Python str (object) batches, which go to Arrow too, or pandas'
    # python-backed strings, counted as Python objects: every text statistic must agree.
    df = pd.read_csv(bml.datasets.load("flights"), nrows=60_000)
    df.loc[::7, "tailnum"] = None
    df.loc[::11, "dest"] = ""
    df["note"] = np.where(np.arange(len(df)) % 5 == 0, "x" * 300, "é ü " + df["origin"])
    path = tmp_path / f"flights.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path, index=False)

    text = ["carrier", "tailnum", "origin", "dest", "note", "time_hour"]

    def run(strings: str) -> dict:
        import apache_beam as beam
        from beam_ml.sources import ReadBatches, Source

        src = Source(str(path), batch_rows=7_000, strings=strings.removesuffix("-python"))
        as_python = {name: "string[python]" for name in text}

        def build(p):
            batches = (p | ReadBatches(src)).batches
            if strings.endswith("-python"):
                batches = batches | beam.Map(lambda b: b.astype(as_python))
            return batches | ProfileDataset()

        (result,) = run_and_collect(build)
        return result.to_dict()

    arrow, python, objects = run("arrow"), run("object"), run("object-python")
    assert arrow["rows"] == python["rows"] == objects["rows"] == len(df)
    for name in text:
        a, b, c = arrow["columns"][name], python["columns"][name], objects["columns"][name]
        keys = ["type", "count", "nulls", "distinct", "distinct_bounds", "top", "top_error"]
        keys += ["imbalance_ratio", "entropy", "lengths", "kinds", "min", "max"]
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys} == {k: c[k] for k in keys}, name
    # CSV reads an empty field as null; Parquet keeps the empty strings
    empty = arrow["columns"]["dest"]["lengths"]["empty"]
    assert empty == (0 if fmt == "csv" else len(df.loc[::11]))
    assert arrow["columns"]["note"]["lengths"]["max"] == 300
    assert arrow["alerts"] == python["alerts"] == objects["alerts"]


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


def test_iso_date_strings_are_profiled_as_datetimes_in_utc_when_zoned():
    zoned = ["2024-01-01T10:00:00+02:00", "2024-01-02T00:00:00Z"]
    p = Profile.from_frame(pd.DataFrame({"d": zoned}))
    c = p.columns["d"]
    assert c.type == "datetime" and c.min == "2024-01-01T08:00:00+00:00"
