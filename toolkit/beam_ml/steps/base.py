"""The base of every step kind: its spec as data, its graph, and the hooks each kind fills in.

A step is a small frozen dataclass of literals (strings, numbers, tuples). Each
kind is ONE subclass that owns everything about it — nothing outside this
package switches on a kind:

==================  =========================================================
``expand``          the Beam subgraph (``apply`` labels it with the step name)
``preview``         its result on a sample (default: ``expand`` on DirectRunner)
``outputs``         the PCollections the exported module writes, by file stem
``files``           the files those become under ``<output>/<step>/``
``parity``          how the module's files are compared with the preview
``module_args``     which fields become options of the exported module
``add_arguments`` / ``from_args``  its ``%beam_ml`` / CLI form
``view``            the notebook view of its result (a ``module:Class`` path,
                    resolved by the notebook layer: the engine never imports it)
==================  =========================================================

>>> from beam_ml.steps import ProfileStep
>>> ProfileStep("stats", "penguins").to_dict()
{'kind': 'profile', 'name': 'stats', 'input': 'penguins', 'top_k': 10, 'bins': 20}
"""

from __future__ import annotations

import argparse
import builtins
import json
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.literals import spec_dict

_MAX_NAME = 64
# step kind -> its class; filled by Step.__init_subclass__
KINDS: dict[str, type[Step]] = {}


# --------------------------------------------------------------------------- names


def check_step_name(name: Any) -> str:
    """Return ``name`` if it can name a step (and a Python variable), else raise.

    A step name becomes a variable in the notebook, a Beam label, a folder of
    the output and part of a function name in generated code, so it must be a
    plain ASCII identifier, not a keyword, not a builtin and not a dunder.

    >>> check_step_name("penguins")
    'penguins'
    >>> check_step_name("__import__")
    Traceback (most recent call last):
    ...
    beam_ml.errors.BeamMLError: expected a step name that is a plain Python identifier ...
    """
    fix = "use letters, digits and _ (not first a digit), e.g. 'penguins_clean'"
    what = "a step name that is a plain Python identifier (not a keyword or builtin)"
    if not isinstance(name, str):
        raise BeamMLError.expected(what, type(name).__name__, fix)
    bad = (
        not name.isidentifier()
        or not name.isascii()
        or keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
        or name.startswith("__")
        or hasattr(builtins, name)
        or len(name) > _MAX_NAME
    )
    if bad:
        raise BeamMLError.expected(what, repr(name), fix)
    return name


def is_step_ref(text: str) -> bool:
    """A reference that looks like a step name (else it is a file path)."""
    return text.isidentifier() and text.isascii()


def tuple_of_str(name: str, value: Any) -> tuple[str, ...] | None:
    """``value`` ("a,b" or a sequence of names) as a tuple of names; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    items = tuple(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise BeamMLError.expected(
            f"{name} as column names", repr(value), f"e.g. {name}=('a', 'b')"
        )
    return items


def check_str(name: str, value: Any, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise BeamMLError.expected(f"{name} as a non-empty string", repr(value))


# --------------------------------------------------------------------------- metadata

# Metadata a step's output PCollection carries for the steps after it: the
# Beam DataFrame proxy (a transform needs the columns and types), the CSV
# lines that could not be read (validation reports them), side outputs.
_PROXY = "_beam_ml_proxy"
_BAD_RECORDS = "_beam_ml_bad_records"
_EXTRA = "_beam_ml_extra_outputs"
_META = {"proxy": _PROXY, "bad_records": _BAD_RECORDS, "extra": _EXTRA}


def attach(pcoll: Any, **meta: Any) -> Any:
    """Attach metadata (proxy=..., bad_records=..., extra=...) to a PCollection."""
    for key, value in meta.items():
        setattr(pcoll, _META[key], value)
    return pcoll


def proxy_of(pcoll: Any) -> pd.DataFrame | None:
    """The empty DataFrame describing a batches PCollection's columns, if known."""
    return getattr(pcoll, _PROXY, None)


