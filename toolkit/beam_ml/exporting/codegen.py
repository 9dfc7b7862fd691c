"""A step graph -> one plain Python module that runs the steps as a production pipeline.

``export(session_or_graph, "pipeline.py")`` writes ONE module (and
``requirements.txt`` beside it) that imports only ``apache_beam`` and
``beam_ml``'s engine. It holds:

- a ``PipelineOptions`` subclass with an option per input path, model and
  device (defaults: what the notebook used), ``--output DIR`` and
  ``--output_format jsonl|parquet`` (row outputs);
- ``LOCAL_PATHS``: the options whose defaults are local files (the notebook's
  inputs, models, rules), written relative to the module's own folder and made
  absolute when it runs, so the module finds them from any current folder and
  external workers (which run in folders of their own) get absolute paths;
- the extra source each step needs (a transform's body, verbatim, as
  ``def transform_<step>(df)``);
- ``build_pipeline(p, options)``: every step rebuilt from ``repr()``-written
  literals and applied with the same ``Step.apply`` the notebook preview used,
  under a label named after the step, its outputs written under
  ``<output>/<step>/``;
- ``run(argv=None)`` and ``if __name__ == "__main__": run()``.

It reads the full inputs, never the notebook's sample. The code a step
contributes is the step's own (``module_args``, ``module_source``): nothing
here knows a step kind.

>>> result = export(session, "pipeline.py")           # doctest: +SKIP
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from beam_ml.errors import BeamMLError, one_line
from beam_ml.exporting.paths import portable_defaults
from beam_ml.rendering import HtmlRepr, render
from beam_ml.steps import Step, StepGraph

__all__ = ["ExportResult", "export", "format_source", "render_module", "requirements"]

OPTIONS_CLASS = "PipelineArgs"
BASE_REQUIREMENTS = (
    "apache-beam",
    "pandas",
    "numpy",
    "pyarrow",
    "datasketches",
    "pyyaml",
    "jinja2",
)
_LITERALS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class ExportResult(HtmlRepr):
    """What :func:`export` wrote: the module, its requirements and its options."""

    path: str
    requirements: str
    steps: tuple[str, ...]
    options: dict[str, Any]
    gpu_steps: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "requirements": self.requirements,
            "steps": list(self.steps),
            "options": dict(self.options),
            "gpu_steps": list(self.gpu_steps),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def _text(self) -> str:
        lines = [f"exported {len(self.steps)} steps to {self.path} (+ {self.requirements})"]
        lines += [f"  --{k} (default {v!r})" for k, v in self.options.items()]
        lines.append(f"run: python {self.path} --output OUT_DIR [--runner ...]")
        return "\n".join(lines)

    def to_html(self) -> str:
        return render("export.html", result=self.to_dict())

    def __str__(self) -> str:
        return self._text()


def _graph_of(source: Any) -> StepGraph:
    """A StepGraph from a graph, a Session (GPU previews pin device='gpu') or a notebook."""
    if isinstance(source, StepGraph):
        return source
    if isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".ipynb"):
        from beam_ml.exporting.notebook_file import steps_from_notebook

        return steps_from_notebook(source)
    graph = getattr(source, "graph", None)
    if not isinstance(graph, StepGraph):
        raise BeamMLError.expected(
            "a beam_ml Session, a StepGraph or a saved .ipynb path",
            type(source).__name__,
            "pass the notebook's session, e.g. bml.export(session, 'pipeline.py')",
        )
    pinned = StepGraph()
    for step in graph.steps:
        # The notebook resolved 'auto': if its preview ran on the GPU, so does production.
        if (
            step.uses_device
            and getattr(step, "device", None) == "auto"
            and _preview_device(source, step.name) == "gpu"
        ):
            step = replace(step, device="gpu")  # type: ignore[call-arg]
        pinned.add(step)
    return pinned


def _preview_device(session: Any, name: str) -> str | None:
    try:
        if not session.is_cached(name):
            return None
        return getattr(session.result(name), "device", None)
    except Exception:  # a failed or evicted preview says nothing about the device
        return None


def _literal(value: Any) -> str:
    """``repr(value)`` after checking that it is a plain literal that reads back equal."""
    items = value if isinstance(value, tuple) else (value,)
    if not all(isinstance(v, _LITERALS) for v in items) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise BeamMLError.expected("a literal (text, number, tuple of text)", type(value).__name__)
    text = repr(value)
    if ast.literal_eval(text) != value:
        raise BeamMLError.expected("a value that repr() writes faithfully", text)
    return text


def _option(name: str, suffix: str) -> str:
    return f"{name}_{suffix}"


@dataclass
class _Plan:
    """The options of the module: dest -> (default, help, extra flags)."""

    options: dict[str, tuple[Any, str, tuple[str, ...]]] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(
        self,
        dest: str,
        default: Any,
        help: str,
        aliases: tuple[str, ...] = (),
        choices: tuple[str, ...] = (),
    ) -> str:
        if dest in self.options:
            raise BeamMLError.expected(
                "step names whose pipeline options do not collide",
                f"two options named --{dest}",
                "rename one of the steps",
            )
        self.options[dest] = (default, help, aliases)
        if choices:
            self.choices[dest] = choices
        return f"args.{dest}"


def _beam_option_names() -> set[str]:
    import argparse

    from apache_beam.options.pipeline_options import PipelineOptions

    seen: set[type] = set()
    stack = [PipelineOptions]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    parser = argparse.ArgumentParser(conflict_handler="resolve", add_help=False)
    for cls in seen:
        if cls.__module__.startswith("apache_beam"):
            try:
                cls._add_argparse_args(parser)  # type: ignore[attr-defined]
            except Exception:  # an optional runner's options may fail to register
                continue
    return {a.dest for a in parser._actions}


def _step_call(step: Step, plan: _Plan, reads: int) -> tuple[str, str]:
    """The expression rebuilding ``step`` (options where the step says) and its extra source."""

    def option(
        suffix: str, default: Any, help: str, choices: tuple[str, ...] = (), input: bool = False
    ) -> str:
        # the one input of a one-read graph is also --input
        aliases = ("--input",) if input and reads == 1 else ()
        return plan.add(f"{step.name}_{suffix}", default, help, aliases, choices)

    special = step.module_args(option)
    parts = [f"{k}={_literal(v)}" for k, v in step.keywords().items() if k not in special]
    parts += [f"{k}={v}" for k, v in special.items() if v is not None]
    extra, suffix = step.module_source()
    return f"{type(step).__name__}({', '.join(parts)}){suffix}", extra


def _used_globals(graph: StepGraph) -> list[str]:
    used: set[str] = set()
    for step in graph.steps:
        used |= getattr(step, "body_globals_used", set)()
    return sorted(used)


def render_module(
    graph: StepGraph,
    output_format: str = "jsonl",
    *,
    bases: list[Path] | None = None,
    module_dir: Path | None = None,
) -> tuple[str, dict[str, Any]]:
    """The source of the pipeline module for ``graph`` (not yet formatted) and its options.

    ``bases``: the folders the notebook's relative paths are read from (its own folder,
    then the current one); with ``module_dir`` (where the module goes) each default that
    names a local file there is written relative to the module (see ``LOCAL_PATHS``).
    """
    from beam_ml.steps.outputs import OUTPUT_FORMATS, check_output_format

    if not len(graph):
        raise BeamMLError.expected("at least one step to export", "none", "read a dataset first")
    check_output_format(output_format)
    plan = _Plan()
    reads = sum(not s.inputs() for s in graph.steps)
    built = [_step_call(step, plan, reads) for step in graph.steps]
    calls = [call for call, _ in built]
    plan.add("output", "output", "folder (or gs://, s3://...) for the outputs of every step")
    plan.add(
        "output_format",
        output_format,
        "file format of row outputs (profiles and reports are JSON either way)",
        choices=OUTPUT_FORMATS,
    )
    local = portable_defaults(plan.options, bases, module_dir) if bases and module_dir else []
    clash = sorted(set(plan.options) & _beam_option_names())
    if clash:
        raise BeamMLError.expected(
            "step names whose options differ from Beam's own",
            ", ".join(f"--{c}" for c in clash),
            "rename the step",
        )
    kinds = sorted({type(s).__name__ for s in graph.steps})
    imports = ["import argparse", "import logging", "import os", "import sys", ""]
    imports.append("import apache_beam as beam")
    imports.append("from apache_beam.options.pipeline_options import PipelineOptions")
    imports.append(f"from beam_ml.steps import {', '.join([*kinds, 'write_outputs'])}")
    extra = {"np": "import numpy as np", "pd": "import pandas as pd"}
    imports += [extra[name] for name in _used_globals(graph)]
    layout = _layout_doc(graph)
    options_src = []
    for dest, (default, help_text, aliases) in plan.options.items():
        flags = ", ".join(_literal(f) for f in (f"--{dest}", *aliases))
        choices = f", choices={_literal(plan.choices[dest])}" if dest in plan.choices else ""
        options_src.append(
            f"        parser.add_argument({flags}, default={_literal(default)}{choices}, "
            f"help={_literal(help_text)})"
        )
    functions = [extra for _, extra in built if extra]
    summary = textwrap.fill(
        "Steps, in order: " + ", ".join(f"{s.name} ({s.kind})" for s in graph.steps) + ".", 88
    )
    steps_src = "\n".join(f"        {c}," for c in calls)
    source = f'''"""Apache Beam pipeline exported by beam-ml-toolkit from a notebook's steps.

