"""The exploration as data: one class per step kind, the step graph and its outputs.

A notebook records what the user did as a :class:`StepGraph` of steps. Each
kind (read, transform, profile, validate, infer, compare, cascade) is one class
that owns its spec, its Beam subgraph (``apply``), its preview on a sample, the
files it writes, how those are compared with the preview, and its form. The
notebook preview and the exported module both call ``apply``.

>>> g = StepGraph([ReadStep("penguins", "penguins.csv"), ProfileStep("stats", "penguins")])
>>> [s.kind for s in g]
['read', 'profile']
"""

from __future__ import annotations

from beam_ml.errors import DEVICES
from beam_ml.steps.base import (
    KINDS,
    PreviewContext,
    Step,
    StepPreview,
    attach,
    check_step_name,
)
from beam_ml.steps.body import BODY_GLOBALS, compile_body, parse_body
from beam_ml.steps.graph import StepGraph, preview_graph
from beam_ml.steps.infer import CascadeStep, CompareStep, InferStep
from beam_ml.steps.outputs import frame_lines, frame_text, output_layout, write_outputs
from beam_ml.steps.profile import ProfileStep
from beam_ml.steps.read import ReadStep
from beam_ml.steps.transform import TransformStep
from beam_ml.steps.validate import ValidateStep

# step kind -> the files it writes under <output>/<step>/
OUTPUT_LAYOUT = output_layout()

__all__ = [
    "BODY_GLOBALS",
    "DEVICES",
    "KINDS",
    "OUTPUT_LAYOUT",
    "CascadeStep",
    "CompareStep",
    "InferStep",
    "PreviewContext",
    "ProfileStep",
    "ReadStep",
    "Step",
    "StepGraph",
    "StepPreview",
    "TransformStep",
    "ValidateStep",
    "attach",
    "check_step_name",
    "compile_body",
    "frame_lines",
    "frame_text",
    "parse_body",
    "preview_graph",
    "write_outputs",
]
