"""The ordered steps of an exploration: insertion order is execution order.

>>> from beam_ml.steps import ProfileStep, ReadStep, TransformStep
>>> g = StepGraph()
>>> g.add(ReadStep("penguins", "penguins.csv"))
>>> g.add(TransformStep("heavy", "penguins", "df = df[df.body_mass_g > 4000]"))
>>> g.add(ProfileStep("heavy_profile", "heavy"))
>>> [s.name for s in g.steps], g.downstream("heavy")
(['penguins', 'heavy', 'heavy_profile'], ['heavy', 'heavy_profile'])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.steps.base import PreviewContext, Step, StepPreview


class StepGraph:
    """The ordered steps of an exploration: insertion order is execution order.

    >>> from beam_ml.steps import ReadStep
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
            wanted = step.accepts(i)
            got = self._steps[name].output
            if got not in wanted:
                what = " or ".join("rows" if w == "batches" else f"a {w}" for w in wanted)
                raise BeamMLError.expected(
                    f"a step giving {what} as input of {step.name!r}",
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


def preview_graph(
    graph: StepGraph, context: PreviewContext, samples: dict[str, int] | None = None
) -> dict[str, StepPreview]:
    """Every step's preview, in order; a read step reads ``samples[name]`` rows if given.

    What ``export.check`` compares the module with, computed without a notebook.
    """
    from dataclasses import replace

    previews: dict[str, StepPreview] = {}
    for step in graph.steps:
        own = context
        if samples and step.name in samples:
            own = replace(context, sample=samples[step.name])
        previews[step.name] = step.preview({n: previews[n] for n in step.inputs()}, own)
    return previews
