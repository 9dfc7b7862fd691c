"""Export a notebook's steps as a production Beam pipeline module, and check parity.

``export(session_or_graph, "pipeline.py")`` writes ONE plain Python module (and
``requirements.txt`` beside it) that imports only ``apache_beam`` and
``beam_ml``'s engine. It holds:

- a ``PipelineOptions`` subclass with an option per input path, model and
  device (defaults: what the notebook used) and ``--output DIR``;
- one ``def transform_<step>(df)`` per transform step: the cell body verbatim;
- ``build_pipeline(p, options)``: every step rebuilt from ``repr()``-written
  literals and applied with the same ``Step.apply`` the notebook preview used,
  under a label named after the step, its outputs written under
  ``<output>/<step>/`` (see :data:`beam_ml.steps.core.OUTPUT_LAYOUT`);
- ``run(argv=None)`` and ``if __name__ == "__main__": run()``.

It reads the full inputs, never the notebook's sample. :func:`check` runs the
exported module on the notebook's sample and compares each step's output with
the notebook's preview: the same rows (any order) for transforms and
predictions, equal profiles within the sketches' bounds, the same validation
verdicts.

>>> import beam_ml as bml
>>> result = bml.export(session, "pipeline.py")           # doctest: +SKIP
>>> report = check("explore.ipynb")                       # doctest: +SKIP
>>> report.passed                                         # doctest: +SKIP
True
"""

from __future__ import annotations

import ast
import html
import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from beam_ml.errors import BeamMLError, check_positive_int, one_line
from beam_ml.steps.core import (
    BODY_GLOBALS,
    DEVICES,
    CompareStep,
    InferStep,
    ProfileStep,
    ReadStep,
    Step,
    StepGraph,
    TransformStep,
    ValidateStep,
    _is_step_ref,
    body_function_ast,
    parse_body,
)

__all__ = ["ExportResult", "ParityReport", "StepParity", "check", "export", "render_module"]

OPTIONS_CLASS = "PipelineArgs"
BASE_REQUIREMENTS = (
    "apache-beam",
    "pandas",
    "numpy",
    "pyarrow",
    "datasketches",
    "pyyaml",
)
_LITERALS = (str, int, float, bool, type(None))
StepParityArgs = tuple[bool, str]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ExportResult:
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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        data = self.to_dict()
        rows = "".join(
            f"<tr><td><code>--{html.escape(k)}</code></td><td>{html.escape(repr(v))}</td></tr>"
            for k, v in data["options"].items()
        )
        page = (
            f"<div class='beam-ml-export'><b>exported {len(data['steps'])} steps</b> to "
            f"<code>{html.escape(data['path'])}</code> (+ "
            f"<code>{html.escape(data['requirements'])}</code>)"
            f"<table><tr><th>option</th><th>default</th></tr>{rows}</table>"
            f"<p>run: <code>python {html.escape(data['path'])} --output OUT_DIR</code></p></div>"
        )
        return {"text/plain": self._text(), "text/html": page}

    def __str__(self) -> str:
        return self._text()


@dataclass(frozen=True)
class StepParity:
    """One step's comparison: exported module output vs notebook preview."""

    step: str
    kind: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "kind": self.kind, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class ParityReport:
    """The result of :func:`check`: one :class:`StepParity` per step."""

    module: str
    sample: int
    steps: tuple[StepParity, ...]
    seconds: float = 0.0
    log: str = field(default="", repr=False)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "module": self.module,
            "sample": self.sample,
            "seconds": round(self.seconds, 2),
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def _text(self) -> str:
        lines = [f"parity of {self.module} on a {self.sample}-row sample:"]
        for s in self.steps:
            mark = "ok  " if s.passed else "DIFF"
            lines.append(f"  {mark} {s.step} ({s.kind}): {s.detail}")
        lines.append("parity: " + ("yes" if self.passed else "NO - see the DIFF lines"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(
            f"<tr><td>{html.escape(s['step'])}</td><td>{html.escape(s['kind'])}</td>"
            f"<td>{'ok' if s['passed'] else 'DIFF'}</td><td>{html.escape(s['detail'])}</td></tr>"
            for s in self.to_dict()["steps"]
        )
        page = (
            f"<div class='beam-ml-parity'><b>parity: {'yes' if self.passed else 'NO'}</b>"
            f"<table><tr><th>step</th><th>kind</th><th></th><th>detail</th></tr>{rows}</table>"
            "</div>"
        )
        return {"text/plain": self._text(), "text/html": page}


# --------------------------------------------------------------------------- the graph


def _graph_of(source: Any) -> StepGraph:
    """A StepGraph from a graph, a Session (GPU previews pin device='gpu') or a notebook."""
    if isinstance(source, StepGraph):
        return source
    if isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".ipynb"):
        from beam_ml.steps.forms import steps_from_notebook

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
            isinstance(step, InferStep | CompareStep)
            and step.device == "auto"
            and _preview_device(source, step.name) == "gpu"
        ):
            step = replace(step, device="gpu")
        pinned.add(step)
    return pinned