def bad_records_of(pcoll: Any) -> Any:
    """The bad-records PCollection attached by a read step, or None."""
    return getattr(pcoll, _BAD_RECORDS, None)


def extra_outputs(pcoll: Any) -> dict[str, Any]:
    """Side outputs attached to a step's main output (e.g. inference ``errors``)."""
    return dict(getattr(pcoll, _EXTRA, None) or {})


def batches_of(value: Any) -> Any:
    """The batches PCollection of a step output (a validate step's ``valid`` rows)."""
    if isinstance(value, dict):
        for key in ("valid", "predictions", "batches"):
            if key in value:
                return value[key]
        raise BeamMLError.expected(
            "a step that produces rows", f"outputs {sorted(value)}", "read from a row step"
        )
    return value


# --------------------------------------------------------------------------- previews


@dataclass(frozen=True)
class StepPreview:
    """A step's result on a sample: what the user sees, and what later steps read.

    ``result`` is shown (a DataFrame, Profile, ValidationReport, InferencePreview...);
    ``rows`` are the rows the steps after it receive (None for a profile);
    ``extra`` holds what the exported module also writes (``bad_records``,
    ``invalid`` rows, inference ``errors``...), by output stem.
    """

    result: Any
    rows: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row_count(self) -> int | None:
        if self.rows is not None:
            return len(self.rows)
        for attr in ("sample_rows", "rows"):
            got = getattr(self.result, attr, None)
            if isinstance(got, int):
                return got
            if isinstance(got, dict) and isinstance(got.get("total"), int):
                return int(got["total"])
        return None


@dataclass(frozen=True)
class PreviewContext:
    """How previews run: rows per read, the sampling seed, the device probe, Beam options.

    ``device_probe`` (a callable -> bool, "is CUDA usable?") is injectable so
    tests need no GPU; ``options`` are the Beam options of preview runs.
    """

    sample: int = 1000
    seed: int = 0
    device_probe: Callable[[], bool] | None = None
    options: Any = None

    def run(
        self,
        step: Step,
        inputs: dict[str, StepPreview],
        on_result: Callable[[Any], None] | None = None,
    ) -> dict[str, list[Any]]:
        """Apply ``step`` to its inputs' previews on DirectRunner; collect its outputs.

        What is collected is exactly what the exported module writes
        (:meth:`Step.outputs`), so a preview and a module run the same graph.
        ``on_result`` receives the finished ``PipelineResult`` (its metrics).
        """
        from beam_ml.runner import run_and_collect

        collected: dict[str, list[Any]] = run_and_collect(
            lambda pipeline: self.build(pipeline, step, inputs), self.options, on_result
        )
        return collected

    def build(self, pipeline: Any, step: Step, inputs: dict[str, StepPreview]) -> dict[str, Any]:
        """The preview pipeline: the inputs' previews as PCollections, then ``step.apply``."""
        pcolls = {n: _as_pcollection(pipeline, n, p) for n, p in inputs.items()}
        outputs: dict[str, Any] = step.outputs(step.apply(pipeline, pcolls))
        return outputs


def _as_pcollection(pipeline: Any, name: str, preview: StepPreview) -> Any:
    """An input preview as a PCollection: its rows as one batch (or its result)."""
    if preview.rows is None:
        return pipeline | f"Preview {name}" >> beam.Create([preview.result], reshuffle=False)
    rows = preview.rows
    pcoll = pipeline | f"Preview {name}" >> beam.Create([rows], reshuffle=False)
    # No bad records ride along: `export.check` runs the module on a file of the
    # sample's rows, which has none, and the two must see the same input.
    return attach(pcoll, proxy=rows.iloc[:0])


