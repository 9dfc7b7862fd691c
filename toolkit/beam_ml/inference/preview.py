"""Preview Beam's real RunInference on a sample: one model, A/B, or a cascade.

>>> import beam_ml as bml
>>> spec = bml.inference.SklearnModel(path="penguins.pkl", features=["bill_length_mm"])
>>> preview = bml.preview_inference("penguins.csv", spec, sample=1000)   # doctest: +SKIP
>>> preview.device, preview.device_reason                                # doctest: +SKIP
('cpu', 'asked auto; CUDA not available; ran on cpu')

The sample is read upstream (``sources.head`` / ``sources.sample``: never the
whole dataset), split into pandas batches, and each batch is one element of
``RunInference`` (:class:`RunModel`), so Beam's per-element cost is paid once per
batch instead of once per row. Failures go through
``RunInference.with_exception_handling()``: a failed batch is bisected and
retried down to single rows, so only the bad rows come back as errors.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, check_positive_int, one_line
from beam_ml.inference.device import DeviceChoice, Probe, resolve_device
from beam_ml.inference.specs import (
    DEVICE_NAMESPACE,
    CustomModel,
    FrameModelHandler,
    ModelSpec,
    PytorchModel,
    SklearnModel,
    import_object,
    parse_model_spec,
)

__all__ = [
    "CustomModel",
    "InferencePreview",
    "ModelComparison",
    "PytorchModel",
    "RunModel",
    "SklearnModel",
    "cascade",
    "compare_models",
    "parse_model_spec",
    "preview_inference",
]

ERROR_COLUMNS = ("error", "error_type", "stage")
# Rows per RunInference element. Big enough that Beam's per-element cost is
# small next to the model's work, small enough for a GPU's memory.
PREVIEW_BATCH_ROWS = 8192


# --------------------------------------------------------------------------- errors


def _error_text(exc_info: Any) -> tuple[str, str]:
    """(type name, one-line message) from Beam's dead-letter ``(type, repr, traceback)``."""
    exc_type, exc_repr, trace = exc_info
    name = getattr(exc_type, "__name__", str(exc_type))
    last = trace[-1].strip() if trace else str(exc_repr)
    # The traceback's last line is "pkg.mod.Type: message"; keep the message.
    head, sep, message = last.partition(": ")
    text = message if sep and head.endswith(name) else last
    return name, one_line(text.split(" [while running", 1)[0], 300)


def _is_structural(exc_info: Any) -> bool:
    # A BeamMLError from the handler (missing columns, wrong shape) fails every
    # row the same way: it is the user's setup, not a bad row, so it must stop.
    exc_type = exc_info[0]
    return isinstance(exc_type, type) and issubclass(exc_type, BeamMLError)


def _error_rows(frame: pd.DataFrame, exc_info: Any, stage: str) -> pd.DataFrame:
    name, message = _error_text(exc_info)
    rows = frame.copy(deep=False) if isinstance(frame, pd.DataFrame) else pd.DataFrame()
    rows["error"] = message
    rows["error_type"] = name
    rows["stage"] = stage
    return rows


