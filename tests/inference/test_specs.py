"""Model specs: literals in, code out, one clear error for each wrong input."""

import json

import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference.specs import (
    CustomModel,
    PytorchModel,
    SklearnModel,
    parse_model_spec,
    with_columns,
)


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
        ("caffe:m.caffemodel", "sklearn:PATH"),  # onnx: is a kind since issue 17
        ("pytorch:m.pt", "--model-class"),
    ],
)
def test_when_model_text_is_wrong_then_one_line_error(text, match):
    with pytest.raises(BeamMLError, match=match):
        parse_model_spec(text)


def test_when_model_class_cannot_be_imported_then_error_says_so(models):
    spec = PytorchModel(path=str(models["folder"] / "mlp.pt"), model_class="no_such_mod:MLP")
    with pytest.raises(BeamMLError, match="importable model class 'no_such_mod:MLP'"):
        spec.check()
    spec = PytorchModel(path=str(models["folder"] / "mlp.pt"), model_class="bml_test_models:Nope")
    with pytest.raises(BeamMLError, match="has no attribute 'Nope'"):
        spec.check()


def test_when_beam_device_is_not_exact_then_refused():
    spec = SklearnModel(path="m.pkl")
    with pytest.raises(BeamMLError, match="'CPU', 'GPU'"):
        spec.handler("cuda")


def test_when_the_key_column_is_missing_then_check_names_it_before_any_pipeline():
    spec = CustomModel("json:dumps", features=["a"], key="id")
    with pytest.raises(BeamMLError, match=r"feature columns \['id'\] in the data"):
        spec.check(["a", "b"])


def test_with_columns_sets_features_and_key_on_a_spec_or_a_model_string():
    spec = with_columns(SklearnModel(path="m.pkl"), features=["a"], key="id")
    assert (spec.features, spec.key) == (("a",), "id")
    assert with_columns(spec) is spec
    assert with_columns("sklearn:m.pkl", key="k").key == "k"
