"""Model specs: small frozen values that build Beam ``ModelHandler``s.

A spec names a model (a file, an import path) and how to feed it (feature
columns, a key column, pre/post-processing functions by import path). It holds
literals only, so generated code rebuilds it from keyword arguments::

    SklearnModel(path='model.pkl', features=['bill_length_mm', 'bill_depth_mm'])

``spec.handler(beam_device)`` builds the handler that :class:`beam_ml.inference.preview.RunModel`
hands to Beam's ``RunInference``. One element of that PCollection is one pandas
batch of rows, and the handler runs the model once per batch (it does not batch
again): the same handler is used by the notebook preview and by an exported
pipeline.

>>> SklearnModel(path="m.pkl", features=["a", "b"]).to_dict()["kind"]
'sklearn'
>>> parse_model_spec("torchscript:model.pt").kind
'pytorch'
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, one_line
from beam_ml.literals import spec_dict

try:  # Beam is an engine dependency; guard only so the docs build without it
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult
except ImportError:  # pragma: no cover
    ModelHandler = object  # type: ignore[misc,assignment]
    PredictionResult = None  # type: ignore[misc,assignment]

SKLEARN_METHODS = ("predict", "predict_proba")
CUSTOM_INPUTS = ("rows", "array", "frame")


# --------------------------------------------------------------------------- helpers


def import_object(path: str, what: str = "object") -> Any:
    """Import ``'pkg.mod:name'`` (or ``'pkg.mod.name'``) and return the object.

    >>> import_object("json:dumps") is json.dumps
    True
    """
    if not isinstance(path, str) or not path.strip():
        raise BeamMLError.expected(f"a {what} import path like 'pkg.module:Name'", repr(path))
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise BeamMLError.expected(f"a {what} import path like 'pkg.module:Name'", repr(path))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BeamMLError.expected(
            f"an importable {what} {path!r}",
            f"{type(error).__name__}: {one_line(str(error), 120)}",
            "check the module name and that its folder is on sys.path (pip install it)",
        ) from error
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BeamMLError.expected(
                f"an importable {what} {path!r}",
                f"module {module_name!r} has no attribute {part!r}",
                "check the name after the colon",
            )
        obj = getattr(obj, part)
    return obj


def check_model_file(path: str) -> None:
    """One clear error if a model file does not exist (local or remote paths)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        exists = FileSystems.exists(path)
    except Exception:  # an unknown scheme: let the loader report it
        exists = os.path.exists(path)
    if not exists:
        raise BeamMLError.expected(
            "an existing model file",
            f"{path!r}, which does not exist",
            "check the path (relative paths are read from the current folder)",
        )


def _tuple(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


def _error_line(error: BaseException) -> str:
    return one_line(f"{type(error).__name__}: {error}", 200)


# Beam loads the model once per RunInference step. A preview's per-row retry is a
# second RunInference over the same model; this cache lets both steps share one
# loaded model inside a worker process instead of holding two copies.
_LOADED: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_PINNED: dict[str, Any] = {}  # for models that cannot be weak-referenced


def _load_once(token: str, load: Callable[[], Any]) -> Any:
    model = _LOADED.get(token) or _PINNED.get(token)
    if model is not None:
        return model
    model = load()
    try:
        _LOADED[token] = model
    except TypeError:
        if len(_PINNED) >= 4:  # a notebook makes many previews: keep only recent models
            _PINNED.pop(next(iter(_PINNED)))
        _PINNED[token] = model
    return model


# --------------------------------------------------------------------------- output


def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def inference_columns(
    values: Any, n_rows: int, classes: Sequence[Any] | None = None, proba: bool = False
) -> dict[str, Any]:
    """Flatten a batch's inference (one entry per row) into named columns.

    A 1-D result is ``prediction``; a 2-D one is ``proba_<class>`` (predict_proba)
    or ``output_<i>`` plus ``prediction`` = the argmax (mapped to ``classes``).
    A list of dicts becomes one column per key.
    """
    if isinstance(values, list) and values and isinstance(values[0], dict):
        frame = pd.DataFrame(values)
        return {str(c): frame[c].to_numpy() for c in frame.columns}
    array = _as_numpy(values)
    if array.ndim == 0 or array.shape[0] != n_rows:
        raise BeamMLError.expected(
            f"one inference per input row ({n_rows})",
            f"an output of shape {array.shape}",
            "make the model return one result per row of the batch",
        )
    if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1 and not proba):
        return {"prediction": array.reshape(n_rows)}
    if array.ndim > 2:
        array = array.reshape(n_rows, -1)
    labels = list(classes) if classes is not None else list(range(array.shape[1]))
    if len(labels) != array.shape[1]:
        raise BeamMLError.expected(
            f"{len(labels)} classes", f"{array.shape[1]} outputs per row", "fix classes="
        )
    columns: dict[str, Any] = {}
    stem = "proba" if proba else "output"
    for i, label in enumerate(labels):
        columns[f"{stem}_{label}"] = array[:, i]
    best = array.argmax(axis=1)
    if classes is None:
        columns["prediction"] = best  # the index of the largest output
    else:
        lookup = np.asarray(labels)
        columns["prediction"] = (
            lookup[best] if lookup.dtype.kind in "biuf" else lookup.astype(object)[best]
        )
    return columns


