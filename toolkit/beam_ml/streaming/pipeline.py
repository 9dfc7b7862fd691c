"""A step graph as a streaming pipeline: the same steps, on windows of the files that land.

:func:`build_streaming` applies each step as the batch module does, except that
the streamed read steps watch their pattern (``Step.apply_streaming``) and a
model step given a model pattern refreshes its model (:class:`RefreshedInfer`).
Every step downstream of a streamed read therefore runs per window: the
transform body through Beam's DataFrame API, the profile (no output for an
empty window), the validation with its drift per window and its quarantine,
inference. A step that reads no stream (a reference dataset) runs once, in
the global window, and is written as in a batch module.

>>> outputs = build_streaming(p, steps, settings, "out", streamed={"orders"})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.steps import write_outputs
from beam_ml.steps.base import batches_of
from beam_ml.streaming.models import RefreshedInfer
from beam_ml.streaming.windows import StreamSettings
from beam_ml.streaming.writing import write_windows


def streamed_reads(steps: Iterable[Any]) -> list[str]:
    """The source steps a streaming run watches: those marked ``watch``, else the first."""
    sources = [s for s in steps if not s.inputs()]
    if not sources:
        raise BeamMLError.expected("a read step to stream", "none", "read a dataset first")
    watched = [s.name for s in sources if getattr(s, "watch", False)]
    return watched or [sources[0].name]


def refreshable(step: Any) -> bool:
    """Whether a step runs exactly one model (so a model pattern can refresh it)."""
    paths = getattr(step, "model_paths", None)
    return callable(paths) and len(paths()) == 1


def _is_windowed(result: Any) -> bool:
    from apache_beam.transforms.window import GlobalWindows

    main = batches_of(result) if isinstance(result, dict) else result
    windowing = getattr(main, "windowing", None)
    return windowing is not None and windowing.windowfn != GlobalWindows()


def _runner(pipeline: Any) -> Any:
    from apache_beam.options.pipeline_options import StandardOptions

    options = getattr(pipeline, "_options", None)
    named = options.view_as(StandardOptions).runner if options is not None else None
    return named or getattr(pipeline, "runner", None)


def build_streaming(
    pipeline: Any,
    steps: Iterable[Any],
    settings: StreamSettings,
    output: str,
    streamed: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Apply every step to the stream, writing each step's outputs per window."""
    import time
    from dataclasses import replace

    from apache_beam.utils.timestamp import Timestamp

    if settings.started is None:  # one start for the source, the stop and the models
        settings = replace(settings, started=time.time())
    steps = list(steps)
    watched = set(streamed_reads(steps) if streamed is None else streamed)
    until = settings.stop_time()
    stop = None if until is None else Timestamp.of(until)
    unknown = sorted(set(settings.model_patterns) - {s.name for s in steps if refreshable(s)})
    if unknown:
        raise BeamMLError.expected(
            "model patterns for steps that run one model", ", ".join(unknown)
        )
    single = [s.name for s in steps if "report.json" in s.files]
    if settings.allowed_lateness and single:
        raise BeamMLError.expected(
            "no allowed lateness with a validation (one report per window)",
            f"--allowed_lateness {settings.allowed_lateness:g}s with {', '.join(single)}",
            "drop --allowed_lateness: rows after their window closed are then dropped",
        )
    outputs: dict[str, Any] = {}
    for step in steps:
        inputs = {name: outputs[name] for name in step.inputs()}
        if step.name in watched:
            result = step.apply_streaming(pipeline, settings)
        elif step.name in settings.model_patterns:
            source = batches_of(inputs[step.inputs()[0]])
            result = source | step.name >> RefreshedInfer(
                step.specs()[0],
                settings.model_patterns[step.name],
                step.beam_device(),
                poll=settings.model_poll,
                stop=stop,
                side_input=settings.refresh_by_side_input(_runner(pipeline)),
                since=settings.started,
            )
        else:
            result = step.apply(pipeline, inputs)
        outputs[step.name] = result
        if _is_windowed(result):
            write_windows(step, result, output)
        else:
            write_outputs(step, result, output)
    return outputs
