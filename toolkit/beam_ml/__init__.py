"""beam-ml-toolkit: JupyterLab as the front door of Apache Beam for ML work.

Profile a dataset, validate it, preview RunInference on a sample and export the
steps as a production pipeline — from Python, the ``%%beam_ml`` magics or the
``beam-ml`` command line.

>>> import beam_ml as bml
>>> path = bml.datasets.load("penguins")        # doctest: +SKIP
>>> bml.profile(path)                           # doctest: +SKIP

``import beam_ml`` stays light: the public names below are resolved lazily, so
importing the package loads neither Beam's heavy modules, torch, IPython,
ipywidgets nor matplotlib until they are used.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.1.0"


class _BeamImportNoise(logging.Filter):
    """Drop two warnings Beam logs on import when the optional GCP clients are absent.

    They say that Google Cloud Storage and BigQuery clients are not installed,
    which is expected here, and would open every notebook with two red lines.
    """

    NOISE = ("Failed to import GCSFileSystem", "apitools not found")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOISE)


for _name in ("", "apache_beam.io.filesystems"):
    logging.getLogger(_name).addFilter(_BeamImportNoise())

# public name -> the module (inside beam_ml) that defines it
_EXPORTS = {
    "BeamMLError": "errors",
    "Source": "sources",
    "read_batches": "sources",
    "read_dataframe": "sources",
    "head": "sources",
    "sample": "sources",
    "ReadBatches": "sources",
    "profile": "profiling",
    "Profile": "profiling",
    "ProfileDataset": "profiling",
    "infer_rules": "validation",
    "validate": "validation",
    "RuleSet": "validation",
    "ValidationReport": "validation",
    "ValidateRows": "validation",
    "Check": "validation",
    "as_reference": "validation",
    "preview_inference": "inference",
    "compare_models": "inference",
    "cascade": "inference",
    "InferencePreview": "inference",
    "ModelComparison": "inference",
    "RunModel": "inference",
    "SklearnModel": "inference",
    "PytorchModel": "inference",
    "CustomModel": "inference",
    "parse_model_spec": "inference",
    "resolve_device": "inference",
    "Session": "notebook.session",
    "export": "exporting",
}
# public submodule -> where it lives (``bml.device`` and ``bml.model_specs`` are older names)
_SUBMODULES = {
    "datasets": "datasets",
    "errors": "errors",
    "sources": "sources",
    "profiling": "profiling",
    "validation": "validation",
    "inference": "inference",
    "steps": "steps",
    "exporting": "exporting",
    "device": "inference.device",
    "model_specs": "inference.specs",
}

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "load_ipython_extension"])


def __getattr__(name: str) -> Any:
    # Resolved on first use and cached, so `import beam_ml` loads no Beam module.
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"beam_ml.{_EXPORTS[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"beam_ml.{_SUBMODULES[name]}")
    else:
        raise AttributeError(f"module 'beam_ml' has no attribute {name!r}")
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext beam_ml``: register the ``%beam_ml`` / ``%%beam_ml`` magics."""
    from beam_ml.notebook.magics import load_ipython_extension as _load

    _load(ipython)
