"""The dataset accumulator: column sets, labels, pickling through its JSON state."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import DatasetAccumulator, Profile, as_frame, safe_text


def test_accumulators_pickle_through_their_json_state():
    acc = DatasetAccumulator()
    acc.add_batch(pd.DataFrame({"x": [1.0, 2.0, None], "s": ["a", "b", "a"]}))
    again = pickle.loads(pickle.dumps(acc))
    assert again.to_state() == acc.to_state()
    with pytest.raises(BeamMLError, match="profile state of version"):
        DatasetAccumulator.from_state({"version": 999})


def test_as_frame_accepts_series_and_records_and_safe_text_escapes_surrogates():
    assert list(as_frame(pd.Series([1, 2], name="a")).columns) == ["a"]
    assert as_frame([{"a": 1}, {"a": 2}])["a"].tolist() == [1, 2]
    assert safe_text("ok") == "ok"
    assert safe_text("a\udcffb").encode("utf-8") == b"a\\udcffb"


def test_duplicate_and_non_string_column_labels_get_distinct_names():
    df = pd.DataFrame([[1, 2, 3]], columns=["a", "a", 5])
    p = Profile.from_frame(df)
    assert list(p.columns) == ["a", "a.1", "5"]


def test_a_column_missing_from_some_batches_counts_those_rows_as_nulls():
    acc = DatasetAccumulator()
    acc.add_batch(pd.DataFrame({"a": [1, 2]}))
    acc.add_batch(pd.DataFrame({"a": [3], "b": ["x"]}))
    other = DatasetAccumulator()
    other.add_batch(pd.DataFrame({"c": [1.5]}))
    acc.merge(other)
    assert acc.rows == 4
    assert {name: col.nulls for name, col in acc.columns.items()} == {"a": 1, "b": 3, "c": 3}
