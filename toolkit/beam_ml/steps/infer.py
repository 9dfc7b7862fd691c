"""The model steps: one model (infer), models side by side (compare), a cascade.

Each builds its subgraph from the inference package's transforms
(``RunModel``, ``CompareModels``, ``CascadeModels``) — the same ones that
``bml.preview_inference``, ``bml.compare_models`` and ``bml.cascade`` run.

>>> InferStep("pred", "penguins", "sklearn:m.pkl", features=("bill_length_mm",)).inputs()
('penguins',)
>>> CompareStep("ab", "penguins", ("sklearn:a.pkl", "sklearn:b.pkl")).prefixes()
['a_', 'b_']
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, ClassVar

from beam_ml.errors import BeamMLError
from beam_ml.steps.base import Step, batches_of, check_str
from beam_ml.steps.models import ModelStep, check_models


@dataclass(frozen=True)
class InferStep(ModelStep):
    """Run a model (``"KIND:PATH"``, e.g. ``"sklearn:model.pkl"``) with Beam's RunInference.

    ``apply`` returns ``{"predictions": the input rows with prediction columns,
    "errors": the rows the model failed on, with the error}``. ``accelerator``
    is the resource hint used when ``device='gpu'``.
    """

    input: str = ""
    model: str = ""
    kind: ClassVar[str] = "infer"
    position: ClassVar[int] = 4
    usage: ClassVar[str] = (
        "%beam_ml infer NAME --model KIND:PATH [--features A,B] [--key COL] "
        "[--device auto|cpu|gpu] [--model-class PKG.MOD:CLASS] [--label COL] [--sample N] "
        "[-o VAR]"
    )

    def model_paths(self) -> tuple[str, ...]:
        return (self.model,)

    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.inference import InferModel

        transform = InferModel(
            self.specs()[0], self.beam_device(), accelerator=self.resource_hint(),
            **self.label_args(),
        )  # fmt: skip
        return batches_of(inputs[self.input]) | "RunModel" >> transform

    def result_from(self, frame: Any, outputs: dict[str, Any], choice: Any, **run: Any) -> Any:
        from beam_ml.inference import InferencePreview

        return InferencePreview.from_outputs(frame, outputs, choice, self.specs()[0], **run)

    def model_args(self, option: Any) -> dict[str, str | None]:
        return {"model": option("model", self.model, f"model of step {self.name}")}

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        if len(options.model) != 1:
            raise BeamMLError.expected("one --model for infer", len(options.model), "use compare")
        step = cls(
            name=f"{options.name}_infer",
            input=options.name,
            model=options.model[0],
            **ModelStep.common_args(options, default_device),
        )
        return step, options.sample


@dataclass(frozen=True)
class CompareStep(ModelStep):
    """Run the same rows through several models, side by side (``a_*``, ``b_*``, ...)."""

    input: str = ""
    models: tuple[str, ...] = ()
    kind: ClassVar[str] = "compare"
    position: ClassVar[int] = 5
    usage: ClassVar[str] = (
        "%beam_ml compare NAME --model KIND:PATH --model KIND:PATH [--features A,B] "
        "[--label COL] [-o VAR]"
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", check_models(self.models, 2, 26, "pass --model twice"))
        super().__post_init__()

    def model_paths(self) -> tuple[str, ...]:
        return self.models

    def prefixes(self) -> list[str]:
        return [f"{chr(ord('a') + i)}_" for i in range(len(self.models))]

    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.inference import CompareModels

        transform = CompareModels(
            self.specs(), self.beam_device(), self.prefixes(), accelerator=self.resource_hint(),
            **self.label_args(),
        )  # fmt: skip
        return batches_of(inputs[self.input]) | "Compare" >> transform

    def result_from(self, frame: Any, outputs: dict[str, Any], choice: Any, **run: Any) -> Any:
        from beam_ml.inference import ModelComparison

        return ModelComparison.from_outputs(
            frame, outputs, choice, self.specs(), prefixes=self.prefixes(), **run
        )

    def model_args(self, option: Any) -> dict[str, str | None]:
        dests = [
            option(f"model_{p.rstrip('_')}", m, f"model {p.rstrip('_')} of {self.name}")
            for p, m in zip(self.prefixes(), self.models, strict=True)
        ]
        return {"models": "(" + ", ".join(dests) + ",)"}

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        step = cls(
            name=f"{options.name}_compare",
            input=options.name,
            models=tuple(options.model),
            **ModelStep.common_args(options, default_device),
        )
        return step, options.sample


@dataclass(frozen=True)
class CascadeStep(ModelStep):
    """Model ``first``'s output, passed through ``between``, is model ``then``'s input.

    ``between`` is an importable ``pkg.mod:func`` (``df -> df``) that may filter
    rows or derive the second model's features; without it every row goes on.

    >>> CascadeStep("c", "penguins", "sklearn:a.pkl", "sklearn:b.pkl").model_paths()
    ('sklearn:a.pkl', 'sklearn:b.pkl')
    """

    input: str = ""
    first: str = ""
    then: str = ""
    between: str | None = None
    kind: ClassVar[str] = "cascade"
    position: ClassVar[int] = 6
    usage: ClassVar[str] = (
        "%beam_ml cascade NAME --model KIND:PATH --then KIND:PATH [--between PKG.MOD:FUNC] "
        "[--features A,B] [--label COL|a=COL,b=COL] [-o VAR]"
    )

    def __post_init__(self) -> None:
        check_str("between", self.between, optional=True)
        super().__post_init__()

    def model_paths(self) -> tuple[str, ...]:
        return (self.first, self.then)

    def specs(self) -> list[Any]:
        # features and key are the first model's; the second reads what `between` gives it
        return [self.spec(self.first), self.spec(self.then, with_key=False)]

    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.inference import CascadeModels

        first, then = self.specs()
        transform = CascadeModels(
            first, then, self.between, self.beam_device(), accelerator=self.resource_hint(),
            **self.label_args(),
        )  # fmt: skip
        return batches_of(inputs[self.input]) | "Cascade" >> transform

    def labels(self, names: list[str]) -> dict[str, str]:
        # a plain label is the final model's truth, as in CascadeModels
        plain = self.label is not None and "=" not in self.label
        return super().labels(names) if not plain else {"b": str(self.label).strip()}

    def check_specs(self, frame: Any) -> None:
        first, then = self.specs()
        first.check(frame.columns)
        then.check()  # its columns are what `between` gives it

    def result_from(self, frame: Any, outputs: dict[str, Any], choice: Any, **run: Any) -> Any:
        from beam_ml.inference import InferencePreview

        first, then = self.specs()
        return InferencePreview.from_cascade_outputs(frame, outputs, choice, first, then, **run)

    def model_args(self, option: Any) -> dict[str, str | None]:
        return {
            "first": option("model_a", self.first, f"first model of {self.name}"),
            "then": option("model_b", self.then, f"second model of {self.name}"),
        }

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--then", required=True, metavar="KIND:PATH")
        parser.add_argument("--between", metavar="PKG.MOD:FUNC")

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        if len(options.model) != 1:
            raise BeamMLError.expected(
                "one --model and one --then for cascade", f"{len(options.model)} --model"
            )
        step = cls(
            name=f"{options.name}_cascade",
            input=options.name,
            first=options.model[0],
            then=options.then,
            between=options.between,
            **ModelStep.common_args(options, default_device),
        )
        return step, options.sample
