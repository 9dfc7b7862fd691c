"""Decide which device a model runs on, and say why in one sentence.

Beam 2.77's PyTorch handler treats any device string other than exactly
``'GPU'`` as CPU, and when asked for a GPU it cannot use it falls back to CPU
with only a log line. So the toolkit resolves the device *before* building a
handler, hands Beam exactly ``'GPU'`` or ``'CPU'``, and keeps the reason so the
preview can show it next to the results rather than in a log.

The probe that says whether CUDA is usable is injectable, so both branches are
tested on a machine without a GPU:

>>> resolve_device("gpu", probe=lambda: False).reason
'asked gpu; CUDA not available; ran on cpu'
>>> resolve_device("auto", probe=lambda: True).beam_device
'GPU'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from beam_ml.errors import BeamMLError, check_choice
from beam_ml.rendering import HtmlRepr, render

DEVICES = ("auto", "cpu", "gpu")

Probe = Callable[[], bool]


def cuda_available() -> bool:
    """The default probe: ``torch.cuda.is_available()``, False without torch.

    torch is imported here, lazily, so ``import beam_ml`` never loads it.
    """
    try:
        import torch
    except ImportError:
        return False
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken CUDA install must mean "no GPU", not a crash
        return False


@dataclass(frozen=True)
class DeviceChoice(HtmlRepr):
    """The device a model will run on, and why.

    ``requested`` is what was asked (``'auto' | 'cpu' | 'gpu'``), ``device``
    what runs (``'cpu'`` or ``'gpu'``); ``beam_device`` is the exact string
    Beam's PyTorch handler needs (``'CPU'`` or ``'GPU'``).

    >>> DeviceChoice("gpu", "cpu", "asked gpu; CUDA not available; ran on cpu").fell_back
    True
    """

    requested: str
    device: str
    reason: str

    @property
    def beam_device(self) -> str:
        return "GPU" if self.device == "gpu" else "CPU"

    @property
    def fell_back(self) -> bool:
        """True when a GPU was asked for and the model ran on cpu (worth a warning)."""
        return self.requested == "gpu" and self.device != "gpu"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "beam_device": self.beam_device, "fell_back": self.fell_back}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _text(self) -> str:
        return f"device: {self.device} ({self.reason})"

    def to_html(self) -> str:
        return render("inference_device.html", device=self.to_dict())


def resolve_device(
    requested: str = "auto", require_gpu: bool = False, probe: Probe | None = None
) -> DeviceChoice:
    """Resolve ``'auto' | 'cpu' | 'gpu'`` to the device that will actually run.

    ``require_gpu=True`` makes "no usable GPU" an error instead of a fallback.

    >>> resolve_device("cpu").to_dict()["beam_device"]
    'CPU'
    >>> resolve_device("auto", probe=lambda: False).reason
    'asked auto; CUDA not available; ran on cpu'
    """
    requested = check_choice("device", str(requested).lower(), DEVICES)
    if requested == "cpu" and not require_gpu:
        # Never probe when the answer cannot change: probing imports torch.
        return DeviceChoice(requested, "cpu", "asked cpu; ran on cpu")
    if requested == "cpu" and require_gpu:
        raise BeamMLError.expected(
            "device 'gpu' or 'auto' with require_gpu", "device 'cpu'", "drop require_gpu or ask gpu"
        )
    usable = (probe or cuda_available)()
    if usable:
        return DeviceChoice(requested, "gpu", f"asked {requested}; CUDA available; ran on gpu")
    if require_gpu:
        raise BeamMLError.expected(
            "a usable CUDA GPU (require_gpu is set)",
            "CUDA not available",
            "run on a machine with a GPU and a CUDA build of torch, or drop require_gpu",
        )
    return DeviceChoice(requested, "cpu", f"asked {requested}; CUDA not available; ran on cpu")


def resolve_step_device(
    device: str,
    specs: Iterable[Any],
    probe: Probe | None = None,
    require_gpu: bool = False,
) -> DeviceChoice:
    """The device a step's models run on: :func:`resolve_device`, then the models' say.

    Models that cannot use a GPU (scikit-learn) run on cpu whatever the probe
    says, and the reason says so; with ``require_gpu`` that is an error.

    >>> from beam_ml.inference.specs import SklearnModel
    >>> resolve_step_device("gpu", [SklearnModel(path="m.pkl")], probe=lambda: True).reason
    'asked gpu; scikit-learn models run on cpu; ran on cpu'
    """
    specs = list(specs)
    choice = resolve_device(device, require_gpu=require_gpu, probe=probe)
    cpu_only = [s.kind for s in specs if not getattr(s, "uses_device", True)]
    if not cpu_only or len(cpu_only) != len(specs) or choice.device != "gpu":
        return choice
    if require_gpu:
        raise BeamMLError.expected(
            "a model that can run on a GPU (require_gpu is set)",
            f"a {cpu_only[0]} model, which runs on cpu",
            "use a PyTorch model or drop require_gpu",
        )
    return DeviceChoice(
        choice.requested,
        "cpu",
        f"asked {choice.requested}; scikit-learn models run on cpu; ran on cpu",
    )
