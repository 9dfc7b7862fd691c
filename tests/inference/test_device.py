import json
import sys

import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference.device import DeviceChoice, cuda_available, resolve_device


def test_when_gpu_asked_and_cuda_absent_then_falls_back_to_cpu_with_reason():
    choice = resolve_device("gpu", probe=lambda: False)
    assert choice.device == "cpu"
    assert choice.beam_device == "CPU"
    assert choice.reason == "asked gpu; CUDA not available; ran on cpu"


def test_when_gpu_asked_and_cuda_present_then_runs_on_gpu():
    choice = resolve_device("gpu", probe=lambda: True)
    assert (choice.device, choice.beam_device) == ("gpu", "GPU")
    assert choice.reason == "asked gpu; CUDA available; ran on gpu"


def test_when_auto_then_follows_the_probe():
    assert resolve_device("auto", probe=lambda: True).beam_device == "GPU"
    assert resolve_device("auto", probe=lambda: False).beam_device == "CPU"


def test_when_cpu_asked_then_probe_is_never_called():
    def probe():
        raise AssertionError("probe must not run for cpu")

    choice = resolve_device("CPU", probe=probe)
    assert (choice.device, choice.reason) == ("cpu", "asked cpu; ran on cpu")


def test_when_require_gpu_and_cuda_absent_then_raises_one_line_error():
    with pytest.raises(BeamMLError, match="expected a usable CUDA GPU") as err:
        resolve_device("auto", require_gpu=True, probe=lambda: False)
    assert "\n" not in str(err.value)


def test_when_require_gpu_and_cpu_asked_then_raises():
    with pytest.raises(BeamMLError, match="require_gpu"):
        resolve_device("cpu", require_gpu=True, probe=lambda: True)


def test_when_require_gpu_and_cuda_present_then_gpu():
    assert resolve_device("gpu", require_gpu=True, probe=lambda: True).device == "gpu"


def test_when_device_is_unknown_then_raises_naming_the_choices():
    with pytest.raises(BeamMLError, match="'auto', 'cpu', 'gpu'"):
        resolve_device("cuda")


def test_default_probe_on_this_machine_says_no_gpu_and_handles_missing_torch(monkeypatch):
    # This machine has a CPU build of torch: the real probe answers False.
    assert cuda_available() is False
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    assert cuda_available() is False


def test_choice_serialises_and_escapes_html():
    choice = DeviceChoice("auto", "cpu", "asked auto; <CUDA> not available; ran on cpu")
    data = json.loads(choice.to_json())
    assert data["beam_device"] == "CPU"
    bundle = choice._repr_mimebundle_()
    assert "&lt;CUDA&gt;" in bundle["text/html"]
    assert "device: cpu" in bundle["text/plain"]


def test_choice_html_is_the_one_device_banner_and_warns_on_fallback():
    fell = resolve_device("gpu", probe=lambda: False)
    assert fell.fell_back and 'class="bml-bad"' in fell.to_html()
    assert not resolve_device("auto", probe=lambda: False).fell_back
    assert 'class="bml-muted"' in resolve_device("cpu").to_html()


def test_step_device_keeps_scikit_learn_on_cpu_and_says_why():
    from beam_ml.inference.device import resolve_step_device
    from beam_ml.inference.specs import PytorchModel, SklearnModel

    sk = SklearnModel(path="m.pkl")
    choice = resolve_step_device("gpu", [sk, sk], probe=lambda: True)
    assert (choice.requested, choice.device) == ("gpu", "cpu")
    assert choice.reason == "asked gpu; scikit-learn models run on cpu; ran on cpu"
    mixed = resolve_step_device("auto", [sk, PytorchModel(path="m.pt")], probe=lambda: True)
    assert mixed.device == "gpu"
    with pytest.raises(BeamMLError, match="a sklearn model, which runs on cpu"):
        resolve_step_device("gpu", [sk], probe=lambda: True, require_gpu=True)
    assert resolve_step_device("cpu", [sk]).reason == "asked cpu; ran on cpu"
