"""What a model run did on a sample: frozen results built from a transform's outputs.

``preview_inference`` / ``compare_models`` / ``cascade`` and the model steps'
previews run the same transforms (:class:`~beam_ml.inference.run_model.InferModel`,
:class:`~beam_ml.inference.compare.CompareModels`,
:class:`~beam_ml.inference.cascade.CascadeModels`) over batches of a sample
whose index is each row's position (:func:`sample_batches`), and build their
result here with ``from_outputs``: rows come back to the sample's own labels.

>>> frame_dict(pd.DataFrame({"a": [1]}))["columns"]
['a']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.inference.compare import default_prefixes
from beam_ml.inference.dead_letters import ERROR_COLUMNS
from beam_ml.inference.device import DeviceChoice
from beam_ml.inference.metrics import beam_metrics, model_metrics, ran_on
from beam_ml.inference.view import render_html, render_text
from beam_ml.rendering import HtmlRepr

__all__ = [
    "InferencePreview",
    "ModelComparison",
    "evaluation_of",
    "frame_dict",
    "sample_batches",
]


def sample_batches(frame: pd.DataFrame, batch_rows: int) -> list[pd.DataFrame]:
    """The sample as batches whose index is each row's position in the sample.

    >>> [list(b.index) for b in sample_batches(pd.DataFrame({"a": [5, 6, 7]}, index=[9, 9, 8]), 2)]
    [[0, 1], [2]]
    """
    work = frame.reset_index(drop=True)
    work.attrs = dict(frame.attrs)
    return [work.iloc[i : i + batch_rows] for i in range(0, len(work), batch_rows)] or [work]


def _by_position(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if isinstance(f, pd.DataFrame)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames).sort_index(kind="stable")


def _positions(sample: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray | None:
    """The sample positions of ``rows`` (their index), or None if it is not that.

    ``between`` may have re-indexed a cascade's rows: then they keep their index.
    """
    pos = rows.index.to_numpy()
    if len(pos) and pos.dtype.kind in "iu" and pos.min() >= 0 and pos.max() < len(sample):
        return pos
    return None


def _predictions(sample: pd.DataFrame, frames: list[pd.DataFrame]) -> pd.DataFrame:
    rows = _by_position(frames)
    if rows.empty and not len(rows.columns):
        return sample.iloc[:0]
    pos = _positions(sample, rows)
    if pos is not None:
        rows = rows.copy(deep=False)
        rows.index = sample.index[pos]
    return rows


def _errors(sample: pd.DataFrame, frames: list[pd.DataFrame], tagged: bool) -> pd.DataFrame:
    """The failed rows: (``model``,) the sample's columns, then the error's columns."""
    errors = _by_position(frames)
    first = ["model"] if tagged else []
    if errors.empty:
        return pd.DataFrame(columns=[*first, *sample.columns, *ERROR_COLUMNS])
    pos = _positions(sample, errors)
    if pos is None:
        return errors
    # The sample's own values: a postprocess error holds the model's output, not its input.
    result = sample.reset_index(drop=True).iloc[pos].copy()
    for col in ERROR_COLUMNS:
        result[col] = errors[col].to_numpy()
    if tagged:
        result.insert(0, "model", errors["model"].to_numpy())
    result.index = sample.index[pos]
    return result


def evaluation_of(outputs: dict[str, list[Any]]) -> dict[str, Any] | None:
    """The label metrics a run gave (``"metrics"``; ``"metrics.json"`` from a step), if any.

    >>> evaluation_of({"metrics": [{"label": "y"}]})
    {'label': 'y'}
    """
    found = outputs.get("metrics") or outputs.get("metrics.json") or []
    return dict(found[0]) if found else None


def frame_dict(frame: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as JSON-ready ``{"columns", "index", "data"}`` (full precision)."""
    data = json.loads(frame.to_json(orient="split", default_handler=str, date_format="iso"))
    data["columns"] = [str(c) for c in data["columns"]]
    data["index"] = [str(i) for i in data["index"]]
    return data


