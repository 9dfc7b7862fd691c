"""RunModel and InferModel inside a real pipeline: outputs, processing, labels, hints."""

import apache_beam as beam
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference import InferModel, RunModel, SklearnModel
from beam_ml.runner import run_and_collect

from .data import FEATURES


def test_runmodel_unflattened_parts_hold_the_same_rows_as_its_flattened_output(models):
    data = models["clean"].head(60).copy()
    data.loc[[7, 44], "bill_depth_mm"] = np.nan  # two poisoned rows: two bisected batches
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    batches = [data.iloc[:20], data.iloc[20:40], data.iloc[40:]]

    def build(flatten: bool):
        def pipeline(p):
            read = p | beam.Create(batches, reshuffle=False)
            out = read | RunModel(spec, "CPU", with_errors=True, flatten=flatten)
            if flatten:
                return {"predictions": out[0], "errors": out[1]}
            return out

        return pipeline

    merged = run_and_collect(build(True))
    parts = run_and_collect(build(False))
    assert set(parts) == {"predictions", "retried", "errors"}
    # the healthy middle batch ran whole; the others came back row by row from the retry
    assert sorted(len(f) for f in parts["predictions"]) == [20]
    assert sum(len(f) for f in parts["retried"]) == 38
    whole = pd.concat(merged["predictions"]).sort_index()
    split = pd.concat(parts["predictions"] + parts["retried"]).sort_index()
    pd.testing.assert_frame_equal(whole, split)
    assert list(whole.index) == [i for i in data.index if i not in (7, 44)]
    assert sorted(pd.concat(parts["errors"]).index) == [7, 44]
    assert sorted(pd.concat(merged["errors"]).index) == [7, 44]


def test_pre_and_post_processing_by_import_path_and_runmodel_in_a_pipeline(models):
    data = models["clean"].head(40).copy()
    data.loc[[3, 9], "bill_length_mm"] = np.nan
    spec = SklearnModel(
        path=str(models["folder"] / "lr.pkl"),
        features=FEATURES,
        preprocess="bml_test_models:fill_means",
        postprocess="bml_test_models:add_flag",
    )
    batches = [data.iloc[:25], data.iloc[25:]]
    out = run_and_collect(
        lambda p: (
            p | beam.Create(batches, reshuffle=False) | RunModel(spec, "CPU", max_batch_rows=10)
        )
    )
    assert sorted(len(frame) for frame in out) == [5, 5, 10, 10, 10]  # 25 -> 10+10+5, 15 -> 10+5
    result = pd.concat(out).sort_index()
    assert len(result) == 40  # the filled rows no longer fail
    filled = models["lr"].predict(data[FEATURES].fillna({"bill_length_mm": 44.0}).iloc[[3, 9]])
    assert list(result.loc[[3, 9], "prediction"]) == list(filled)
    assert (result["is_gentoo"] == (result["prediction"] == "Gentoo")).all()
    assert "species" in result.columns  # passthrough keeps the input columns
    with pytest.raises(BeamMLError, match="'CPU', 'GPU'"):
        RunModel(spec, device="gpu")


def test_infermodel_gives_predictions_and_errors_with_the_stage(models):
    data = models["clean"].head(30).copy()
    data.loc[4, "flipper_length_mm"] = np.nan
    spec = SklearnModel(
        path=str(models["folder"] / "lr.pkl"),
        features=FEATURES,
        postprocess="bml_test_models:add_flag",
    )
    out = run_and_collect(
        lambda p: p | beam.Create([data], reshuffle=False) | "Infer" >> InferModel(spec, "CPU")
    )
    predictions = pd.concat(out["predictions"]).sort_index()
    assert list(predictions.index) == [i for i in data.index if i != 4]
    assert {"species", "prediction", "is_gentoo"} <= set(predictions.columns)
    errors = pd.concat(out["errors"])
    assert list(errors.index) == [4] and list(errors["stage"]) == ["inference"]


def test_a_function_that_builds_a_new_frame_keeps_the_batch_attrs():
    from beam_ml.inference.run_model import _KeepAttrs

    batch = pd.DataFrame({"a": [1]})
    batch.attrs["file"] = "f.csv"
    assert _KeepAttrs(lambda b: pd.DataFrame({"b": [2]}))(batch).attrs == {"file": "f.csv"}


def test_transforms_have_plain_labels_and_carry_the_accelerator_hint(models):
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    assert RunModel(spec).label == "RunModel(sklearn)"
    hinted = InferModel(spec, accelerator="type:nvidia-tesla-t4;count:1")
    assert hinted.label == "InferModel(sklearn)"
    assert hinted.get_resource_hints() == {
        "beam:resources:accelerator:v1": b"type:nvidia-tesla-t4;count:1"
    }
    assert InferModel(spec).get_resource_hints() == {}
