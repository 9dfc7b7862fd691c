"""Remote models: batches of rows POSTed as JSON to an HTTP endpoint, on Beam's RemoteModelHandler.

The request body is ``{"instances": [{feature: value, ...}, ...]}`` (one record
per row, NaN as null); the answer must be ``{"predictions": [...]}`` with one
entry per row (a value, a list of outputs, or a dict of named outputs).

Beam's ``RemoteModelHandler`` does the client-side throttling (its
``ReactiveThrottler``: when too few requests succeed it delays new ones). The
retries are here, so their backoff is configurable: 429, 5xx, timeouts and
connection errors are retried with Beam's ``FuzzedExponentialIntervals``
(honouring a ``Retry-After``, capped at ``max_backoff``), each retry passing
through the throttler again; a batch still failing after ``retries`` raises
:class:`RemoteUnavailable`, whose rows go to the errors output with the last
error (not bisected: that would only retry the same outage). Any other HTTP
error (a 400 on a bad row) is bisected down to its rows like a local model's.

Counters, in the model's metrics namespace: ``remote_requests``,
``remote_retries``, ``remote_failed_requests``, ``remote_gave_up_batches``.

>>> is_retryable(429), is_retryable(400)
(True, False)
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pandas as pd
from apache_beam.ml.inference.base import RemoteModelHandler

from beam_ml.inference.columns import inference_columns
from beam_ml.inference.dead_letters import GaveUp

__all__ = ["JsonHttpHandler", "RemoteUnavailable", "is_retryable", "remote_infer"]


class RemoteUnavailable(GaveUp):
    """The endpoint kept failing with retryable errors: the batch's rows are errors."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def is_retryable(status: int) -> bool:
    """429 (too many requests) and 5xx are worth retrying; other errors are the request's."""
    return status == 429 or status >= 500


class _Client:
    """What ``create_client`` returns: where to POST, how long to wait."""

    def __init__(self, url: str, timeout: float, headers: dict[str, str]) -> None:
        self.url = url
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", **headers}

    def post(self, body: bytes) -> Any:
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read(200).decode("utf-8", "replace").strip()
            message = f"HTTP {error.code} {error.reason}" + (f": {text}" if text else "")
            if is_retryable(error.code):
                after = error.headers.get("Retry-After") if error.headers else None
                raise _Retryable(message, _seconds(after)) from None
            raise RuntimeError(message) from None
        except TimeoutError as error:
            raise _Retryable(f"timed out after {self.timeout}s ({error})") from None
        except (urllib.error.URLError, ConnectionError) as error:
            raise _Retryable(f"connection failed: {getattr(error, 'reason', error)}") from None


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


class JsonHttpHandler(RemoteModelHandler):
    """Beam's RemoteModelHandler for a JSON endpoint; one example is one batch's records.

    >>> JsonHttpHandler("http://127.0.0.1:8080/predict").num_retries  # Beam's own: none
    0
    """

    def __init__(
        self,
        url: str,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        throttle_delay: float = 1.0,
        overload_ratio: float = 2.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        # Beam's own retry (num_retries) starts at 5 s and cannot be tuned: ours runs inside.
        super().__init__(
            namespace="BeamML_remote",
            num_retries=0,
            throttle_delay_secs=throttle_delay,  # type: ignore[arg-type]
            retry_filter=lambda error: False,
            overload_ratio=overload_ratio,
        )
        self.url, self.timeout, self.retries = url, timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.headers = dict(headers or {})
        self.metrics_namespace = "BeamML_remote"  # RunModel sets the model's namespace

    def create_client(self) -> _Client:
        return _Client(self.url, self.timeout, self.headers)

    def _counter(self, name: str) -> Any:
        from apache_beam.metrics.metric import Metrics

        return Metrics.counter(self.metrics_namespace, name)

    def request(self, batch: Any, model: _Client, inference_args: Any = None) -> list[Any]:
        from apache_beam.utils.retry import FuzzedExponentialIntervals

        body = batch[0]
        delays = iter(
            FuzzedExponentialIntervals(self.backoff, self.retries, max_delay_secs=self.max_backoff)
        )
        attempts = 0
        while True:
            attempts += 1
            self._counter("remote_requests").inc()
            try:
                return [model.post(body)]
            except _Retryable as error:
                self._counter("remote_failed_requests").inc()
                delay = next(delays, None)
                if delay is None:
                    self._counter("remote_gave_up_batches").inc()
                    raise RemoteUnavailable(
                        f"{self.url} still failing after {attempts} attempts; last error: {error}"
                    ) from None
                if error.retry_after is not None:
                    delay = min(max(delay, error.retry_after), self.max_backoff)
                self._counter("remote_retries").inc()
                time.sleep(delay)
                self.throttler.throttle()  # a retry is a request the throttler must see
            except RuntimeError:
                self._counter("remote_failed_requests").inc()
                raise


def _records(batch: pd.DataFrame, features: list[str]) -> bytes:
    frame = batch[features]
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    rows = [dict(zip(features, row, strict=True)) for row in values]
    return json.dumps({"instances": rows}, default=_plain).encode("utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def remote_infer(
    spec: Any, base: Any, model: Any, batch: pd.DataFrame, features: list[str], inference_args: Any
) -> dict[str, Any]:
    """One POST (with its retries) for the batch -> prediction columns."""
    (answer,) = base.run_inference([_records(batch, features)], model, inference_args)
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != len(batch):
        got = type(answer).__name__ if predictions is None else f"{len(predictions)} predictions"
        raise ValueError(
            f"expected {{'predictions': [...]}} with {len(batch)} entries from {spec.url}, "
            f"got {got}"
        )
    if predictions and isinstance(predictions[0], dict):
        return inference_columns(predictions, len(batch))
    return inference_columns(np.asarray(predictions), len(batch), spec.classes)
