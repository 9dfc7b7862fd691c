"""Results: frozen, serialisable, and built from a transform's outputs."""

import json

import pandas as pd
from beam_ml.inference import InferencePreview, ModelComparison, sample_batches
from beam_ml.inference.device import DeviceChoice
from beam_ml.inference.specs import SklearnModel


def test_preview_serialises_and_escapes_html():
    predictions = pd.DataFrame({"<script>": ["<b>x</b>"], "prediction": ["<i>"]})
    errors = pd.DataFrame(
        {"<script>": ["y"], "error": ["<img src=x>"], "error_type": ["E"], "stage": ["inference"]}
    )
    preview = InferencePreview(
        predictions=predictions,
        device="cpu",
        device_reason="asked <gpu>; CUDA not available; ran on cpu",
        metrics={"num_inferences": 1},
        errors=errors,
        models={"model": {"kind": "sklearn", "path": "<m>.pkl"}},
        sample_rows=2,
    )
    data = json.loads(preview.to_json())
    assert data["predictions"]["columns"] == ["<script>", "prediction"]
    html = preview._repr_mimebundle_()["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "asked &lt;gpu&gt;" in html
    assert html.index("Device: CPU") < html.index("Predictions")


def test_sample_batches_index_rows_by_their_position_in_the_sample():
    frame = pd.DataFrame({"a": range(5)}, index=list("vwxyz"))
    frame.attrs["file"] = "f.csv"
    batches = sample_batches(frame, 2)
    assert [list(b.index) for b in batches] == [[0, 1], [2, 3], [4]]
    assert all(b.attrs == {"file": "f.csv"} for b in batches)


def test_from_outputs_puts_rows_back_on_the_sample_labels_with_errors_from_the_sample():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=[101, 102, 103])
    outputs = {
        "predictions": [pd.DataFrame({"x": [3.0], "prediction": [1]}, index=[2]),
                        pd.DataFrame({"x": [1.0], "prediction": [0]}, index=[0])],
        # a postprocess error holds the model's output, not the input: the sample's row is shown
        "errors": [pd.DataFrame({"prediction": [5], "error": ["e"], "error_type": ["E"],
                                 "stage": ["postprocess"]}, index=[1])],
    }  # fmt: skip
    choice = DeviceChoice("auto", "cpu", "asked auto; CUDA not available; ran on cpu")
    spec = SklearnModel(path="m.pkl")
    preview = InferencePreview.from_outputs(frame, outputs, choice, spec, sample=3)
    assert list(preview.predictions.index) == [101, 103]
    assert list(preview.predictions["prediction"]) == [0, 1]
    assert list(preview.errors.columns) == ["x", "error", "error_type", "stage"]
    assert list(preview.errors.index) == [102] and preview.errors["x"].tolist() == [2.0]
    assert preview.metrics == {} and preview.device_requested == "auto"
    empty = InferencePreview.from_outputs(frame, {"predictions": [], "errors": []}, choice, spec)
    assert list(empty.predictions.columns) == ["x"] and len(empty.predictions) == 0
    assert list(empty.errors.columns) == ["x", "error", "error_type", "stage"]


def test_comparison_from_outputs_measures_agreement_on_the_rows_both_answered():
    frame = pd.DataFrame({"x": [1, 2, 3, 4]})
    rows = pd.DataFrame({"x": [1, 2, 4], "a_prediction": [0, 1, 1], "b_prediction": [0, 0, 1]},
                        index=[0, 1, 3])  # fmt: skip
    errors = pd.DataFrame({"model": ["b"], "x": [3], "error": ["e"], "error_type": ["E"],
                           "stage": ["inference"]}, index=[2])  # fmt: skip
    choice = DeviceChoice("gpu", "cpu", "asked gpu; CUDA not available; ran on cpu")
    specs = [SklearnModel(path="a.pkl"), SklearnModel(path="b.pkl")]
    result = ModelComparison.from_outputs(frame, {"predictions": [rows], "errors": [errors]},
                                          choice, specs)  # fmt: skip
    assert result.agreement == round(2 / 3, 4) and result.kind == "compare"
    assert list(result.errors.columns[:2]) == ["model", "x"] and list(result.errors.index) == [2]
    assert set(result.models) == {"a", "b"}
    assert result.to_dict()["device_requested"] == "gpu"
