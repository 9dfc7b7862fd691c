"""Preview Beam's real RunInference on a sample: one model, A/B, or a cascade.

>>> import beam_ml as bml
>>> spec = bml.inference.SklearnModel(path="penguins.pkl", features=["bill_length_mm"])
>>> preview = bml.preview_inference("penguins.csv", spec, sample=1000)   # doctest: +SKIP
>>> preview.device, preview.device_reason                                # doctest: +SKIP
('cpu', 'asked auto; CUDA not available; ran on cpu')

The sample is read upstream (``sources.head`` / ``sources.sample``: never the
whole dataset), split into pandas batches (:func:`sample_batches`), and run on
DirectRunner through exactly the transform the matching step applies in an
exported pipeline — :class:`InferModel`, :class:`CompareModels` or
:class:`CascadeModels` — then shown as an :class:`InferencePreview` /
:class:`ModelComparison` built by its ``from_outputs``.
"""

from __future__ import annotations

import time
from typing import Any

import apache_beam as beam
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, check_positive_int
from beam_ml.inference.cascade import CascadeModels
from beam_ml.inference.compare import CompareModels, check_split
from beam_ml.inference.device import Probe, resolve_device, resolve_step_device
from beam_ml.inference.evaluate import parse_labels
from beam_ml.inference.metrics import beam_metrics
from beam_ml.inference.results import InferencePreview, ModelComparison, sample_batches
from beam_ml.inference.run_model import InferModel, RunModel
from beam_ml.inference.specs import (
    CustomModel,
    FrameModelHandler,
    ModelSpec,
    PytorchModel,
    SklearnModel,
    parse_model_spec,
    with_columns,
)

# RunModel, the specs and beam_metrics are also importable from here, as before the split.
__all__ = [
    "PREVIEW_BATCH_ROWS",
    "CustomModel",
    "InferencePreview",
    "ModelComparison",
    "PytorchModel",
    "RunModel",
    "SklearnModel",
    "beam_metrics",
    "cascade",
    "check_labels",
    "compare_models",
    "handler_for",
    "parse_model_spec",
    "preview_inference",
    "read_sample",
    "run_sample",
]

# Rows per RunInference element. Big enough that Beam's per-element cost is
# small next to the model's work, small enough for a GPU's memory.
PREVIEW_BATCH_ROWS = 8192


def read_sample(source: Any, sample: int, how: str = "head", seed: int = 0) -> pd.DataFrame:
    """``sample`` rows of ``source``: its first rows (``how='head'``) or a uniform sample.

    >>> read_sample(pd.DataFrame({"a": range(10)}), 3).index.tolist()
    [0, 1, 2]
    """
    from beam_ml import sources

    check_positive_int("sample", sample)
    check_choice("how", how, ("head", "random"))
    if how == "head":
        return sources.head(source, sample)
    return sources.sample(source, sample, seed=seed)


def run_sample(
    frame: pd.DataFrame,
    transform: beam.PTransform,
    batch_rows: int = PREVIEW_BATCH_ROWS,
    options: Any = None,
    label: str | None = None,
) -> tuple[dict[str, list[Any]], Any, float]:
    """Run ``transform`` over ``sample_batches(frame)`` on DirectRunner (or ``options``).

    Returns its outputs (a dict of lists), the run's metrics and its wall time:
    what ``InferencePreview.from_outputs`` and ``ModelComparison.from_outputs`` take.

    >>> out, metrics, seconds = run_sample(frame, InferModel(spec))  # doctest: +SKIP
    """
    from beam_ml.runner import run_and_collect

    check_positive_int("batch_rows", batch_rows)
    batches = sample_batches(frame, batch_rows)

    def build(p: Any) -> Any:
        rows = p | "Sample" >> beam.Create(batches, reshuffle=False)
        return rows | (label or transform.label) >> transform

    finished: list[Any] = []
    start = time.perf_counter()
    collected = run_and_collect(build, options, on_result=finished.append)
    return collected, finished[0].metrics(), time.perf_counter() - start


def preview_inference(
    source: Any,
    model: Any,
    sample: int = 1000,
    device: str = "auto",
    features: Any = None,
    key: str | None = None,
    require_gpu: bool = False,
    device_probe: Probe | None = None,
    how: str = "head",
    seed: int = 0,
    batch_rows: int = PREVIEW_BATCH_ROWS,
    options: Any = None,
    label: str | None = None,
    task: str = "auto",
) -> InferencePreview:
    """Run the real RunInference (:class:`InferModel`) over a sample of ``source``.

    ``model`` is a spec (``SklearnModel``, ``PytorchModel``, ``CustomModel``) or
    a string like ``'sklearn:model.pkl'``. ``how='random'`` takes a uniform
    sample instead of the first rows. ``key`` names a column carried through
    untouched (it may repeat); rows join back by position, not by key.
    ``label`` names the column of true values: the result's ``evaluation``
    then holds accuracy, F1, ROC AUC... or MAE, RMSE, R²... (``task`` is
    guessed from the predictions unless given).

    >>> p = preview_inference("penguins.csv", "sklearn:model.pkl",
    ...                       features=["bill_length_mm", "bill_depth_mm"])  # doctest: +SKIP
    >>> p.predictions[["species", "prediction"]].head()                       # doctest: +SKIP
    """
    spec = with_columns(model, features, key)
    check_positive_int("batch_rows", batch_rows)
    choice = resolve_step_device(device, [spec], device_probe, require_gpu)
    frame = read_sample(source, sample, how, seed)
    spec.check(frame.columns)
    check_labels({"model": label} if label else {}, {"model": spec}, frame.columns)
    transform = InferModel(spec, choice.beam_device, label=label, task=task)
    outputs, metrics, seconds = run_sample(frame, transform, batch_rows, options)
    return InferencePreview.from_outputs(
        frame, outputs, choice, spec, metrics=metrics, seconds=seconds
    )


