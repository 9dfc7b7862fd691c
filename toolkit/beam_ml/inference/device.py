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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from beam_ml.errors import BeamMLError, check_choice

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
class DeviceChoice:
    """The device a model will run on, and why.

    ``device`` is ``'cpu'`` or ``'gpu'``; ``beam_device`` is the exact string
    Beam's PyTorch handler needs (``'CPU'`` or ``'GPU'``).
    """

    requested: str
    device: str
    reason: str

    @property
    def beam_device(self) -> str:
        return "GPU" if self.device == "gpu" else "CPU"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "beam_device": self.beam_device}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        import html

        return {
            "text/plain": f"device: {self.device} ({self.reason})",
            "text/html": f"<b>device: {html.escape(self.device)}</b> — {html.escape(self.reason)}",
        }


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
