"""The exploration as data: small frozen step specs, each building its Beam transform.

A notebook records what the user did as a :class:`StepGraph` of steps (read,
transform, profile, validate, infer, compare). Every step has ONE function,
``apply(pipeline, inputs)``, that builds its Beam transform under a label named
after the step. The notebook preview (on a sample) and the exported production
module (on everything) both call it, so they cannot drift apart.

>>> g = StepGraph()
>>> g.add(ReadStep("penguins", "penguins.csv"))
>>> g.add(TransformStep("heavy", "penguins", "df = df[df.body_mass_g > 4000]"))
>>> g.add(ProfileStep("heavy_profile", "heavy"))
>>> [s.name for s in g.steps], g.downstream("heavy")
(['penguins', 'heavy', 'heavy_profile'], ['heavy', 'heavy_profile'])

Steps hold literals only (strings, numbers, tuples), so ``to_dict()`` is JSON and
generated code rebuilds a step from ``repr()``-written keyword arguments.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib
import json
import keyword
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import apache_beam as beam
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, check_positive_int
from beam_ml.literals import spec_dict

__all__ = [
    "CompareStep",
    "InferStep",
    "ProfileStep",
    "ReadStep",
    "Step",
    "StepGraph",
    "TransformStep",
    "ValidateStep",
    "check_step_name",
    "compile_body",
]

# Names a transform body may use without importing them (the exported module
# imports the same two, so a body runs identically in both places).
BODY_GLOBALS = ("pd", "np")
DEFAULT_ACCELERATOR = "type:nvidia-tesla-t4;count:1;install-nvidia-driver"
DEVICES = ("auto", "cpu", "gpu")
_MAX_NAME = 64
# Quarantined rows a validation report keeps as examples (its counts are exact;
# every quarantined row is in the step's "invalid" output).
REPORT_INVALID_ROWS = 1000


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


def _is_step_ref(text: str) -> bool:
    """A reference that looks like a step name (else it is a file path)."""
    return text.isidentifier() and text.isascii()


# --------------------------------------------------------------------------- bodies


def parse_body(body: Any) -> ast.Module:
    """Parse a transform body; a syntax error or a ``return``/``yield`` is a BeamMLError."""
    if not isinstance(body, str):
        raise BeamMLError.expected("a transform body as text", type(body).__name__)
    try:
        tree = ast.parse(body, filename="<transform body>", mode="exec")
    except SyntaxError as error:
        where = f"line {error.lineno}: " if error.lineno else ""
        raise BeamMLError.expected(
            "a transform body that is valid Python",
            f"{where}{error.msg}",
            "fix the body: pandas-style code that reads and rebinds df",
        ) from None
    for node in _top_scope(tree):
        if isinstance(node, ast.Return | ast.Yield | ast.YieldFrom | ast.Global | ast.Nonlocal):
            raise BeamMLError.expected(
                "a transform body that rebinds df",
                f"a {type(node).__name__.lower()} statement on line {node.lineno}",
                "assign the result to df instead, e.g. df = df[df.x > 0]",
            )
    return tree


def _top_scope(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``tree`` outside nested functions, lambdas and classes."""
    scoped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, scoped):
            stack.extend(ast.iter_child_nodes(node))


