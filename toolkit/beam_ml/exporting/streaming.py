"""A step graph -> a streaming pipeline module: the same steps, per window of landed files.

``export(graph, "stream.py", streaming=True)`` (``beam-ml export NB --streaming``,
``%beam_ml export stream.py --streaming``) writes one module, like the batch
export, whose ``build_pipeline`` hands the steps to
:func:`beam_ml.streaming.build_streaming`. Its options are the batch module's
(every input path, model and device) plus the stream's:

- ``--window 60s`` (fixed windows; ``--every 15s`` makes them sliding),
  ``--allowed_lateness``;
- ``--<read>_event_time COL`` (else rows take the time their file was found),
  ``--poll_interval``;
- ``--<step>_model_pattern 'models/*.pkl'`` for each one-model step: a new file
  matching it replaces the model while the pipeline runs (``model_id`` per row);
- ``--stop_after 10m``: the bounded mode (tests, backfills) — stop watching
  then, close every window, write, exit.

The streamed read keeps the columns and reading options seen at export
(``schema``, a detected delimiter), since the folder it watches may start empty.

>>> export(graph, "stream.py", streaming=True)            # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from beam_ml.errors import BeamMLError, one_line
from beam_ml.exporting.codegen import (
    OPTIONS_CLASS,
    ExportResult,
    _beam_option_names,
    _check_module,
    _graph_of,
    _literal,
    _Plan,
    _step_call,
    _used_globals,
    format_source,
    requirements,
)
from beam_ml.rendering import render
from beam_ml.steps import StepGraph

__all__ = ["StreamingExportResult", "export_streaming", "render_streaming_module", "stream_graph"]


@dataclass(frozen=True)
class StreamingExportResult(ExportResult):
    """What a streaming export wrote; ``streamed``: the read steps it watches."""

    streamed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "streaming": True, "streamed": list(self.streamed)}

    def _text(self) -> str:
        lines = [
            f"exported {len(self.steps)} steps as a streaming pipeline to {self.path} "
            f"(+ {self.requirements}); watching {', '.join(self.streamed)}"
        ]
        lines += [f"  --{k} (default {v!r})" for k, v in self.options.items()]
        lines.append(
            f"run: python {self.path} --output OUT_DIR --runner PrismRunner [--stop_after 10m]"
        )
        return "\n".join(lines)

    def to_html(self) -> str:
        return render("export_streaming.html", result=self.to_dict())


def _learned(step: Any) -> tuple[str, Any]:
    """The columns (as JSON {column: dtype}) and resolved options of the files there now."""
    from beam_ml.sources import proxy

    try:
        resolved = step.source().resolved()
        empty = proxy(resolved)
    except BeamMLError as error:
        raise BeamMLError.expected(
            f"a file matching {step.path!r} to learn the columns of stream {step.name!r}",
            one_line(str(error), 160),
            "export while one sample file is there (the module may then watch an empty folder)",
        ) from None
    return json.dumps({str(c): str(t) for c, t in empty.dtypes.items()}), resolved


def stream_graph(graph: StepGraph) -> tuple[StepGraph, list[str]]:
    """The graph with its streamed reads marked ``watch`` and their columns and options fixed."""
    from beam_ml.streaming import streamed_reads

    streamed = streamed_reads(graph.steps)
    out = StepGraph()
    for step in graph.steps:
        if step.name in streamed:
            schema, resolved = _learned(step)
            changes: dict[str, Any] = {"watch": True}
            if getattr(step, "schema", None) is None:
                changes["schema"] = schema
            if getattr(step, "delimiter", "") is None and resolved.delimiter is not None:
                changes["delimiter"] = resolved.delimiter
            step = replace(step, **changes)
        out.add(step)
    return out, streamed


_STREAM_OPTIONS = (
    ("window", "window size (60s, 5m...): rows are grouped into fixed windows of it"),
    ("every", "sliding period: windows of --window starting every --every (default: fixed)"),
    ("allowed_lateness", "how late (event time) a row may still count (default 0: dropped)"),
    ("poll_interval", "how often the watched patterns are listed"),
    ("stop_after", "stop watching after this long, close every window and exit (default: never)"),
    ("model_refresh", "how new models arrive: side_input (WatchFilePattern), poll, or auto"),
)


def render_streaming_module(graph: StepGraph) -> tuple[str, dict[str, Any], list[str]]:
    """The source of the streaming module for ``graph``, its options and its streamed reads."""
    from beam_ml.streaming import refreshable

    if not len(graph):
        raise BeamMLError.expected("at least one step to export", "none", "read a dataset first")
    graph, streamed = stream_graph(graph)
    plan = _Plan()
    reads = sum(not s.inputs() for s in graph.steps)
    built = [_step_call(step, plan, reads) for step in graph.steps]
    window = next((s.window for s in graph.steps if getattr(s, "window", None)), None)  # type: ignore[attr-defined]
    defaults = {"window": window or "60s", "poll_interval": "1s", "model_refresh": "auto"}
    for name, help_text in _STREAM_OPTIONS:
        plan.add(name, defaults.get(name), help_text)
    event = {}
    for name in streamed:
        step = graph.get(name)
        event[name] = plan.add(
            f"{name}_event_time",
            getattr(step, "event_time", None),
            f"event-time column of stream {name} (default: the time each file is found)",
        )
    patterns = {}
    for step in graph.steps:
        if refreshable(step):
            patterns[step.name] = plan.add(
                f"{step.name}_model_pattern",
                None,
                f"file pattern of new models for step {step.name} (each new file replaces it)",
            )
    plan.add("output", "output", "folder for the outputs of every step, one folder per window")
    clash = sorted(set(plan.options) & _beam_option_names())
    if clash:
        raise BeamMLError.expected(
            "step names whose options differ from Beam's own",
            ", ".join(f"--{c}" for c in clash),
            "rename the step",
        )
    kinds = sorted({type(s).__name__ for s in graph.steps})
    imports = [
        "import argparse",
        "import logging",
        "import sys",
        "",
        "import apache_beam as beam",
        "from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions",
        f"from beam_ml.steps import {', '.join(kinds)}",
        "from beam_ml.streaming import StreamSettings, build_streaming",
    ]
    extra = {"np": "import numpy as np", "pd": "import pandas as pd"}
    imports += [extra[name] for name in _used_globals(graph)]
    options_src = []
    for dest, (default, help_text, aliases) in plan.options.items():
        flags = ", ".join(_literal(f) for f in (f"--{dest}", *aliases))
        options_src.append(
            f"        parser.add_argument({flags}, default={_literal(default)}, "
            f"help={_literal(help_text)})"
        )
    functions = [src for _, src in built if src]
    summary = textwrap.fill(
        "Steps, in order: " + ", ".join(f"{s.name} ({s.kind})" for s in graph.steps) + ".", 88
    )
    layout = "\n".join(
        f"    {s.name}/window=START/  {', '.join(f.replace('-*', '') for f in s.files)}"
        for s in graph.steps
    )
    steps_src = "\n".join(f"        {call}," for call, _ in built)
    event_src = ", ".join(f"{_literal(n)}: {e}" for n, e in event.items())
    pattern_src = ", ".join(f"{_literal(n)}: {e}" for n, e in patterns.items())
    source = f'''"""Streaming Apache Beam pipeline exported by beam-ml-toolkit from notebook steps.