def _preview_device(session: Any, name: str) -> str | None:
    try:
        if not session.is_cached(name):
            return None
        return getattr(session.result(name), "device", None)
    except Exception:  # a failed or evicted preview says nothing about the device
        return None


# --------------------------------------------------------------------------- code


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


def _step_call(step: Step, plan: _Plan, reads: int) -> str:
    """Source of the expression that rebuilds ``step`` (with options where they belong)."""
    args: dict[str, str] = {}
    keywords = step.keywords()
    n = step.name
    if isinstance(step, ReadStep):
        aliases = ("--input",) if reads == 1 else ()
        fmt = f" ({step.format})" if step.format else ""
        keywords.pop("path")
        args["path"] = plan.add(_option(n, "path"), step.path, f"input of step {n}{fmt}", aliases)
    elif isinstance(step, TransformStep):
        keywords.pop("body", None)
    elif isinstance(step, ValidateStep):
        if step.rules is not None:
            keywords.pop("rules")
            args["rules"] = plan.add(_option(n, "rules"), step.rules, f"rules YAML of step {n}")
        if step.reference is not None and not _is_step_ref(step.reference):
            keywords.pop("reference")
            args["reference"] = plan.add(
                _option(n, "reference"), step.reference, f"reference profile JSON of step {n}"
            )
    elif isinstance(step, InferStep | CompareStep):
        if isinstance(step, InferStep):
            keywords.pop("model")
            args["model"] = plan.add(_option(n, "model"), step.model, f"model of step {n}")
        else:
            keywords.pop("models")
            dests = [
                plan.add(_option(n, f"model_{p.rstrip('_')}"), m, f"model {p.rstrip('_')} of {n}")
                for p, m in zip(step.prefixes(), step.models, strict=True)
            ]
            args["models"] = "(" + ", ".join(dests) + ",)"
        keywords.pop("device", None)
        keywords.pop("accelerator", None)
        args["device"] = plan.add(
            _option(n, "device"), step.device, f"device of step {n}", choices=DEVICES
        )
        accelerator = step.resource_hint() or step.accelerator
        args["accelerator"] = plan.add(
            _option(n, "accelerator"),
            accelerator,
            f"accelerator resource hint of step {n} (used when its device is gpu)",
        )
    parts = [f"{k}={_literal(v)}" for k, v in keywords.items()]
    parts += [f"{k}={v}" for k, v in args.items()]
    call = f"{type(step).__name__}({', '.join(parts)})"
    if isinstance(step, TransformStep):
        call += f".using(transform_{n})"
    return call


def _function_source(step: TransformStep) -> str:
    """``def transform_<name>(df):`` + the body verbatim + ``return df``.

    The body is indented as text when that keeps its meaning exactly (checked on
    the AST: multi-line strings or tabs could change); otherwise it is written
    back from its AST. Either way the body cannot leave its function.
    """
    name = f"transform_{step.name}"
    wanted = ast.dump(body_function_ast(step.body, name))
    text = f"def {name}(df):\n"
    body = step.body.strip("\n")
    if body.strip():
        text += textwrap.indent(body, "    ", lambda line: True) + "\n"
    text += "    return df\n"
    try:
        if ast.dump(ast.parse(text)) == wanted:
            return text
    except SyntaxError:
        pass
    return ast.unparse(body_function_ast(step.body, name)) + "\n"


