"""Model refresh: ``WatchFilePattern`` into ``RunInference``'s ``model_metadata_pcoll``.

:class:`ModelIdHandler` wraps a model step's frame handler (extend by wrapping,
as Beam's ``with_preprocess_fn`` does): it follows ``update_model_path`` (a new
file loads a new model, never the cached one) and adds a ``model_id`` column —
the path of the model that produced each prediction row. :class:`RefreshedInfer`
is a model step's graph with that handler and Beam's ``WatchFilePattern`` as
the model side input: ``{"predictions", "errors"}`` as the batch step gives.

Beam's ``WatchFilePattern`` takes a file that lands after the pipeline starts
(a NEW name: an overwritten file is ignored) as the next model.

>>> out = batches | RefreshedInfer(spec, "models/*.pkl")       # doctest: +SKIP
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler

MODEL_ID = "model_id"


class ModelIdHandler(ModelHandler):
    """A frame handler whose model can be replaced by path; each row says which model ran."""

    def __init__(self, inner: Any, model_id: str) -> None:
        super().__init__()
        self.inner = inner
        self.model_id = model_id

    def load_model(self) -> Any:
        # the inner handler caches by its token: load the (possibly updated) path afresh
        return self.inner.base.load_model()

    def update_model_path(self, model_path: str | None = None) -> None:
        if model_path:
            self.inner.base.update_model_path(model_path)
            self.model_id = model_path

    def run_inference(self, batch: Any, model: Any, inference_args: Any = None) -> Any:
        outs = self.inner.run_inference(batch, model, inference_args)
        for out in outs:
            out[MODEL_ID] = self.model_id
        return outs

    def get_num_bytes(self, batch: Any) -> int:
        return int(self.inner.get_num_bytes(batch))

    def get_metrics_namespace(self) -> str:
        return str(self.inner.get_metrics_namespace())

    def should_skip_batching(self) -> bool:
        return True

    def batch_elements_kwargs(self) -> dict[str, Any]:
        return dict(self.inner.batch_elements_kwargs())


class PollingModelHandler(ModelIdHandler):
    """A :class:`ModelIdHandler` that looks for a newer model itself, every ``poll`` seconds.

    For runners without triggered global-window side inputs (Prism refuses
    ``WatchFilePattern``'s: "Unbounded GlobalWindow Triggered SideInput ... not
    currently supported by Prism", apache/beam#31438). Same rule as
    ``WatchFilePattern``: the newest file matching ``pattern`` written after
    ``since`` (the pipeline's start) replaces the model; older files are ignored.
    """

    def __init__(self, inner: Any, model_id: str, pattern: str, poll: float, since: float):
        super().__init__(inner, model_id)
        self.pattern = pattern
        self.poll = poll
        self.since = since
        self._checked = 0.0
        self._model: Any = None

    def _newer(self) -> Any:
        from apache_beam.io.filesystems import FileSystems

        matched = FileSystems.match([self.pattern])[0].metadata_list
        fresh = [m for m in matched if m.last_updated_in_seconds > self.since]
        return max(fresh, key=lambda m: (m.last_updated_in_seconds, m.path), default=None)

    def run_inference(self, batch: Any, model: Any, inference_args: Any = None) -> Any:
        now = time.monotonic()
        if now - self._checked >= self.poll:
            self._checked = now
            newest = self._newer()
            if newest is not None and newest.path != self.model_id:
                self.inner.base.update_model_path(newest.path)
                self._model = self.inner.base.load_model()
                self.model_id = newest.path
                self.since = newest.last_updated_in_seconds
        return super().run_inference(batch, self._model or model, inference_args)


class RefreshedInfer(beam.PTransform):
    """Batches -> ``{"predictions", "errors"}`` with the model refreshed from ``pattern``.

    ``spec`` is a model step's spec (its first model is the model until a file
    matching ``pattern`` lands). ``side_input``: Beam's ``WatchFilePattern`` as
    RunInference's model side input (Flink, Dataflow); else the handler polls
    the pattern itself (:class:`PollingModelHandler`: Prism). ``updates``: a
    PCollection of ``ModelMetadata`` to use instead of ``WatchFilePattern`` (any
    other notification source; a ``TestStream`` in tests). Failed batches are
    retried row by row as in the batch step; errors keep the input rows with
    ``error``, ``error_type`` and ``stage``.
    """

    def __init__(
        self,
        spec: Any,
        pattern: str,
        device: str = "CPU",
        poll: float = 1.0,
        stop: Any = None,
        side_input: bool = True,
        since: float | None = None,
        updates: Any = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.pattern = pattern
        self.device = device
        self.poll = poll
        self.stop = stop
        self.side_input = side_input
        self.since = since
        self.updates = updates

    def expand(self, batches: Any) -> dict[str, Any]:
        from apache_beam.ml.inference.base import RunInference
        from apache_beam.ml.inference.utils import WatchFilePattern
        from apache_beam.utils.timestamp import MAX_TIMESTAMP

        from beam_ml.inference.dead_letters import RetryFailed, RowErrors

        token = f"{uuid.uuid4().hex}:{self.spec.to_json()}"
        core = self.spec.handler(self.device, passthrough=True, token=token)
        handler: ModelIdHandler
        if self.side_input:
            handler = ModelIdHandler(core, str(self.spec.path))
            updates = self.updates
            if updates is None:
                updates = batches.pipeline | "WatchModel" >> WatchFilePattern(
                    self.pattern,
                    interval=self.poll,
                    stop_timestamp=MAX_TIMESTAMP if self.stop is None else self.stop,
                )
            run = RunInference(handler, model_metadata_pcoll=updates)
        else:
            since = time.time() if self.since is None else self.since
            handler = PollingModelHandler(core, str(self.spec.path), self.pattern, self.poll, since)
            run = RunInference(handler)
        good, dlq = batches | "RunInference" >> run.with_exception_handling()
        namespace = handler.get_metrics_namespace()
        retried = dlq.failed_inferences | "RetryFailedRows" >> beam.ParDo(
            RetryFailed(handler, None, namespace)
        ).with_outputs("errors", main="rows")
        failed = [retried.errors]
        for i, bad in enumerate(dlq.failed_preprocessing):
            failed.append(bad | f"PreErrors{i}" >> beam.ParDo(RowErrors("preprocess")))
        errors = tuple(failed) | "Errors" >> beam.Flatten()
        predictions = (good, retried.rows) | "Predictions" >> beam.Flatten()
        return {"predictions": predictions, "errors": errors}
