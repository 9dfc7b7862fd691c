"""A step graph -> a production Beam module; the parity check."""

from __future__ import annotations

from beam_ml.exporting.module import (
    ExportResult,
    ParityReport,
    StepParity,
    check,
    export,
    render_module,
)

__all__ = [
    "ExportResult",
    "ParityReport",
    "StepParity",
    "check",
    "export",
    "render_module",
]