def _used_globals(graph: StepGraph) -> list[str]:
    used: set[str] = set()
    for step in graph.steps:
        if isinstance(step, TransformStep):
            for node in ast.walk(parse_body(step.body)):
                if isinstance(node, ast.Name) and node.id in BODY_GLOBALS:
                    used.add(node.id)
    return sorted(used)


def render_module(graph: StepGraph) -> tuple[str, dict[str, Any]]:
    """The source of the pipeline module for ``graph`` (not yet formatted) and its options."""
    if not len(graph):
        raise BeamMLError.expected("at least one step to export", "none", "read a dataset first")
    plan = _Plan()
    reads = sum(isinstance(s, ReadStep) for s in graph.steps)
    calls = [_step_call(step, plan, reads) for step in graph.steps]
    plan.add("output", "output", "folder (or gs://, s3://...) for the outputs of every step")
    clash = sorted(set(plan.options) & _beam_option_names())
    if clash:
        raise BeamMLError.expected(
            "step names whose options differ from Beam's own",
            ", ".join(f"--{c}" for c in clash),
            "rename the step",
        )
    kinds = sorted({type(s).__name__ for s in graph.steps})
    imports = ["import logging", "", "import apache_beam as beam"]
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
    functions = [_function_source(s) for s in graph.steps if isinstance(s, TransformStep)]
    summary = textwrap.fill(
        "Steps, in order: " + ", ".join(f"{s.name} ({s.kind})" for s in graph.steps) + ".", 88
    )
    steps_src = "\n".join(f"        {c}," for c in calls)
    source = f'''"""Apache Beam pipeline exported by beam-ml-toolkit from a notebook's steps.

{summary}

Run it (the defaults are the inputs, models and devices the notebook used; relative
paths are read from the current folder)::

    python pipeline.py --output out
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


{(chr(10) + chr(10)).join(functions)}

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
        write_outputs(step, outputs[step.name], args.output)
    return outputs


def run(argv=None):
    """Build the pipeline from the command line's options and run it to the end."""
    options = PipelineOptions(argv)
    with beam.Pipeline(options=options) as p:
        build_pipeline(p, options)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
'''
    options = {dest: default for dest, (default, _, _) in plan.options.items()}
    return source, options


def _layout_doc(graph: StepGraph) -> str:
    from beam_ml.steps.core import OUTPUT_LAYOUT

    lines = []
    for step in graph.steps:
        files = ", ".join(OUTPUT_LAYOUT.get(step.kind, []))
        lines.append(f"    {step.name}/  {files}")
    return "\n".join(lines)


def _check_module(source: str, graph: StepGraph) -> None:
    """The module parses, and no text from the notebook escaped into module-level code."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:  # a bug here, never the user's input (that was checked)
        raise BeamMLError.expected("generated code that parses", one_line(str(error))) from None
    allowed = {f"transform_{s.name}" for s in graph.steps if isinstance(s, TransformStep)}
    allowed |= {"build_pipeline", "run"}
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
    kinds = set()
    for step in graph.steps:
        if isinstance(step, InferStep):
            kinds.add(step.spec().kind)
        if isinstance(step, CompareStep):
            kinds.update(s.kind for s in step.specs())
    if "sklearn" in kinds:
        names.append("scikit-learn")
    if "pytorch" in kinds:
        names.append("torch")
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


def export(source: Any, path: str | os.PathLike[str] = "pipeline.py") -> ExportResult:
    """Write the steps of a session (or a StepGraph, or a saved .ipynb) as a pipeline module.

    Writes ``path`` and ``requirements.txt`` beside it; runs nothing.

    >>> result = export(session, "pipeline.py")      # doctest: +SKIP
    >>> print(result)                                 # doctest: +SKIP
    exported 3 steps to pipeline.py (+ requirements.txt)
    """
    graph = _graph_of(source)
    target = Path(os.fspath(path))
    if target.suffix != ".py" or not target.stem.isidentifier():
        raise BeamMLError.expected(
            "a module path ending in .py whose name is a Python name",
            repr(os.fspath(path)),
            "e.g. pipeline.py",
        )
    code, options = render_module(graph)
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
    gpu = tuple(
        s.name for s in graph.steps if isinstance(s, InferStep | CompareStep) and s.resource_hint()
    )
    return ExportResult(
        path=str(target),
        requirements=str(reqs),
        steps=tuple(s.name for s in graph.steps),
        options=options,
        gpu_steps=gpu,
    )


# --------------------------------------------------------------------------- parity


def _sample_file(frame: Any, step: ReadStep, folder: Path) -> str:
    """Write the preview sample in the step's own format, for the module to read."""
    fmt = step.source().format
    suffix = {"csv": "csv", "parquet": "parquet", "json": "jsonl"}[fmt]
    path = folder / f"{step.name}.{suffix}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return str(path)


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.10g}")
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    return value