# --------------------------------------------------------------------------- the handler


DEVICE_NAMESPACE = "BeamML_device"


def model_device(model: Any) -> str | None:
    """'gpu' or 'cpu' for a torch module (where its weights are), else None."""
    parameters = getattr(model, "parameters", None)
    if parameters is None or not callable(parameters):
        return None
    try:
        first = next(iter(parameters()))
    except (StopIteration, TypeError):
        return None
    kind = getattr(getattr(first, "device", None), "type", None)
    return None if kind is None else ("gpu" if kind == "cuda" else "cpu")


class FrameModelHandler(ModelHandler):
    """A Beam ModelHandler whose example is one pandas batch of rows.

    It wraps a framework handler built by Beam (``SklearnModelHandlerNumpy``,
    ``PytorchModelHandlerTensor``, or a custom one) — loading, devices and the
    ``PredictionResult`` contract stay Beam's — and calls it once per batch.
    ``should_skip_batching`` is True: each element already is a batch, so
    ``RunInference`` does not wrap it in ``BatchElements`` again. The output of a
    batch is one DataFrame with the batch's index: the key column (keyed specs)
    or every input column (``passthrough``), then the prediction columns.
    """

    def __init__(
        self,
        spec: Any,
        base: Any,
        beam_device: str,
        prefix: str = "",
        passthrough: bool = True,
        token: str = "",
    ) -> None:
        super().__init__()
        self.spec = spec
        self.base = base
        self.device = beam_device  # exactly 'GPU' or 'CPU', as Beam needs
        self.prefix = prefix
        self.passthrough = passthrough
        self.token = token or json.dumps(spec.to_dict(), sort_keys=True) + beam_device

    # -- loading
    def load_model(self) -> Any:
        return _load_once(self.token, self._load)

    def _load(self) -> Any:
        try:
            return self.base.load_model()
        except BeamMLError:
            raise
        except Exception as error:
            raise BeamMLError.expected(
                f"a model that loads from {self.spec.path!r}",
                _error_line(error),
                self.spec.load_hint(),
            ) from error

    # -- running
    def run_inference(
        self, batch: pd.DataFrame, model: Any, inference_args: dict[str, Any] | None = None
    ) -> list[pd.DataFrame]:
        self._count_device(model)
        features = self.spec.feature_columns(batch, model)
        columns = self.spec.infer(self.base, model, batch, features, inference_args)
        # One DataFrame constructor per batch: adding columns one by one costs
        # ~5x more, and this runs once per element.
        named = {self.prefix + name: values for name, values in columns.items()}
        if self.passthrough:
            out = pd.concat([batch, pd.DataFrame(named, index=batch.index)], axis=1, copy=False)
        else:
            if self.spec.key is not None:
                named = {self.spec.key: batch[self.spec.key].to_numpy(), **named}
            out = pd.DataFrame(named, index=batch.index)
        out.attrs = dict(batch.attrs)
        return [out]

    def _count_device(self, model: Any) -> None:
        # Beam 2.77 moves a model from 'GPU' to CPU with only a log line when
        # CUDA is unusable on the worker; count where batches really ran so the
        # preview can say so (see ran_on()).
        if not hasattr(self, "_device_counter"):
            from apache_beam.metrics.metric import Metrics

            where = model_device(model) or ("gpu" if self.device == "GPU" else "cpu")
            if not self.spec.uses_device:
                where = "cpu"
            self._device_counter = Metrics.counter(DEVICE_NAMESPACE, f"batches_on_{where}")
        self._device_counter.inc()

    def get_num_bytes(self, batch: pd.DataFrame) -> int:
        # Fixed-width size from the dtypes: memory_usage() costs ~6x more per batch.
        return len(batch) * sum(int(d.itemsize) for d in batch.dtypes)

    def get_metrics_namespace(self) -> str:
        return f"BeamML_{self.spec.kind}"

    def should_skip_batching(self) -> bool:
        return True

    def batch_elements_kwargs(self) -> dict[str, Any]:
        return {"max_batch_size": 1}  # only used if someone turns batching back on

    def share_model_across_processes(self) -> bool:
        return bool(getattr(self.base, "share_model_across_processes", lambda: False)())

    def model_copies(self) -> int:
        return int(getattr(self.base, "model_copies", lambda: 1)())


