"""A step graph (live or from a saved .ipynb) -> a production Beam module; the parity check."""

from __future__ import annotations

from beam_ml.exporting.codegen import ExportResult, export, render_module, requirements
from beam_ml.exporting.notebook_file import notebook_graph, steps_from_notebook
from beam_ml.exporting.parity import ParityReport, StepParity, check

__all__ = [
    "ExportResult",
    "ParityReport",
    "StepParity",
    "check",
    "export",
    "notebook_graph",
    "render_module",
    "requirements",
    "steps_from_notebook",
]