def _row_multiset(lines: Sequence[str], drop: Sequence[str] = ()) -> Counter[Any]:
    rows: Counter[Any] = Counter()
    for line in lines:
        record = json.loads(line)
        rows[tuple(sorted((k, _canonical(v)) for k, v in record.items() if k not in drop))] += 1
    return rows


def _read_lines(folder: Path, stem: str) -> list[str]:
    lines: list[str] = []
    for file in sorted(folder.glob(f"{stem}-*.jsonl")):
        lines += [line for line in file.read_text(encoding="utf-8").splitlines() if line]
    return lines


def _compare_rows(
    module_lines: list[str], preview: Any, drop: Sequence[str] = ()
) -> StepParityArgs:
    from beam_ml.steps.core import frame_lines

    got = _row_multiset(module_lines, drop)
    want = _row_multiset(frame_lines(preview), drop)
    if got == want:
        return True, f"same {sum(got.values())} rows"
    extra, missing = got - want, want - got
    example = next(iter(extra or missing))
    return False, (
        f"{sum(extra.values())} rows only in the module, {sum(missing.values())} only in the"
        f" preview (e.g. {one_line(str(dict(example)), 160)})"
    )


def _compare_profiles(module: dict[str, Any], preview: Any) -> StepParityArgs:
    """Equal within the sketches' bounds: exact counts, close moments, KLL/HLL bounds."""
    want = preview.to_dict()
    problems = []
    if module["rows"] != want["rows"]:
        problems.append(f"rows {module['rows']} vs {want['rows']}")
    kll = float(want["error_bounds"].get("kll_rank", 0.0))
    hll = float(want["error_bounds"].get("hll_relative", 0.0))
    if set(module["columns"]) != set(want["columns"]):
        problems.append(f"columns {sorted(module['columns'])} vs {sorted(want['columns'])}")
    for name in sorted(set(module["columns"]) & set(want["columns"])):
        a, b = module["columns"][name], want["columns"][name]
        for key in ("type", "count", "nulls", "nan", "inf", "zeros", "negatives", "min", "max"):
            if _canonical(a.get(key)) != _canonical(b.get(key)):
                problems.append(f"{name}.{key} {a.get(key)!r} vs {b.get(key)!r}")
        for key in ("mean", "std"):
            x, y = a.get(key), b.get(key)
            if (x is None) != (y is None) or (
                x is not None and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
            ):
                problems.append(f"{name}.{key} {x!r} vs {y!r}")
        if abs(a["distinct"] - b["distinct"]) > 3 * hll * max(a["distinct"], b["distinct"]) + 1:
            problems.append(f"{name}.distinct {a['distinct']} vs {b['distinct']}")
        problems += _quantile_problems(name, a.get("quantiles") or {}, preview, kll)
    if problems:
        return False, "; ".join(problems[:5])
    return True, f"{module['rows']} rows, {len(module['columns'])} columns within sketch bounds"


def _quantile_problems(name: str, quantiles: dict[str, Any], preview: Any, kll: float) -> list[str]:
    """Each quantile the module found must lie at its level in the preview's sketch.

    With ties a value covers a range of ranks: [share < value, share <= value].
    """
    problems = []
    col = preview.columns[name]
    n = max(col.count - col.nulls, 1)
    tolerance = 2 * kll + 1.0 / n
    for level, value in quantiles.items():
        if value is None:
            continue
        sketch = preview._sketch(name)
        below, upto = (
            float(sketch.get_cdf([float(value)], inclusive)[0]) for inclusive in (False, True)
        )
        if not below - tolerance <= float(level) <= upto + tolerance:
            problems.append(f"{name} quantile {level}: {value} has ranks {below:.3f}-{upto:.3f}")
    return problems