_INDEXERS: dict[tuple[tuple[Any, ...], tuple[str, ...]], np.ndarray] = {}


def feature_array(
    batch: pd.DataFrame, features: Sequence[str], dtype: Any = None, writeable: bool = False
) -> np.ndarray:
    """The feature columns as one C-ordered 2-D array (5-15x cheaper than batch[features]).

    ``writeable`` copies a read-only view of the frame (torch wants to own its input).
    """
    blocks: Sequence[Any] = getattr(getattr(batch, "_mgr", None), "blocks", ())
    if len(blocks) == 1 and blocks[0].dtype.kind in "biuf":
        # One numeric block (what a reader of numeric files yields): to_numpy() is
        # a view, and taking the feature columns from it is one numpy call.
        key = (tuple(batch.columns), tuple(features))
        indexer = _INDEXERS.get(key)
        if indexer is None:
            indexer = _INDEXERS[key] = batch.columns.get_indexer(list(features))
            if len(_INDEXERS) > 256:
                _INDEXERS.clear()
        whole = batch.to_numpy()
        if len(indexer) == whole.shape[1] and (indexer == np.arange(len(indexer))).all():
            array = whole  # every column, in order: one copy below, not two
        else:
            array = whole[:, indexer]
    else:
        array = np.column_stack([batch[c].to_numpy() for c in features])
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    array = np.ascontiguousarray(array)
    return array.copy() if writeable and not array.flags.writeable else array


def _shape_error(features: Sequence[str], wanted: int | None, got: Any, detail: str = "") -> Any:
    want = f"{wanted} input features" if wanted is not None else "input of the model's shape"
    got_text = f"{len(features)} features {list(features)!r}"
    if detail:
        got_text += f" ({detail})"
    return BeamMLError.expected(
        want + " (wrong input shape)",
        got_text,
        "pass the feature columns the model was trained on, in order (features=[...])",
    )


def _missing_columns(missing: list[str], batch: pd.DataFrame) -> BeamMLError:
    return BeamMLError.expected(
        f"feature columns {missing!r} in the data",
        f"columns {[str(c) for c in batch.columns][:20]!r}",
        "fix features=[...] or the data (names are case-sensitive)",
    )


