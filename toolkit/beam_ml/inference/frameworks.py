"""More model kinds: a remote HTTP endpoint, ONNX, XGBoost and TensorFlow, on Beam's handlers.

``remote:URL`` runs on Beam's ``RemoteModelHandler`` (:mod:`beam_ml.inference.remote`);
``onnx:PATH`` on ``OnnxModelHandlerNumpy``, ``xgboost:PATH`` on
``XGBoostModelHandlerNumpy`` and ``tensorflow:PATH`` on ``TFModelHandlerNumpy``
(:mod:`beam_ml.inference.framework_handlers`). The last three need their
extra (``pip install beam-ml-toolkit[onnx]`` ...); a missing one is a
one-line error naming it.

>>> RemoteModel(url="http://127.0.0.1:8080/predict").to_dict()["kind"]
'remote'
>>> parse_model_spec("remote:http://host/predict").url
'http://host/predict'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from beam_ml.errors import BeamMLError, check_positive_int
from beam_ml.inference.specs import _Spec, parse_model_spec

__all__ = ["OnnxModel", "RemoteModel", "TensorflowModel", "XGBoostModel", "parse_model_spec"]


@dataclass(frozen=True)
class RemoteModel(_Spec):
    """A model behind an HTTP endpoint that takes ``{"instances": [...]}`` as JSON.

    ``batch_rows`` bounds the rows of one request; ``retries`` / ``backoff`` /
    ``max_backoff`` (seconds) govern retrying 429, 5xx and timeouts;
    ``throttle_delay`` is how long Beam's client-side throttler waits when too
    few requests succeed; ``classes`` names the outputs of a list answer.

    >>> RemoteModel(url="https://models.example/v1/predict", batch_rows=32).batch_rows
    32
    """

    kind: ClassVar[str] = "remote"
    uses_device: ClassVar[bool] = False
    url: str = ""
    features: Sequence[str] | None = None
    key: str | None = None
    batch_rows: int = 64
    timeout: float = 10.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    throttle_delay: float = 1.0
    headers: dict[str, str] = field(default_factory=dict)
    classes: Sequence[Any] | None = None
    preprocess: str | None = None
    postprocess: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise BeamMLError.expected(
                "an http:// or https:// URL", repr(self.url), "e.g. remote:http://host/predict"
            )
        check_positive_int("batch_rows", self.batch_rows)
        if not isinstance(self.retries, int) or self.retries < 0:
            raise BeamMLError.expected("retries as a whole number >= 0", repr(self.retries))
        for name in ("timeout", "backoff", "max_backoff", "throttle_delay"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise BeamMLError.expected(f"{name} as seconds >= 0", repr(value))
        object.__setattr__(self, "headers", {str(k): str(v) for k, v in self.headers.items()})
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes))

    def __hash__(self) -> int:
        return hash(self.to_json())

    @property
    def path(self) -> None:  # nothing to load: the endpoint has the model
        return None

    @property
    def max_batch_rows(self) -> int:
        """What :class:`~beam_ml.inference.run_model.RunModel` splits batches to."""
        return self.batch_rows

    def load_hint(self) -> str:
        return f"check that {self.url} is up"

    def build_base(self, beam_device: str) -> Any:
        from beam_ml.inference.remote import JsonHttpHandler

        return JsonHttpHandler(
            self.url,
            self.timeout,
            self.retries,
            self.backoff,
            self.max_backoff,
            self.throttle_delay,
            headers=self.headers,
        )

    def infer(self, base, model, batch, features, inference_args):
        from beam_ml.inference.remote import remote_infer

        return remote_infer(self, base, model, batch, features, inference_args)


@dataclass(frozen=True)
class _FileModel(_Spec):
    """A model file read by one of Beam's numpy handlers; ``classes`` names outputs."""

    extra: ClassVar[str] = ""
    path: str = ""
    features: Sequence[str] | None = None
    key: str | None = None
    classes: Sequence[Any] | None = None
    preprocess: str | None = None
    postprocess: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "path", os.fspath(self.path))
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes))

    def check(self, columns: Iterable[str] | None = None) -> None:
        from beam_ml.inference.framework_handlers import require

        require(self.kind)
        super().check(columns)

    def build_base(self, beam_device: str) -> Any:
        from beam_ml.inference import framework_handlers

        return framework_handlers.build(self, beam_device)

    def infer(self, base, model, batch, features, inference_args):
        from beam_ml.inference.framework_handlers import numpy_infer

        return numpy_infer(self, base, model, batch, features, inference_args)


@dataclass(frozen=True)
class OnnxModel(_FileModel):
    """An ONNX model (e.g. a scikit-learn model converted with ``skl2onnx``).

    Its first output is the prediction; a second one (a classifier's
    probabilities) becomes ``proba_<class>`` columns.

    >>> OnnxModel(path="model.onnx").kind
    'onnx'
    """

    kind: ClassVar[str] = "onnx"
    uses_device: ClassVar[bool] = True

    def load_hint(self) -> str:
        return "save the model as ONNX (skl2onnx.to_onnx, torch.onnx.export)"


@dataclass(frozen=True)
class XGBoostModel(_FileModel):
    """An XGBoost model saved with ``save_model`` (``.json`` or ``.ubj``).

    ``model_type`` is the class it loads into: ``'classifier'``,
    ``'regressor'`` or ``'booster'`` (a raw ``xgboost.Booster``); ``'auto'``
    (the default) reads the objective saved in a ``.json`` model (``reg:*``
    is a regressor), else a classifier.

    >>> XGBoostModel(path="model.json", model_type="regressor").model_type
    'regressor'
    """

    kind: ClassVar[str] = "xgboost"
    uses_device: ClassVar[bool] = False
    model_type: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        from beam_ml.errors import check_choice

        types = ("auto", "classifier", "regressor", "booster")
        check_choice("model_type", self.model_type, types)

    def load_hint(self) -> str:
        return "save the model with model.save_model('model.json')"


@dataclass(frozen=True)
class TensorflowModel(_FileModel):
    """A TensorFlow / Keras model (a ``.keras`` file or a SavedModel directory).

    >>> TensorflowModel(path="model.keras", classes=["no", "yes"]).classes
    ('no', 'yes')
    """

    kind: ClassVar[str] = "tensorflow"
    uses_device: ClassVar[bool] = True

    def load_hint(self) -> str:
        return "save the model with model.save('model.keras')"


SPECS: dict[str, type[_Spec]] = {
    "remote": RemoteModel,
    "onnx": OnnxModel,
    "xgboost": XGBoostModel,
    "tensorflow": TensorflowModel,
}


def build(kind: str, rest: str, options: dict[str, Any]) -> _Spec:
    """The spec of ``KIND:REST`` for the kinds of this module (``parse_model_spec``'s)."""
    if kind == "remote":
        return RemoteModel(url=rest, **options)
    return SPECS[kind](path=rest, **options)  # type: ignore[call-arg]