class _RetryFailed(beam.DoFn):
    """A dead-lettered batch -> its good rows' predictions, and its bad rows as errors.

    The batch is bisected: each half is run again, a failing half is halved
    again, down to single rows. One bad row in 8,192 costs ~26 model calls,
    not 8,192. The model is loaded only when a batch has failed, and in the
    same process it is the very model the RunInference step loaded.
    """

    def __init__(self, handler: FrameModelHandler, post: Any, namespace: str) -> None:
        self.handler = handler
        self.post = post
        self.namespace = namespace
        self.model: Any = None

    def setup(self) -> None:
        from apache_beam.metrics.metric import Metrics

        # The names RunInference uses, so beam_metrics() adds retried rows in.
        self.inferences = Metrics.counter(self.namespace, "num_inferences")
        self.sizes = Metrics.distribution(self.namespace, "inference_request_batch_size")
        self.latency = Metrics.distribution(self.namespace, "inference_batch_latency_micro_secs")
        self.retried = Metrics.counter(self.namespace, "retried_rows")

    def process(self, element: Any) -> Any:
        batch, exc_info = element
        if _is_structural(exc_info):
            raise BeamMLError(_error_text(exc_info)[1])
        if not isinstance(batch, pd.DataFrame) or len(batch) <= 1:
            yield beam.pvalue.TaggedOutput("errors", _error_rows(batch, exc_info, "inference"))
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
                if len(part) > 1:
                    pending += [part.iloc[: len(part) // 2], part.iloc[len(part) // 2 :]]
                else:
                    info = (type(error), repr(error), [f"{type(error).__name__}: {error}"])
                    yield beam.pvalue.TaggedOutput("errors", _error_rows(part, info, "inference"))
                continue
            self.inferences.inc(len(part))
            self.sizes.update(len(part))
            if self.post is None:
                yield out
                continue
            try:
                yield self.post(out)
            except Exception as error:
                info = (type(error), repr(error), [f"{type(error).__name__}: {error}"])
                yield beam.pvalue.TaggedOutput("errors", _error_rows(out, info, "postprocess"))


class _RowErrors(beam.DoFn):
    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def process(self, element: Any) -> Any:
        frame, exc_info = element
        if _is_structural(exc_info):
            raise BeamMLError(_error_text(exc_info)[1])
        yield _error_rows(frame, exc_info, self.stage)


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


def _call(path_or_fn: Any, what: str) -> Callable[[Any], Any] | None:
    if path_or_fn is None or callable(path_or_fn):
        return path_or_fn
    fn = import_object(path_or_fn, what)
    if not callable(fn):
        raise BeamMLError.expected(f"a callable {what}", repr(path_or_fn))
    return fn


# --------------------------------------------------------------------------- the transform


def RunModel(
    spec: ModelSpec,
    device: str = "CPU",
    prefix: str = "",
    passthrough: bool = True,
    max_batch_rows: int | None = None,
    with_errors: bool = False,
    metrics_namespace: str | None = None,
    flatten: bool = True,
) -> Any:
    """A PTransform: PCollection of pandas batches -> PCollection of prediction DataFrames.

    Each input element is one pandas DataFrame (a batch of rows, as
    ``beam_ml.sources.readers.ReadBatches`` yields). Each output element is the same
    rows, same index, with the prediction columns added: ``prediction``,
    ``proba_<class>`` (predict_proba) or ``output_<i>``, each prefixed with
    ``prefix``. Without ``passthrough`` only the key column (keyed specs) and
    the predictions are kept. ``device`` must be exactly ``'CPU'`` or ``'GPU'``:
    resolve it first with :func:`beam_ml.inference.device.resolve_device`.

    It applies Beam's ``RunInference`` with ``with_exception_handling()``; a
    batch that fails is bisected and retried down to single rows, so only
    its bad rows fail. A
    ``BeamMLError`` (missing feature columns, wrong input shape, a model that
    does not load) fails the pipeline with its one-line message. With
    ``with_errors=True`` the transform returns ``(predictions, errors)``, where
    ``errors`` holds DataFrames of the failed rows with ``error``,
    ``error_type`` and ``stage`` columns.

    With ``flatten=False`` the predictions come as two PCollections, a dict
    ``{"predictions": whole batches, "retried": rows of bisected batches}``
    (plus ``"errors"`` with ``with_errors``), for a caller that collects them
    apart: DirectRunner materialises every multi-input ``Flatten``, pickling
    each prediction frame through a buffer (~0.2 ms a batch of 8,192 rows).

    Exported pipelines use it as::

        spec = SklearnModel(path='model.pkl', features=['a', 'b'])
        predictions = batches | 'Infer' >> RunModel(spec, device='CPU')
    """
    from apache_beam.ml.inference.base import RunInference

    check_choice("device", device, ("CPU", "GPU"))
    check_positive_int("max_batch_rows", max_batch_rows, allow_none=True)
    pre = _call(spec.preprocess, "preprocess function")
    post = _call(spec.postprocess, "postprocess function")
    namespace = metrics_namespace or f"BeamML_{spec.kind}"
    token = f"{uuid.uuid4().hex}:{spec.to_json()}:{device}"

    class _RunModel(beam.PTransform):
        def expand(self, batches: Any) -> Any:
            core = spec.handler(device, prefix=prefix, passthrough=passthrough, token=token)
            main: Any = core.with_preprocess_fn(pre) if pre is not None else core
            if post is not None:
                main = main.with_postprocess_fn(post)
            if max_batch_rows:
                batches = batches | "SplitBatches" >> beam.ParDo(_SplitRows(max_batch_rows))
            good, dlq = (
                batches
                | "RunInference"
                >> RunInference(main, metrics_namespace=namespace).with_exception_handling()
            )
            retried = dlq.failed_inferences | "RetryFailedRows" >> beam.ParDo(
                _RetryFailed(core, post, namespace)
            ).with_outputs("errors", main="rows")
            errors: Any = None
            if with_errors:
                failed = [retried.errors]
                for i, bad in enumerate(dlq.failed_preprocessing):
                    failed.append(bad | f"PreErrors{i}" >> _errors("preprocess"))
                for i, bad in enumerate(dlq.failed_postprocessing):
                    failed.append(bad | f"PostErrors{i}" >> _errors("postprocess"))
                # Errors are few: their Flatten costs nothing worth avoiding.
                errors = tuple(failed) | "Errors" >> beam.Flatten()
            if not flatten:
                parts = {"predictions": good, "retried": retried.rows}
                return {**parts, "errors": errors} if with_errors else parts
            predictions = (good, retried.rows) | "Predictions" >> beam.Flatten()
            return (predictions, errors) if with_errors else predictions

    def _errors(stage: str) -> Any:
        return beam.ParDo(_RowErrors(stage))

    return _RunModel(f"RunModel({spec.kind})")


# --------------------------------------------------------------------------- running


def _run(build: Callable[[Any], dict[str, Any]], options: Any = None) -> tuple[dict, Any, float]:
    """Run a pipeline; return its outputs (dict of lists), its metrics and the wall time."""
    from beam_ml.runner import run_and_collect

    finished: list[Any] = []
    start = time.perf_counter()
    collected = run_and_collect(build, options, on_result=finished.append)
    seconds = time.perf_counter() - start
    return collected, finished[0].metrics(), seconds


def _metric_value(result: Any) -> Any:
    committed = getattr(result, "committed", None)
    return committed if committed is not None else result.attempted


def beam_metrics(metrics: Any, namespace: str, seconds: float | None = None) -> dict[str, Any]:
    """RunInference's metrics of one namespace as a flat dict of numbers."""
    from apache_beam.metrics.metric import MetricsFilter

    found = metrics.query(MetricsFilter().with_namespace(namespace))
    # One RunModel has several RunInference steps (the main one and the retries):
    # Beam reports each step apart, so counters add up and distributions merge.
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
            from apache_beam.metrics.cells import DistributionData

            old = dists[name]
            value = DistributionData(
                old.sum + value.sum,
                old.count + value.count,
                min(old.min, value.min),
                max(old.max, value.max),
            )
        dists[name] = value

    def dist(name: str) -> Any:
        d = dists.get(name)
        return d if d is not None and d.count else None

    out: dict[str, Any] = {
        "num_inferences": int(counters.get("num_inferences", 0)),
        "failed_batches": int(counters.get("failed_batches_counter", 0)),
        "retried_rows": int(counters.get("retried_rows", 0)),
    }
    size = dist("inference_request_batch_size")
    if size:
        out.update(
            num_batches=int(size.count),
            batch_size_min=int(size.min),
            batch_size_mean=round(size.sum / size.count, 1),
            batch_size_max=int(size.max),
        )
    latency = dist("inference_batch_latency_micro_secs")
    if latency:
        out.update(
            batch_latency_ms_mean=round(latency.sum / latency.count / 1000, 3),
            batch_latency_ms_max=round(latency.max / 1000, 3),
            inference_seconds=round(latency.sum / 1e6, 4),
        )
        if latency.sum:
            out["throughput_rows_per_s"] = round(out["num_inferences"] / (latency.sum / 1e6), 1)
    load = dist("load_model_latency_milli_secs")
    if load:
        out.update(model_loads=int(load.count), model_load_ms=int(load.max))
    model_bytes = dist("model_byte_size")
    if model_bytes:
        out["model_byte_size"] = int(model_bytes.max)
    if seconds is not None:
        out["pipeline_seconds"] = round(seconds, 3)
        if seconds > 0:
            out["pipeline_rows_per_s"] = round(out["num_inferences"] / seconds, 1)
    return out


# --------------------------------------------------------------------------- samples


def _read_sample(source: Any, sample: int, how: str, seed: int) -> pd.DataFrame:
    from beam_ml.sources import readers as sources

    check_positive_int("sample", sample)
    check_choice("how", how, ("head", "random"))
    if how == "head":
        return sources.head(source, sample)
    return sources.sample(source, sample, seed=seed)


def _batches(frame: pd.DataFrame, batch_rows: int) -> list[pd.DataFrame]:
    """The sample as batches whose index is each row's position in the sample."""
    work = frame.reset_index(drop=True)
    work.attrs = dict(frame.attrs)
    return [work.iloc[i : i + batch_rows] for i in range(0, len(work), batch_rows)] or [work]


def _spec(model: Any, features: Any, key: Any) -> ModelSpec:
    if isinstance(model, SklearnModel | PytorchModel | CustomModel):
        changes = {k: v for k, v in (("features", features), ("key", key)) if v is not None}
        return replace(model, **changes) if changes else model
    return parse_model_spec(str(model), features=features, key=key)


def _by_position(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if isinstance(f, pd.DataFrame)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames).sort_index(kind="stable")


def _join(
    sample: pd.DataFrame, outputs: list[pd.DataFrame], key: str | None, exclude: set[str]
) -> pd.DataFrame:
    """Input rows of the sample joined with the prediction columns, in sample order."""
    preds = _by_position(outputs)
    base = sample.reset_index(drop=True)
    if preds.empty and not len(preds.columns):
        return base.iloc[:0].set_axis(sample.index[:0])
    new_cols = [c for c in preds.columns if c not in base.columns or c == key]
    clash = [c for c in preds.columns if c in base.columns and c != key and c not in exclude]
    if clash:
        raise BeamMLError.expected(
            "prediction columns that are not already input columns",
            f"{clash!r} in both",
            "rename the input column(s) or pass a prefix",
        )
    if key is not None:
        # Keyed: only the key and predictions came back; join them to the input rows on it.
        if base[key].duplicated().any():
            raise BeamMLError.expected(
                f"key column {key!r} to be unique in the sample",
                f"{int(base[key].duplicated().sum())} duplicated values",
                "choose a unique key column, or drop key= to join by row position",
            )
        positions = pd.Series(np.arange(len(base)), index=base[key].to_numpy())
        joined_pos = positions.loc[preds[key].to_numpy()].to_numpy()
        result = base.iloc[joined_pos].copy()
        for col in new_cols:
            if col != key:
                result[col] = preds[col].to_numpy()
        result.index = sample.index[joined_pos]
        return result
    pos = preds.index.to_numpy()
    result = base.iloc[pos].copy()
    for col in new_cols:
        result[col] = preds[col].to_numpy()
    result.index = sample.index[pos]
    return result


def _errors_frame(sample: pd.DataFrame, frames: list[pd.DataFrame]) -> pd.DataFrame:
    errors = _by_position(frames)
    if errors.empty:
        return pd.DataFrame(columns=[*sample.columns, *ERROR_COLUMNS])
    base = sample.reset_index(drop=True)
    pos = errors.index.to_numpy()
    result = base.iloc[pos].copy()
    for col in ERROR_COLUMNS:
        result[col] = errors[col].to_numpy()
    result.index = sample.index[pos]
    return result


# --------------------------------------------------------------------------- results


def _frame_dict(frame: pd.DataFrame) -> dict[str, Any]:
    data = json.loads(frame.to_json(orient="split", default_handler=str, date_format="iso"))
    data["columns"] = [str(c) for c in data["columns"]]
    data["index"] = [str(i) for i in data["index"]]
    return data


@dataclass(frozen=True)
class InferencePreview:
    """What RunInference did on the sample.

    ``predictions`` are the input rows joined with the flattened
    ``PredictionResult`` columns; ``errors`` the rows whose inference failed,
    with their error; ``device`` / ``device_reason`` what actually ran and why;
    ``metrics`` Beam's RunInference metrics of the run (for a cascade, one dict
    per model under ``"a"`` and ``"b"``).
    """

    predictions: pd.DataFrame = field(compare=False, repr=False)
    device: str
    device_reason: str
    metrics: dict[str, Any]
    errors: pd.DataFrame = field(compare=False, repr=False)
    models: dict[str, Any]
    sample_rows: int
    kind: str = "preview"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "device": self.device,
            "device_reason": self.device_reason,
            "sample_rows": self.sample_rows,
            "models": self.models,
            "metrics": self.metrics,
            "predictions": _frame_dict(self.predictions),
            "errors": _frame_dict(self.errors),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from beam_ml.inference.view import render_html, render_text

        data = self.to_dict()
        return {"text/plain": render_text(data), "text/html": render_html(data)}


@dataclass(frozen=True)
class ModelComparison(InferencePreview):
    """Two models on the same sample (or on a split of it): side by side.

    ``agreement`` is the share of rows where ``a_prediction == b_prediction``
    (None when the traffic was split, since no row went through both).
    """

    agreement: float | None = None
    split: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "agreement": self.agreement, "split": self.split}


# --------------------------------------------------------------------------- previews


def _prepare(
    source: Any,
    sample: int,
    how: str,
    seed: int,
    device: str,
    require_gpu: bool,
    device_probe: Probe | None,
    specs: list[ModelSpec],
) -> tuple[pd.DataFrame, DeviceChoice]:
    choice = resolve_device(device, require_gpu=require_gpu, probe=device_probe)
    cpu_only = [s.kind for s in specs if not s.uses_device]
    if cpu_only and len(cpu_only) == len(specs) and choice.device == "gpu":
        if require_gpu:
            raise BeamMLError.expected(
                "a model that can run on a GPU (require_gpu is set)",
                f"a {cpu_only[0]} model, which runs on cpu",
                "use a PyTorch model or drop require_gpu",
            )
        choice = DeviceChoice(
            choice.requested,
            "cpu",
            f"asked {choice.requested}; scikit-learn models run on cpu; ran on cpu",
        )
    frame = _read_sample(source, sample, how, seed)
    return frame, choice


def ran_on(choice: DeviceChoice, metrics: Any) -> DeviceChoice:
    """The device that really ran, from the batches the handlers counted.

    Beam 2.77 silently loads a 'GPU' model on CPU when CUDA is unusable on the
    worker; this turns that into a visible reason instead of a log line.
    """
    from apache_beam.metrics.metric import MetricsFilter

    if choice.device != "gpu":
        return choice
    found = metrics.query(MetricsFilter().with_namespace(DEVICE_NAMESPACE))["counters"]
    counts: dict[str, int] = {}
    for r in found:
        counts[r.key.metric.name] = counts.get(r.key.metric.name, 0) + int(_metric_value(r))
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
) -> InferencePreview:
    """Run the real RunInference over a bounded sample of ``source`` on DirectRunner.

    ``model`` is a spec (``SklearnModel``, ``PytorchModel``, ``CustomModel``) or
    a string like ``'sklearn:model.pkl'``. ``how='random'`` takes a uniform
    sample instead of the first rows.

    >>> p = preview_inference("penguins.csv", "sklearn:model.pkl",
    ...                       features=["bill_length_mm", "bill_depth_mm"])  # doctest: +SKIP
    >>> p.predictions[["species", "prediction"]].head()                       # doctest: +SKIP
    """

    spec = _spec(model, features, key)
    check_positive_int("batch_rows", batch_rows)
    frame, choice = _prepare(source, sample, how, seed, device, require_gpu, device_probe, [spec])
    spec.check(frame.columns)
    namespace = "BeamML_preview"

    def build(p: Any) -> dict[str, Any]:
        batches = p | "Sample" >> beam.Create(_batches(frame, batch_rows), reshuffle=False)
        return batches | RunModel(
            spec,
            choice.beam_device,
            passthrough=False,
            with_errors=True,
            metrics_namespace=namespace,
            flatten=False,
        )

    out, metrics, seconds = _run(build, options)
    choice = ran_on(choice, metrics)
    return InferencePreview(
        predictions=_join(frame, out["predictions"] + out["retried"], spec.key, set()),
        device=choice.device,
        device_reason=choice.reason,
        metrics=beam_metrics(metrics, namespace, seconds),
        errors=_errors_frame(frame, out["errors"]),
        models={"model": spec.to_dict()},
        sample_rows=len(frame),
    )


