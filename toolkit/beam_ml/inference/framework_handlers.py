"""Beam's ONNX, XGBoost and TensorFlow numpy handlers, one whole batch per call.

As for scikit-learn (:mod:`beam_ml.inference.handlers`), one example is the
batch's 2-D feature array, so each framework runs once per batch; loading
(from any file system Beam knows) and the ``PredictionResult`` contract stay
Beam's. Each framework is an optional extra: :func:`require` turns a missing
one into a one-line error that names the extra.

>>> EXTRAS["onnx"]
('onnxruntime', 'onnx')
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.inference.columns import as_numpy, feature_array, inference_columns
from beam_ml.inference.imports import error_line

__all__ = ["BEAM_MODULES", "EXTRAS", "build", "numpy_infer", "require", "xgboost_type"]

# kind -> the modules it imports (the first names the pip package of its extra)
EXTRAS: dict[str, tuple[str, ...]] = {
    "onnx": ("onnxruntime", "onnx"),
    "xgboost": ("xgboost",),
    "tensorflow": ("tensorflow",),
}


# kind -> the Beam module of its handler (it imports the framework and what Beam needs)
BEAM_MODULES = {
    "onnx": "apache_beam.ml.inference.onnx_inference",
    "xgboost": "apache_beam.ml.inference.xgboost_inference",
    "tensorflow": "apache_beam.ml.inference.tensorflow_inference",
}


def require(kind: str) -> None:
    """Fail in one line when the framework of ``kind`` (or what Beam's handler
    imports with it: datatable for XGBoost, tensorflow_hub for TensorFlow) is missing."""
    missing = [m for m in EXTRAS[kind] if importlib.util.find_spec(m) is None]
    fix = f"pip install 'beam-ml-toolkit[{kind}]'"
    if missing:
        raise BeamMLError.expected(
            f"{', '.join(missing)} installed for {kind} models", "not installed", fix
        )
    try:
        importlib.import_module(BEAM_MODULES[kind])
    except ImportError as error:
        raise BeamMLError.expected(
            f"Beam's {kind} model handler to import", error_line(error), fix
        ) from None


# ---------------------------------------------------------------- inference functions
def _onnx_batch(session: Any, batch: Sequence[Any], inference_args: Any = None) -> list[Any]:
    # Every output of the graph (label, probabilities...), not only the first.
    inputs = {session.get_inputs()[0].name: batch[0], **(inference_args or {})}
    return [session.run(None, inputs)]


def _xgboost_batch(batch: Sequence[Any], model: Any, inference_args: Any = None) -> list[Any]:
    import xgboost
    from apache_beam.ml.inference.base import PredictionResult

    args = inference_args or {}
    if isinstance(model, xgboost.Booster):
        output = model.predict(xgboost.DMatrix(batch[0]), **args)
    elif hasattr(model, "predict_proba"):
        output = model.predict_proba(batch[0], **args)
    else:
        output = model.predict(batch[0], **args)
    return [PredictionResult(batch[0], output)]


def _tf_batch(
    model: Any, batch: Sequence[Any], inference_args: Any = None, model_id: Any = None
) -> list[Any]:
    from apache_beam.ml.inference.base import PredictionResult

    output = model(batch[0], training=False, **(inference_args or {}))
    return [PredictionResult(batch[0], output, model_id)]


# ---------------------------------------------------------------- handlers
def build(spec: Any, beam_device: str) -> Any:
    """The Beam handler of an ONNX, XGBoost or TensorFlow spec."""
    require(spec.kind)
    if spec.kind == "onnx":
        from apache_beam.ml.inference.onnx_inference import OnnxModelHandlerNumpy

        providers = ["CPUExecutionProvider"]
        if beam_device == "GPU":
            providers.insert(0, "CUDAExecutionProvider")
        return OnnxModelHandlerNumpy(spec.path, providers=providers, inference_fn=_onnx_batch)
    if spec.kind == "xgboost":
        import xgboost
        from apache_beam.ml.inference.xgboost_inference import XGBoostModelHandlerNumpy

        model_class = {
            "classifier": xgboost.XGBClassifier,
            "regressor": xgboost.XGBRegressor,
            "booster": xgboost.Booster,
        }[xgboost_type(spec)]
        return XGBoostModelHandlerNumpy(model_class, spec.path, inference_fn=_xgboost_batch)
    from apache_beam.ml.inference.tensorflow_inference import ModelType, TFModelHandlerNumpy

    return TFModelHandlerNumpy(
        spec.path, model_type=ModelType.SAVED_MODEL, device=beam_device, inference_fn=_tf_batch
    )


def xgboost_type(spec: Any) -> str:
    """The spec's model_type; for 'auto', what the saved model's objective says."""
    if spec.model_type != "auto":
        return str(spec.model_type)
    if str(spec.path).endswith(".json"):
        import json

        from apache_beam.io.filesystems import FileSystems

        try:
            with FileSystems.open(spec.path) as handle:
                saved = json.loads(handle.read())
            objective = saved["learner"]["objective"]["name"]
        except Exception:  # unreadable here: a classifier, as before 'auto'
            return "classifier"
        return (
            "regressor"
            if str(objective).startswith(("reg:", "count:", "survival:"))
            else ("classifier")
        )
    return "classifier"


@functools.lru_cache(maxsize=16)
def onnx_classes(path: str) -> tuple[Any, ...] | None:
    """The class labels a converted classifier stores in its graph (skl2onnx's
    ``classlabels_*`` attributes), in the order of its probability output."""
    import onnx
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as handle:
        graph = onnx.load(handle).graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.name == "classlabels_strings":
                return tuple(v.decode("utf-8") for v in attribute.strings)
            if attribute.name == "classlabels_int64s":
                return tuple(int(v) for v in attribute.ints)
    return None


def _onnx_dtype(session: Any) -> Any:
    kind = session.get_inputs()[0].type  # e.g. 'tensor(float)'
    return np.float64 if "double" in kind else np.float32


def _onnx_columns(outputs: list[Any], n: int, classes: Any) -> dict[str, Any]:
    """The label output as ``prediction``; a probability output as ``proba_<class>``."""
    first = as_numpy(outputs[0])
    if first.ndim == 2 and first.shape[1] == 1:
        first = first.reshape(n)
    if len(outputs) < 2:
        return inference_columns(first, n, classes)
    proba = outputs[1]
    if isinstance(proba, list) and proba and isinstance(proba[0], dict):  # skl2onnx's zipmap
        names = list(proba[0])
        matrix = np.array([[row[c] for c in names] for row in proba], dtype=np.float64)
    else:
        matrix = as_numpy(proba)
        names = list(classes) if classes is not None else list(range(matrix.shape[1]))
    columns = inference_columns(matrix, n, names, proba=True)
    columns["prediction"] = first  # the model's own label, not a re-derived argmax
    return columns


def numpy_infer(
    spec: Any, base: Any, model: Any, batch: pd.DataFrame, features: list[str], inference_args: Any
) -> dict[str, Any]:
    """One framework call over the batch's feature array -> prediction columns."""
    n = len(batch)
    if spec.kind == "onnx":
        array = feature_array(batch, features, _onnx_dtype(model))
        (result,) = base.run_inference([array], model, inference_args)
        classes = spec.classes if spec.classes is not None else onnx_classes(spec.path)
        return _onnx_columns(list(result.inference), n, classes)
    if spec.kind == "xgboost":
        (result,) = base.run_inference([feature_array(batch, features)], model, inference_args)
        output = as_numpy(result.inference)
        proba = output.ndim == 2 and hasattr(model, "predict_proba")
        return inference_columns(output, n, spec.classes, proba=proba)
    array = feature_array(batch, features, np.float32)
    (result,) = base.run_inference([array], model, inference_args)
    output = as_numpy(result.inference)
    if output.ndim == 2 and output.shape[1] == 1:
        output = output.reshape(n)
    return inference_columns(output, n, spec.classes)
