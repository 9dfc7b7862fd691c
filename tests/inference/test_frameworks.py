"""onnx:, xgboost: and tensorflow: models through Beam's own handlers, each a tiny model."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference import parse_model_spec, preview_inference
from beam_ml.inference.framework_handlers import require
from sklearn import metrics as skm

from .data import FEATURES, SPECIES


def _needs(*modules: str):
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(
        bool(missing), reason=f"extra not installed: {', '.join(missing)} (see pyproject extras)"
    )


@_needs("onnxruntime", "onnx", "skl2onnx")
def test_onnx_model_converted_from_sklearn_predicts_like_sklearn(models, tmp_path):
    from skl2onnx import to_onnx

    data = models["clean"].head(120)
    lr = models["lr"]
    onnx = to_onnx(lr, data[FEATURES].to_numpy(np.float32)[:1], options={"zipmap": False})
    path = tmp_path / "lr.onnx"
    path.write_bytes(onnx.SerializeToString())
    result = preview_inference(
        data, f"onnx:{path}", features=FEATURES, sample=120, device="cpu", label="species"
    )
    expected = lr.predict(data[FEATURES].to_numpy(np.float32))
    assert (result.predictions["prediction"].to_numpy() == expected).mean() > 0.99  # float32
    proba = result.predictions[[f"proba_{c}" for c in SPECIES]].to_numpy()
    assert np.allclose(proba, lr.predict_proba(data[FEATURES].to_numpy()), atol=1e-4)
    assert result.device == "cpu" and result.metrics["num_inferences"] == 120
    assert result.evaluation["metrics"]["log_loss"] == pytest.approx(
        skm.log_loss(data["species"], proba.astype(np.float64), labels=SPECIES), rel=1e-9
    )


@_needs("xgboost")
def test_xgboost_classifier_with_index_classes_and_its_metrics(models, tmp_path):
    import xgboost

    data = models["clean"].sample(150, random_state=0)
    y = data["species"].map({s: i for i, s in enumerate(SPECIES)}).to_numpy()
    model = xgboost.XGBClassifier(n_estimators=8, max_depth=2).fit(data[FEATURES].to_numpy(), y)
    path = tmp_path / "xgb.json"
    model.save_model(path)
    frame = data.assign(code=y)
    result = preview_inference(
        frame, f"xgboost:{path}", features=FEATURES, sample=150, device="cpu", label="code"
    )
    proba = model.predict_proba(data[FEATURES].to_numpy())
    assert np.allclose(result.predictions[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)
    assert list(result.predictions["prediction"]) == list(proba.argmax(axis=1))
    found = result.evaluation["metrics"]
    assert found["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))
    assert found["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-6)
    named = parse_model_spec(f"xgboost:{path}", classes=SPECIES, features=FEATURES)
    result = preview_inference(data, named, sample=20, device="cpu")
    assert set(result.predictions["prediction"]) <= set(SPECIES)


@_needs("xgboost")
def test_xgboost_regressor(models, tmp_path):
    import xgboost

    data = models["clean"].head(100)
    x, y = data[["bill_length_mm"]].to_numpy(), data["body_mass_g"].to_numpy()
    model = xgboost.XGBRegressor(n_estimators=5, max_depth=2).fit(x, y)
    path = tmp_path / "reg.json"
    model.save_model(path)
    spec = parse_model_spec(f"xgboost:{path}", features=["bill_length_mm"])
    assert spec.model_type == "auto"  # the saved objective (reg:squarederror) says regressor
    result = preview_inference(data, spec, sample=100, device="cpu", label="body_mass_g")
    assert np.allclose(result.predictions["prediction"].to_numpy(), model.predict(x), rtol=1e-6)
    assert result.evaluation["metrics"]["mae"] == pytest.approx(
        skm.mean_absolute_error(y, model.predict(x)), rel=1e-6
    )


# Beam 2.77's TF handler imports tensorflow_hub, which imports pkg_resources (gone from
# setuptools >= 81) and needs tf-keras -> `tensorflow` (not tensorflow-cpu): see the report.
@_needs("tensorflow", "tensorflow_hub", "pkg_resources")
def test_tensorflow_keras_model_predicts_like_keras(models, tmp_path):
    import tensorflow as tf

    data = models["clean"].head(64)
    tf.random.set_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])
    path = tmp_path / "model.keras"
    model.save(path)
    result = preview_inference(
        data, f"tensorflow:{path}", features=FEATURES, sample=64, device="cpu"
    )
    expected = model(data[FEATURES].to_numpy(np.float32)).numpy()
    found = result.predictions[["output_0", "output_1", "output_2"]].to_numpy()
    assert np.allclose(found, expected, atol=1e-5)


def test_a_missing_framework_is_a_one_line_error_naming_the_extra(monkeypatch):
    from beam_ml.inference import framework_handlers

    monkeypatch.setitem(framework_handlers.EXTRAS, "onnx", ("no_such_module_beam_ml",))
    with pytest.raises(BeamMLError, match=r"pip install 'beam-ml-toolkit\[onnx\]'"):
        require("onnx")
