"""Beam ``ModelHandler``s over pandas batches: scikit-learn, PyTorch / TorchScript, custom.

One element of the PCollection is one pandas batch; :class:`FrameModelHandler`
runs the model once per batch through a handler Beam builds
(``SklearnModelHandlerNumpy``, ``PytorchModelHandlerTensor`` or any custom
one), so loading, devices and the ``PredictionResult`` contract stay Beam's.
The per-kind functions below are what a spec's ``build_base`` and ``infer`` call.

>>> FrameModelHandler.should_skip_batching(None)  # each element already is a batch
True
"""

from __future__ import annotations

import contextlib
import inspect
import json
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from beam_ml.errors import BeamMLError, one_line
from beam_ml.inference.columns import as_numpy, feature_array, inference_columns, shape_error
from beam_ml.inference.imports import error_line, import_object

# Where the handlers count the batches that really ran on each device (see metrics.ran_on).
DEVICE_NAMESPACE = "BeamML_device"

# Beam loads the model once per RunInference step. A failed batch's retry is a
# second use of the same model; this cache lets both share one loaded model
# inside a worker process instead of holding two copies.
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


def model_device(model: Any) -> str | None:
    """'gpu' or 'cpu' for a torch module (where its weights are), else None.

    >>> model_device(object()) is None
    True
    """
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

    ``should_skip_batching`` is True: each element already is a batch, so
    ``RunInference`` does not wrap it in ``BatchElements`` again. The output of a
    batch is one DataFrame with the batch's index and attrs: every input column
    (``passthrough``) or only the key column (keyed specs, as Beam's
    ``KeyedModelHandler`` carries the key), then the prediction columns.

    >>> handler = SklearnModel(path="m.pkl").handler("CPU")  # doctest: +SKIP
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
        # Columns never fed to a model chosen by default (a label rides along for metrics).
        self.exclude: tuple[str, ...] = ()

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
                error_line(error),
                self.spec.load_hint(),
            ) from error

    # -- running
    def run_inference(
        self, batch: pd.DataFrame, model: Any, inference_args: dict[str, Any] | None = None
    ) -> list[pd.DataFrame]:
        self._count_device(model)
        features = self.spec.feature_columns(batch, model, self.exclude)
        columns = self.spec.infer(self.base, model, batch, features, inference_args)
        # One DataFrame constructor per batch: adding columns one by one costs
        # ~5x more, and this runs once per element.
        named = {self.prefix + name: values for name, values in columns.items()}
        if self.passthrough:
            clash = [c for c in named if c in batch.columns]
            if clash:
                raise BeamMLError.expected(
                    "prediction columns that are not already input columns",
                    f"{clash!r} in both",
                    "rename the input column(s) or pass a prefix",
                )
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
        # preview can say so (see metrics.ran_on).
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


# --------------------------------------------------------------------------- scikit-learn


def _sklearn_predict(model: Any, batch: Sequence[Any], inference_args: Any = None) -> list[Any]:
    # One example = one whole feature frame: run the model once for the batch.
    return [model.predict(batch[0], **(inference_args or {}))]


def _sklearn_predict_proba(model: Any, batch: Sequence[Any], inference_args: Any = None) -> Any:
    return [model.predict_proba(batch[0], **(inference_args or {}))]


def sklearn_base(spec: Any) -> Any:
    """Beam's ``SklearnModelHandlerNumpy`` for a :class:`SklearnModel` spec."""
    from apache_beam.ml.inference.sklearn_inference import ModelFileType, SklearnModelHandlerNumpy

    joblib = spec.file_type == "joblib" or (
        spec.file_type == "auto" and spec.path.endswith(".joblib")
    )
    fn = _sklearn_predict_proba if spec.method == "predict_proba" else _sklearn_predict
    return SklearnModelHandlerNumpy(
        model_uri=spec.path,
        model_file_type=ModelFileType.JOBLIB if joblib else ModelFileType.PICKLE,
        inference_fn=fn,
    )


def sklearn_infer(
    spec: Any, base: Any, model: Any, batch: pd.DataFrame, features: list[str], inference_args: Any
) -> dict[str, Any]:
    """One scikit-learn call over the batch's features -> prediction columns."""
    wanted = getattr(model, "n_features_in_", None)
    if wanted is not None and wanted != len(features):
        raise shape_error(features, int(wanted))
    if spec.method == "predict_proba" and not hasattr(model, "predict_proba"):
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
    if spec.method == "predict_proba":
        return inference_columns(result.inference, len(batch), model.classes_, proba=True)
    return inference_columns(result.inference, len(batch))


# --------------------------------------------------------------------------- PyTorch


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


def pytorch_base(spec: Any, beam_device: str) -> Any:
    """Beam's ``PytorchModelHandlerTensor``: a state dict with its class, or TorchScript."""
    from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

    if spec.model_class is None:
        return PytorchModelHandlerTensor(
            torch_script_model_path=spec.path,
            device=beam_device,
            inference_fn=_torch_batch_inference,
        )
    return PytorchModelHandlerTensor(
        state_dict_path=spec.path,
        model_class=import_object(spec.model_class, "model class"),
        model_params=dict(spec.model_params),
        device=beam_device,
        inference_fn=_torch_batch_inference,
    )


def pytorch_infer(
    spec: Any, base: Any, model: Any, batch: pd.DataFrame, features: list[str], inference_args: Any
) -> dict[str, Any]:
    """One forward pass over the batch's features as a float32 tensor."""
    import torch

    width = _first_linear_width(model)
    if width is not None and width != len(features):
        raise shape_error(features, width)
    tensor = torch.from_numpy(feature_array(batch, features, np.float32, writeable=True))
    try:
        (result,) = base.run_inference([tensor], model, inference_args)
    except RuntimeError as error:
        text = str(error)
        if "shape" in text or "size mismatch" in text or "must match the size" in text:
            raise shape_error(features, width, one_line(text, 120)) from error
        raise
    return inference_columns(result.inference, len(batch), spec.classes)


# --------------------------------------------------------------------------- custom


def custom_base(spec: Any, beam_device: str) -> Any:
    """The custom ModelHandler: an instance, or a class / factory built with ``kwargs``."""
    obj = import_object(spec.handler_path, "model handler")
    if isinstance(obj, ModelHandler):
        return obj
    kwargs = dict(spec.kwargs)
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
            f"{spec.handler_path!r} to build a ModelHandler from kwargs {sorted(kwargs)}",
            error_line(error),
            "fix kwargs={...}",
        ) from error
    if not isinstance(handler, ModelHandler):
        raise BeamMLError.expected(
            "a Beam ModelHandler", type(handler).__name__, "return a ModelHandler from it"
        )
    return handler


def custom_infer(
    spec: Any, base: Any, model: Any, batch: pd.DataFrame, features: list[str], inference_args: Any
) -> dict[str, Any]:
    """The batch as rows, one array or one frame (``spec.input``) through the handler."""
    if spec.input == "frame":
        examples: list[Any] = [batch[features]]
    elif spec.input == "array":
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
        values = [as_numpy(v) for v in values]
    return inference_columns(np.asarray(values) if values else values, n)
