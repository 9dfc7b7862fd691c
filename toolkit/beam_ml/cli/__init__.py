"""The ``beam-ml`` command line: one module per command."""

from __future__ import annotations

from beam_ml.cli.main import main

__all__ = ["main"]
