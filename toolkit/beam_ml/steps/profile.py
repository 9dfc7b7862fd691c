"""The profile step: one :class:`~beam_ml.profiling.Profile` of its input's batches.

>>> ProfileStep("stats", "penguins", top_k=20).keywords()
{'name': 'stats', 'input': 'penguins', 'top_k': 20}
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from beam_ml.errors import check_positive_int
from beam_ml.steps.base import Step, StepPreview, batches_of, check_step_name, only
from beam_ml.steps.forms_common import positive_int


@dataclass(frozen=True)
class ProfileStep(Step):
    """Profile the input's batches into one :class:`beam_ml.profiling.Profile`."""

    input: str = ""
    top_k: int = 10
    bins: int = 20
    kind: ClassVar[str] = "profile"
    position: ClassVar[int] = 2
    output: ClassVar[str] = "profile"
    files: ClassVar[tuple[str, ...]] = ("profile.json",)
    view: ClassVar[str] = "beam_ml.notebook.widgets:ProfileView"
    usage: ClassVar[str] = "%beam_ml profile NAME [--sample N] [-o VAR]"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        check_positive_int("top_k", self.top_k)
        check_positive_int("bins", self.bins)

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.profiling import ProfileDataset

        batches = batches_of(inputs[self.input])
        return batches | "Profile" >> ProfileDataset(top_k=self.top_k, bins=self.bins)

    def outputs(self, result: Any) -> dict[str, Any]:
        return {"profile.json": result}

    def from_outputs(
        self, collected: dict[str, list[Any]], inputs: dict[str, StepPreview], context: Any
    ) -> StepPreview:
        return StepPreview(only(collected["profile.json"], self))

    def parity(self, folder: Path, preview: StepPreview) -> tuple[bool, str]:
        from beam_ml.steps.parity import compare_profiles

        data = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
        return compare_profiles(data, preview.result)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--sample", type=positive_int)

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        return cls(name=f"{options.name}_profile", input=options.name), options.sample
