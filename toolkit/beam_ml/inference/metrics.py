"""What Beam measured in a run: RunInference's metrics, and the device that really ran.

Beam reports each RunInference step apart (a ``RunModel`` has the main one and
the retry of failed batches), so counters add up and distributions merge here
into one flat dict of numbers per model.

>>> beam_metrics(None, "BeamML_sklearn")  # doctest: +SKIP
{'num_inferences': 0, 'failed_batches': 0, 'retried_rows': 0}
"""

from __future__ import annotations

from typing import Any

from beam_ml.inference.device import DeviceChoice
from beam_ml.inference.handlers import DEVICE_NAMESPACE

REMOTE_COUNTERS = (
    "remote_requests",
    "remote_retries",
    "remote_failed_requests",
    "remote_gave_up_batches",
)


def _metric_value(result: Any) -> Any:
    committed = getattr(result, "committed", None)
    return committed if committed is not None else result.attempted


def _merged(metrics: Any, namespace: str) -> tuple[dict[str, int], dict[str, Any]]:
    from apache_beam.metrics.cells import DistributionData
    from apache_beam.metrics.metric import MetricsFilter

    found = metrics.query(MetricsFilter().with_namespace(namespace))
    counters: dict[str, int] = {}
    for r in found["counters"]:
        counters[r.key.metric.name] = counters.get(r.key.metric.name, 0) + _metric_value(r)
    dists: dict[str, Any] = {}
    for r in found["distributions"]:
        value = _metric_value(r)
        name = r.key.metric.name
        if value is None or not value.count:
            continue
        if name in dists:
            old = dists[name]
            value = DistributionData(
                old.sum + value.sum,
                old.count + value.count,
                min(old.min, value.min),
                max(old.max, value.max),
            )
        dists[name] = value
    return counters, dists


def beam_metrics(metrics: Any, namespace: str, seconds: float | None = None) -> dict[str, Any]:
    """RunInference's metrics of one namespace as a flat dict of numbers.

    ``metrics`` is a finished ``PipelineResult.metrics()``; ``seconds`` the
    pipeline's wall time, for its rows per second.
    """
    counters, dists = _merged(metrics, namespace)
    out: dict[str, Any] = {
        "num_inferences": int(counters.get("num_inferences", 0)),
        "failed_batches": int(counters.get("failed_batches_counter", 0)),
        "retried_rows": int(counters.get("retried_rows", 0)),
    }
    for name in REMOTE_COUNTERS:  # a remote model's requests, retries and give-ups
        if name in counters:
            out[name] = int(counters[name])
    size = dists.get("inference_request_batch_size")
    if size:
        out.update(
            num_batches=int(size.count),
            batch_size_min=int(size.min),
            batch_size_mean=round(size.sum / size.count, 1),
            batch_size_max=int(size.max),
        )
    latency = dists.get("inference_batch_latency_micro_secs")
    if latency:
        out.update(
            batch_latency_ms_mean=round(latency.sum / latency.count / 1000, 3),
            batch_latency_ms_max=round(latency.max / 1000, 3),
            inference_seconds=round(latency.sum / 1e6, 4),
        )
        if latency.sum:
            out["throughput_rows_per_s"] = round(out["num_inferences"] / (latency.sum / 1e6), 1)
    load = dists.get("load_model_latency_milli_secs")
    if load:
        out.update(model_loads=int(load.count), model_load_ms=int(load.max))
    model_bytes = dists.get("model_byte_size")
    if model_bytes:
        out["model_byte_size"] = int(model_bytes.max)
    if seconds is not None:
        out["pipeline_seconds"] = round(seconds, 3)
        if seconds > 0:
            out["pipeline_rows_per_s"] = round(out["num_inferences"] / seconds, 1)
    return out


def model_metrics(
    metrics: Any, namespaces: dict[str, str], seconds: float | None = None
) -> dict[str, Any]:
    """Beam's metrics of several models of one run (``{"a": ..., "b": ...}``) and its time."""
    out: dict[str, Any] = {name: beam_metrics(metrics, ns) for name, ns in namespaces.items()}
    if seconds is not None:
        out["pipeline_seconds"] = round(seconds, 3)
    return out


def ran_on(choice: DeviceChoice, metrics: Any) -> DeviceChoice:
    """The device that really ran, from the batches the handlers counted.

    Beam 2.77 silently loads a 'GPU' model on CPU when CUDA is unusable on the
    worker; this turns that into a visible reason instead of a log line.
    """
    if choice.device != "gpu" or metrics is None:
        return choice
    counts, _ = _merged(metrics, DEVICE_NAMESPACE)
    on_cpu, on_gpu = counts.get("batches_on_cpu", 0), counts.get("batches_on_gpu", 0)
    if on_cpu and not on_gpu:
        return DeviceChoice(
            choice.requested,
            "cpu",
            f"asked {choice.requested}; CUDA reported available but Beam loaded the model "
            "on cpu; ran on cpu",
        )
    if on_cpu and on_gpu:
        return DeviceChoice(
            choice.requested, "gpu", f"{choice.reason} ({on_cpu} batches fell back to cpu)"
        )
    return choice