{summary}

Run it (the defaults are the inputs, models and devices the notebook used; a default
path is read relative to this file's folder, a path given here relative to the current
folder)::

    python pipeline.py --output out
    python pipeline.py --output out --output_format parquet
    python pipeline.py --output out --direct_num_workers=2 --direct_running_mode=multi_processing
    python pipeline.py --runner DataflowRunner --project PROJECT --region REGION \\
        --temp_location gs://BUCKET/tmp --output gs://BUCKET/out \\
        --extra_package dist/beam_ml_toolkit-VERSION.tar.gz

Outputs, one folder per step under --output:

{layout}
"""

{chr(10).join(imports)}


class {OPTIONS_CLASS}(PipelineOptions):
    """Inputs, models and devices of the steps, and where the outputs go."""

    @classmethod
    def _add_argparse_args(cls, parser):
{chr(10).join(options_src)}


# Options whose defaults are local files, relative to this module's folder: their defaults.
LOCAL_PATHS = {{{", ".join(f"{_literal(d)}: {_literal(plan.options[d][0])}" for d in local)}}}


{(chr(10) + chr(10)).join(functions)}

def absolute_paths(args):
    """Make each LOCAL_PATHS option absolute: a default against this module's folder, a
    path given on the command line against the current folder (workers run elsewhere)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for dest, default in LOCAL_PATHS.items():
        value = getattr(args, dest)
        kind, sep, rest = value.partition(":")
        spec = sep and kind.isidentifier() and not rest.startswith("//")
        path = rest if spec else value
        if "://" in value or os.path.isabs(path):
            continue
        path = os.path.abspath(os.path.join(here if value == default else os.getcwd(), path))
        setattr(args, dest, f"{{kind}}:{{path}}" if spec else path)


