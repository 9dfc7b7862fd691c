"""Beam's metrics of a real run, read back per model, and the device that really ran."""

import apache_beam as beam
from apache_beam.metrics.metric import Metrics
from beam_ml.inference.device import DeviceChoice
from beam_ml.inference.handlers import DEVICE_NAMESPACE
from beam_ml.inference.metrics import beam_metrics, model_metrics, ran_on


def _run(fn):
    p = beam.Pipeline()
    _ = p | beam.Create([1, 2, 3]) | beam.Map(fn)
    result = p.run()
    result.wait_until_finish()
    return result.metrics()


def _count(name, namespace="BeamML_x"):
    def fn(x):
        Metrics.counter(namespace, name).inc()
        Metrics.distribution(namespace, "inference_request_batch_size").update(x)
        return x

    return fn


def test_counters_add_up_and_batch_sizes_merge():
    metrics = _run(_count("num_inferences"))
    out = beam_metrics(metrics, "BeamML_x", seconds=2.0)
    assert out["num_inferences"] == 3 and out["num_batches"] == 3
    assert (out["batch_size_min"], out["batch_size_mean"], out["batch_size_max"]) == (1, 2.0, 3)
    assert out["pipeline_rows_per_s"] == 1.5
    both = model_metrics(metrics, {"a": "BeamML_x", "b": "BeamML_none"}, 2.0)
    assert both["a"]["num_inferences"] == 3 and both["b"]["num_inferences"] == 0
    assert both["pipeline_seconds"] == 2.0


def test_when_beam_ran_a_gpu_model_on_cpu_then_the_choice_says_so():
    gpu = DeviceChoice("auto", "gpu", "asked auto; CUDA available; ran on gpu")
    on_cpu = _run(_count("batches_on_cpu", DEVICE_NAMESPACE))
    assert ran_on(gpu, on_cpu).device == "cpu"
    assert "Beam loaded the model on cpu" in ran_on(gpu, on_cpu).reason
    on_gpu = _run(_count("batches_on_gpu", DEVICE_NAMESPACE))
    assert ran_on(gpu, on_gpu) == gpu
    cpu = DeviceChoice("cpu", "cpu", "asked cpu; ran on cpu")
    assert ran_on(cpu, on_cpu) is cpu and ran_on(gpu, None) is gpu