def compare_models(
    source: Any,
    model_a: Any,
    model_b: Any,
    sample: int = 1000,
    device: str = "auto",
    split: float | None = None,
    features: Any = None,
    key: str | None = None,
    require_gpu: bool = False,
    device_probe: Probe | None = None,
    how: str = "head",
    seed: int = 0,
    batch_rows: int = PREVIEW_BATCH_ROWS,
    options: Any = None,
    label: Any = None,
    task: str = "auto",
) -> ModelComparison:
    """A/B (:class:`CompareModels`): the same sample through two models, side by side.

    With ``split=0.3`` the traffic is split instead: each row goes to A with
    probability 0.3, else to B, and ``model`` says which one answered.
    With ``label``, ``evaluation`` holds each model's metrics and, under
    ``versus``, champion A against challenger B: both metrics with 95 %
    intervals, the (paired, or for a split unpaired) difference and a verdict.

    >>> c = compare_models("penguins.csv", "sklearn:lr.pkl", "sklearn:rf.pkl")  # doctest: +SKIP
    >>> c.agreement                                                            # doctest: +SKIP
    0.97
    """
    specs = [with_columns(model_a, features, key), with_columns(model_b, features, key)]
    check_positive_int("batch_rows", batch_rows)
    check_split(split, len(specs))
    choice = resolve_step_device(device, specs, device_probe, require_gpu)
    frame = read_sample(source, sample, how, seed)
    for spec in specs:
        spec.check(frame.columns)
    check_labels(parse_labels(label, ["a", "b"]), {"a": specs[0], "b": specs[1]}, frame.columns)
    transform = CompareModels(
        specs, choice.beam_device, split=split, seed=seed, label=label, task=task
    )
    outputs, metrics, seconds = run_sample(frame, transform, batch_rows, options)
    return ModelComparison.from_outputs(
        frame, outputs, choice, specs, split=split, metrics=metrics, seconds=seconds
    )


def cascade(
    source: Any,
    model_a: Any,
    model_b: Any,
    between: Any = None,
    sample: int = 1000,
    device: str = "auto",
    features: Any = None,
    key: str | None = None,
    require_gpu: bool = False,
    device_probe: Probe | None = None,
    how: str = "head",
    seed: int = 0,
    batch_rows: int = PREVIEW_BATCH_ROWS,
    options: Any = None,
    label: Any = None,
    task: str = "auto",
) -> InferencePreview:
    """Cascade (:class:`CascadeModels`): model A's output, through ``between``, feeds B.

    A adds ``a_*`` columns to each batch; ``between(batch) -> batch`` (a function
    or an import path; identity by default) may filter rows or derive B's
    features; B adds ``b_*`` columns. ``features`` and ``key`` apply to A.
    ``label`` is B's true column (``'a=COL1,b=COL2'`` for both models').

    >>> cascade("penguins.csv", "sklearn:species.pkl", "sklearn:mass.pkl",
    ...         between=lambda df: df[df.a_prediction == "Gentoo"])  # doctest: +SKIP
    """
    first = with_columns(model_a, features, key)
    second = with_columns(model_b)
    check_positive_int("batch_rows", batch_rows)
    choice = resolve_step_device(device, [first, second], device_probe, require_gpu)
    transform = CascadeModels(first, second, between, choice.beam_device, label=label, task=task)
    frame = read_sample(source, sample, how, seed)
    first.check(frame.columns)
    second.check()
    check_labels(transform.labels, {"a": first, "b": second}, frame.columns)
    outputs, metrics, seconds = run_sample(frame, transform, batch_rows, options)
    return InferencePreview.from_cascade_outputs(
        frame, outputs, choice, first, second, metrics=metrics, seconds=seconds
    )


def check_labels(labels: dict[str, str], specs: dict[str, Any], columns: Any) -> None:
    """Each label column is in the data and is not one of its model's features.

    >>> check_labels({"model": "y"}, {"model": SklearnModel(path="m.pkl")}, ["x", "y"])
    """
    names = [str(c) for c in columns]
    for model, column in labels.items():
        if column not in names:
            raise BeamMLError.expected(
                f"label column {column!r} in the data", f"columns {names[:20]!r}",
                "fix label= (names are case-sensitive)",
            )  # fmt: skip
        if column in (specs[model].features or ()):
            raise BeamMLError.expected(
                f"label {column!r} not among the features of model {model}",
                "it is one", "drop it from features=",
            )  # fmt: skip


def handler_for(spec: ModelSpec, device: str = "auto", probe: Probe | None = None) -> Any:
    """The Beam handler a preview would build for ``spec`` (and the device choice).

    >>> h, choice = handler_for(SklearnModel(path="m.pkl"), "cpu")  # doctest: +SKIP
    """
    choice = resolve_device(device, probe=probe)
    handler: FrameModelHandler = spec.handler(choice.beam_device)
    return handler, choice