# --------------------------------------------------------------------------- specs


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
        object.__setattr__(self, "features", _tuple(getattr(self, "features", None)))

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
                raise _missing_columns(missing, pd.DataFrame(columns=cols))

    def load_hint(self) -> str:
        return "check that the file is a model saved for this kind of spec"

    def feature_columns(self, batch: pd.DataFrame, model: Any) -> list[str]:
        features = self.features or self.default_features(batch, model)
        missing = [c for c in features if c not in batch.columns]
        if missing:
            raise _missing_columns(missing, batch)
        return list(features)

    def default_features(self, batch: pd.DataFrame, model: Any) -> list[str]:
        numeric = batch.select_dtypes(include="number").columns
        return [str(c) for c in numeric if c != self.key]

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

    def transform(self, device: str = "CPU", **kwargs: Any) -> Any:
        """The Beam PTransform that runs this model over pandas batches (see RunModel)."""
        from beam_ml.inference.preview import RunModel

        return RunModel(self, device=device, **kwargs)  # type: ignore[arg-type]


def _sklearn_predict(model: Any, batch: Sequence[Any], inference_args: Any = None) -> list[Any]:
    # One example = one whole feature frame: run the model once for the batch.
    return [model.predict(batch[0], **(inference_args or {}))]


def _sklearn_predict_proba(model: Any, batch: Sequence[Any], inference_args: Any = None) -> Any:
    return [model.predict_proba(batch[0], **(inference_args or {}))]


def _stack_passthrough(model: Any, batch: Sequence[Any], inference_args: Any = None) -> Any:
    return batch  # unused: keeps Beam's numpy.stack out of our per-batch path


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
        from apache_beam.ml.inference.sklearn_inference import (
            ModelFileType,
            SklearnModelHandlerNumpy,
        )

        joblib = self.file_type == "joblib" or (
            self.file_type == "auto" and self.path.endswith(".joblib")
        )
        fn = _sklearn_predict_proba if self.method == "predict_proba" else _sklearn_predict
        return SklearnModelHandlerNumpy(
            model_uri=self.path,
            model_file_type=ModelFileType.JOBLIB if joblib else ModelFileType.PICKLE,
            inference_fn=fn,
        )

    def load_hint(self) -> str:
        return "save the model with pickle.dump or joblib.dump (file_type='joblib' for joblib)"

    def default_features(self, batch: pd.DataFrame, model: Any) -> list[str]:
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return super().default_features(batch, model)

    def infer(self, base, model, batch, features, inference_args):
        wanted = getattr(model, "n_features_in_", None)
        if wanted is not None and wanted != len(features):
            raise _shape_error(features, int(wanted), None)
        if self.method == "predict_proba" and not hasattr(model, "predict_proba"):
            raise BeamMLError.expected(
                "a model with predict_proba", type(model).__name__, "use method='predict'"
            )
        frame: Any
        if getattr(model, "feature_names_in_", None) is None:
            # Fitted on an array: a plain array skips sklearn's per-call DataFrame
            # checks and its "X has feature names" warning (5x faster per batch).
            frame = feature_array(batch, features)
        else:
            frame = batch[features]
        # Beam's handler calls our inference_fn and wraps the result in PredictionResults.
        (result,) = base.run_inference([frame], model, inference_args)
        if self.method == "predict_proba":
            return inference_columns(result.inference, len(batch), model.classes_, proba=True)
        return inference_columns(result.inference, len(batch))


def _torch_batch_inference(
    batch: Sequence[Any], model: Any, device: Any, inference_args: Any, model_id: Any = None
) -> list[Any]:
    """Beam PyTorch ``inference_fn``: one example is a whole 2-D batch tensor."""
    import torch

    with torch.no_grad():
        tensor = batch[0]
        if tensor.device != device:
            tensor = tensor.to(device)
        output = model(tensor, **(inference_args or {}))
    return [PredictionResult(batch[0], output, model_id)]


_WIDTHS: weakref.WeakKeyDictionary[Any, int | None] = weakref.WeakKeyDictionary()


def _first_linear_width(model: Any) -> int | None:
    """in_features of the model's first Linear layer (cached per model), if any."""
    try:
        return _WIDTHS[model]
    except (KeyError, TypeError):
        pass
    width = _find_linear_width(model)
    with contextlib.suppress(TypeError):  # not weak-referenceable: just don't cache
        _WIDTHS[model] = width
    return width


