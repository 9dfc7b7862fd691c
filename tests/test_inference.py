"""Real RunInference on DirectRunner, with models trained here on penguins."""

import json
import pickle
import sys
import textwrap

import beam_ml as bml
import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from beam_ml.errors import BeamMLError
from beam_ml.inference.preview import (
    CustomModel,
    InferencePreview,
    PytorchModel,
    RunModel,
    SklearnModel,
    cascade,
    compare_models,
    handler_for,
    parse_model_spec,
    preview_inference,
)
from beam_ml.inference.specs import inference_columns
from beam_ml.runner import run_and_collect
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]

MODULE = textwrap.dedent(
    """
    import numpy as np
    import torch


    class MLP(torch.nn.Module):
        def __init__(self, n_in=4, hidden=16, n_out=3):
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out)
            )

        def forward(self, x):
            return self.net(x)


    def scale(batch):
        out = batch.copy()
        out["body_mass_g"] = out["body_mass_g"] / 1000.0
        return out


    def fill_means(batch):
        return batch.fillna({"bill_length_mm": 44.0, "bill_depth_mm": 17.0,
                             "flipper_length_mm": 200.0, "body_mass_g": 4200.0})


    def add_flag(predictions):
        out = predictions.copy()
        out["is_gentoo"] = out["prediction"] == "Gentoo"
        return out


    def gentoo_only(batch):
        return batch[batch["a_prediction"] == "Gentoo"]
    """
)


@pytest.fixture(scope="module")
def penguins():
    path = bml.datasets.load("penguins")
    return path, pd.read_csv(path)