class _SplitTraffic(beam.DoFn):
    """Send each row to model A with probability ``ratio``, else to B (seeded)."""

    def __init__(self, ratio: float, seed: int) -> None:
        super().__init__()
        self.ratio = ratio
        self.seed = seed

    def process(self, batch: pd.DataFrame) -> Any:
        from apache_beam import pvalue

        # Decided by each row's position and the seed: the same rows go the same way.
        keys = pd.util.hash_pandas_object(
            pd.Series(np.asarray(batch.index)), index=False, hash_key=f"{self.seed:016d}"[-16:]
        ).to_numpy()
        to_a = (keys / np.float64(2**64)) < self.ratio
        if to_a.any():
            yield batch[to_a]
        if (~to_a).any():
            yield pvalue.TaggedOutput("b", batch[~to_a])


def _two_model_metrics(metrics: Any, seconds: float) -> dict[str, Any]:
    """Beam's metrics of models A and B of one run, and the run's wall time."""
    return {
        "a": beam_metrics(metrics, "BeamML_model_a"),
        "b": beam_metrics(metrics, "BeamML_model_b"),
        "pipeline_seconds": round(seconds, 3),
    }


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
) -> ModelComparison:
    """A/B: the same sample through two models, side by side (``a_*`` and ``b_*``).

    With ``split=0.3`` the traffic is split instead: each row goes to A with
    probability 0.3, else to B, and ``model`` says which one answered.

    >>> c = compare_models("penguins.csv", "sklearn:lr.pkl", "sklearn:rf.pkl")  # doctest: +SKIP
    >>> c.agreement                                                            # doctest: +SKIP
    0.97
    """

    spec_a, spec_b = _spec(model_a, features, key), _spec(model_b, features, key)
    if split is not None and not (isinstance(split, int | float) and 0 < split < 1):
        raise BeamMLError.expected("split between 0 and 1", repr(split), "e.g. split=0.5")
    frame, choice = _prepare(
        source, sample, how, seed, device, require_gpu, device_probe, [spec_a, spec_b]
    )
    spec_a.check(frame.columns)
    spec_b.check(frame.columns)

    def build(p: Any) -> dict[str, Any]:
        batches = p | "Sample" >> beam.Create(_batches(frame, batch_rows), reshuffle=False)
        inputs = {"a": batches, "b": batches}
        if split is not None:
            routed = batches | "SplitTraffic" >> beam.ParDo(
                _SplitTraffic(float(split), seed)
            ).with_outputs("b", main="a")
            inputs = {"a": routed.a, "b": routed.b}
        outs: dict[str, Any] = {}
        for name, spec in (("a", spec_a), ("b", spec_b)):
            prefix = "" if split is not None else f"{name}_"
            parts = inputs[name] | f"Model {name.upper()}" >> RunModel(
                spec,
                choice.beam_device,
                prefix=prefix,
                passthrough=False,
                with_errors=True,
                metrics_namespace=f"BeamML_model_{name}",
                flatten=False,
            )
            outs.update({f"{name}_{part}": pcoll for part, pcoll in parts.items()})
        return outs

    out, metrics, seconds = _run(build, options)
    for name in ("a", "b"):
        out[f"{name}_predictions"] += out.pop(f"{name}_retried")
    choice = ran_on(choice, metrics)
    key_col = spec_a.key
    errors = []
    for name in ("a", "b"):
        err = _errors_frame(frame, out[f"{name}_errors"])
        err.insert(0, "model", name)
        errors.append(err)
    if split is None:
        pred_a = _join(frame, out["a_predictions"], key_col, set())
        pred_b = _join(frame, out["b_predictions"], key_col, set())
        b_cols = [c for c in pred_b.columns if c.startswith("b_") and c not in frame.columns]
        predictions = pred_a.join(pred_b[b_cols], how="inner")
        agreement = None
        if "a_prediction" in predictions and "b_prediction" in predictions and len(predictions):
            same = predictions["a_prediction"].to_numpy() == predictions["b_prediction"].to_numpy()
            agreement = round(float(np.mean(same)), 4)
    else:
        parts = []
        for name in ("a", "b"):
            part = _join(frame, out[f"{name}_predictions"], key_col, set())
            part.insert(0, "model", name)
            parts.append(part)
        predictions = pd.concat(parts)
        order = np.argsort(frame.index.get_indexer(predictions.index), kind="stable")
        predictions = predictions.iloc[order]
        agreement = None
    return ModelComparison(
        predictions=predictions,
        device=choice.device,
        device_reason=choice.reason,
        metrics=_two_model_metrics(metrics, seconds),
        errors=pd.concat(errors),
        models={"a": spec_a.to_dict(), "b": spec_b.to_dict()},
        sample_rows=len(frame),
        kind="split" if split is not None else "compare",
        agreement=agreement,
        split=split,
    )