{summary}

It watches {", ".join(streamed)} for new files and runs every step per window. Run it on
Prism (or Flink, Dataflow: any runner with splittable DoFns)::

    python stream.py --output out --runner PrismRunner --window 60s
    python stream.py --output out --runner PrismRunner --stop_after 10m   # bounded

Outputs, one folder per window (written as the window closes) under each step's:

{layout}
"""

{chr(10).join(imports)}


class {OPTIONS_CLASS}(PipelineOptions):
    """Inputs, models, devices, windows of the stream, and where the outputs go."""

    @classmethod
    def _add_argparse_args(cls, parser):
{chr(10).join(options_src)}


{(chr(10) + chr(10)).join(functions)}

def build_pipeline(p, options):
    """Apply every step to the stream; write each step's outputs per window."""
    args = options.view_as({OPTIONS_CLASS})
    steps = [
{steps_src}
    ]
    settings = StreamSettings(
        window=args.window,
        every=args.every,
        lateness=args.allowed_lateness,
        poll=args.poll_interval,
        model_poll=args.poll_interval,
        stop_after=args.stop_after,
        model_refresh=args.model_refresh,
        event_time={{k: v for k, v in {{{event_src}}}.items() if v}},
        model_patterns={{k: v for k, v in {{{pattern_src}}}.items() if v}},
    )
    return build_streaming(p, steps, settings, args.output, streamed={_literal(tuple(streamed))})


def run(argv=None):
    """Build the pipeline from the command line's options and run it (streaming)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "-h" in argv or "--help" in argv:
        parser = argparse.ArgumentParser(
            description=__doc__.split("\\n\\n")[0],
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        {OPTIONS_CLASS}._add_argparse_args(parser)
        parser.print_help()
        print("\\nAny other Beam pipeline option is passed to the runner (e.g. --runner).")
        return
    options = PipelineOptions(argv)
    options.view_as(StandardOptions).streaming = True
    with beam.Pipeline(options=options) as p:
        build_pipeline(p, options)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
'''
    options = {dest: default for dest, (default, _, _) in plan.options.items()}
    return source, options, streamed


def export_streaming(
    source: Any, path: str | os.PathLike[str] = "stream.py"
) -> StreamingExportResult:
    """Write the steps of a session, StepGraph or saved .ipynb as a streaming module.

    Writes ``path`` and ``requirements.txt`` beside it; runs nothing.

    >>> print(export_streaming(session, "stream.py"))     # doctest: +SKIP
    exported 4 steps as a streaming pipeline to stream.py (+ requirements.txt); watching orders
    """
    graph = _graph_of(source)
    target = Path(os.fspath(path))
    if target.suffix != ".py" or not target.stem.isidentifier():
        raise BeamMLError.expected(
            "a module path ending in .py whose name is a Python name",
            repr(os.fspath(path)),
            "e.g. stream.py",
        )
    code, options, streamed = render_streaming_module(graph)
    code = format_source(code)
    _check_module(code, graph)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code, encoding="utf-8")
    reqs = target.with_name("requirements.txt")
    header = "# Pinned to the versions the notebook ran with (written by beam-ml export).\n"
    reqs.write_text(header + "\n".join(requirements(graph)) + "\n", encoding="utf-8")
    return StreamingExportResult(
        path=str(target),
        requirements=str(reqs),
        steps=tuple(s.name for s in graph.steps),
        options=options,
        streamed=tuple(streamed),
    )