def build_pipeline(p, options):
    """Apply every step under a label named after it; write its outputs."""
    args = options.view_as({OPTIONS_CLASS})
    steps = [
{steps_src}
    ]
    outputs = {{}}
    for step in steps:
        inputs = {{name: outputs[name] for name in step.inputs()}}
        outputs[step.name] = step.apply(p, inputs)
        write_outputs(step, outputs[step.name], args.output, args.output_format)
    return outputs


def run(argv=None):
    """Build the pipeline from the command line's options and run it to the end."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "-h" in argv or "--help" in argv:
        # PipelineOptions would list only -h: show this module's own options and defaults
        parser = argparse.ArgumentParser(
            description=__doc__.split("\\n\\n")[0],
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        {OPTIONS_CLASS}._add_argparse_args(parser)
        parser.print_help()
        print("\\nAny other Beam pipeline option is passed to the runner (e.g. --runner).")
        return
    options = PipelineOptions(argv)
    absolute_paths(options.view_as({OPTIONS_CLASS}))
    with beam.Pipeline(options=options) as p:
        build_pipeline(p, options)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
'''
    options = {dest: default for dest, (default, _, _) in plan.options.items()}
    return source, options


def _layout_doc(graph: StepGraph) -> str:
    lines = []
    for step in graph.steps:
        files = ", ".join(step.files)
        lines.append(f"    {step.name}/  {files}")
    lines.append("")
    lines.append("(rows as <stem>-*.parquet with --output_format parquet; bad records stay .jsonl)")
    return "\n".join(lines)


def _check_module(source: str, graph: StepGraph) -> None:
    """The module parses, and no text from the notebook escaped into module-level code."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:  # a bug here, never the user's input (that was checked)
        raise BeamMLError.expected("generated code that parses", one_line(str(error))) from None
    allowed = {"absolute_paths", "build_pipeline", "run"}
    for step in graph.steps:
        extra = step.module_source()[0]
        allowed |= {n.name for n in ast.parse(extra).body if isinstance(n, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name not in allowed:
            raise BeamMLError.expected("only the generated functions", node.name)


def _ruff() -> str | None:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else shutil.which("ruff")


def format_source(source: str) -> str:
    """Sort the imports and ``ruff format`` the source (when ruff is installed)."""
    ruff = _ruff()
    if ruff is None:
        return source
    common = ["--isolated", "--line-length", "100", "--stdin-filename", "pipeline.py", "-"]
    for command in (["check", "--select", "I", "--fix", "--quiet"], ["format"]):
        done = subprocess.run(
            [ruff, *command, *common], input=source, capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and done.stdout:
            source = done.stdout
    return source


def requirements(graph: StepGraph) -> list[str]:
    """Pinned requirements: the versions installed now, plus what the models need."""
    names = list(BASE_REQUIREMENTS)
    needs: set[str] = set()
    for step in graph.steps:
        needs |= step.requirements()
    names += sorted(needs)
    names.append("beam-ml-toolkit")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            if name == "beam-ml-toolkit":
                import beam_ml

                pins.append(f"{name}=={beam_ml.__version__}")
    return pins


def export(
    source: Any,
    path: str | os.PathLike[str] = "pipeline.py",
    output_format: str = "jsonl",
    streaming: bool = False,
) -> ExportResult:
    """Write the steps of a session (or a StepGraph, or a saved .ipynb) as a pipeline module.

    Writes ``path`` and ``requirements.txt`` beside it; runs nothing. ``output_format``
    (``"jsonl"`` or ``"parquet"``) is the module's default for row outputs. Defaults that
    name local files (read from the notebook's folder, then the current one) are written
    relative to the module's folder, so it runs from anywhere.

    >>> result = export(session, "pipeline.py")      # doctest: +SKIP
    >>> print(result)                                 # doctest: +SKIP
    exported 3 steps to pipeline.py (+ requirements.txt)
    """
    if streaming:  # a streaming module (beam_ml.exporting.streaming) from the same steps
        from beam_ml.exporting.streaming import export_streaming

        return export_streaming(source, path)
    graph = _graph_of(source)
    target = Path(os.fspath(path))
    if target.suffix != ".py" or not target.stem.isidentifier():
        raise BeamMLError.expected(
            "a module path ending in .py whose name is a Python name",
            repr(os.fspath(path)),
            "e.g. pipeline.py",
        )
    bases = [Path.cwd()]
    if isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".ipynb"):
        bases.insert(0, Path(os.fspath(source)).resolve().parent)
    code, options = render_module(
        graph, output_format, bases=bases, module_dir=target.resolve().parent
    )
    code = format_source(code)
    _check_module(code, graph)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code, encoding="utf-8")
    reqs = target.with_name("requirements.txt")
    header = (
        "# Pinned to the versions the notebook ran with (written by beam-ml export).\n"
        "# beam-ml-toolkit is installed from its sdist: pip install dist/beam_ml_toolkit-*.tar.gz\n"
        "# locally, or --extra_package dist/beam_ml_toolkit-*.tar.gz for a remote runner.\n"
    )
    reqs.write_text(header + "\n".join(requirements(graph)) + "\n", encoding="utf-8")
    gpu = tuple(s.name for s in graph.steps if getattr(s, "resource_hint", lambda: None)())
    return ExportResult(
        path=str(target),
        requirements=str(reqs),
        steps=tuple(s.name for s in graph.steps),
        options=options,
        gpu_steps=gpu,
    )