def _compare_reports(module: dict[str, Any], preview: Any) -> StepParityArgs:
    want = preview.to_dict()
    got_verdicts = [(c["id"], c["passed"]) for c in module["checks"]]
    want_verdicts = [(c["id"], c["passed"]) for c in want["checks"]]
    if got_verdicts != want_verdicts:
        differ = [
            f"{i}: {p} vs {dict(want_verdicts).get(i)}"
            for i, p in got_verdicts
            if dict(want_verdicts).get(i) != p
        ]
        return False, "verdicts differ: " + "; ".join(differ[:5] or ["different checks"])
    if module["rows"] != want["rows"]:
        return False, f"rows {module['rows']} vs {want['rows']}"
    failed = sum(not p for _, p in got_verdicts)
    return True, f"same {len(got_verdicts)} verdicts ({failed} failing), rows {module['rows']}"


def _compare_step(step: Step, out: Path, preview: Any) -> StepParity:
    folder = out / step.name
    try:
        if isinstance(step, ReadStep):
            ok, detail = True, f"input: the module read the {len(preview)}-row sample"
        elif isinstance(step, TransformStep):
            ok, detail = _compare_rows(_read_lines(folder, "rows"), preview)
        elif isinstance(step, ProfileStep):
            data = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
            ok, detail = _compare_profiles(data, preview)
        elif isinstance(step, ValidateStep):
            data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
            ok, detail = _compare_reports(data, preview)
        else:
            frame = getattr(preview, "predictions", preview)
            drop = ("model",) if "model" in getattr(frame, "columns", ()) else ()
            ok, detail = _compare_rows(_read_lines(folder, "predictions"), frame, drop)
    except FileNotFoundError as error:
        ok, detail = False, f"the module wrote no {Path(str(error.filename)).name}"
    return StepParity(step.name, step.kind, ok, detail)


def check(
    source: Any,
    sample: int | None = None,
    module: str | os.PathLike[str] | None = None,
    beam_args: Sequence[str] = (),
    timeout: float = 600.0,
) -> ParityReport:
    """Run the exported module on the notebook's sample; compare every step with its preview.

    ``source`` is a saved .ipynb, a Session or a StepGraph. ``sample`` (default:
    the first read step's ``--sample``, else 1000) is the number of rows each
    read step previews, i.e. the first rows of each input. ``module`` is where
    the module goes (a temporary file by default); ``beam_args`` are passed to
    it, e.g. ``["--direct_num_workers=2", "--direct_running_mode=multi_processing"]``.

    >>> check("explore.ipynb").passed          # doctest: +SKIP
    True
    """
    from beam_ml.notebook.session import Session

    started = time.perf_counter()
    samples: dict[str, int] = {}
    if isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".ipynb"):
        from beam_ml.steps.forms import notebook_graph

        graph, samples = notebook_graph(source)
    else:
        graph = _graph_of(source)
        own = getattr(source, "_samples", None) or {}
        samples = {name: int(own[name]) for name in own if name in graph}
    reads = [s for s in graph.steps if isinstance(s, ReadStep)]
    n = sample or next((samples[s.name] for s in reads if s.name in samples), 1000)
    check_positive_int("sample", n)
    if isinstance(source, Session):
        session = source  # a live notebook session: compare with its own (cached) previews
    else:
        session = Session(default_sample=n)
        for step in graph.steps:
            session.record(step)
    with tempfile.TemporaryDirectory(prefix="beam-ml-check-") as temp:
        folder = Path(temp)
        target = Path(os.fspath(module)) if module else folder / "pipeline.py"
        export(graph, target)
        previews = {step.name: session.result(step.name, sample=n) for step in graph.steps}
        argv = [sys.executable, str(target), "--output", str(folder / "out")]
        for step in reads:
            argv += [f"--{step.name}_path", _sample_file(previews[step.name], step, folder)]
        argv += list(beam_args)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            failed = StepParity("(module)", "run", False, f"the module failed: {one_line(last)}")
            return ParityReport(
                str(target), n, (failed,), time.perf_counter() - started, done.stderr
            )
        results = tuple(
            _compare_step(step, folder / "out", previews[step.name]) for step in graph.steps
        )
    return ParityReport(str(target), n, results, time.perf_counter() - started, done.stderr)
