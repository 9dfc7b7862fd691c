"""bml.preview_inference: the real RunInference (InferModel) over a sample, on DirectRunner."""

import numpy as np
import pandas as pd
import pytest
import torch
from beam_ml.errors import BeamMLError
from beam_ml.inference import InferModel, resolve_step_device, run_sample
from beam_ml.inference.preview import (
    CustomModel,
    InferencePreview,
    PytorchModel,
    SklearnModel,
    parse_model_spec,
    preview_inference,
)

from .data import FEATURES, SPECIES


def _no_gpu():
    return False


def test_when_model_file_is_missing_then_error_names_the_file(penguins, tmp_path):
    path, _ = penguins
    missing = str(tmp_path / "nope.pkl")
    with pytest.raises(BeamMLError, match=r"expected an existing model file, got '.*nope.pkl'"):
        preview_inference(path, SklearnModel(path=missing, features=FEATURES), sample=5)


def test_when_feature_columns_are_missing_then_error_before_any_pipeline(penguins, models):
    path, _ = penguins
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=["bill_length", "x"])
    with pytest.raises(BeamMLError, match=r"feature columns \['bill_length', 'x'\] in the data"):
        preview_inference(path, spec, sample=10)


def test_when_require_gpu_without_cuda_then_error_before_reading(penguins, models):
    path, _ = penguins
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    with pytest.raises(BeamMLError, match="usable CUDA GPU"):
        preview_inference(path, spec, require_gpu=True, device_probe=_no_gpu)
    with pytest.raises(BeamMLError, match="a sklearn model, which runs on cpu"):
        preview_inference(path, spec, require_gpu=True, device_probe=lambda: True)


def test_sklearn_preview_returns_rows_with_probabilities_and_failed_rows_with_errors(
    penguins, models
):
    path, frame = penguins
    spec = SklearnModel(
        path=str(models["folder"] / "lr.pkl"), features=FEATURES, method="predict_proba"
    )
    preview = preview_inference(path, spec, sample=1000, device="gpu", device_probe=_no_gpu)
    assert isinstance(preview, InferencePreview)
    assert (preview.device, preview.device_reason) == (
        "cpu",
        "asked gpu; CUDA not available; ran on cpu",
    )
    bad = frame[FEATURES].isna().any(axis=1)
    # Every row is accounted for: predicted, or failed with its own error.
    assert len(preview.predictions) == int((~bad).sum())
    assert sorted(preview.errors.index) == sorted(frame.index[bad] + 2)  # CSV line numbers
    assert preview.errors["error"].str.contains("NaN").all()
    assert set(preview.errors["stage"]) == {"inference"}
    good = frame[~bad]
    expected = models["lr"].predict_proba(good[FEATURES])
    got = preview.predictions[[f"proba_{c}" for c in SPECIES]].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert list(preview.predictions["prediction"]) == list(models["lr"].predict(good[FEATURES]))
    assert list(preview.predictions["species"]) == list(good["species"])
    assert preview.metrics["num_inferences"] == len(good)
    assert preview.metrics["failed_batches"] >= 1
    assert preview.metrics["pipeline_seconds"] > 0
    assert "throughput_rows_per_s" in preview.metrics
    text = preview._repr_mimebundle_()["text/plain"]
    assert "DEVICE: CPU — asked gpu; CUDA not available; ran on cpu" in text


def test_keyed_predictions_join_back_to_their_rows(models):
    data = models["clean"].head(120).copy()
    data["penguin_id"] = [f"p{i:03d}" for i in range(len(data))]
    data = data.sample(frac=1.0, random_state=3)  # the key, not the order, joins
    spec = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    # CUDA "available", but scikit-learn cannot use it: the result says so.
    preview = preview_inference(
        data, spec, sample=120, key="penguin_id", device="gpu", device_probe=lambda: True
    )
    assert (preview.device, preview.device_reason) == (
        "cpu",
        "asked gpu; scikit-learn models run on cpu; ran on cpu",
    )
    assert preview.models["model"]["key"] == "penguin_id"
    joined = preview.predictions.set_index("penguin_id")
    truth = data.set_index("penguin_id")
    expected = pd.Series(models["rf"].predict(truth[FEATURES]), index=truth.index)
    assert (joined["prediction"] == expected.loc[joined.index]).all()
    assert (joined["species"] == truth.loc[joined.index, "species"]).all()


