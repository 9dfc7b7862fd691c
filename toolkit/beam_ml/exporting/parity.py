"""The parity check: run the exported module on the notebook's sample, compare every step.

``check(graph_or_notebook)`` previews each step on a sample (or takes the
previews it is given), writes each read step's sample to a file in the step's
own format, runs the exported module on those files as a separate process and
asks each step to compare what the module wrote with its preview
(:meth:`~beam_ml.steps.Step.parity`). With ``full=True`` it also runs the module
on the full inputs and shows, step by step, the preview's verdict beside the
full run's ("passed on the sample, failed on the data").

>>> report = check("explore.ipynb")          # doctest: +SKIP
>>> report.passed                            # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beam_ml.errors import BeamMLError, check_positive_int, one_line
from beam_ml.exporting.codegen import export
from beam_ml.rendering import HtmlRepr, render
from beam_ml.steps import PreviewContext, StepPreview, preview_graph

__all__ = ["ParityReport", "StepParity", "check"]


@dataclass(frozen=True)
class StepParity:
    """One step's comparison: exported module output vs notebook preview."""

    step: str
    kind: str
    passed: bool
    detail: str
    preview_verdict: str | None = None
    full_verdict: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind,
            "passed": self.passed,
            "detail": self.detail,
            "preview_verdict": self.preview_verdict,
            "full_verdict": self.full_verdict,
        }


@dataclass(frozen=True)
class ParityReport(HtmlRepr):
    """The result of :func:`check`: one :class:`StepParity` per step."""

    module: str
    sample: int
    steps: tuple[StepParity, ...]
    seconds: float = 0.0
    log: str = field(default="", repr=False)
    full: bool = False

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "module": self.module,
            "sample": self.sample,
            "full": self.full,
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
        verdicts = [s for s in self.steps if s.preview_verdict or s.full_verdict]
        if self.full and verdicts:
            lines.append("preview verdict vs full-run verdict:")
            for s in verdicts:
                differ = "  <- differs" if s.preview_verdict != s.full_verdict else ""
                lines.append(
                    f"  {s.step}: sample {s.preview_verdict} | full {s.full_verdict}{differ}"
                )
        return "\n".join(lines)

    def to_html(self) -> str:
        return render("parity.html", report=self.to_dict())

    def __str__(self) -> str:
        return self._text()


def _run_module(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BeamMLError.expected(
            f"the exported module to finish within {timeout:g} s",
            "it was still running",
            "pass a larger timeout",
        ) from None


def _failed(target: Path, n: int, started: float, done: Any) -> ParityReport:
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    failed = StepParity("(module)", "run", False, f"the module failed: {one_line(last)}")
    return ParityReport(str(target), n, (failed,), time.perf_counter() - started, done.stderr)


def check(
    source: Any,
    sample: int | None = None,
    module: str | os.PathLike[str] | None = None,
    beam_args: Sequence[str] = (),
    timeout: float = 600.0,
    *,
    previews: dict[str, StepPreview] | None = None,
    samples: dict[str, int] | None = None,
    full: bool = False,
    context: PreviewContext | None = None,
    output_format: str = "jsonl",
) -> ParityReport:
    """Run the exported module on the notebook's sample; compare every step with its preview.

    ``source`` is a saved .ipynb or a StepGraph (or anything with a ``graph``).
    ``previews`` are the notebook's own previews by step name (computed here on
    ``sample`` rows, default each read step's ``--sample`` or 1000, when not
    given). ``beam_args`` go to the module, e.g. ``["--runner=PrismRunner", ...]``.
    ``full=True`` also runs the module on the full inputs and reports each
    step's preview verdict beside the full run's. ``output_format`` is the module's
    format of row outputs (``"parquet"``: the comparison reads the Parquet shards).

    >>> check("explore.ipynb", full=True).passed          # doctest: +SKIP
    True
    """
    from beam_ml.exporting.codegen import _graph_of
    from beam_ml.exporting.notebook_file import notebook_graph

    started = time.perf_counter()
    own_samples: dict[str, int] = dict(samples or {})
    if isinstance(source, str | os.PathLike) and os.fspath(source).endswith(".ipynb"):
        graph, found = notebook_graph(source)
        own_samples = {**found, **own_samples}
    else:
        graph = _graph_of(source)
        if previews is None and callable(getattr(source, "preview", None)):
            # a live notebook session: compare with its own (cached) previews
            previews = {s.name: source.preview(s.name, sample=sample) for s in graph.steps}
            own_samples = {s.name: source.sample_for(s.name) for s in graph.steps}
    reads = [s for s in graph.steps if not s.inputs()]
    n = sample or next((own_samples[s.name] for s in reads if s.name in own_samples), 1000)
    check_positive_int("sample", n)
    if previews is None:
        base = context or PreviewContext(sample=n)
        previews = preview_graph(
            graph,
            PreviewContext(
                sample=n, seed=base.seed, device_probe=base.device_probe, options=base.options
            ),
            None if sample else own_samples,
        )
    with tempfile.TemporaryDirectory(prefix="beam-ml-check-") as temp:
        folder = Path(temp)
        target = Path(os.fspath(module)) if module else folder / "pipeline.py"
        export(graph, target, output_format)
        argv = [sys.executable, str(target), "--output", str(folder / "out")]
        for step in reads:
            for dest, value in step.module_inputs(previews[step.name], folder).items():
                argv += [f"--{dest}", value]
        done = _run_module([*argv, *beam_args], timeout)
        if done.returncode != 0:
            return _failed(target, n, started, done)
        log = done.stderr
        full_out = folder / "full"
        if full:
            whole = _run_module(
                [sys.executable, str(target), "--output", str(full_out), *beam_args], timeout
            )
            if whole.returncode != 0:
                return _failed(target, n, started, whole)
            log += whole.stderr
        results = tuple(
            _compare(step, folder / "out", previews[step.name], full_out if full else None)
            for step in graph.steps
        )
    return ParityReport(str(target), n, results, time.perf_counter() - started, log, full)


def _compare(step: Any, out: Path, preview: StepPreview, full: Path | None) -> StepParity:
    try:
        ok, detail = step.parity(out / step.name, preview)
    except FileNotFoundError as error:
        ok, detail = False, f"the module wrote no {Path(str(error.filename)).name}"
    verdicts: dict[str, str | None] = {}
    if full is not None:
        verdicts["preview_verdict"] = step.verdict(preview)
        verdicts["full_verdict"] = step.verdict(None, full / step.name)
    return StepParity(step.name, step.kind, ok, detail, **verdicts)
