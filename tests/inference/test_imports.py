"""Import paths and model files: found, or one clear error."""

import json

import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference.imports import check_model_file, import_callable, import_object


def test_import_object_reads_colon_and_dot_paths():
    assert import_object("json:dumps") is json.dumps
    assert import_object("json.dumps") is json.dumps
    assert import_object("os:path.join").__name__ == "join"


@pytest.mark.parametrize(
    "path, match",
    [("", "import path like"), ("nope_mod:x", "importable object"), ("json:nope", "no attribute")],
)
def test_when_an_import_path_is_wrong_then_one_line_error(path, match):
    with pytest.raises(BeamMLError, match=match):
        import_object(path)


def test_import_callable_takes_a_function_or_a_path_and_refuses_a_non_callable():
    assert import_callable(len, "function") is len
    assert import_callable(None, "function") is None
    assert import_callable("json:dumps", "function") is json.dumps
    with pytest.raises(BeamMLError, match="a callable between function"):
        import_callable("json:__name__", "between function")


def test_when_model_file_is_missing_then_error_names_it(tmp_path):
    with pytest.raises(BeamMLError, match=r"existing model file, got '.*nope.pkl'"):
        check_model_file(str(tmp_path / "nope.pkl"))
    (tmp_path / "m.pkl").write_bytes(b"x")
    check_model_file(str(tmp_path / "m.pkl"))
