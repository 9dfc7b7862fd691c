"""The notebook's steps and a cache of their previews.

A :class:`Session` holds the exploration as a :class:`beam_ml.steps.StepGraph`
and previews each step on a bounded sample:

- a read step is a uniform random sample of the whole input, read upstream
  with memory bounded by its size (``sources.sample``; ``head=True``: the first rows);
- a transform step runs its body with Beam DataFrame semantics on that sample,
  through Beam's expression ``Session`` (no runner, pandas speed), so an
  operation a pipeline refuses (``sort_values``) fails right here;
- every other step runs its own Beam subgraph (``step.apply``) over the
  sample on DirectRunner: the session only caches; each step kind previews itself.

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
import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from beam_ml.errors import DEVICES, BeamMLError, check_choice, check_positive_int

if TYPE_CHECKING:  # pandas is imported by the steps, when a step first runs
    import pandas as pd
from beam_ml.notebook.watchers import StepWatchers


@dataclass(frozen=True)
class Progress:
    """Where a running step is: its stage, rows processed so far and time elapsed."""

    step: str
    kind: str
    stage: str  # "started" | "done" | "failed" | "cached"
    rows: int | None
    elapsed: float
    beam: bool = True  # the step's preview runs a Beam pipeline (not pandas alone)

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


# --------------------------------------------------------------------------- the session


def _steps() -> Any:
    import beam_ml.steps as steps

    return steps


class Session(StepWatchers):
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
        seed: int = 0,
    ) -> None:
        self.graph = _steps().StepGraph()
        self.seed = int(seed)
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
        self._shown: dict[str, str] = {}  # step name -> key of the result last returned
        self._listeners: list[Callable[[Progress], None]] = []
        self._watchers: list[Any] = []  # the views of steps (StepWatchers.on_change)

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
        self._notify({name: result, **self.refreshed})
        return result

    def result(self, name: str, sample: int | None = None) -> Any:
        """The preview of step ``name`` on ``sample`` rows (its own or inherited by default)."""
        self.get(name)
        n = int(check_positive_int("sample", sample, allow_none=True) or self.sample_for(name))
        value = self._compute(name, n)
        self._shown[name] = self._key(name, n)
        return value.result

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
        key = self._key(name, self.sample_for(name))
        value = self._cache.get(key)
        return list(value.extra.get("bad_records", [])) if value is not None else []

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
        self,
        name: str,
        path: str,
        format: str | None = None,
        sample: int | None = None,
        head: bool = False,
    ) -> pd.DataFrame:
        """Record a read step; its preview is a uniform sample of ``sample`` rows.

        ``head=True`` previews the first rows instead.
        """
        step = _steps().ReadStep(name=name, path=str(path), format=format, head=head)
        return self.add(step, sample)

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

    def cascade(
        self,
        input: str,
        first: str,
        then: str,
        between: str | None = None,
        features: Any = None,
        device: str | None = None,
        sample: int | None = None,
        name: str | None = None,
    ) -> Any:
        """Record a cascade step (``first``'s output feeds ``then``); preview it."""
        step = _steps().CascadeStep(
            name=name or f"{input}_cascade",
            input=input,
            first=first,
            then=then,
            between=between,
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
        kind, beam = step.kind, step.previews_with_beam
        start = self.clock()
        self._emit(Progress(step.name, kind, "started", rows, 0.0, beam))
        done: dict[str, Any] = {"rows": None}
        try:
            yield done
        except BaseException:
            self._emit(Progress(step.name, kind, "failed", rows, self.clock() - start, beam))
            raise
        self._emit(Progress(step.name, kind, "done", done["rows"], self.clock() - start, beam))

    # ------------------------------------------------------------------ computing
    def _context(self, n: int) -> Any:
        return _steps().PreviewContext(
            sample=n, seed=self.seed, device_probe=self.device_probe, options=self.options
        )

    def _key(self, name: str, n: int) -> str:
        step = self.graph.get(name)
        parts = [
            self.graph.fingerprint(name),
            str(n),
            str(self.seed),
            _stamps(step),
            *(self._key(i, n) for i in step.inputs()),
        ]
        if step.uses_device:
            parts.append(repr(self.device_probe))
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def preview(self, name: str, sample: int | None = None) -> Any:
        """The step's whole preview (``StepPreview``: result, rows, extra outputs)."""
        self.get(name)
        n = int(check_positive_int("sample", sample, allow_none=True) or self.sample_for(name))
        return self._compute(name, n)

    def _compute(self, name: str, n: int) -> Any:
        key = self._key(name, n)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        step = self.graph.get(name)
        inputs = {i: self._compute(i, n) for i in step.inputs()}
        rows = sum(p.row_count() or 0 for p in inputs.values()) or None
        # a read's row count is known when it is done (344 penguins, not the 1,000 asked for)
        with self._stage(step, rows if inputs else None) as done:
            value = step.preview(inputs, self._context(n))
            done["rows"] = value.row_count()
        self.computed.append(name)
        self._cache[key] = value
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)
        return value

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
        from beam_ml.notebook.steps_table import StepsTable

        return StepsTable(self.to_dict())._repr_mimebundle_()


def _features(features: Any) -> tuple[str, ...] | None:
    if features is None:
        return None
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    return tuple(features)


def _stamps(step: Any) -> str:
    """Size and modification time of the files a step reads, so editing one re-runs it."""
    stamps = []
    for path in step.watched_files():
        with contextlib.suppress(OSError):
            st = os.stat(path)
            stamps.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(stamps)
