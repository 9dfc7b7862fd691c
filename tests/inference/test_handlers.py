"""The Beam ModelHandlers over pandas batches, called directly on real models."""

import numpy as np
import pandas as pd
import pytest
import torch
from beam_ml.errors import BeamMLError
from beam_ml.inference.handlers import model_device
from beam_ml.inference.preview import handler_for
from beam_ml.inference.specs import PytorchModel, SklearnModel

from .data import FEATURES


def _no_gpu():
    return False


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


def test_keyed_handler_without_passthrough_keeps_only_the_key_and_predictions(models):
    batch = models["clean"].head(6).copy()
    batch["id"] = ["x", "x", "y", "y", "y", "z"]  # keys may repeat: rows stay by position
    batch.attrs["file"] = "penguins.csv"
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES, key="id")
    handler = spec.handler("CPU", prefix="a_", passthrough=False)
    (out,) = handler.run_inference(batch, handler.load_model())
    assert list(out.columns) == ["id", "a_prediction"]
    assert list(out["id"]) == list(batch["id"]) and list(out.index) == list(batch.index)
    assert list(out["a_prediction"]) == list(models["lr"].predict(batch[FEATURES]))
    assert out.attrs == {"file": "penguins.csv"}


def test_when_a_prediction_column_already_exists_then_passthrough_refuses_it(models):
    batch = models["clean"].head(4).assign(prediction=1)
    handler = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES).handler()
    with pytest.raises(BeamMLError, match=r"\['prediction'\] in both.*pass a prefix"):
        handler.run_inference(batch, handler.load_model())


def test_model_device_reads_where_torch_weights_are(models):
    assert model_device(models["mlp"]) == "cpu"
    assert model_device(models["lr"]) is None
    assert model_device(torch.nn.ReLU()) is None  # no parameters


def test_sklearn_fitted_on_an_array_gets_an_array(models):
    from sklearn.linear_model import LinearRegression

    clean = models["clean"]
    reg = LinearRegression().fit(clean[FEATURES].to_numpy(), clean["body_mass_g"].to_numpy())
    import pickle

    path = models["folder"] / "reg_array.pkl"
    path.write_bytes(pickle.dumps(reg))
    handler = SklearnModel(path=str(path), features=FEATURES).handler()
    (out,) = handler.run_inference(clean.head(5), handler.load_model())
    np.testing.assert_allclose(out["prediction"], reg.predict(clean.head(5)[FEATURES].to_numpy()))
    assert isinstance(out, pd.DataFrame)
