"""``RunModel``: Beam's RunInference over pre-batched pandas frames, with per-row dead letters.

Each input element is one pandas DataFrame (a batch of rows, as
``beam_ml.sources.ReadBatches`` yields), so Beam's per-element cost is paid once
per batch instead of once per row. :class:`InferModel` is what the infer step
and ``bml.preview_inference`` both apply: ``{"predictions", "errors"}``.

Exported pipelines use it as::

    spec = SklearnModel(path='model.pkl', features=['a', 'b'])
    out = batches | 'Infer' >> InferModel(spec, device='CPU')
    out['predictions'], out['errors']
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import apache_beam as beam
import pandas as pd
from apache_beam.ml.inference.base import RunInference

from beam_ml.errors import check_choice, check_positive_int
from beam_ml.inference.dead_letters import RetryFailed, RowErrors
from beam_ml.inference.evaluate import TASKS, Evaluate, Target
from beam_ml.inference.imports import import_callable

__all__ = ["InferModel", "RunModel"]


class _SplitRows(beam.DoFn):
    """Split big batches so one inference call sees at most ``max_rows`` rows."""

    def __init__(self, max_rows: int) -> None:
        super().__init__()
        self.max_rows = max_rows

    def process(self, batch: pd.DataFrame) -> Any:
        if len(batch) <= self.max_rows:
            yield batch
            return
        for start in range(0, len(batch), self.max_rows):
            yield batch.iloc[start : start + self.max_rows]


class _KeepAttrs:
    """A user's ``df -> df`` function whose result keeps the batch's attrs.

    A batch's attrs say where it came from and, in :class:`CompareModels`, which
    batch it is; a function that builds a new DataFrame would drop them.
    """

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, batch: Any) -> Any:
        out = self.fn(batch)
        attrs = getattr(batch, "attrs", None)
        if attrs and isinstance(out, pd.DataFrame) and not out.attrs:
            out.attrs = dict(attrs)
        return out


def _wrapped(path_or_fn: Any, what: str) -> Callable[[Any], Any] | None:
    fn = import_callable(path_or_fn, what)
    return None if fn is None else _KeepAttrs(fn)


class RunModel(beam.PTransform):
    """A PTransform: PCollection of pandas batches -> PCollection of prediction DataFrames.

    Each output element is the same rows, same index and attrs, with the
    prediction columns added: ``prediction``, ``proba_<class>`` (predict_proba)
    or ``output_<i>``, each prefixed with ``prefix``. Without ``passthrough``
    only the key column (keyed specs) and the predictions are kept. ``device``
    must be exactly ``'CPU'`` or ``'GPU'``: resolve it first with
    :func:`beam_ml.inference.device.resolve_device`.

    A batch that fails is bisected and retried down to single rows, so only its
    bad rows fail. A ``BeamMLError`` (missing feature columns, wrong input
    shape, a model that does not load) fails the pipeline with its one-line
    message. With ``with_errors=True`` it returns ``(predictions, errors)``,
    ``errors`` holding the failed rows with ``error``, ``error_type`` and
    ``stage`` columns.

    With ``flatten=False`` the predictions come as two PCollections, a dict
    ``{"predictions": whole batches, "retried": rows of bisected batches}``
    (plus ``"errors"`` with ``with_errors``), for a caller that collects them
    apart: DirectRunner materialises every multi-input ``Flatten``.

    >>> predictions = batches | RunModel(SklearnModel(path="m.pkl"))  # doctest: +SKIP
    """

    def __init__(
        self,
        spec: Any,
        device: str = "CPU",
        prefix: str = "",
        passthrough: bool = True,
        max_batch_rows: int | None = None,
        with_errors: bool = False,
        metrics_namespace: str | None = None,
        flatten: bool = True,
        exclude: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.spec = spec
        self.device = check_choice("device", device, ("CPU", "GPU"))
        self.max_batch_rows = check_positive_int("max_batch_rows", max_batch_rows, allow_none=True)
        if self.max_batch_rows is None:  # a remote model bounds its requests' rows
            self.max_batch_rows = getattr(spec, "max_batch_rows", None)
        self.prefix = prefix
        self.passthrough = passthrough
        self.with_errors = with_errors
        self.flatten = flatten
        self.exclude = tuple(exclude)
        self.pre = _wrapped(spec.preprocess, "preprocess function")
        self.post = _wrapped(spec.postprocess, "postprocess function")
        self.namespace = metrics_namespace or f"BeamML_{spec.kind}"
        # One token per transform: its RunInference and its retry share one loaded model.
        self.token = f"{uuid.uuid4().hex}:{spec.to_json()}:{device}"

    def default_label(self) -> str:
        return f"RunModel({self.spec.kind})"

    def expand(self, batches: Any) -> Any:
        core = self.spec.handler(
            self.device, prefix=self.prefix, passthrough=self.passthrough, token=self.token
        )
        core.exclude = self.exclude
        if hasattr(core.base, "metrics_namespace"):  # a remote handler counts its retries here
            core.base.metrics_namespace = self.namespace
        main: Any = core.with_preprocess_fn(self.pre) if self.pre is not None else core
        if self.post is not None:
            main = main.with_postprocess_fn(self.post)
        if self.max_batch_rows:
            batches = batches | "SplitBatches" >> beam.ParDo(_SplitRows(self.max_batch_rows))
        good, dlq = (
            batches
            | "RunInference"
            >> RunInference(main, metrics_namespace=self.namespace).with_exception_handling()
        )
        retried = dlq.failed_inferences | "RetryFailedRows" >> beam.ParDo(
            RetryFailed(core, self.post, self.namespace)
        ).with_outputs("errors", main="rows")
        errors: Any = None
        if self.with_errors:
            failed = [retried.errors]
            for i, bad in enumerate(dlq.failed_preprocessing):
                failed.append(bad | f"PreErrors{i}" >> beam.ParDo(RowErrors("preprocess")))
            for i, bad in enumerate(dlq.failed_postprocessing):
                failed.append(bad | f"PostErrors{i}" >> beam.ParDo(RowErrors("postprocess")))
            # Errors are few: their Flatten costs nothing worth avoiding.
            errors = tuple(failed) | "Errors" >> beam.Flatten()
        if not self.flatten:
            parts = {"predictions": good, "retried": retried.rows}
            return {**parts, "errors": errors} if self.with_errors else parts
        predictions = (good, retried.rows) | "Predictions" >> beam.Flatten()
        return (predictions, errors) if self.with_errors else predictions


class InferModel(beam.PTransform):
    """One model over batches: ``{"predictions": rows with prediction columns, "errors": ...}``.

    With ``label`` (a column of the input) it also gives ``"metrics"``: one
    dict per window comparing the predictions with the label
    (:class:`~beam_ml.inference.evaluate.Evaluate`); the label column is never
    one of the model's default features.

    What the infer step applies and ``bml.preview_inference`` runs on the sample:
    :class:`RunModel` with its per-row dead letters, every input column kept
    (a ``key`` column rides along untouched, as Beam's ``KeyedModelHandler``
    carries keys), and ``accelerator`` as the resource hint when given.

    >>> out = batches | InferModel(SklearnModel(path="m.pkl"), "CPU")  # doctest: +SKIP
    >>> out["predictions"], out["errors"]                              # doctest: +SKIP
    """

    def __init__(
        self,
        spec: Any,
        device: str = "CPU",
        prefix: str = "",
        max_batch_rows: int | None = None,
        metrics_namespace: str | None = None,
        accelerator: str | None = None,
        label: str | None = None,
        task: str = "auto",
    ) -> None:
        super().__init__()
        self.spec = spec
        self.prefix = prefix
        self.label_column = label  # not `label`: a PTransform's label is its name
        self.task = check_choice("task", task, TASKS)
        self.run = RunModel(
            spec,
            device,
            prefix=prefix,
            max_batch_rows=max_batch_rows,
            with_errors=True,
            metrics_namespace=metrics_namespace,
            exclude=(label,) if label else (),
        )
        self.namespace = self.run.namespace
        if accelerator:
            self.with_resource_hints(accelerator=accelerator)

    def default_label(self) -> str:
        return f"InferModel({self.spec.kind})"

    def expand(self, batches: Any) -> dict[str, Any]:
        predictions, errors = batches | "RunModel" >> self.run
        out = {"predictions": predictions, "errors": errors}
        if self.label_column:
            target = Target("model", self.prefix, self.label_column)
            out["metrics"] = predictions | "Evaluate" >> Evaluate([target], self.task)
        return out
