"""The notebook's steps and a cache of their previews.

A :class:`Session` holds the exploration as a :class:`beam_ml.steps.core.StepGraph`
and previews each step on a bounded sample:

- a read step is a pandas sample, read upstream (``sources.head``): never the
  whole file;
- a transform step runs its body with Beam DataFrame semantics on that sample,
  through Beam's expression ``Session`` (no runner, pandas speed), so an
  operation a pipeline refuses (``sort_values``) fails right here;
- profile, validate, infer and compare steps run their real Beam transforms
  (``step.apply``) over the sample on DirectRunner.

Results are cached by the step's fingerprint (its spec and its inputs'), the
sample size and the files it reads: re-running an unchanged step returns the
cached object at once; editing a step recomputes it and what depends on it.

>>> import beam_ml as bml
>>> s = bml.Session(default_sample=200)
>>> df = s.read("penguins", bml.datasets.load("penguins"))          # doctest: +SKIP
>>> big = s.transform("big", "penguins", "df = df[df.body_mass_g > 4000]")  # doctest: +SKIP
>>> s.profile("big")                                                  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, check_positive_int, one_line

DEVICES = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class Progress:
    """Where a running step is: its stage, rows processed so far and time elapsed."""

    step: str
    kind: str
    stage: str  # "started" | "done" | "failed" | "cached"
    rows: int | None
    elapsed: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind,
            "stage": self.stage,
            "rows": self.rows,
            "elapsed": round(self.elapsed, 3),
        }

    def text(self) -> str:
        rows = "" if self.rows is None else f", {self.rows:,} rows"
        return f"{self.kind} {self.step}: {self.stage}{rows}, {self.elapsed:.1f} s"


# --------------------------------------------------------------------------- errors


def _transform_error(name: str, error: BaseException) -> BeamMLError:
    message = one_line(str(error).split("\n", 1)[0], 200)
    if isinstance(error, BeamMLError):
        return BeamMLError(one_line(str(error)))
    if isinstance(error, NotImplementedError):  # Beam's WontImplementError / NotImplementedError
        return BeamMLError.expected(
            f"a transform Beam can run in a pipeline (step {name!r})",
            message,
            "use an order-independent operation (no sort_values, head, iloc...)",
        )
    return BeamMLError(one_line(f"transform {name!r} failed: {type(error).__name__}: {message}"))


# --------------------------------------------------------------------------- the session


def _steps() -> Any:
    from beam_ml.steps import core as steps

    return steps


class Session:
    """The notebook's step graph, with cached previews of each step on a sample.

    ``default_sample`` rows are read for a preview unless a step says otherwise;
    ``default_device`` ('auto' | 'cpu' | 'gpu') is the device of new infer steps.
    ``device_probe`` (a callable -> bool, "is CUDA usable?") and ``options``
    (Beam pipeline options for the preview runs) are injectable for tests.

    >>> s = Session(default_sample=100)
    >>> s.default_sample, s.default_device
    (100, 'auto')
    """

    def __init__(
        self,
        default_sample: int = 1000,
        default_device: str = "auto",
        *,
        device_probe: Callable[[], bool] | None = None,
        options: Any = None,
        max_cached: int = 256,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.graph = _steps().StepGraph()
        self.default_sample = default_sample
        self.default_device = default_device
        self.device_probe = device_probe
        self.options = options
        self.max_cached = max_cached
        self.clock = clock
        self.computed: list[str] = []  # every cache miss, in order (what was recomputed)
        self.refreshed: dict[str, Any] = {}  # downstream results of the last change
        self._samples: dict[str, int] = {}  # per-step sample sizes set explicitly
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._rows: dict[str, pd.DataFrame] = {}  # valid rows of validate previews, by key
        self._bad: dict[str, list[Any]] = {}  # BadRecords of read previews, by key
        self._shown: dict[str, str] = {}  # step name -> key of the result last returned
        self._listeners: list[Callable[[Progress], None]] = []

    # ------------------------------------------------------------------ settings
    @property
    def default_sample(self) -> int:
        return self._default_sample

    @default_sample.setter
    def default_sample(self, value: int) -> None:
        self._default_sample = int(check_positive_int("default_sample", value) or 0)

    @property
    def default_device(self) -> str:
        return self._default_device

    @default_device.setter
    def default_device(self, value: str) -> None:
        self._default_device = check_choice("default_device", str(value).lower(), DEVICES)

    # ------------------------------------------------------------------ the graph
    @property
    def steps(self) -> list[Any]:
        return list(self.graph.steps)

    def names(self) -> list[str]:
        return [s.name for s in self.graph.steps]

    def get(self, name: str) -> Any:
        """The step called ``name``; a one-line error naming the closest if none is."""
        if name not in self.names():
            raise self._unknown(name)
        return self.graph.get(name)

    def _unknown(self, name: str, what: str = "a step name") -> BeamMLError:
        import difflib

        names = self.names()
        close = difflib.get_close_matches(name, names, n=1)
        if close:
            fix = f"did you mean {close[0]!r}?"
        elif names:
            fix = "known steps: " + ", ".join(names[:10])
        else:
            fix = "read a dataset first: %beam_ml read NAME PATH"
        return BeamMLError.expected(what, repr(name), fix)

    def add(self, step: Any, sample: int | None = None) -> Any:
        """Add ``step`` (or replace the step of that name, keeping its place); preview it.

        Steps downstream of a changed step that were previewed before are
        recomputed too (their results land in :attr:`refreshed`).
        """
        before = self.graph.get(step.name) if step.name in self.graph else None
        had_sample = self._samples.get(step.name)
        self.record(step, sample=sample)
        try:
            return self.run(step.name)
        except BaseException:
            # A step that fails is not kept: the graph holds what last worked.
            if before is None:
                self.graph.remove(step.name)
            else:
                self.graph.replace(before)
            if had_sample is None:
                self._samples.pop(step.name, None)
            else:
                self._samples[step.name] = had_sample
            raise

    def record(self, step: Any, sample: int | None = None) -> None:
        """Add or replace ``step`` without running it; check that its inputs exist."""
        for name in step.inputs():
            if name == step.name or name not in self.names():
                raise self._unknown(name, f"an input step for {step.name!r}")
        if sample is not None:
            self._samples[step.name] = int(check_positive_int("sample", sample) or 0)
        else:
            self._samples.pop(step.name, None)
        if step.name in self.names():
            old = self.graph.get(step.name)
            if old.to_dict() != step.to_dict():
                self._check_no_cycle(step)
                self.graph.replace(step)
        else:
            self.graph.add(step)

    def _check_no_cycle(self, step: Any) -> None:
        downstream = set(self.graph.downstream(step.name)) - {step.name}
        for name in step.inputs():
            if name in downstream:
                raise BeamMLError.expected(
                    f"inputs of {step.name!r} that do not depend on it",
                    repr(name),
                    "read from a step defined before it",
                )

    def run(self, name: str, sample: int | None = None) -> Any:
        """Preview step ``name`` (cached), then refresh what changed downstream of it."""
        result = self.result(name, sample=sample)
        self.refreshed = {}
        for other in self.graph.downstream(name):
            if other == name or other not in self._shown:
                continue
            if self._key(other, self.sample_for(other)) == self._shown[other]:
                continue
            try:
                self.refreshed[other] = self.result(other)
            except BeamMLError as error:
                self.refreshed[other] = error
        return result

    def result(self, name: str, sample: int | None = None) -> Any:
        """The preview of step ``name`` on ``sample`` rows (its own or inherited by default)."""
        self.get(name)
        n = int(check_positive_int("sample", sample, allow_none=True) or self.sample_for(name))
        value = self._compute(name, n)
        self._shown[name] = self._key(name, n)
        return value

    def sample_for(self, name: str) -> int:
        """Rows a preview of ``name`` reads: its own setting, else its first input's."""
        step = self.graph.get(name)
        if name in self._samples:
            return self._samples[name]
        inputs = step.inputs()
        return self.sample_for(inputs[0]) if inputs else self.default_sample

    def bad_records(self, name: str) -> list[Any]:
        """The lines a read step's last preview could not read (``sources.BadRecord``s)."""
        self.get(name)
        return list(self._bad.get(self._key(name, self.sample_for(name)), []))

    def set_sample(self, name: str, sample: int) -> Any:
        """Change how many rows ``name`` previews on, and re-run it."""
        self.get(name)
        self._samples[name] = int(check_positive_int("sample", sample) or 0)
        return self.run(name)

    def set_device(self, name: str, device: str) -> Any:
        """Change the device of infer/compare step ``name``, and re-run it."""
        step = self.get(name)
        if not hasattr(step, "device"):
            raise BeamMLError.expected(
                "an infer or compare step", f"{type(step).__name__} {name!r}"
            )
        device = check_choice("device", str(device).lower(), DEVICES)
        self.graph.replace(replace(step, device=device))
        return self.run(name)

    def is_cached(self, name: str, sample: int | None = None) -> bool:
        return self._key(name, sample or self.sample_for(name)) in self._cache

    def clear_cache(self) -> None:
        self._cache.clear()
        self._shown.clear()

    # ------------------------------------------------------------------ conveniences
    def read(
        self, name: str, path: str, format: str | None = None, sample: int | None = None
    ) -> pd.DataFrame:
        """Record a read step; its preview is the first ``sample`` rows as pandas."""
        return self.add(_steps().ReadStep(name=name, path=str(path), format=format), sample)

    def transform(self, name: str, input: str, body: str) -> Any:
        """Record a transform step (``body`` reads and rebinds ``df``); preview it."""
        return self.add(_steps().TransformStep(name=name, input=input, body=body))

    def profile(self, input: str, name: str | None = None, sample: int | None = None) -> Any:
        """Record a profile step of ``input``; its preview is a ``Profile`` of the sample."""
        step = _steps().ProfileStep(name=name or f"{input}_profile", input=input)
        return self.add(step, sample)

    def validate(
        self,
        input: str,
        reference: str | None = None,
        rules: str | None = None,
        name: str | None = None,
    ) -> Any:
        """Record a validate step; its preview is a ``ValidationReport`` of the sample."""
        if (reference is None) == (rules is None):
            raise BeamMLError.expected(
                "exactly one of a reference step or a rules file",
                "both" if reference else "neither",
                "pass --reference NAME or --rules FILE",
            )
        step = _steps().ValidateStep(
            name=name or f"{input}_validate", input=input, reference=reference, rules=rules
        )
        return self.add(step)

    def infer(
        self,
        input: str,
        model: str,
        features: Any = None,
        key: str | None = None,
        device: str | None = None,
        sample: int | None = None,
        name: str | None = None,
    ) -> Any:
        """Record an infer step; its preview runs the real RunInference on the sample."""
        step = _steps().InferStep(
            name=name or f"{input}_infer",
            input=input,
            model=model,
            features=_features(features),
            key=key,
            device=check_choice("device", (device or self.default_device).lower(), DEVICES),
        )
        return self.add(step, sample)

    def compare(
        self,
        input: str,
        models: Any,
        features: Any = None,
        device: str | None = None,
        sample: int | None = None,
        name: str | None = None,
    ) -> Any:
        """Record a compare step (two models side by side); preview it on the sample."""
        step = _steps().CompareStep(
            name=name or f"{input}_compare",
            input=input,
            models=tuple(models),
            features=_features(features),
            device=check_choice("device", (device or self.default_device).lower(), DEVICES),
        )
        return self.add(step, sample)

    # ------------------------------------------------------------------ progress
    def on_progress(self, listener: Callable[[Progress], None]) -> Callable[[], None]:
        """Call ``listener(Progress)`` as steps start and finish; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, event: Progress) -> None:
        for listener in list(self._listeners):
            listener(event)

    @contextmanager
    def _stage(self, step: Any, rows: int | None) -> Iterator[dict[str, Any]]:
        kind = _kind(step)
        start = self.clock()
        self._emit(Progress(step.name, kind, "started", rows, 0.0))
        done: dict[str, Any] = {"rows": None}
        try:
            yield done
        except BaseException:
            self._emit(Progress(step.name, kind, "failed", rows, self.clock() - start))
            raise
        self._emit(Progress(step.name, kind, "done", done["rows"], self.clock() - start))

    # ------------------------------------------------------------------ computing
    def _key(self, name: str, n: int) -> str:
        step = self.graph.get(name)
        parts = [
            self.graph.fingerprint(name),
            str(n),
            _stamps(step),
            *(self._key(i, n) for i in step.inputs()),
        ]
        if _kind(step) in ("infer", "compare"):
            parts.append(repr(self.device_probe))
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _compute(self, name: str, n: int) -> Any:
        key = self._key(name, n)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        step = self.graph.get(name)
        inputs = {i: self._input(i, n) for i in step.inputs()}
        rows = sum(len(v) for v in inputs.values() if isinstance(v, pd.DataFrame)) or None
        with self._stage(step, rows if inputs else n) as done:
            value = self._preview(step, inputs, n)
            if isinstance(value, tuple) and _kind(step) == "read":
                value, self._bad[key] = value
            elif isinstance(value, tuple):  # (report, valid rows) of a validate step
                value, self._rows[key] = value
            done["rows"] = len(value) if isinstance(value, pd.DataFrame) else _rows(value)
        self.computed.append(name)
        self._cache[key] = value
        while len(self._cache) > self.max_cached:
            old, _ = self._cache.popitem(last=False)
            self._rows.pop(old, None)
            self._bad.pop(old, None)
        return value

    def _input(self, name: str, n: int) -> Any:
        """What step ``name`` hands the steps after it: a profile, or its rows as pandas."""
        value = self._compute(name, n)
        key = self._key(name, n)
        if key in self._rows:
            return self._rows[key]
        predictions = getattr(value, "predictions", None)
        return predictions if isinstance(predictions, pd.DataFrame) else value

    def _preview(self, step: Any, inputs: dict[str, Any], n: int) -> Any:
        kind = _kind(step)
        if kind == "read":
            from beam_ml.sources.readers import head

            bad: list[Any] = []
            frame = head(step.source(), n, bad_records=bad)
            return frame, bad  # bad: the lines that could not become rows
        if kind == "transform":
            frame = inputs[step.input]
            if not isinstance(frame, pd.DataFrame):
                raise BeamMLError.expected(
                    f"a table as the input of transform {step.name!r}",
                    f"{type(frame).__name__} from step {step.input!r}",
                    "transform a read or transform step",
                )
            try:
                return step.preview(frame)
            except Exception as error:
                raise _transform_error(step.name, error) from None
        if kind == "infer" or (kind == "compare" and len(step.models) == 2):
            return self._preview_inference(step, inputs[step.input])
        return self._preview_beam(step, inputs)

    def _preview_beam(self, step: Any, inputs: dict[str, Any]) -> Any:
        """Run the step's own Beam transform over the inputs' previews (DirectRunner)."""
        import apache_beam as beam

        from beam_ml.runner import run_and_collect

        def build(pipeline: Any) -> Any:
            pcolls = {
                name: pipeline | f"Preview {name}" >> beam.Create([value], reshuffle=False)
                for name, value in inputs.items()
            }
            return step.apply(pipeline, pcolls)

        out = run_and_collect(build, self.options)
        if isinstance(out, dict):  # a validate step: its report, and its valid rows
            return _one(out["report"], step), _concat(out["valid"])
        if _kind(step) == "profile":
            return _one(out, step)
        return _concat(out)

    def _preview_inference(self, step: Any, frame: Any) -> Any:
        """Real RunInference on the sample, through the inference engine's preview.

        It builds the same ``RunModel`` transform as the step's ``apply`` and
        also reports which device ran and why (with the injectable probe).
        """
        from beam_ml.inference import preview as inference

        if not isinstance(frame, pd.DataFrame):
            raise BeamMLError.expected(
                f"a table as the input of {step.name!r}", type(frame).__name__
            )
        features = list(step.features) if step.features else None
        common = {
            "sample": max(len(frame), 1),
            "device": step.device,
            "features": features,
            "device_probe": self.device_probe,
            "options": self.options,
        }
        if _kind(step) == "compare":
            if len(step.models) != 2:
                raise BeamMLError.expected(
                    "two --model options for compare", f"{len(step.models)}", "pass two models"
                )
            return inference.compare_models(frame, step.models[0], step.models[1], **common)
        return inference.preview_inference(frame, step.model, key=step.key, **common)

    # ------------------------------------------------------------------ viewing
    def to_dict(self) -> dict[str, Any]:
        return {
            "default_sample": self.default_sample,
            "default_device": self.default_device,
            "steps": [
                {
                    **s.to_dict(),
                    "sample": self.sample_for(s.name),
                    "cached": self.is_cached(s.name),
                }
                for s in self.graph.steps
            ],
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return StepsTable(self.to_dict())._repr_mimebundle_()


@dataclass(frozen=True)
class StepsTable:
    """What ``%beam_ml steps`` shows: each step, its inputs, sample and cache state."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.data, default=str))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        rows = []
        for s in self.data["steps"]:
            detail = {k: v for k, v in s.items() if k not in ("kind", "name", "sample", "cached")}
            rows.append(
                (
                    str(s.get("name")),
                    str(s.get("kind")),
                    _truncate(json.dumps(detail, default=str), 120),
                    str(s.get("sample")),
                    "yes" if s.get("cached") else "no",
                )
            )
        return rows

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        import html

        rows = self._rows()
        if not rows:
            text = "no steps yet: %beam_ml read NAME PATH"
            return {"text/plain": text, "text/html": f"<p>{html.escape(text)}</p>"}
        head = ("step", "kind", "spec", "sample", "cached")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]
        ]
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
        )
        header = "".join(f"<th>{h}</th>" for h in head)
        table = (
            f'<table class="beam-ml-steps"><thead><tr>{header}</tr></thead>'
            f"<tbody>{cells}</tbody></table>"
        )
        return {"text/plain": "\n".join(lines), "text/html": table}


