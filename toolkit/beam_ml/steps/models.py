"""What the model steps (infer, compare, cascade) share: model options, device, hints, forms.

A model step names its models as ``KIND:PATH`` strings; the keyword-only
fields of :class:`ModelStep` (features, key, device, the model options such as
``model_class``) apply to each of them, as ``--features``, ``--model-class``...
do in the ``%beam_ml`` form and on the CLI.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from beam_ml.errors import DEVICES, BeamMLError, check_choice
from beam_ml.steps.base import (
    PreviewContext,
    Step,
    StepPreview,
    check_step_name,
    check_str,
    tuple_of_str,
)
from beam_ml.steps.forms_common import positive_int

DEFAULT_ACCELERATOR = "type:nvidia-tesla-t4;count:1;install-nvidia-driver"
# model options a step passes to every model it names (see parse_model_spec)
MODEL_OPTIONS = ("method", "model_class", "model_params", "classes", "preprocess", "postprocess")


@dataclass(frozen=True, kw_only=True)
class ModelStep(Step):
    """Base of the steps that run models; its fields are keyword-only."""

    features: tuple[str, ...] | None = None
    key: str | None = None
    device: str = "auto"
    accelerator: str | None = None
    method: str | None = None
    model_class: str | None = None
    model_params: str | None = None  # JSON text: a step holds literals only
    classes: tuple[str, ...] | None = None
    preprocess: str | None = None
    postprocess: str | None = None
    # the column of true values ('COL', or 'a=COL,b=COL'): metrics.json and the preview's metrics
    label: str | None = None
    task: str = "auto"
    uses_device: ClassVar[bool] = True
    files: ClassVar[tuple[str, ...]] = ("predictions-*.jsonl", "errors-*.jsonl")
    view: ClassVar[str] = "beam_ml.notebook.widgets:InferenceView"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(getattr(self, "input", ""))
        object.__setattr__(self, "features", tuple_of_str("features", self.features))
        object.__setattr__(self, "classes", tuple_of_str("classes", self.classes))
        for name in ("key", "accelerator", "method", "model_class", "preprocess", "postprocess",
                     "label"):  # fmt: skip
            check_str(name, getattr(self, name), optional=True)
        check_choice("task", self.task, ("auto", "classification", "regression"))
        if isinstance(self.model_params, dict):
            object.__setattr__(self, "model_params", json.dumps(self.model_params))
        if self.model_params is not None:
            try:
                json.loads(self.model_params)
            except (TypeError, ValueError):
                raise BeamMLError.expected(
                    "model_params as a JSON object",
                    repr(self.model_params),
                    "e.g. '{\"width\": 64}'",
                ) from None
        device = check_choice("device", str(self.device).lower(), DEVICES)
        object.__setattr__(self, "device", device)
        self.specs()  # a malformed model spec fails when the step is made

    def inputs(self) -> tuple[str, ...]:
        return (getattr(self, "input", ""),)

    def model_paths(self) -> tuple[str, ...]:
        """The ``KIND:PATH`` of each model, in order (a, b, ...)."""
        raise NotImplementedError

    def spec(self, model: str, *, with_key: bool = True) -> Any:
        """The model spec of ``model`` with this step's options."""
        from beam_ml.inference import parse_model_spec

        options = {name: getattr(self, name) for name in MODEL_OPTIONS}
        if options["classes"] is not None:
            options["classes"] = list(options["classes"])
        key = self.key if with_key else None
        return parse_model_spec(model, features=self.features, key=key, **options)

    def specs(self) -> list[Any]:
        return [self.spec(m) for m in self.model_paths()]

    def resource_hint(self) -> str | None:
        """The accelerator hint for runners that honour it.

        Only on the GPU, and only for models that can use one (scikit-learn runs on cpu).
        """
        if self.device != "gpu" or not any(getattr(s, "uses_device", True) for s in self.specs()):
            return None
        return self.accelerator or DEFAULT_ACCELERATOR

    def beam_device(self) -> str:
        """'CPU' or 'GPU' for Beam. An explicit 'gpu' is kept as is: the workers
        (not the machine that builds the pipeline) have the GPU, and Beam's
        handler falls back to CPU there if it has none."""
        from beam_ml.inference import resolve_device

        return "GPU" if self.device == "gpu" else str(resolve_device(self.device).beam_device)

    def requirements(self) -> set[str]:
        kinds = {s.kind for s in self.specs()}
        needs = {"scikit-learn"} if "sklearn" in kinds else set()
        # what Beam's handler of each kind imports (see inference.framework_handlers)
        extra = {"onnx": {"onnxruntime", "onnx"}, "xgboost": {"xgboost", "datatable"},
                 "tensorflow": {"tensorflow", "tensorflow_hub"}}  # fmt: skip
        for kind in kinds & set(extra):
            needs |= extra[kind]
        return needs | ({"torch"} if kinds & {"pytorch", "torchscript"} else set())

    def outputs(self, result: Any) -> dict[str, Any]:
        out = {"predictions": result["predictions"], "errors": result["errors"]}
        if "metrics" in result:  # with a label: one evaluation per window
            out["metrics.json"] = result["metrics"]
        return out

    def label_args(self) -> dict[str, Any]:
        """What the inference transforms take to evaluate against the label."""
        return {"label": self.label, "task": self.task} if self.label else {}

    # ------------------------------------------------------------------ preview
    def preview(self, inputs: dict[str, StepPreview], context: PreviewContext) -> StepPreview:
        """Its own subgraph on the sample, on the device the context's probe resolves.

        'auto' becomes what the probe says (scikit-learn: always cpu), the step's
        graph runs on DirectRunner, and the result says which device really ran.
        """
        from beam_ml.inference import resolve_step_device

        frame = inputs[self.inputs()[0]].rows
        if frame is None:
            raise BeamMLError.expected(
                f"a table as the input of {self.name!r}",
                f"a {type(inputs[self.inputs()[0]].result).__name__}",
                "run models on a read, transform or validate step",
            )
        self.check_specs(frame)  # a missing model file or feature column: one line, now
        self.check_labels(frame)
        choice = resolve_step_device(self.device, self.specs(), probe=context.device_probe)
        pinned = replace(self, device=choice.device)
        finished: list[Any] = []
        start = time.perf_counter()
        outputs = context.run(pinned, inputs, on_result=finished.append)
        result = self.result_from(
            frame,
            outputs,
            choice,
            sample=len(frame),
            metrics=finished[0].metrics(),
            seconds=time.perf_counter() - start,
        )
        return StepPreview(result, rows=result.predictions, extra={"errors": result.errors})

    def check_specs(self, frame: Any) -> None:
        """Each model's file exists and the frame has its feature columns."""
        for spec in self.specs():
            spec.check(frame.columns)

    def check_labels(self, frame: Any) -> None:
        """The label columns are in the frame and are no model's features."""
        from beam_ml.inference.preview import check_labels

        names = [chr(ord("a") + i) for i in range(len(self.model_paths()))]
        specs = dict(zip(names, self.specs(), strict=True))
        labels = self.labels(names)
        if len(names) == 1:
            labels = {"model": labels["a"]} if "a" in labels else {}
            specs = {"model": specs["a"]}
        check_labels(labels, specs, frame.columns)

    def labels(self, names: list[str]) -> dict[str, str]:
        """Model name -> its label column (``label`` names every model's, or each one's)."""
        from beam_ml.inference.evaluate import parse_labels

        return parse_labels(self.label, names)

    def result_from(self, frame: Any, outputs: dict[str, Any], choice: Any, **run: Any) -> Any:
        """The kind's preview result from its collected outputs."""
        raise NotImplementedError

    def parity(self, folder: Path, preview: StepPreview) -> tuple[bool, str]:
        from beam_ml.steps.parity import compare_rows, read_lines

        frame = preview.rows
        drop = ("model",) if frame is not None and "model" in frame.columns else ()
        return compare_rows(read_lines(folder, "predictions"), frame, drop)

    # ------------------------------------------------------------------ export
    def module_args(self, option: Any) -> dict[str, str | None]:
        args: dict[str, str | None] = self.model_args(option)
        args["device"] = option("device", self.device, f"device of step {self.name}", DEVICES)
        args["accelerator"] = option(
            "accelerator",
            self.resource_hint() or self.accelerator,
            f"accelerator resource hint of step {self.name} (used when its device is gpu)",
        )
        return args

    def model_args(self, option: Any) -> dict[str, str | None]:
        raise NotImplementedError

    # ------------------------------------------------------------------ form
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", action="append", required=True, metavar="KIND:PATH")
        parser.add_argument("--features", metavar="A,B")
        parser.add_argument("--key")
        parser.add_argument("--device", choices=DEVICES)
        parser.add_argument("--sample", type=positive_int)
        parser.add_argument("--method", choices=("predict", "predict_proba"))
        parser.add_argument("--model-class", dest="model_class", metavar="PKG.MOD:CLASS")
        parser.add_argument("--model-params", dest="model_params", metavar="JSON")
        parser.add_argument("--classes", metavar="A,B")
        parser.add_argument("--preprocess", metavar="PKG.MOD:FN")
        parser.add_argument("--postprocess", metavar="PKG.MOD:FN")
        parser.add_argument("--label", metavar="COL", help="true values: metrics.json, metrics")
        parser.add_argument("--task", choices=("auto", "classification", "regression"))

    @staticmethod
    def common_args(options: argparse.Namespace, default_device: str) -> dict[str, Any]:
        """The keyword fields of a model step from a parsed form."""
        out = {name: getattr(options, name) for name in MODEL_OPTIONS}
        out.update(features=options.features, key=options.key, label=options.label)
        out["task"] = options.task or "auto"
        out["device"] = options.device or default_device
        return out


def check_models(models: Any, at_least: int, at_most: int, fix: str) -> tuple[str, ...]:
    """``models`` as a tuple of KIND:PATH strings, between the two counts."""
    if isinstance(models, str) or not isinstance(models, Iterable):
        raise BeamMLError.expected("models as a tuple of KIND:PATH strings", repr(models))
    models = tuple(models)
    if not at_least <= len(models) <= at_most:
        raise BeamMLError.expected(f"between {at_least} and {at_most} models", len(models), fix)
    return models