def concat_frames(frames: list[Any]) -> pd.DataFrame:
    """One DataFrame of collected batches, in source order (their index is the line)."""
    frames = [f for f in frames if isinstance(f, pd.DataFrame)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames).sort_index(kind="stable") if len(frames) > 1 else frames[0]


def only(values: list[Any], step: Step) -> Any:
    """The single element a step's output must hold (a profile, a report)."""
    if len(values) != 1:
        raise BeamMLError.expected(f"one result from step {step.name!r}", f"{len(values)} results")
    return values[0]


# --------------------------------------------------------------------------- the base


@dataclass(frozen=True)
class Step:
    """Base of every step: a unique ``name``, its spec, and the hooks listed above."""

    name: str
    kind: ClassVar[str] = ""
    # where the kind sits in the usual order of work (lists and usage messages follow it)
    position: ClassVar[int] = 99
    # what later steps get from it: "batches" (pandas DataFrames) or "profile"
    output: ClassVar[str] = "batches"
    # the files it writes under <output>/<step>/ (shards as stem-*.jsonl)
    files: ClassVar[tuple[str, ...]] = ()
    # "module:Class" of the notebook view of its result
    view: ClassVar[str] = ""
    # whether its preview depends on the device probe (a GPU may change the result)
    uses_device: ClassVar[bool] = False
    # how the %beam_ml form is written (for usage messages)
    usage: ClassVar[str] = ""
    # whether the form's NAME is this step's own name (read, transform), so the
    # notebook binds the result to it; otherwise NAME is the input and -o VAR binds
    binds_name: ClassVar[bool] = False
    # whether the form takes a %%beam_ml cell body (transform)
    takes_body: ClassVar[bool] = False
    # whether its preview runs a Beam pipeline (worth a progress line) or pandas only
    previews_with_beam: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            KINDS[cls.kind] = cls

    def __post_init__(self) -> None:
        check_step_name(self.name)

    # ------------------------------------------------------------------ spec
    def inputs(self) -> tuple[str, ...]:
        """The names of the steps this one reads."""
        return ()

    def accepts(self, position: int) -> tuple[str, ...]:
        """What input ``position`` may be: step outputs among "batches", "profile"."""
        return ("batches",)

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., field: value}`` with JSON types; see :meth:`from_dict`."""
        return spec_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Step:
        """Rebuild a step from :meth:`to_dict`'s output.

        >>> step = Step.from_dict({"kind": "read", "name": "p", "path": "p.csv"})
        >>> type(step).__name__, step.name, step.path
        ('ReadStep', 'p', 'p.csv')
        """
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            got = data.get("kind") if isinstance(data, dict) else type(data).__name__
            raise BeamMLError.expected(f"a step kind among {sorted(KINDS)}", repr(got))
        cls = KINDS[data["kind"]]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"kind"})
        if unknown:
            raise BeamMLError.expected(f"fields of a {cls.kind} step", f"unknown {unknown}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "kind"}
        return cls(**values)  # type: ignore[arg-type]

    def keywords(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this step (defaults left out)."""
        out = {}
        # positional fields first (name, input, model...), then the keyword-only ones
        ordered = sorted(fields(self), key=lambda f: bool(f.kw_only))
        for f in ordered:
            value = getattr(self, f.name)
            if f.name == "name" or value != f.default:
                out[f.name] = value
        return out

    def to_code(self) -> str:
        """Python source rebuilding this step; every literal written with ``repr()``."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.keywords().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ the graph
    def apply(self, pipeline: Any, inputs: dict[str, Any] | None = None) -> Any:
        """Build this step's Beam subgraph under one composite labelled with its name.

        ``inputs`` maps the names in :meth:`inputs` to their PCollections (the
        outputs of those steps' ``apply``).
        """
        given = inputs or {}
        missing = [n for n in self.inputs() if n not in given]
        if missing:
            raise BeamMLError.expected(
                f"the outputs of {list(self.inputs())} to apply step {self.name!r}",
                f"none for {missing}",
                "apply the steps in the graph's order",
            )
        transform = StepTransform(self, pipeline)
        if not self.inputs():
            return pipeline | self.name >> transform
        mains = {n: batches_of(given[n]) for n in self.inputs()}
        # metadata rides on the PCollections, which a dict of them passes as they are
        return mains | self.name >> transform

    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        """The subgraph: this kind's transforms over ``inputs`` (by step name)."""
        raise NotImplementedError

    def outputs(self, result: Any) -> dict[str, Any]:
        """The PCollections of :meth:`expand`'s result the module writes, by file stem."""
        return {}

    def apply_streaming(self, pipeline: Any, settings: Any) -> Any:
        """This step as a streaming source (windowed); ``settings``: a StreamSettings.

        Steps with inputs need no hook: their ``expand`` runs per window on windowed inputs.
        """
        raise BeamMLError.expected(
            "a read step as the streaming source", f"a {self.kind} step", "stream a read step"
        )

    # ------------------------------------------------------------------ preview
    def preview(self, inputs: dict[str, StepPreview], context: PreviewContext) -> StepPreview:
        """This step on its inputs' previews: by default its own graph on DirectRunner."""
        return self.from_outputs(context.run(self, inputs), inputs, context)

    def from_outputs(
        self, collected: dict[str, list[Any]], inputs: dict[str, StepPreview], context: Any
    ) -> StepPreview:
        """The preview from what :meth:`outputs` collected on the sample."""
        raise NotImplementedError

    # ------------------------------------------------------------------ export
    def module_args(self, option: Callable[..., str]) -> dict[str, str | None]:
        """Fields the exported module writes differently: field -> source expression.

        ``option(suffix, default, help, choices=(), input=False)`` declares the
        module option ``--<step>_<suffix>`` and returns the expression reading it
        (``args.<step>_<suffix>``); None leaves the field out of the step's call.
        Every other field is written as a ``repr()`` literal.
        """
        return {}

    def module_source(self) -> tuple[str, str]:
        """Extra source the module needs (a function) and a suffix to the step's call."""
        return "", ""

    def module_inputs(self, preview: StepPreview, folder: Path) -> dict[str, str]:
        """Options that make the module read this step's preview sample (for ``check``)."""
        return {}

    def watched_files(self) -> list[str]:
        """Files this step reads (its string fields that name files), so a change re-runs it."""
        import os

        found = []
        for value in self.to_dict().values():
            for text in value if isinstance(value, list | tuple) else [value]:
                if not isinstance(text, str) or not text:
                    continue
                # a model is KIND:PATH; a rules file or profile is a plain path
                for candidate in (text, text.split(":", 1)[-1]):
                    if os.path.isfile(candidate):
                        found.append(candidate)
                        break
        return found

    def requirements(self) -> set[str]:
        """Extra pip requirements of the exported module for this step."""
        return set()

    def parity(self, folder: Path, preview: StepPreview) -> tuple[bool, str]:
        """Compare what the module wrote in ``folder`` with this step's preview."""
        return True, "nothing to compare"

    def verdict(self, preview: StepPreview | None, folder: Path | None = None) -> str | None:
        """A one-phrase verdict (e.g. a validation's) of a preview or of a module's files."""
        return None

    # ------------------------------------------------------------------ form
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The options of this kind's ``%beam_ml`` form (after the step's NAME)."""

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        """The step a parsed form records, and its own sample size (None: inherited)."""
        raise NotImplementedError


class StepTransform(beam.PTransform):
    """The composite a step builds; its label is the step's name."""

    def __init__(self, step: Step, pipeline: Any) -> None:
        super().__init__()
        self.step = step
        self.pipeline = pipeline

    def expand(self, pvalue: Any) -> Any:
        inputs = pvalue if isinstance(pvalue, dict) else {}
        return self.step.expand(self.pipeline, inputs)