def _truncate(text: str, limit: int) -> str:
    # Not one_line(): that folds spaces, and a body's spaces are the user's data.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(step: Any) -> str:
    return str(step.to_dict().get("kind", type(step).__name__.removesuffix("Step").lower()))


def _features(features: Any) -> tuple[str, ...] | None:
    if features is None:
        return None
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    return tuple(features)


def _one(values: list[Any], step: Any) -> Any:
    if len(values) != 1:
        raise BeamMLError.expected(f"one result from step {step.name!r}", f"{len(values)} results")
    return values[0]


def _concat(frames: list[Any]) -> pd.DataFrame:
    frames = [f for f in frames if isinstance(f, pd.DataFrame)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames).sort_index(kind="stable") if len(frames) > 1 else frames[0]


def _rows(value: Any) -> int | None:
    for attr in ("sample_rows", "rows"):
        got = getattr(value, attr, None)
        if isinstance(got, int):
            return got
        if isinstance(got, dict) and isinstance(got.get("total"), int):
            return int(got["total"])
    return None


def _stamps(step: Any) -> str:
    """Size and modification time of the files a step reads, so editing one re-runs it."""
    stamps = []
    if _kind(step) == "read" and glob.has_magic(step.path):
        # A glob: the files it matches now (one added or removed re-runs the read).
        for path in sorted(glob.glob(step.path)):
            with contextlib.suppress(OSError):
                st = os.stat(path)
                stamps.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    for value in step.to_dict().values():
        for text in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(text, str) or not text:
                continue
            for candidate in (text, text.split(":", 1)[-1]):
                try:
                    st = os.stat(candidate)
                except (OSError, ValueError):
                    continue
                stamps.append(f"{candidate}:{st.st_size}:{st.st_mtime_ns}")
                break
    return "|".join(stamps)
