"""Model specs, device resolution, RunModel and the A/B and cascade subgraphs.

The transforms (:class:`InferModel`, :class:`CompareModels`,
:class:`CascadeModels`) are the one graph of each model step: the steps apply
them in exported pipelines, and ``preview_inference`` / ``compare_models`` /
``cascade`` run them on a sample (:func:`run_sample`) and build their results
with ``InferencePreview.from_outputs`` / ``ModelComparison.from_outputs``.
"""

from __future__ import annotations

from beam_ml.inference.cascade import CascadeModels
from beam_ml.inference.compare import CompareModels
from beam_ml.inference.device import (
    DeviceChoice,
    cuda_available,
    resolve_device,
    resolve_step_device,
)
from beam_ml.inference.preview import (
    PREVIEW_BATCH_ROWS,
    cascade,
    compare_models,
    preview_inference,
    run_sample,
)
from beam_ml.inference.results import InferencePreview, ModelComparison, sample_batches
from beam_ml.inference.run_model import InferModel, RunModel
from beam_ml.inference.specs import (
    CustomModel,
    FrameModelHandler,
    PytorchModel,
    SklearnModel,
    check_model_file,
    feature_array,
    import_object,
    inference_columns,
    model_device,
    parse_model_spec,
)

__all__ = [
    "PREVIEW_BATCH_ROWS",
    "CascadeModels",
    "CompareModels",
    "CustomModel",
    "DeviceChoice",
    "FrameModelHandler",
    "InferModel",
    "InferencePreview",
    "ModelComparison",
    "PytorchModel",
    "RunModel",
    "SklearnModel",
    "cascade",
    "check_model_file",
    "compare_models",
    "cuda_available",
    "feature_array",
    "import_object",
    "inference_columns",
    "model_device",
    "parse_model_spec",
    "preview_inference",
    "resolve_device",
    "resolve_step_device",
    "run_sample",
    "sample_batches",
]