@pytest.fixture(scope="module")
def models(penguins, tmp_path_factory):
    """Small real models saved the ways users save them, plus an importable module."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "bml_test_models.py").write_text(MODULE)
    sys.path.insert(0, str(folder))
    import bml_test_models

    _, frame = penguins
    clean = frame.dropna(subset=[*FEATURES, "species"])
    lr = LogisticRegression(max_iter=5000).fit(clean[FEATURES], clean["species"])
    rf = RandomForestClassifier(n_estimators=20, random_state=0).fit(
        clean[FEATURES], clean["species"]
    )
    reg = LinearRegression().fit(clean[["bill_length_mm"]], clean["body_mass_g"])
    with open(folder / "lr.pkl", "wb") as handle:
        pickle.dump(lr, handle)
    joblib.dump(rf, folder / "rf.joblib")
    with open(folder / "reg.pkl", "wb") as handle:
        pickle.dump(reg, handle)
    torch.manual_seed(0)
    mlp = bml_test_models.MLP(4, 16, 3).eval()
    torch.save(mlp.state_dict(), folder / "mlp.pt")
    torch.jit.save(torch.jit.script(mlp), folder / "mlp_script.pt")
    yield {
        "folder": folder,
        "lr": lr,
        "rf": rf,
        "reg": reg,
        "mlp": mlp,
        "clean": clean.reset_index(drop=True),
    }
    sys.path.remove(str(folder))


def _no_gpu():
    return False


# --------------------------------------------------------------------------- specs


def test_when_spec_is_rebuilt_from_its_code_then_it_is_equal(models):
    spec = SklearnModel(path="m.pkl", features=["a", "b"], method="predict_proba", key="id")
    assert eval(spec.to_code()) == spec
    torch_spec = PytorchModel(path="m.pt", model_class="pkg:MLP", model_params={"n_in": 4})
    assert eval(torch_spec.to_code()) == torch_spec
    custom = CustomModel("pkg.mod:make", kwargs={"x": 1}, input="frame")
    assert eval(custom.to_code()) == custom
    assert json.loads(custom.to_json())["handler"] == "pkg.mod:make"


def test_parse_model_spec_reads_each_kind():
    assert parse_model_spec("sklearn:m.pkl", features="a, b").features == ("a", "b")
    torch_spec = parse_model_spec("pytorch:m.pt", model_class="pkg:C", model_params='{"k": 2}')
    assert (torch_spec.model_class, torch_spec.model_params) == ("pkg:C", {"k": 2})
    script = parse_model_spec("torchscript:m.pt")
    assert isinstance(script, PytorchModel) and script.model_class is None
    assert parse_model_spec("custom:pkg.mod:make").handler_path == "pkg.mod:make"


@pytest.mark.parametrize(
    "text, match",
    [
        ("m.pkl", "sklearn:PATH"),
        ("onnx:m.onnx", "sklearn:PATH"),
        ("pytorch:m.pt", "--model-class"),
    ],
)
def test_when_model_text_is_wrong_then_one_line_error(text, match):
    with pytest.raises(BeamMLError, match=match):
        parse_model_spec(text)


def test_when_model_file_is_missing_then_error_names_the_file(penguins, tmp_path):
    path, _ = penguins
    missing = str(tmp_path / "nope.pkl")
    with pytest.raises(BeamMLError, match=r"expected an existing model file, got '.*nope.pkl'"):
        preview_inference(path, SklearnModel(path=missing, features=FEATURES), sample=5)


def test_when_model_class_cannot_be_imported_then_error_says_so(models):
    spec = PytorchModel(path=str(models["folder"] / "mlp.pt"), model_class="no_such_mod:MLP")
    with pytest.raises(BeamMLError, match="importable model class 'no_such_mod:MLP'"):
        spec.check()
    spec = PytorchModel(path=str(models["folder"] / "mlp.pt"), model_class="bml_test_models:Nope")
    with pytest.raises(BeamMLError, match="has no attribute 'Nope'"):
        spec.check()


def test_when_feature_columns_are_missing_then_error_before_any_pipeline(penguins, models):
    path, _ = penguins
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=["bill_length", "x"])
    with pytest.raises(BeamMLError, match=r"feature columns \['bill_length', 'x'\] in the data"):
        preview_inference(path, spec, sample=10)


def test_when_input_shape_is_wrong_then_handler_raises_one_line_error(models):
    batch = models["clean"].head(8)
    sk = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES[:3])
    handler = sk.handler("CPU")
    with pytest.raises(BeamMLError, match=r"expected 4 input features \(wrong input shape\)"):
        handler.run_inference(batch, handler.load_model())
    pt = PytorchModel(
        path=str(models["folder"] / "mlp.pt"),
        model_class="bml_test_models:MLP",
        model_params={"n_in": 4, "hidden": 16, "n_out": 3},
        features=FEATURES[:2],
    )
    handler = pt.handler("CPU")
    with pytest.raises(BeamMLError, match="expected 4 input features"):
        handler.run_inference(batch, handler.load_model())


def test_when_state_dict_does_not_fit_the_class_then_load_error_is_clear(models):
    spec = PytorchModel(
        path=str(models["folder"] / "mlp.pt"),
        model_class="bml_test_models:MLP",
        model_params={"n_in": 4, "hidden": 8, "n_out": 3},
    )
    with pytest.raises(BeamMLError, match="state dict of bml_test_models:MLP"):
        spec.handler("CPU").load_model()


def test_when_probe_says_cuda_then_gpu_string_reaches_beams_pytorch_handler(models):
    spec = PytorchModel(path=str(models["folder"] / "mlp.pt"), model_class="bml_test_models:MLP")
    handler, choice = handler_for(spec, "auto", probe=lambda: True)
    assert (choice.device, choice.beam_device) == ("gpu", "GPU")
    assert handler.device == "GPU"
    assert handler.base._device == torch.device("cuda")  # Beam's own attribute
    handler, choice = handler_for(spec, "gpu", probe=_no_gpu)
    assert handler.device == "CPU" and handler.base._device == torch.device("cpu")
    assert choice.reason == "asked gpu; CUDA not available; ran on cpu"


def test_when_beam_device_is_not_exact_then_refused():
    spec = SklearnModel(path="m.pkl")
    with pytest.raises(BeamMLError, match="'CPU', 'GPU'"):
        spec.handler("cuda")


def test_when_require_gpu_without_cuda_then_error_before_reading(penguins, models):
    path, _ = penguins
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    with pytest.raises(BeamMLError, match="usable CUDA GPU"):
        preview_inference(path, spec, require_gpu=True, device_probe=_no_gpu)
    with pytest.raises(BeamMLError, match="a sklearn model, which runs on cpu"):
        preview_inference(path, spec, require_gpu=True, device_probe=lambda: True)


def test_inference_columns_flatten_probabilities_and_outputs():
    cols = inference_columns(np.array([[0.2, 0.8], [0.9, 0.1]]), 2, ["no", "yes"], proba=True)
    assert list(cols) == ["proba_no", "proba_yes", "prediction"]
    assert list(cols["prediction"]) == ["yes", "no"]
    assert list(inference_columns(np.array([[1.0], [2.0]]), 2)) == ["prediction"]
    assert list(inference_columns(np.array([[1, 3], [4, 2]]), 2)["prediction"]) == [1, 0]
    with pytest.raises(BeamMLError, match="one inference per input row"):
        inference_columns(np.array([1, 2, 3]), 2)


# --------------------------------------------------------------------------- pipelines


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


def test_when_one_row_is_poisoned_then_only_that_row_fails(models):
    data = models["clean"].head(200).copy()
    data.loc[137, "bill_depth_mm"] = np.nan
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    preview = preview_inference(data, spec, sample=200, device="cpu", batch_rows=100)
    assert list(preview.errors.index) == [137]
    assert len(preview.predictions) == 199
    assert 137 not in preview.predictions.index
    assert preview.metrics["num_inferences"] == 199
    # the healthy batch ran whole; the bad one was bisected down to the bad row
    assert preview.metrics["batch_size_max"] == 100
    assert preview.metrics["retried_rows"] == 100
    assert preview.metrics["failed_batches"] == 1


def test_runmodel_unflattened_parts_hold_the_same_rows_as_its_flattened_output(models):
    import apache_beam as beam

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


def test_pre_and_post_processing_by_import_path_and_runmodel_in_a_pipeline(models):
    import apache_beam as beam

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
            p | beam.Create(batches, reshuffle=False) | spec.transform("CPU", max_batch_rows=10)
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


def test_compare_models_side_by_side_with_agreement(models):
    data = models["clean"].head(150)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    result = compare_models(data, lr, rf, sample=150, device="cpu")
    a, b = models["lr"].predict(data[FEATURES]), models["rf"].predict(data[FEATURES])
    assert list(result.predictions["a_prediction"]) == list(a)
    assert list(result.predictions["b_prediction"]) == list(b)
    assert result.agreement == round(float(np.mean(a == b)), 4)
    assert result.metrics["a"]["num_inferences"] == 150
    assert result.metrics["b"]["num_inferences"] == 150
    html = result._repr_mimebundle_()["text/html"]
    assert "Agreement A/B" in html and "Device: CPU" in html


def test_split_traffic_sends_each_row_to_exactly_one_model(models):
    data = models["clean"].head(200)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    result = compare_models(data, lr, rf, sample=200, split=0.3, device="cpu", seed=7, how="random")
    preds = result.predictions
    assert sorted(preds.index) == list(range(200))
    share_a = float((preds["model"] == "a").mean())
    assert 0.15 < share_a < 0.45  # binomial(200, 0.3): far outside 4 sigma otherwise
    for name, model in (("a", models["lr"]), ("b", models["rf"])):
        part = preds[preds["model"] == name]
        assert list(part["prediction"]) == list(model.predict(data.loc[part.index, FEATURES]))
    assert result.agreement is None
    assert result.metrics["a"]["num_inferences"] + result.metrics["b"]["num_inferences"] == 200
    with pytest.raises(BeamMLError, match="split between 0 and 1"):
        compare_models(data, lr, rf, split=1.5)


def test_cascade_feeds_a_post_processed_output_of_a_into_b(models):
    data = models["clean"].head(344)
    a = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    b = SklearnModel(path=str(models["folder"] / "reg.pkl"), features=["bill_length_mm"])
    result = cascade(data, a, b, between="bml_test_models:gentoo_only", sample=400, device="cpu")
    species = models["lr"].predict(data[FEATURES])
    gentoo = data[species == "Gentoo"]
    assert len(gentoo) > 10
    assert list(result.predictions.index) == list(gentoo.index)
    assert (result.predictions["a_prediction"] == "Gentoo").all()
    np.testing.assert_allclose(
        result.predictions["b_prediction"], models["reg"].predict(gentoo[["bill_length_mm"]])
    )
    assert result.metrics["a"]["num_inferences"] == len(data)
    assert result.metrics["b"]["num_inferences"] == len(gentoo)
    assert result.kind == "cascade"


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
