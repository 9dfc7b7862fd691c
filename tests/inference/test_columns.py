"""Feature columns in, prediction columns out."""

import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference.columns import column_names, feature_array, inference_columns


def test_inference_columns_flatten_probabilities_and_outputs():
    cols = inference_columns(np.array([[0.2, 0.8], [0.9, 0.1]]), 2, ["no", "yes"], proba=True)
    assert list(cols) == ["proba_no", "proba_yes", "prediction"]
    assert list(cols["prediction"]) == ["yes", "no"]
    assert list(inference_columns(np.array([[1.0], [2.0]]), 2)) == ["prediction"]
    assert list(inference_columns(np.array([[1, 3], [4, 2]]), 2)["prediction"]) == [1, 0]
    with pytest.raises(BeamMLError, match="one inference per input row"):
        inference_columns(np.array([1, 2, 3]), 2)


def test_a_list_of_dicts_becomes_one_column_per_key():
    cols = inference_columns([{"label": "a", "score": 0.5}, {"label": "b", "score": 0.25}], 2)
    assert list(cols) == ["label", "score"] and list(cols["score"]) == [0.5, 0.25]


def test_feature_array_takes_columns_in_the_order_asked_from_any_dtypes():
    numeric = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [5.0, 6.0]})
    assert feature_array(numeric, ["c", "a"]).tolist() == [[5.0, 1.0], [6.0, 2.0]]
    mixed = numeric.assign(s=["x", "y"])
    out = feature_array(mixed, ["b", "a"], np.float32, writeable=True)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.flags.writeable
    assert out.tolist() == [[3.0, 1.0], [4.0, 2.0]]


def test_column_names_split_text_and_keep_none():
    assert column_names(" a, b ,") == ("a", "b")
    assert column_names(["x", 1]) == ("x", "1")
    assert column_names(None) is None
