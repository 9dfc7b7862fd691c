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
import sys
import types
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
    "profile": "profile",
    "Profile": "profile",
    "ProfileDataset": "profile",
    "infer_rules": "validate",
    "validate": "validate",
    "RuleSet": "validate",
    "ValidationReport": "validate",
    "ValidateRows": "validate",
    "Check": "validate",
    "as_reference": "validate",
    "preview_inference": "inference",
    "compare_models": "inference",
    "cascade": "inference",
    "InferencePreview": "inference",
    "ModelComparison": "inference",
    "RunModel": "inference",
    "SklearnModel": "model_specs",
    "PytorchModel": "model_specs",
    "CustomModel": "model_specs",
    "parse_model_spec": "model_specs",
    "resolve_device": "device",
    "Session": "session",
    "export": "export",
}
_SUBMODULES = ("datasets", "sources", "errors", "inference", "device", "model_specs", "steps")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "load_ipython_extension"])


# `profile`, `validate` and `export` name both a function (the public API) and
# the module that defines it. Importing a submodule makes Python set it as an
# attribute of the package, which would hide the function: the package keeps
# the function instead. Reach the modules with `from beam_ml.validate import ...`.
_SHADOWED = frozenset(n for n, module in _EXPORTS.items() if n == module)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"beam_ml.{_EXPORTS[name]}")
        return getattr(module, name)
    if name in _SUBMODULES:
        return importlib.import_module(f"beam_ml.{name}")
    raise AttributeError(f"module 'beam_ml' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext beam_ml``: register the ``%beam_ml`` / ``%%beam_ml`` magics."""
    from beam_ml.magics import load_ipython_extension as _load

    _load(ipython)
