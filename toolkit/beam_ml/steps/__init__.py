"""The exploration as data: one class per step kind, the step graph and its outputs."""

from __future__ import annotations

from beam_ml.steps.core import (
    OUTPUT_LAYOUT,
    CompareStep,
    InferStep,
    ProfileStep,
    ReadStep,
    Step,
    StepGraph,
    TransformStep,
    ValidateStep,
    check_step_name,
    compile_body,
    write_outputs,
)
from beam_ml.steps.forms import (
    FORMS,
    Form,
    parse_args,
    parse_form,
    parse_line,
    step_for,
    steps_from_notebook,
)

__all__ = [
    "FORMS",
    "OUTPUT_LAYOUT",
    "CompareStep",
    "Form",
    "InferStep",
    "ProfileStep",
    "ReadStep",
    "Step",
    "StepGraph",
    "TransformStep",
    "ValidateStep",
    "check_step_name",
    "compile_body",
    "parse_args",
    "parse_form",
    "parse_line",
    "step_for",
    "steps_from_notebook",
    "write_outputs",
]