@dataclass(frozen=True)
class InferencePreview(HtmlRepr):
    """What RunInference did on the sample.

    ``predictions`` are the input rows with the flattened ``PredictionResult``
    columns; ``errors`` the rows whose inference failed, with their error;
    ``device`` / ``device_reason`` what actually ran and why (``device_requested``
    what was asked); ``metrics`` Beam's RunInference metrics of the run (for a
    cascade, one dict per model under ``"a"`` and ``"b"``); ``evaluation`` the
    predictions against a label, when one was given (see
    :mod:`beam_ml.inference.evaluate` for its keys).
    """

    predictions: pd.DataFrame = field(compare=False, repr=False)
    device: str
    device_reason: str
    metrics: dict[str, Any]
    errors: pd.DataFrame = field(compare=False, repr=False)
    models: dict[str, Any]
    sample_rows: int
    kind: str = "preview"
    device_requested: str | None = None
    evaluation: dict[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def from_outputs(
        cls,
        frame: pd.DataFrame,
        outputs: dict[str, list[pd.DataFrame]],
        device_choice: DeviceChoice,
        spec: Any,
        *,
        sample: int | None = None,
        metrics: Any = None,
        seconds: float | None = None,
        namespace: str | None = None,
    ) -> InferencePreview:
        """The preview of one model from what ``InferModel`` gave on ``sample_batches(frame)``.

        ``outputs`` is ``{"predictions": [frames], "errors": [frames]}`` as
        collected; ``metrics`` the run's ``PipelineResult.metrics()`` (it also
        tells whether Beam really ran on the GPU).

        >>> InferencePreview.from_outputs(frame, out, choice, spec)  # doctest: +SKIP
        """
        choice = ran_on(device_choice, metrics)
        ns = namespace or f"BeamML_{spec.kind}"
        return cls(
            predictions=_predictions(frame, outputs.get("predictions", [])),
            device=choice.device,
            device_reason=choice.reason,
            metrics=beam_metrics(metrics, ns, seconds) if metrics is not None else {},
            errors=_errors(frame, outputs.get("errors", []), tagged=False),
            models={"model": spec.to_dict()},
            sample_rows=len(frame) if sample is None else int(sample),
            device_requested=choice.requested,
            evaluation=evaluation_of(outputs),
        )

    @classmethod
    def from_cascade_outputs(
        cls,
        frame: pd.DataFrame,
        outputs: dict[str, list[pd.DataFrame]],
        device_choice: DeviceChoice,
        first: Any,
        second: Any,
        *,
        sample: int | None = None,
        metrics: Any = None,
        seconds: float | None = None,
    ) -> InferencePreview:
        """The preview of a cascade from what ``CascadeModels`` gave on ``sample_batches``."""
        choice = ran_on(device_choice, metrics)
        names = {"a": "BeamML_model_a", "b": "BeamML_model_b"}
        return cls(
            predictions=_predictions(frame, outputs.get("predictions", [])),
            device=choice.device,
            device_reason=choice.reason,
            metrics=model_metrics(metrics, names, seconds) if metrics is not None else {},
            errors=_errors(frame, outputs.get("errors", []), tagged=True),
            models={"a": first.to_dict(), "b": second.to_dict()},
            sample_rows=len(frame) if sample is None else int(sample),
            kind="cascade",
            device_requested=choice.requested,
            evaluation=evaluation_of(outputs),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "device": self.device,
            "device_requested": self.device_requested,
            "device_reason": self.device_reason,
            "sample_rows": self.sample_rows,
            "models": self.models,
            "metrics": self.metrics,
            "predictions": frame_dict(self.predictions),
            "errors": frame_dict(self.errors),
            "evaluation": self.evaluation,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def _text(self) -> str:
        return render_text(self.to_dict())

    def to_html(self) -> str:
        return render_html(self.to_dict())


@dataclass(frozen=True)
class ModelComparison(InferencePreview):
    """Two models (or more) on the same sample, or on a split of it: side by side.

    ``agreement`` is the share of rows where ``a_prediction == b_prediction``
    (None when the traffic was split, since no row went through both).
    """

    agreement: float | None = None
    split: float | None = None

    @classmethod
    def from_outputs(  # type: ignore[override]
        cls,
        frame: pd.DataFrame,
        outputs: dict[str, list[pd.DataFrame]],
        device_choice: DeviceChoice,
        specs: Sequence[Any],
        *,
        prefixes: Sequence[str] | None = None,
        split: float | None = None,
        sample: int | None = None,
        metrics: Any = None,
        seconds: float | None = None,
    ) -> ModelComparison:
        """The comparison from what ``CompareModels`` gave on ``sample_batches(frame)``.

        >>> ModelComparison.from_outputs(frame, out, choice, [a, b])  # doctest: +SKIP
        """
        choice = ran_on(device_choice, metrics)
        names = [p.rstrip("_") or p for p in (prefixes or default_prefixes(len(specs)))]
        predictions = _predictions(frame, outputs.get("predictions", []))
        agreement = None
        both = {"a_prediction", "b_prediction"} <= set(predictions.columns)
        if split is None and both and len(predictions):
            same = predictions["a_prediction"].to_numpy() == predictions["b_prediction"].to_numpy()
            agreement = round(float(np.mean(same)), 4)
        namespaces = {name: f"BeamML_model_{name}" for name in names}
        return cls(
            predictions=predictions,
            device=choice.device,
            device_reason=choice.reason,
            metrics=model_metrics(metrics, namespaces, seconds) if metrics is not None else {},
            errors=_errors(frame, outputs.get("errors", []), tagged=True),
            models={name: spec.to_dict() for name, spec in zip(names, specs, strict=True)},
            sample_rows=len(frame) if sample is None else int(sample),
            kind="split" if split is not None else "compare",
            device_requested=choice.requested,
            evaluation=evaluation_of(outputs),
            agreement=agreement,
            split=split,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "agreement": self.agreement, "split": self.split}