def body_function_ast(body: str, name: str = "transform") -> ast.Module:
    """``def NAME(df): <body>; return df`` as an AST (the body's statements unchanged)."""
    tree = parse_body(body)
    fn = ast.FunctionDef(
        name=name,
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg="df")],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        ),
        body=[*tree.body, ast.Return(value=ast.Name(id="df", ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
    )
    module = ast.Module(body=[fn], type_ignores=[])
    return ast.fix_missing_locations(module)


def body_globals() -> dict[str, Any]:
    """The names a transform body sees: builtins, ``pd`` (pandas) and ``np`` (numpy)."""
    import numpy as np

    return {"__builtins__": builtins, "pd": pd, "np": np}


def compile_body(body: str) -> Callable[[Any], Any]:
    """Turn a transform body into a function ``df -> df``.

    The body is pandas-style code that reads and rebinds ``df``; it runs as a
    function body, with ``pd`` and ``np`` available. The notebook preview and
    :meth:`TransformStep.apply` both call the function this returns.

    >>> fn = compile_body("df = df.assign(y=df.x * 2)")
    >>> fn(pd.DataFrame({"x": [1, 2]}))["y"].tolist()
    [2, 4]
    """
    module = body_function_ast(body)
    code = compile(module, "<transform body>", "exec")
    namespace = body_globals()
    exec(code, namespace)  # the user's own code, exactly as the exported module runs it
    fn: Callable[[Any], Any] = namespace["transform"]
    return fn


# --------------------------------------------------------------------------- helpers

# Metadata a step's output PCollection carries for the steps after it: the
# Beam DataFrame proxy (a transform needs the columns and types), the CSV
# lines that could not be read (validation reports them), inference errors.
_PROXY = "_beam_ml_proxy"
_BAD_RECORDS = "_beam_ml_bad_records"
_EXTRA = "_beam_ml_extra_outputs"


def attach(pcoll: Any, **meta: Any) -> Any:
    """Attach metadata (proxy=..., bad_records=..., extra=...) to a PCollection."""
    for key, value in meta.items():
        setattr(pcoll, {"proxy": _PROXY, "bad_records": _BAD_RECORDS, "extra": _EXTRA}[key], value)
    return pcoll


def proxy_of(pcoll: Any) -> pd.DataFrame | None:
    """The empty DataFrame describing a batches PCollection's columns, if known."""
    return getattr(pcoll, _PROXY, None)


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


def _tuple_of_str(name: str, value: Any) -> tuple[str, ...] | None:
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


def _check_str(name: str, value: Any, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise BeamMLError.expected(f"{name} as a non-empty string", repr(value))


# --------------------------------------------------------------------------- steps

_KINDS: dict[str, type[Step]] = {}


@dataclass(frozen=True)
class Step:
    """Base of every step: a unique ``name`` and one ``apply`` building its transform."""

    name: str
    kind: ClassVar[str] = ""
    # what kind of output: "batches" (pandas DataFrames), "profile", "report"
    output: ClassVar[str] = "batches"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def __post_init__(self) -> None:
        check_step_name(self.name)

    def inputs(self) -> tuple[str, ...]:
        """The names of the steps this one reads."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., field: value}`` with JSON types; see :meth:`from_dict`."""
        return spec_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Step:
        """Rebuild a step from :meth:`to_dict`'s output.

        >>> Step.from_dict({"kind": "read", "name": "p", "path": "p.csv", "format": None})
        ReadStep(name='p', path='p.csv', format=None)
        """
        if not isinstance(data, dict) or data.get("kind") not in _KINDS:
            got = data.get("kind") if isinstance(data, dict) else type(data).__name__
            raise BeamMLError.expected(f"a step kind among {sorted(_KINDS)}", repr(got))
        cls = _KINDS[data["kind"]]
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"kind"})
        if unknown:
            raise BeamMLError.expected(f"fields of a {cls.kind} step", f"unknown {unknown}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "kind"}
        return cls(**values)  # type: ignore[arg-type]

    def keywords(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this step (defaults left out)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "name" or value != f.default:
                out[f.name] = value
        return out

    def to_code(self) -> str:
        """Python source rebuilding this step; every literal written with ``repr()``."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.keywords().items())
        return f"{type(self).__name__}({args})"

    def apply(self, pipeline: Any, inputs: dict[str, Any] | None = None) -> Any:
        """Build this step's Beam transform, labelled with the step's name.

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
        transform = _StepTransform(self, pipeline)
        if not self.inputs():
            return pipeline | self.name >> transform
        mains = {n: batches_of(given[n]) for n in self.inputs()}
        return mains | self.name >> transform

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        raise NotImplementedError


class _StepTransform(beam.PTransform):
    """The composite a step builds; its label is the step's name."""

    def __init__(self, step: Step, pipeline: Any) -> None:
        super().__init__()
        self.step = step
        self.pipeline = pipeline

    def expand(self, pvalue: Any) -> Any:
        inputs = pvalue if isinstance(pvalue, dict) else {}
        return self.step._expand(self.pipeline, inputs)


@dataclass(frozen=True)
class ReadStep(Step):
    """Read ``path`` (a file or glob; csv, parquet or json lines) as pandas batches.

    >>> ReadStep("penguins", "penguins.csv").to_dict()["kind"]
    'read'
    """

    path: str = ""
    format: str | None = None
    kind: ClassVar[str] = "read"

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.path, os.PathLike):
            object.__setattr__(self, "path", os.fspath(self.path))
        _check_str("path", self.path)
        if self.format is not None:
            from beam_ml.sources.readers import FORMATS

            check_choice("format", self.format, FORMATS)

    def source(self, path: str | None = None) -> Any:
        from beam_ml.sources.readers import Source

        return Source(path=path or self.path, format=self.format)

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.sources.readers import ReadBatches, proxy

        source = self.source()
        read = pipeline | "Read" >> ReadBatches(source)
        return attach(read.batches, proxy=proxy(source), bad_records=read.bad_records)


@dataclass(frozen=True)
class TransformStep(Step):
    """Run a pandas-style ``body`` (it reads and rebinds ``df``) with Beam DataFrame semantics.

    >>> TransformStep("heavy", "penguins", "df = df[df.body_mass_g > 4000]").inputs()
    ('penguins',)
    """

    input: str = ""
    body: str = ""
    kind: ClassVar[str] = "transform"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        parse_body(self.body)

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def function(self) -> Callable[[Any], Any]:
        """The body as a function ``df -> df`` (or the function given to :meth:`using`)."""
        given = self.__dict__.get("_function")
        return given if given is not None else compile_body(self.body)

    def using(self, function: Callable[[Any], Any]) -> TransformStep:
        """This step, applying ``function`` (``df -> df``) instead of compiling ``body``.

        An exported module defines each body verbatim as ``def transform_NAME(df)``
        and applies it with ``TransformStep(name=..., input=...).using(transform_NAME)``.
        """
        if not callable(function):
            raise BeamMLError.expected("a function df -> df", type(function).__name__)
        step = TransformStep(name=self.name, input=self.input, body=self.body)
        object.__setattr__(step, "_function", function)
        return step

    def preview(self, sample: pd.DataFrame) -> pd.DataFrame:
        """Run the body on a pandas sample with Beam DataFrame semantics (no runner).

        An operation a pipeline cannot run (``sort_values``...) fails here too.
        """
        import apache_beam.dataframe.frames  # noqa: F401  (registers the deferred types)
        from apache_beam.dataframe import expressions, frame_base

        placeholder = expressions.PlaceholderExpression(sample.iloc[:0])
        result = self._run_body(frame_base.DeferredFrame.wrap(placeholder))
        out = expressions.Session({placeholder: sample}).evaluate(result._expr)
        return out

    def _run_body(self, deferred: Any) -> Any:
        from apache_beam.dataframe.frame_base import DeferredFrame, WontImplementError

        try:
            result = self.function()(deferred)
        except WontImplementError as error:
            raise BeamMLError.expected(
                f"a transform Beam can run in a pipeline (step {self.name!r})",
                str(error).splitlines()[0],
                "use an order-independent operation (no sort_values, head, iloc...)",
            ) from None
        if not isinstance(result, DeferredFrame) or not hasattr(result, "columns"):
            raise BeamMLError.expected(
                f"the body of step {self.name!r} to leave a DataFrame in df",
                type(result).__name__,
                "end with df = <a DataFrame>",
            )
        return result

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from apache_beam.dataframe.convert import to_dataframe, to_pcollection

        batches = batches_of(inputs[self.input])
        proxy = proxy_of(batches)
        if proxy is None:
            raise BeamMLError.expected(
                f"an input whose columns are known for transform {self.name!r}",
                f"step {self.input!r}",
                "transform the output of a read, transform or validate step",
            )
        deferred = to_dataframe(batches, proxy=proxy, label="ToDataFrame")
        result = self._run_body(deferred)
        out = to_pcollection(result, yield_elements="pandas", label="ToBatches")
        return attach(out, proxy=result._expr.proxy().iloc[:0])


@dataclass(frozen=True)
class ProfileStep(Step):
    """Profile the input's batches into one :class:`beam_ml.profiling.dataset.Profile`.

    >>> ProfileStep("stats", "penguins", top_k=20).keywords()
    {'name': 'stats', 'input': 'penguins', 'top_k': 20}
    """

    input: str = ""
    top_k: int = 10
    bins: int = 20
    kind: ClassVar[str] = "profile"
    output: ClassVar[str] = "profile"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        check_positive_int("top_k", self.top_k)
        check_positive_int("bins", self.bins)

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.profiling.dataset import ProfileDataset

        batches = batches_of(inputs[self.input])
        return batches | "Profile" >> ProfileDataset(top_k=self.top_k, bins=self.bins)


@dataclass(frozen=True)
class ValidateStep(Step):
    """Check the input against rules (a YAML file) and/or a reference profile.

    ``reference`` is the name of a profile step (or the path of a profile JSON);
    without ``rules`` the rules are inferred from it. ``apply`` returns
    ``{"report": one ValidationReport, "valid": batches, "invalid": DataFrames
    of quarantined rows with _errors and _line}``.

    >>> ValidateStep("check", "penguins", reference="stats").inputs()
    ('penguins', 'stats')
    """

    input: str = ""
    reference: str | None = None
    rules: str | None = None
    kind: ClassVar[str] = "validate"
    output: ClassVar[str] = "report"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        _check_str("reference", self.reference, optional=True)
        _check_str("rules", self.rules, optional=True)
        if self.reference is None and self.rules is None:
            raise BeamMLError.expected(
                f"a reference or rules for validate step {self.name!r}",
                "neither",
                "pass --reference PROFILE_STEP or --rules FILE.yaml",
            )
        if self.reference is not None and _is_step_ref(self.reference):
            check_step_name(self.reference)

    def inputs(self) -> tuple[str, ...]:
        if self.reference is not None and _is_step_ref(self.reference):
            return (self.input, self.reference)
        return (self.input,)

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from apache_beam.pvalue import AsDict, AsList, AsSingleton

        v = importlib.import_module(
            "beam_ml.validation.core"
        )  # `beam_ml.validation.core` is the function
        from beam_ml.profiling.dataset import Profile, ProfileDataset
        from beam_ml.validation.rules import RuleSet, Unique

        source = inputs[self.input]
        batches = batches_of(source)
        static_rules = RuleSet.read(self.rules) if self.rules else None
        reference: Any = None
        if self.reference is not None and _is_step_ref(self.reference):
            reference = inputs[self.reference]
        elif self.reference is not None:
            with open(self.reference, encoding="utf-8") as handle:
                ref_profile = Profile.from_json(handle.read())
            reference = pipeline | "Reference" >> beam.Create([ref_profile])
        if static_rules is not None:
            rules = pipeline | "Rules" >> beam.Create([static_rules])
        else:
            rules = reference | "InferRules" >> beam.Map(v.infer_rules)

        split = batches | "ValidateRows" >> beam.ParDo(_SplitFn(), AsSingleton(rules)).with_outputs(
            v.INVALID, main=v.VALID
        )
        valid, invalid = split[v.VALID], split[v.INVALID]
        # Exact duplicate counts: whole rows always, plus the YAML's unique column sets.
        unique_sets = {()} | {
            r.columns for r in (static_rules.rules if static_rules else ()) if isinstance(r, Unique)
        }
        duplicates = [
            batches
            | f"Duplicates{i}" >> beam.CombineGlobally(v._as_combine(v._DuplicatesFn(cols)))
            | f"Key{i}" >> beam.Map(lambda stats, cols=cols: (cols, stats))
            for i, cols in enumerate(sorted(unique_sets))
        ]
        bad = getattr(source, _BAD_RECORDS, None)
        if bad is None:
            bad = pipeline | "NoBadRecords" >> beam.Create([])
        report = (
            batches
            | "Profile" >> ProfileDataset(top_k=v.REFERENCE_TOP_K)
            | "Report"
            >> beam.Map(
                _make_report,
                rules=AsSingleton(rules),
                invalid=AsSingleton(
                    invalid
                    | "KeepSome"
                    >> beam.CombineGlobally(v._as_combine(v._KeepRows(REPORT_INVALID_ROWS)))
                ),
                counts=AsSingleton(
                    invalid
                    | "CountErrors" >> beam.Map(v.error_counts)
                    | "SumErrors" >> beam.CombineGlobally(v._as_combine(v._SumCounts()))
                ),
                valid_rows=AsSingleton(
                    valid | "CountValid" >> beam.Map(len) | "SumValid" >> beam.CombineGlobally(sum)
                ),
                bad_records=AsList(bad),
                reference=AsList(reference) if reference is not None else None,
                duplicates=AsDict(tuple(duplicates) | "Duplicates" >> beam.Flatten()),
                source=self.input,
            )
        )
        attach(valid, proxy=proxy_of(batches))
        return {"report": report, "valid": valid, "invalid": invalid}


class _SplitFn(beam.DoFn):
    """Split a batch by the row rules (a side input: they may be inferred in the pipeline)."""

    def process(self, batch: pd.DataFrame, rules: Any) -> Iterator[Any]:
        from beam_ml.validation.core import INVALID, split_batch

        valid, invalid = split_batch(batch, rules.row_rules)
        if len(valid):
            yield valid
        if len(invalid):
            yield beam.pvalue.TaggedOutput(INVALID, invalid)


def _make_report(
    profile: Any,
    rules: Any,
    invalid: pd.DataFrame,
    counts: dict[str, int],
    valid_rows: int,
    bad_records: list[Any],
    reference: list[Any] | None,
    duplicates: dict[tuple[str, ...], dict[str, Any]],
    source: str,
) -> Any:
    from beam_ml.validation.core import build_report

    dups = {cols: stats for cols, stats in duplicates.items() if not stats.get("missing")}
    return build_report(
        rules,
        profile,
        invalid=[invalid],
        counts=counts,
        valid_rows=int(valid_rows),
        bad_records=list(bad_records),
        reference=reference[0] if reference else None,
        duplicates=dups,
        source=source,
    )


def _hint(device: str, accelerator: str | None, specs: list[Any]) -> str | None:
    if device != "gpu" or not any(getattr(s, "uses_device", True) for s in specs):
        return None
    return accelerator or DEFAULT_ACCELERATOR


def _resolve_beam_device(device: str) -> str:
    """'CPU' or 'GPU' for Beam. An explicit 'gpu' is kept as is: the workers
    (not the machine that builds the pipeline) have the GPU, and Beam's
    handler falls back to CPU there if it has none."""
    from beam_ml.inference.device import resolve_device

    if device == "gpu":
        return "GPU"
    return resolve_device(device).beam_device


@dataclass(frozen=True)
class InferStep(Step):
    """Run a model (``"KIND:PATH"``, e.g. ``"sklearn:model.pkl"``) with Beam's RunInference.

    ``apply`` returns prediction DataFrames: the input rows with the prediction
    columns added. Rows the model failed on are in ``extra_outputs(out)["errors"]``.
    ``accelerator`` is the resource hint used when ``device='gpu'``.

    >>> InferStep("pred", "penguins", "sklearn:m.pkl", features=("bill_length_mm",)).inputs()
    ('penguins',)
    """

    input: str = ""
    model: str = ""
    features: tuple[str, ...] | None = None
    key: str | None = None
    device: str = "auto"
    accelerator: str | None = None
    kind: ClassVar[str] = "infer"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        object.__setattr__(self, "features", _tuple_of_str("features", self.features))
        _check_str("key", self.key, optional=True)
        _check_str("accelerator", self.accelerator, optional=True)
        object.__setattr__(self, "device", check_choice("device", self.device, DEVICES))
        self.spec()  # a malformed model spec fails when the step is made

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def spec(self, model: str | None = None) -> Any:
        from beam_ml.inference.specs import parse_model_spec

        return parse_model_spec(model or self.model, features=self.features, key=self.key)

    def resource_hint(self) -> str | None:
        """The accelerator hint for runners that honour it.

        Only on the GPU, and only for models that can use one (scikit-learn runs on cpu).
        """
        return _hint(self.device, self.accelerator, [self.spec()])

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.inference.preview import RunModel

        transform = RunModel(self.spec(), _resolve_beam_device(self.device), with_errors=True)
        hint = self.resource_hint()
        if hint:
            transform = transform.with_resource_hints(accelerator=hint)
        predictions, errors = batches_of(inputs[self.input]) | "RunModel" >> transform
        return attach(predictions, extra={"errors": errors})


@dataclass(frozen=True)
class CompareStep(Step):
    """Run the same rows through several models, side by side (``a_*``, ``b_*``, ...).

    >>> CompareStep("ab", "penguins", ("sklearn:a.pkl", "sklearn:b.pkl")).prefixes()
    ['a_', 'b_']
    """

    input: str = ""
    models: tuple[str, ...] = ()
    features: tuple[str, ...] | None = None
    device: str = "auto"
    accelerator: str | None = None
    kind: ClassVar[str] = "compare"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        if isinstance(self.models, str) or not isinstance(self.models, Iterable):
            raise BeamMLError.expected("models as a tuple of KIND:PATH strings", repr(self.models))
        object.__setattr__(self, "models", tuple(self.models))
        if not 2 <= len(self.models) <= 26:
            raise BeamMLError.expected(
                "between 2 and 26 models to compare", len(self.models), "pass --model twice"
            )
        object.__setattr__(self, "features", _tuple_of_str("features", self.features))
        _check_str("accelerator", self.accelerator, optional=True)
        object.__setattr__(self, "device", check_choice("device", self.device, DEVICES))
        self.specs()

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def prefixes(self) -> list[str]:
        return [f"{chr(ord('a') + i)}_" for i in range(len(self.models))]

    def specs(self, models: Iterable[str] | None = None) -> list[Any]:
        from beam_ml.inference.specs import parse_model_spec

        return [parse_model_spec(m, features=self.features) for m in (models or self.models)]

    def resource_hint(self) -> str | None:
        return _hint(self.device, self.accelerator, self.specs())

    def _expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.inference.preview import RunModel

        device = _resolve_beam_device(self.device)
        # Each batch gets an id so that every model's predictions join back to its rows.
        keyed = batches_of(inputs[self.input]) | "BatchIds" >> beam.Map(_with_batch_id)
        branches: dict[str, Any] = {"rows": keyed | "KeyRows" >> beam.Map(_by_batch_id)}
        errors = []
        for spec, prefix in zip(self.specs(), self.prefixes(), strict=True):
            transform = RunModel(spec, device, prefix=prefix, passthrough=False, with_errors=True)
            hint = self.resource_hint()
            if hint:
                transform = transform.with_resource_hints(accelerator=hint)
            label = prefix.rstrip("_").upper()
            predictions, failed = keyed | f"Model{label}" >> transform
            branches[prefix] = predictions | f"Key{label}" >> beam.Map(_by_batch_id)
            errors.append(failed | f"Tag{label}" >> beam.Map(_tag_model, prefix.rstrip("_")))
        joined = (
            branches
            | "Join" >> beam.CoGroupByKey()
            | "Columns" >> beam.FlatMap(_join_predictions, self.prefixes())
        )
        return attach(joined, extra={"errors": tuple(errors) | "Errors" >> beam.Flatten()})


_BATCH_ID = "beam_ml_batch_id"


def _with_batch_id(batch: pd.DataFrame) -> pd.DataFrame:
    import uuid

    out = batch.copy(deep=False)
    out.attrs = {**batch.attrs, _BATCH_ID: uuid.uuid4().hex}
    return out


def _by_batch_id(frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    return frame.attrs.get(_BATCH_ID, ""), frame


def _tag_model(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "model", model)
    return out


def _join_predictions(item: tuple[str, dict[str, list[Any]]], prefixes: list[str]) -> Any:
    _, groups = item
    rows = [f for f in groups.get("rows", []) if len(f)]
    if not rows:
        return
    result = pd.concat(rows) if len(rows) > 1 else rows[0].copy()
    attrs = {k: v for k, v in rows[0].attrs.items() if k != _BATCH_ID}
    for prefix in prefixes:
        parts = [p for p in groups.get(prefix, []) if len(p)]
        if not parts:
            return  # this batch failed in a model: its rows are in the errors output
        predictions = pd.concat(parts) if len(parts) > 1 else parts[0]
        result = result.join(predictions, how="inner")
    result.attrs = attrs
    if len(result):
        yield result


# --------------------------------------------------------------------------- the graph


class StepGraph:
    """The ordered steps of an exploration: insertion order is execution order.

    >>> g = StepGraph([ReadStep("p", "p.csv")])
    >>> StepGraph.from_json(g.to_json()).steps == g.steps
    True
    """

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self._steps: dict[str, Step] = {}
        for step in steps:
            self.add(step)

    @property
    def steps(self) -> list[Step]:
        return list(self._steps.values())

    def __len__(self) -> int:
        return len(self._steps)

    def __contains__(self, name: object) -> bool:
        return name in self._steps

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def get(self, name: str) -> Step:
        if name not in self._steps:
            known = ", ".join(repr(n) for n in self._steps) or "none yet"
            raise BeamMLError.expected("the name of a step", repr(name), f"steps: {known}")
        return self._steps[name]

    def _check_inputs(self, step: Step, before: list[str]) -> None:
        if not isinstance(step, Step):
            raise BeamMLError.expected("a step (ReadStep, TransformStep, ...)", type(step).__name__)
        for i, name in enumerate(step.inputs()):
            if name not in before:
                known = ", ".join(repr(n) for n in before) or "none yet"
                raise BeamMLError.expected(
                    f"an earlier step as input of {step.name!r}",
                    repr(name),
                    f"steps before it: {known}",
                )
            wanted = "profile" if isinstance(step, ValidateStep) and i == 1 else "batches"
            got = self._steps[name].output
            if got != wanted and not (wanted == "batches" and got == "report"):
                raise BeamMLError.expected(
                    f"a step giving {'a profile' if wanted == 'profile' else 'rows'} as "
                    f"input of {step.name!r}",
                    f"{name!r}, a {self._steps[name].kind} step",
                )

    def add(self, step: Step) -> None:
        """Append ``step``; its name must be new and its inputs earlier steps."""
        if isinstance(step, Step) and step.name in self._steps:
            raise BeamMLError.expected(
                "a new step name", repr(step.name), "use replace() to change an existing step"
            )
        self._check_inputs(step, list(self._steps))
        self._steps[step.name] = step

    def replace(self, step: Step) -> None:
        """Replace the step of the same name, keeping its position (or add it)."""
        if step.name not in self._steps:
            self.add(step)
            return
        names = list(self._steps)
        self._check_inputs(step, names[: names.index(step.name)])
        self._steps[step.name] = step

    def remove(self, name: str) -> None:
        """Remove a step and everything downstream of it."""
        for n in self.downstream(name):
            del self._steps[n]

    def downstream(self, name: str) -> list[str]:
        """The step and every step that depends on it, in graph order."""
        self.get(name)
        found = {name}
        for step in self.steps:
            if any(i in found for i in step.inputs()):
                found.add(step.name)
        return [n for n in self._steps if n in found]

    def fingerprint(self, name: str) -> str:
        """A hash of the step and (recursively) its inputs: the preview cache key."""
        step = self.get(name)
        parts = [step.to_json(), *(self.fingerprint(i) for i in step.inputs())]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]

    def apply(self, pipeline: Any, overrides: dict[str, Step] | None = None) -> dict[str, Any]:
        """Apply every step in order; return each step's output by name."""
        outputs: dict[str, Any] = {}
        for step in self.steps:
            step = (overrides or {}).get(step.name, step)
            outputs[step.name] = step.apply(pipeline, {n: outputs[n] for n in step.inputs()})
        return outputs

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepGraph:
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise BeamMLError.expected("{'steps': [...]}", type(data).__name__)
        return cls(Step.from_dict(d) for d in data["steps"])

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> StepGraph:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise BeamMLError.expected("step graph JSON", str(error)) from None
        return cls.from_dict(data)

    def __repr__(self) -> str:
        return f"StepGraph({self.steps!r})"


# --------------------------------------------------------------------------- outputs

OUTPUT_LAYOUT = {
    "read": ["bad_records-*.jsonl"],
    "transform": ["rows-*.jsonl"],
    "profile": ["profile.json"],
    "validate": ["report.json", "rows-*.jsonl", "invalid-*.jsonl"],
    "infer": ["predictions-*.jsonl", "errors-*.jsonl"],
    "compare": ["predictions-*.jsonl", "errors-*.jsonl"],
}


def _json_text(frame: pd.DataFrame) -> str:
    """The rows of a DataFrame as JSON lines (NaN/None -> null, dates in ISO 8601)."""
    flat = frame.reset_index(drop=True)
    flat.columns = [str(c) for c in flat.columns]
    text = flat.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
    return str(text).rstrip("\n")


def frame_lines(frame: pd.DataFrame) -> list[str]:
    """The rows of a DataFrame as JSON lines, one string per row."""
    if not len(frame):
        return []
    # JSON escapes a newline inside a value, so a line is a row
    return _json_text(frame).split("\n")


def frame_text(frame: pd.DataFrame) -> list[str]:
    """A batch's JSON lines as one text element ([] for an empty batch).

    WriteToText ends each element with a newline, so the file is the same as
    with one element per row, but Beam's per-element cost is paid per batch:
    one element per row made writing most of an exported pipeline's run time.
    """
    return [_json_text(frame)] if len(frame) else []


def _write_text(text: str, path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(path) as handle:
        handle.write(text.encode("utf-8"))


def _report_json(report: Any) -> str:
    return str(report.to_json(indent=2))


def _profile_json(profile: Any) -> str:
    return str(profile.to_json(indent=2))


def _join(base: str, name: str) -> str:
    """``base/name`` on any file system, even one whose client is not installed here
    (the launcher of a Dataflow job may lack gcsfs; its workers do not)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        return str(FileSystems.join(base, name))
    except ValueError:
        return base.rstrip("/") + "/" + name


def _bad_record_lines(record: Any) -> list[str]:
    return [json.dumps(record.to_dict())]


# file stem -> how its PCollection becomes text, and whether it is one file or shards
_WRITERS: dict[str, tuple[Callable[[Any], Any], bool]] = {
    "bad_records": (_bad_record_lines, False),
    "rows": (frame_text, False),
    "invalid": (frame_text, False),
    "predictions": (frame_text, False),
    "errors": (frame_text, False),
    "profile.json": (_profile_json, True),
    "report.json": (_report_json, True),
}


class _WriteOutputs(beam.PTransform):
    """``{stem: PCollection}`` -> files under ``folder`` (JSON Lines shards or one JSON)."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def expand(self, outputs: dict[str, Any]) -> Any:
        written = {}
        for stem, pcoll in outputs.items():
            to_text, single = _WRITERS[stem]
            path = _join(self.folder, stem)
            if single:
                written[stem] = (
                    pcoll
                    | f"{stem}/Json" >> beam.Map(to_text)
                    | f"{stem}/Write" >> beam.Map(_write_text, path)
                )
            else:
                lines = pcoll | f"{stem}/Lines" >> beam.FlatMap(to_text)
                written[stem] = lines | f"{stem}/Write" >> beam.io.WriteToText(
                    path, file_name_suffix=".jsonl"
                )
        return written


def step_outputs(step: Step, result: Any) -> dict[str, Any]:
    """The PCollections a step writes, by file stem (see ``OUTPUT_LAYOUT``)."""
    if isinstance(step, ReadStep):
        bad = getattr(result, _BAD_RECORDS, None)
        return {} if bad is None else {"bad_records": bad}
    if isinstance(step, TransformStep):
        return {"rows": result}
    if isinstance(step, ProfileStep):
        return {"profile.json": result}
    if isinstance(step, ValidateStep):
        return {
            "report.json": result["report"],
            "rows": result["valid"],
            "invalid": result["invalid"],
        }
    out = {"predictions": result}
    errors = extra_outputs(result).get("errors")
    if errors is not None:
        out["errors"] = errors
    return out


def write_outputs(step: Step, result: Any, output: str) -> Any:
    """Write a step's outputs under ``output/<step name>/`` (see ``OUTPUT_LAYOUT``).

    One composite labelled ``Write[<step>]``. Rows are JSON Lines shards written
    by Beam's ``WriteToText`` (any runner, any file system Beam knows: local,
    gs://, s3://, hdfs://); a profile or report is one JSON file.
    """
    outputs = step_outputs(step, result)
    if not outputs:
        return None
    return outputs | f"Write[{step.name}]" >> _WriteOutputs(_join(output, step.name))
