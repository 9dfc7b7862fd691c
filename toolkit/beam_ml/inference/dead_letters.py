"""Per-row dead letters: a failed batch is bisected down to its bad rows.

``RunInference.with_exception_handling()`` dead-letters a whole batch when one
row fails. :class:`RetryFailed` runs the halves again, halving a failing half
down to single rows, so only the bad rows come back as errors — DataFrames of
the input rows with ``error``, ``error_type`` and ``stage`` columns. A
``BeamMLError`` (missing columns, wrong shape, a model that does not load) fails
every row the same way: it is the user's setup, so it stops the pipeline.

>>> ERROR_COLUMNS
('error', 'error_type', 'stage')
"""

from __future__ import annotations

import time
from typing import Any

import apache_beam as beam
import pandas as pd

from beam_ml.errors import BeamMLError, one_line

ERROR_COLUMNS = ("error", "error_type", "stage")


def error_text(exc_info: Any) -> tuple[str, str]:
    """(type name, one-line message) from Beam's dead-letter ``(type, repr, traceback)``.

    >>> error_text((ValueError, "ValueError('x')", ["ValueError: x"]))
    ('ValueError', 'x')
    """
    exc_type, exc_repr, trace = exc_info
    name = getattr(exc_type, "__name__", str(exc_type))
    last = trace[-1].strip() if trace else str(exc_repr)
    # The traceback's last line is "pkg.mod.Type: message"; keep the message.
    head, sep, message = last.partition(": ")
    text = message if sep and head.endswith(name) else last
    return name, one_line(text.split(" [while running", 1)[0], 300)


class GaveUp(Exception):
    """A batch that failed after its own retries (a remote endpoint that stayed down).

    Its rows are errors as they are: bisecting it would only retry the outage.
    """


def _gave_up(exc_info: Any) -> bool:
    exc_type = exc_info[0]
    return isinstance(exc_type, type) and issubclass(exc_type, GaveUp)


def _is_structural(exc_info: Any) -> bool:
    exc_type = exc_info[0]
    return isinstance(exc_type, type) and issubclass(exc_type, BeamMLError)


def error_rows(frame: Any, exc_info: Any, stage: str) -> pd.DataFrame:
    """The rows of ``frame`` with the error's columns (attrs and index kept)."""
    name, message = error_text(exc_info)
    rows = frame.copy(deep=False) if isinstance(frame, pd.DataFrame) else pd.DataFrame()
    rows["error"] = message
    rows["error_type"] = name
    rows["stage"] = stage
    return rows


def _info(error: Exception) -> tuple[Any, str, list[str]]:
    return type(error), repr(error), [f"{type(error).__name__}: {error}"]


class RetryFailed(beam.DoFn):
    """A dead-lettered batch -> its good rows' predictions, and its bad rows as errors.

    One bad row in 8,192 costs ~26 model calls, not 8,192. The model is loaded
    only when a batch has failed, and in the same process it is the very model
    the RunInference step loaded (``FrameModelHandler`` shares it).
    """

    def __init__(self, handler: Any, post: Any, namespace: str) -> None:
        self.handler = handler
        self.post = post
        self.namespace = namespace
        self.model: Any = None

    def setup(self) -> None:
        from apache_beam.metrics.metric import Metrics

        # The names RunInference uses, so the preview's metrics add retried rows in.
        self.inferences = Metrics.counter(self.namespace, "num_inferences")
        self.sizes = Metrics.distribution(self.namespace, "inference_request_batch_size")
        self.latency = Metrics.distribution(self.namespace, "inference_batch_latency_micro_secs")
        self.retried = Metrics.counter(self.namespace, "retried_rows")

    def process(self, element: Any) -> Any:
        batch, exc_info = element
        if _is_structural(exc_info):
            raise BeamMLError(error_text(exc_info)[1])
        if not isinstance(batch, pd.DataFrame) or len(batch) <= 1 or _gave_up(exc_info):
            yield beam.pvalue.TaggedOutput("errors", error_rows(batch, exc_info, "inference"))
            return
        if self.model is None:
            self.model = self.handler.load_model()
        self.retried.inc(len(batch))
        pending = [batch.iloc[: len(batch) // 2], batch.iloc[len(batch) // 2 :]]
        while pending:
            part = pending.pop()
            try:
                start = time.perf_counter_ns()
                (out,) = self.handler.run_inference(part, self.model)
                self.latency.update((time.perf_counter_ns() - start) // 1000)
            except BeamMLError:
                raise
            except Exception as error:
                if len(part) > 1 and not isinstance(error, GaveUp):
                    pending += [part.iloc[: len(part) // 2], part.iloc[len(part) // 2 :]]
                else:
                    yield beam.pvalue.TaggedOutput(
                        "errors", error_rows(part, _info(error), "inference")
                    )
                continue
            self.inferences.inc(len(part))
            self.sizes.update(len(part))
            if self.post is None:
                yield out
                continue
            try:
                yield self.post(out)
            except Exception as error:
                yield beam.pvalue.TaggedOutput(
                    "errors", error_rows(out, _info(error), "postprocess")
                )


class RowErrors(beam.DoFn):
    """Beam's dead letters ``(frame, exc_info)`` of one ``stage`` -> error rows."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def process(self, element: Any) -> Any:
        frame, exc_info = element
        if _is_structural(exc_info):
            raise BeamMLError(error_text(exc_info)[1])
        yield error_rows(frame, exc_info, self.stage)


class TagModel(beam.DoFn):
    """Error rows -> the same rows with a first column ``model`` naming who failed them."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model

    def process(self, frame: pd.DataFrame) -> Any:
        out = frame.copy(deep=False)
        if "model" in out.columns:
            out = out.drop(columns="model")
        out.insert(0, "model", self.model)
        yield out