def test_when_keys_repeat_then_each_row_keeps_its_own_prediction(models):
    # flight numbers repeat: the key rides along, rows join back by position (issue 13)
    data = models["clean"].head(90).copy()
    data["flight"] = np.arange(len(data)) % 7
    data.loc[11, "bill_depth_mm"] = np.nan  # a bisected batch must keep positions too
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    preview = preview_inference(data, spec, sample=90, key="flight", device="cpu", batch_rows=32)
    assert list(preview.errors.index) == [11]
    assert list(preview.predictions.index) == [i for i in data.index if i != 11]
    good = data.drop(index=11)
    assert list(preview.predictions["flight"]) == list(good["flight"])
    assert list(preview.predictions["prediction"]) == list(models["lr"].predict(good[FEATURES]))


def test_pytorch_state_dict_preview_matches_the_model_called_directly(models):
    data = models["clean"].head(64)
    spec = PytorchModel(
        path=str(models["folder"] / "mlp.pt"),
        model_class="bml_test_models:MLP",
        model_params={"n_in": 4, "hidden": 16, "n_out": 3},
        features=FEATURES,
        classes=SPECIES,
    )
    preview = preview_inference(data, spec, sample=64, device="auto", device_probe=_no_gpu)
    with torch.no_grad():
        logits = models["mlp"](torch.tensor(data[FEATURES].to_numpy(dtype=np.float32))).numpy()
    got = preview.predictions[[f"output_{c}" for c in SPECIES]].to_numpy()
    np.testing.assert_allclose(got, logits, rtol=1e-5)
    assert list(preview.predictions["prediction"]) == [SPECIES[i] for i in logits.argmax(1)]
    assert preview.device_reason == "asked auto; CUDA not available; ran on cpu"


def test_torchscript_and_custom_handler_previews(models):
    data = models["clean"].head(50)
    script = parse_model_spec(
        f"torchscript:{models['folder'] / 'mlp_script.pt'}", features=",".join(FEATURES)
    )
    # The probe says CUDA works, so Beam gets exactly 'GPU'; on this machine Beam
    # then loads the model on cpu with only a log line, and the preview says so.
    preview = preview_inference(data, script, sample=50, device="gpu", device_probe=lambda: True)
    assert preview.device == "cpu"
    assert preview.device_reason == (
        "asked gpu; CUDA reported available but Beam loaded the model on cpu; ran on cpu"
    )
    with torch.no_grad():
        logits = models["mlp"](torch.tensor(data[FEATURES].to_numpy(dtype=np.float32))).numpy()
    assert list(preview.predictions["prediction"]) == list(logits.argmax(1))
    # Beam's own numpy handler as a "custom" handler: one example per row.
    custom = CustomModel(
        "apache_beam.ml.inference.sklearn_inference:SklearnModelHandlerNumpy",
        kwargs={"model_uri": str(models["folder"] / "lr.pkl")},
        features=FEATURES,
    )
    preview = preview_inference(data, custom, sample=50, device="cpu")
    expected = models["lr"].predict(data[FEATURES].to_numpy())
    assert list(preview.predictions["prediction"]) == list(expected)


def test_wrong_shape_inside_the_pipeline_comes_out_as_one_line_error(models):
    data = models["clean"].head(20)
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES[:2])
    with pytest.raises(BeamMLError, match="wrong input shape") as err:
        preview_inference(data, spec, sample=20, device="cpu")
    assert "\n" not in str(err.value)


def test_a_step_running_infermodel_itself_gets_the_same_preview(models):
    # what the infer step's preview does: the same transform, then from_outputs
    data = models["clean"].head(40).copy()
    data.loc[5, "bill_length_mm"] = np.nan
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    choice = resolve_step_device("auto", [spec], probe=_no_gpu)
    outputs, metrics, seconds = run_sample(data, InferModel(spec, choice.beam_device), 16)
    built = InferencePreview.from_outputs(
        data, outputs, choice, spec, metrics=metrics, seconds=seconds
    )
    direct = preview_inference(data, spec, sample=40, device="auto", device_probe=_no_gpu,
                               batch_rows=16)  # fmt: skip
    pd.testing.assert_frame_equal(built.predictions, direct.predictions)
    pd.testing.assert_frame_equal(built.errors, direct.errors)
    assert (built.device, built.device_reason, built.device_requested) == (
        "cpu", "asked auto; CUDA not available; ran on cpu", "auto",
    )  # fmt: skip
    assert built.metrics["num_inferences"] == direct.metrics["num_inferences"] == 39
