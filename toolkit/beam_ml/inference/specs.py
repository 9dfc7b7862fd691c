"""Model specs: small frozen values that build Beam ``ModelHandler``s.

A spec names a model (a file, an import path) and how to feed it (feature
columns, a key column, pre/post-processing functions by import path). It holds
literals only, so generated code rebuilds it from keyword arguments::

    SklearnModel(path='model.pkl', features=['bill_length_mm', 'bill_depth_mm'])

``spec.handler(beam_device)`` builds the :class:`~beam_ml.inference.handlers.FrameModelHandler`
that :class:`~beam_ml.inference.run_model.RunModel` hands to Beam's ``RunInference``;
the same handler serves the notebook preview and an exported pipeline.

>>> SklearnModel(path="m.pkl", features=["a", "b"]).to_dict()["kind"]
'sklearn'
>>> parse_model_spec("torchscript:model.pt").kind
'pytorch'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, one_line
from beam_ml.inference.columns import (
    column_names,
    feature_array,
    inference_columns,
    missing_columns,
)
from beam_ml.inference.handlers import (
    DEVICE_NAMESPACE,
    FrameModelHandler,
    custom_base,
    custom_infer,
    model_device,
    pytorch_base,
    pytorch_infer,
    sklearn_base,
    sklearn_infer,
)
from beam_ml.inference.imports import check_model_file, import_object
from beam_ml.literals import spec_dict

__all__ = [
    "DEVICE_NAMESPACE",
    "KINDS",
    "CustomModel",
    "FrameModelHandler",
    "ModelSpec",
    "PytorchModel",
    "SklearnModel",
    "check_model_file",
    "feature_array",
    "import_object",
    "inference_columns",
    "model_device",
    "parse_model_spec",
    "with_columns",
]

SKLEARN_METHODS = ("predict", "predict_proba")
CUSTOM_INPUTS = ("rows", "array", "frame")


@dataclass(frozen=True)
class _Spec:
    """Fields every spec has: which columns feed the model and what runs around it."""

    kind: ClassVar[str] = ""
    # Whether the model can run on a GPU at all (scikit-learn cannot).
    uses_device: ClassVar[bool] = True
    if TYPE_CHECKING:  # fields every subclass declares (in its own order)
        features: Sequence[str] | None
        key: str | None
        preprocess: str | None
        postprocess: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", column_names(getattr(self, "features", None)))

    # -- serialisation: literals only, so exported code can rebuild the spec
    def to_dict(self) -> dict[str, Any]:
        return spec_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    def to_code(self) -> str:
        """Python source that rebuilds this spec, every literal written with repr()."""
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind" and v is not None
        )
        return f"{type(self).__name__}({args})"

    # -- checks that need no model: run before a pipeline is built
    def check(self, columns: Iterable[str] | None = None) -> None:
        """Fail fast: the model file exists, import paths import, features exist."""
        path = getattr(self, "path", None)
        if path is not None:
            check_model_file(path)
        for name in ("preprocess", "postprocess"):
            if getattr(self, name) is not None:
                import_object(getattr(self, name), f"{name} function")
        if columns is not None:
            cols = [str(c) for c in columns]
            wanted = list(self.features or ()) + ([self.key] if self.key else [])
            missing = [c for c in wanted if c not in cols]
            if missing:
                raise missing_columns(missing, cols)

    def load_hint(self) -> str:
        return "check that the file is a model saved for this kind of spec"

    def feature_columns(
        self, batch: pd.DataFrame, model: Any, exclude: Sequence[str] = ()
    ) -> list[str]:
        features = self.features or self.default_features(batch, model, exclude)
        missing = [c for c in features if c not in batch.columns]
        if missing:
            raise missing_columns(missing, list(batch.columns))
        return list(features)

    def default_features(
        self, batch: pd.DataFrame, model: Any, exclude: Sequence[str] = ()
    ) -> list[str]:
        # The key is carried through, never fed to the model (as KeyedModelHandler
        # does); so is a label column, which is there for the metrics.
        numeric = batch.select_dtypes(include="number").columns
        return [str(c) for c in numeric if c != self.key and c not in exclude]

    def infer(
        self,
        base: Any,
        model: Any,
        batch: pd.DataFrame,
        features: list[str],
        inference_args: dict[str, Any] | None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def build_base(self, beam_device: str) -> Any:
        raise NotImplementedError

    def handler(
        self, beam_device: str = "CPU", prefix: str = "", passthrough: bool = True, token: str = ""
    ) -> FrameModelHandler:
        """The Beam ModelHandler for this spec on ``beam_device`` ('CPU' or 'GPU')."""
        check_choice("beam device", beam_device, ("CPU", "GPU"))
        return FrameModelHandler(self, self.build_base(beam_device), beam_device, prefix,
                                 passthrough, token)  # fmt: skip


@dataclass(frozen=True)
class SklearnModel(_Spec):
    """A scikit-learn model (or Pipeline) saved with pickle or joblib.

    >>> SklearnModel(path="penguins.pkl", features=["bill_length_mm"], method="predict_proba")
    ... # doctest: +ELLIPSIS
    SklearnModel(path='penguins.pkl', features=('bill_length_mm',), method='predict_proba', ...)
    """

    kind: ClassVar[str] = "sklearn"
    uses_device: ClassVar[bool] = False
    path: str = ""
    features: Sequence[str] | None = None
    method: str = "predict"
    key: str | None = None
    preprocess: str | None = None
    postprocess: str | None = None
    file_type: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "path", os.fspath(self.path))
        check_choice("method", self.method, SKLEARN_METHODS)
        check_choice("file_type", self.file_type, ("auto", "pickle", "joblib"))

    def build_base(self, beam_device: str) -> Any:
        return sklearn_base(self)

    def load_hint(self) -> str:
        return "save the model with pickle.dump or joblib.dump (file_type='joblib' for joblib)"

    def default_features(
        self, batch: pd.DataFrame, model: Any, exclude: Sequence[str] = ()
    ) -> list[str]:
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return super().default_features(batch, model, exclude)

    def infer(self, base, model, batch, features, inference_args):
        return sklearn_infer(self, base, model, batch, features, inference_args)


@dataclass(frozen=True)
class PytorchModel(_Spec):
    """A PyTorch model: a state dict plus its class, or a TorchScript file.

    ``model_class`` is an import path (``'pkg.mod:Class'``) built with
    ``model_params``; without it, ``path`` is read as TorchScript. ``classes``
    names the outputs: ``prediction`` is then the label of the largest output.

    >>> PytorchModel(path="mlp.pt", model_class="mypkg.nets:MLP", model_params={"width": 64})
    ... # doctest: +ELLIPSIS
    PytorchModel(path='mlp.pt', ...)
    """

    kind: ClassVar[str] = "pytorch"
    path: str = ""
    model_class: str | None = None
    model_params: dict[str, Any] = field(default_factory=dict)
    features: Sequence[str] | None = None
    key: str | None = None
    classes: Sequence[Any] | None = None
    preprocess: str | None = None
    postprocess: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "path", os.fspath(self.path))
        object.__setattr__(self, "model_params", dict(self.model_params or {}))
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes))

    def __hash__(self) -> int:
        return hash(self.to_json())

    def check(self, columns: Iterable[str] | None = None) -> None:
        super().check(columns)
        if self.model_class is not None:
            import_object(self.model_class, "model class")

    def load_hint(self) -> str:
        if self.model_class:
            return (
                f"check that the file is a state dict of {self.model_class} "
                "built with these model_params"
            )
        return "save the model with torch.jit.save, or pass model_class for a state dict"

    def build_base(self, beam_device: str) -> Any:
        return pytorch_base(self, beam_device)

    def infer(self, base, model, batch, features, inference_args):
        return pytorch_infer(self, base, model, batch, features, inference_args)


@dataclass(frozen=True)
class CustomModel(_Spec):
    """Any Beam ModelHandler, by import path: a class, a factory or an instance.

    ``kwargs`` go to the class or factory (and ``device='GPU'|'CPU'`` too when it
    takes a ``device`` parameter). ``input`` says what one batch becomes:
    ``'rows'`` a list of 1-D numpy rows (Beam's numpy handlers), ``'array'`` a
    list holding one 2-D array, ``'frame'`` a list holding the feature DataFrame.
    The handler returns one result per row, or one result for the whole batch.

    >>> CustomModel(handler="mypkg.handlers:make_handler", kwargs={"path": "m.bin"}).kind
    'custom'
    """

    kind: ClassVar[str] = "custom"
    handler_path: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    input: str = "rows"
    features: Sequence[str] | None = None
    key: str | None = None
    preprocess: str | None = None
    postprocess: str | None = None

    def __init__(self, handler: str = "", **options: Any) -> None:
        # `handler` reads best in calls; stored as handler_path (handler() is a method).
        handler = options.pop("handler_path", handler)
        object.__setattr__(self, "handler_path", handler)
        defaults: dict[str, Any] = {"kwargs": {}, "input": "rows", "features": None, "key": None,
                    "preprocess": None, "postprocess": None}  # fmt: skip
        unknown = set(options) - set(defaults)
        if unknown:
            raise BeamMLError.expected(
                f"CustomModel options among {sorted(defaults)}", sorted(unknown)
            )
        for name, default in defaults.items():
            object.__setattr__(self, name, options.get(name, default))
        object.__setattr__(self, "kwargs", dict(self.kwargs or {}))
        self.__post_init__()
        check_choice("input", self.input, CUSTOM_INPUTS)

    def __hash__(self) -> int:
        return hash(self.to_json())

    @property
    def path(self) -> None:  # custom handlers find their own model files
        return None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["handler"] = data.pop("handler_path")
        return data

    def check(self, columns: Iterable[str] | None = None) -> None:
        super().check(columns)
        import_object(self.handler_path, "model handler")

    def load_hint(self) -> str:
        return f"check the model handler {self.handler_path!r} and its kwargs"

    def build_base(self, beam_device: str) -> Any:
        return custom_base(self, beam_device)

    def infer(self, base, model, batch, features, inference_args):
        return custom_infer(self, base, model, batch, features, inference_args)


KINDS = ("sklearn", "pytorch", "torchscript", "custom", "remote", "onnx", "xgboost", "tensorflow")
# kinds whose specs live in beam_ml.inference.frameworks (imported when used)
_MORE_KINDS = ("remote", "onnx", "xgboost", "tensorflow")
ModelSpec = SklearnModel | PytorchModel | CustomModel


def parse_model_spec(text: str, **options: Any) -> ModelSpec:
    """Parse ``'sklearn:PATH'``, ``'pytorch:PATH'``, ``'torchscript:PATH'``,
    ``'custom:pkg.mod:obj'``, ``'remote:URL'``, ``'onnx:PATH'``, ``'xgboost:PATH'``
    or ``'tensorflow:PATH'`` (the magics' and CLI's ``--model``) into a spec.

    >>> parse_model_spec("sklearn:m.pkl", features="a,b").features
    ('a', 'b')
    """
    if isinstance(text, _Spec):
        return text  # type: ignore[return-value]
    kind, sep, rest = str(text).partition(":")
    if not sep or kind not in KINDS or not rest:
        raise BeamMLError.expected(
            "a model like sklearn:PATH, pytorch:PATH, torchscript:PATH, custom:pkg.mod:obj, "
            "remote:URL, onnx:PATH, xgboost:PATH or tensorflow:PATH",
            repr(text),
            "prefix the path with its kind",
        )
    options = {k: v for k, v in options.items() if v is not None}
    if isinstance(options.get("model_params"), str):
        options["model_params"] = json.loads(options["model_params"])
    try:
        if kind in _MORE_KINDS:
            from beam_ml.inference.frameworks import build

            return build(kind, rest, options)  # type: ignore[return-value]
        if kind == "sklearn":
            return SklearnModel(path=rest, **options)
        if kind == "pytorch":
            if not options.get("model_class"):
                raise BeamMLError.expected(
                    "a model class for a state dict",
                    "none",
                    "pass --model-class pkg.mod:Class, or use torchscript:PATH",
                )
            return PytorchModel(path=rest, **options)
        if kind == "torchscript":
            options.pop("model_class", None)
            return PytorchModel(path=rest, **options)
        return CustomModel(rest, **options)
    except TypeError as error:
        raise BeamMLError.expected(
            f"options that a {kind} model takes", one_line(str(error))
        ) from error


def with_columns(model: Any, features: Any = None, key: Any = None) -> ModelSpec:
    """``model`` (a spec or ``'KIND:PATH'``) with ``features`` / ``key`` set where given.

    >>> with_columns("sklearn:m.pkl", features=["a"]).features
    ('a',)
    """
    if isinstance(model, _Spec):
        changes = {k: v for k, v in (("features", features), ("key", key)) if v is not None}
        return replace(model, **changes) if changes else model  # type: ignore[return-value]
    return parse_model_spec(str(model), features=features, key=key)
