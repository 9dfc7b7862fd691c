"""Cascade: model A's output, optionally filtered or reshaped, is model B's input.

As in Beam's multi-model guide, A adds ``a_*`` columns to each batch,
``between(batch) -> batch`` (a function, or an importable ``'pkg.mod:func'``)
may filter rows or derive B's features, and B adds ``b_*`` columns: the output
rows carry both models' columns. :class:`CascadeModels` is what the cascade step
applies and what ``bml.cascade`` runs on the sample.

>>> CascadeModels(SklearnModel(path="a.pkl"), SklearnModel(path="b.pkl"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice
from beam_ml.inference.dead_letters import RowErrors, TagModel
from beam_ml.inference.evaluate import TASKS, Evaluate, Target, parse_labels
from beam_ml.inference.imports import import_callable
from beam_ml.inference.run_model import RunModel

__all__ = ["CascadeModels"]


class _Between:
    """The user's ``between`` function, checked to return a DataFrame."""

    def __init__(self, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        self.fn = fn

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        result = self.fn(batch)
        if not isinstance(result, pd.DataFrame):
            raise BeamMLError.expected(
                "between= to return a pandas DataFrame", type(result).__name__
            )
        return result


class CascadeModels(beam.PTransform):
    """``first`` then ``second`` over batches: ``{"predictions", "errors"}``.

    ``predictions`` are the rows that reached B, with every input column, A's
    ``a_*`` and B's ``b_*`` columns; ``errors`` the rows that failed in A, in
    ``between`` or in B, with a first column ``model`` (``'a'``, ``'between'``,
    ``'b'``). ``device`` is exactly ``'CPU'`` or ``'GPU'``; A's and B's
    RunInference metrics are in namespaces ``BeamML_model_a`` and ``BeamML_model_b``.
    With ``label`` there is also ``"metrics"`` over the rows that reached B: a
    plain ``'COL'`` is B's label, ``'a=COL1,b=COL2'`` names each model's.

    >>> out = batches | CascadeModels(species, mass, "mymod:gentoo_only")  # doctest: +SKIP
    """

    def __init__(
        self,
        first: Any,
        second: Any,
        between: Any = None,
        device: str = "CPU",
        accelerator: str | None = None,
        label: Any = None,
        task: str = "auto",
    ) -> None:
        super().__init__()
        self.first, self.second = first, second
        self.between = between
        self.fn = import_callable(between, "between function")
        # A plain label is the final model's truth; 'a=COL,b=COL' names each one's.
        plain = isinstance(label, str) and "=" not in label
        self.labels = parse_labels(f"b={label}" if plain else label, ["a", "b"])
        self.task = check_choice("task", task, TASKS)
        exclude = tuple(sorted(set(self.labels.values())))
        self.runs = {
            "a": RunModel(first, device, prefix="a_", with_errors=True,
                          metrics_namespace="BeamML_model_a", exclude=exclude),
            "b": RunModel(second, device, prefix="b_", with_errors=True,
                          metrics_namespace="BeamML_model_b", exclude=exclude),
        }  # fmt: skip
        if accelerator:
            self.with_resource_hints(accelerator=accelerator)

    @property
    def namespaces(self) -> dict[str, str]:
        """Model name -> the metrics namespace of its RunInference."""
        return {name: run.namespace for name, run in self.runs.items()}

    def expand(self, batches: Any) -> dict[str, Any]:
        a_out, a_err = batches | "Model A" >> self.runs["a"]
        errors = [a_err | "TagA" >> beam.ParDo(TagModel("a"))]
        b_in = a_out
        if self.fn is not None:
            b_in, between_err = (
                a_out | "Between" >> beam.Map(_Between(self.fn)).with_exception_handling()
            )
            errors.append(
                between_err
                | "BetweenErrors" >> beam.ParDo(RowErrors("between"))
                | "TagBetween" >> beam.ParDo(TagModel("between"))
            )
        b_out, b_err = b_in | "Model B" >> self.runs["b"]
        errors.append(b_err | "TagB" >> beam.ParDo(TagModel("b")))
        out = {"predictions": b_out, "errors": tuple(errors) | "Errors" >> beam.Flatten()}
        if self.labels:
            targets = [Target(n, f"{n}_", col) for n, col in sorted(self.labels.items())]
            out["metrics"] = b_out | "Evaluate" >> Evaluate(targets, self.task)
        return out
