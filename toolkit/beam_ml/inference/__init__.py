"""Model specs, device resolution, RunModel and the A/B and cascade subgraphs."""

from __future__ import annotations

from beam_ml.inference.device import (
    DeviceChoice,
    cuda_available,
    resolve_device,
)
from beam_ml.inference.preview import (
    InferencePreview,
    ModelComparison,
    RunModel,
    cascade,
    compare_models,
    preview_inference,
)
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
    "CustomModel",
    "DeviceChoice",
    "FrameModelHandler",
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
]