class _Between:
    def __init__(self, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        self.fn = fn

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        result = self.fn(batch)
        if not isinstance(result, pd.DataFrame):
            raise BeamMLError.expected(
                "between= to return a pandas DataFrame", type(result).__name__
            )
        return result


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
) -> InferencePreview:
    """Cascade: model A's output, passed through ``between``, is model B's input.

    A adds ``a_*`` columns to each batch; ``between(batch) -> batch`` (a function
    or an import path; identity by default) may filter rows or derive B's
    features; B adds ``b_*`` columns. ``features`` and ``key`` apply to A.

    >>> cascade("penguins.csv", "sklearn:species.pkl", "sklearn:mass.pkl",
    ...         between=lambda df: df[df.a_prediction == "Gentoo"])  # doctest: +SKIP
    """

    spec_a = _spec(model_a, features, key)
    spec_b = _spec(model_b, None, None)
    fn = _call(between, "between function")
    frame, choice = _prepare(
        source, sample, how, seed, device, require_gpu, device_probe, [spec_a, spec_b]
    )
    spec_a.check(frame.columns)
    spec_b.check()

    def build(p: Any) -> dict[str, Any]:
        batches = p | "Sample" >> beam.Create(_batches(frame, batch_rows), reshuffle=False)
        a_out, a_err = batches | "Model A" >> RunModel(
            spec_a, choice.beam_device, prefix="a_", with_errors=True,
            metrics_namespace="BeamML_model_a",
        )  # fmt: skip
        b_in = a_out
        between_err = None
        if fn is not None:
            b_in, between_err = (
                a_out | "Between" >> beam.Map(_Between(fn)).with_exception_handling()
            )
        b_out, b_err = b_in | "Model B" >> RunModel(
            spec_b, choice.beam_device, prefix="b_", with_errors=True,
            metrics_namespace="BeamML_model_b",
        )  # fmt: skip
        outs = {"predictions": b_out, "a_errors": a_err, "b_errors": b_err}
        if between_err is not None:
            outs["between_errors"] = between_err | "BetweenErrors" >> beam.ParDo(
                _RowErrors("between")
            )
        return outs

    out, metrics, seconds = _run(build, options)
    choice = ran_on(choice, metrics)
    preds = _by_position(out["predictions"])
    predictions = preds.copy()
    if len(preds) and preds.index.max() < len(frame):
        predictions.index = frame.index[preds.index.to_numpy()]
    errors = []
    for name in ("a", "between", "b"):
        if f"{name}_errors" in out:
            err = _errors_frame(frame, out[f"{name}_errors"])
            err.insert(0, "model", name)
            errors.append(err)
    return InferencePreview(
        predictions=predictions,
        device=choice.device,
        device_reason=choice.reason,
        metrics=_two_model_metrics(metrics, seconds),
        errors=pd.concat(errors),
        models={"a": spec_a.to_dict(), "b": spec_b.to_dict()},
        sample_rows=len(frame),
        kind="cascade",
    )


def handler_for(spec: ModelSpec, device: str = "auto", probe: Probe | None = None) -> Any:
    """The Beam handler a preview would build for ``spec`` (and the device choice).

    >>> h, choice = handler_for(SklearnModel(path="m.pkl"), "cpu")  # doctest: +SKIP
    """
    choice = resolve_device(device, probe=probe)
    handler: FrameModelHandler = spec.handler(choice.beam_device)
    return handler, choice