def _find_linear_width(model: Any) -> int | None:
    try:
        import torch

        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                return int(module.in_features)
            if isinstance(module, torch.nn.Conv1d | torch.nn.Conv2d | torch.nn.Embedding):
                return None
    except Exception:  # a TorchScript module may not expose its submodules' types
        return None
    return None


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
        from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

        if self.model_class is None:
            return PytorchModelHandlerTensor(
                torch_script_model_path=self.path,
                device=beam_device,
                inference_fn=_torch_batch_inference,
            )
        return PytorchModelHandlerTensor(
            state_dict_path=self.path,
            model_class=import_object(self.model_class, "model class"),
            model_params=dict(self.model_params),
            device=beam_device,
            inference_fn=_torch_batch_inference,
        )

    def infer(self, base, model, batch, features, inference_args):
        import torch

        width = _first_linear_width(model)
        if width is not None and width != len(features):
            raise _shape_error(features, width, None)
        tensor = torch.from_numpy(feature_array(batch, features, np.float32, writeable=True))
        try:
            (result,) = base.run_inference([tensor], model, inference_args)
        except RuntimeError as error:
            text = str(error)
            if "shape" in text or "size mismatch" in text or "must match the size" in text:
                raise _shape_error(features, width, None, one_line(text, 120)) from error
            raise
        return inference_columns(result.inference, len(batch), self.classes)


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
        obj = import_object(self.handler_path, "model handler")
        if isinstance(obj, ModelHandler):
            return obj
        kwargs = dict(self.kwargs)
        try:
            takes_device = "device" in inspect.signature(obj).parameters
        except (TypeError, ValueError):
            takes_device = False
        if takes_device and "device" not in kwargs:
            kwargs["device"] = beam_device
        try:
            handler = obj(**kwargs)
        except Exception as error:
            raise BeamMLError.expected(
                f"{self.handler_path!r} to build a ModelHandler from kwargs {sorted(kwargs)}",
                _error_line(error),
                "fix kwargs={...}",
            ) from error
        if not isinstance(handler, ModelHandler):
            raise BeamMLError.expected(
                "a Beam ModelHandler", type(handler).__name__, "return a ModelHandler from it"
            )
        return handler

    def infer(self, base, model, batch, features, inference_args):
        if self.input == "frame":
            examples: list[Any] = [batch[features]]
        elif self.input == "array":
            examples = [feature_array(batch, features)]
        else:
            examples = list(feature_array(batch, features))
        results = list(base.run_inference(examples, model, inference_args))
        values = [r.inference if hasattr(r, "inference") else r for r in results]
        n = len(batch)
        if len(values) == 1 and n != 1:
            return inference_columns(values[0], n)
        if values and isinstance(values[0], dict):
            return inference_columns(values, n)
        if values and hasattr(values[0], "detach"):
            values = [_as_numpy(v) for v in values]
        return inference_columns(np.asarray(values) if values else values, n)


KINDS = ("sklearn", "pytorch", "torchscript", "custom")
ModelSpec = SklearnModel | PytorchModel | CustomModel


def parse_model_spec(text: str, **options: Any) -> ModelSpec:
    """Parse ``'sklearn:PATH'``, ``'pytorch:PATH'``, ``'torchscript:PATH'`` or
    ``'custom:pkg.mod:obj'`` (the magics' and CLI's ``--model``) into a spec.

    >>> parse_model_spec("sklearn:m.pkl", features="a,b").features
    ('a', 'b')
    """
    if isinstance(text, SklearnModel | PytorchModel | CustomModel):
        return text
    kind, sep, rest = str(text).partition(":")
    if not sep or kind not in KINDS or not rest:
        raise BeamMLError.expected(
            "a model like sklearn:PATH, pytorch:PATH, torchscript:PATH or custom:pkg.mod:obj",
            repr(text),
            "prefix the path with its kind",
        )
    options = {k: v for k, v in options.items() if v is not None}
    if isinstance(options.get("model_params"), str):
        options["model_params"] = json.loads(options["model_params"])
    try:
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
