"""A/B: the same rows through several models, joined back side by side (``a_*``, ``b_*``).

:class:`CompareModels` is what the compare step applies and what
``bml.compare_models`` runs on the sample. Each batch gets an id (a uuid: a
retried bundle re-draws it for all its outputs at once, so they still agree) and
every model sees it with a positional index; each model's predictions, whole or
bisected into pieces, join back to their rows by batch id and by position within
the batch — never by a key column, so repeated keys and any index are fine.

>>> default_prefixes(2)
['a_', 'b_']
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice
from beam_ml.inference.dead_letters import TagModel
from beam_ml.inference.evaluate import TASKS, Evaluate, Target, parse_labels
from beam_ml.inference.run_model import RunModel

__all__ = ["CompareModels", "check_split", "default_prefixes"]

BATCH_ID = "beam_ml_batch_id"


def default_prefixes(n: int) -> list[str]:
    """``['a_', 'b_', ...]`` for ``n`` models (at most 26).

    >>> default_prefixes(3)
    ['a_', 'b_', 'c_']
    """
    if not 1 <= n <= 26:
        raise BeamMLError.expected("between 1 and 26 models", n)
    return [f"{chr(ord('a') + i)}_" for i in range(n)]


def check_split(split: float | None, models: int) -> None:
    """A traffic split is a share strictly between 0 and 1, between two models.

    >>> check_split(0.3, 2)
    """
    if split is None:
        return
    if not (isinstance(split, int | float) and 0 < split < 1):
        raise BeamMLError.expected("split between 0 and 1", repr(split), "e.g. split=0.5")
    if models != 2:
        raise BeamMLError.expected("two models to split traffic", models)


class _NumberBatches(beam.DoFn):
    """A batch -> ``(id, batch)`` for the join, and the batch the models see.

    The models' copy has a positional index (0..n-1) and the id in its attrs,
    which every model's output and dead letter keeps.
    """

    def process(self, batch: pd.DataFrame) -> Any:
        batch_id = uuid.uuid4().hex
        numbered = batch.set_axis(pd.RangeIndex(len(batch)), axis=0, copy=False)
        numbered.attrs = {**batch.attrs, BATCH_ID: batch_id}
        yield batch_id, batch
        yield beam.pvalue.TaggedOutput("numbered", numbered)


def _by_batch_id(frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    return str(frame.attrs.get(BATCH_ID, "")), frame


def _labelled(frame: pd.DataFrame, labels: Any, attrs: dict[str, Any]) -> pd.DataFrame:
    """``frame`` (positional index) with the batch's own row labels and attrs back."""
    out = frame.copy(deep=False)
    if labels is not None and len(out):
        out.index = labels[np.asarray(out.index, dtype=np.int64)]
    out.attrs = attrs
    return out


class _JoinPredictions(beam.DoFn):
    """One batch's rows + each model's predictions -> rows with every model's columns.

    A row that failed in any model is left out (it is in ``errors``, tagged with
    the model): the side-by-side rows are the rows every model answered.
    """

    def __init__(self, prefixes: Sequence[str], keys: Sequence[str | None]) -> None:
        super().__init__()
        self.prefixes = list(prefixes)
        self.keys = dict(zip(self.prefixes, keys, strict=True))

    def process(self, item: tuple[str, dict[str, list[Any]]]) -> Any:
        _, groups = item
        rows = groups.get("rows", [])
        original = rows[0] if rows else None
        labels = original.index if original is not None else None
        attrs = {k: v for k, v in (original.attrs if original is not None else {}).items()
                 if k != BATCH_ID}  # fmt: skip
        for prefix in self.prefixes:
            for errors in groups.get(f"errors:{prefix}", []):
                yield beam.pvalue.TaggedOutput("errors", _labelled(errors, labels, attrs))
        joined = self._join(original, groups) if original is not None else None
        if joined is not None and len(joined):
            yield _labelled(joined, labels, attrs)

    def _join(self, original: pd.DataFrame, groups: dict[str, list[Any]]) -> Any:
        result = original.set_axis(pd.RangeIndex(len(original)), axis=0, copy=False)
        for prefix in self.prefixes:
            parts = [p for p in groups.get(prefix, []) if len(p)]
            if not parts:
                return None  # every row failed in this model: they are all in the errors
            predictions = pd.concat(parts) if len(parts) > 1 else parts[0]
            clash = [c for c in predictions.columns
                     if c in original.columns and c != self.keys[prefix]]  # fmt: skip
            if clash:
                raise BeamMLError.expected(
                    "prediction columns that are not already input columns",
                    f"{clash!r} in both",
                    "rename the input column(s) or pass other prefixes",
                )
            new = list(predictions.columns.drop(self.keys[prefix], errors="ignore"))
            # columns a postprocess function added get the model's prefix too
            renamed = {c: c if str(c).startswith(prefix) else prefix + str(c) for c in new}
            result = result.join(predictions[new].rename(columns=renamed), how="inner")
        return result


class _SplitTraffic(beam.DoFn):
    """Send each row to model A with probability ``ratio``, else to B (seeded)."""

    def __init__(self, ratio: float, seed: int) -> None:
        super().__init__()
        self.ratio = ratio
        self.seed = seed

    def process(self, batch: pd.DataFrame) -> Any:
        # Decided by each row's label and the seed: the same rows go the same way.
        keys = pd.util.hash_pandas_object(
            pd.Series(np.asarray(batch.index)), index=False, hash_key=f"{self.seed:016d}"[-16:]
        ).to_numpy()
        to_a = (keys / np.float64(2**64)) < self.ratio
        if to_a.any():
            yield batch[to_a]
        if (~to_a).any():
            yield beam.pvalue.TaggedOutput("b", batch[~to_a])


class CompareModels(beam.PTransform):
    """Several models over the same batches: ``{"predictions", "errors"}``.

    ``predictions`` are the input rows with each model's columns under its
    prefix (``a_prediction``, ``b_prediction``, ...); ``errors`` the rows a
    model failed on, with a first column ``model`` (``'a'``, ``'b'``, ...).
    ``device`` is exactly ``'CPU'`` or ``'GPU'``. With ``split=0.3`` (two
    models) the traffic is split instead: each row goes to A with probability
    0.3, else to B, unprefixed, and ``model`` says which one answered.
    Model ``x``'s RunInference metrics are in namespace ``BeamML_model_x``.
    With ``label`` (``'COL'``, or ``'a=COL,b=COL'``) there is also ``"metrics"``:
    each model's metrics and, for two models, champion (a) vs challenger (b).

    >>> out = batches | CompareModels([spec_a, spec_b], "CPU")  # doctest: +SKIP
    """

    def __init__(
        self,
        specs: Sequence[Any],
        device: str = "CPU",
        prefixes: Sequence[str] | None = None,
        split: float | None = None,
        seed: int = 0,
        accelerator: str | None = None,
        label: Any = None,
        task: str = "auto",
    ) -> None:
        super().__init__()
        self.specs = list(specs)
        self.prefixes = list(prefixes) if prefixes is not None else default_prefixes(len(specs))
        if len(self.prefixes) != len(self.specs) or len(set(self.prefixes)) != len(self.prefixes):
            raise BeamMLError.expected(
                f"{len(self.specs)} distinct prefixes, one per model", repr(self.prefixes)
            )
        check_split(split, len(self.specs))
        self.split = split
        self.seed = seed
        self.names = [p.rstrip("_") or p for p in self.prefixes]
        self.labels = parse_labels(label, self.names)
        self.task = check_choice("task", task, TASKS)
        exclude = tuple(sorted(set(self.labels.values())))
        self.runs = [
            RunModel(
                spec,
                device,
                prefix="" if split is not None else prefix,
                passthrough=split is not None,
                with_errors=True,
                metrics_namespace=f"BeamML_model_{name}",
                exclude=exclude,
            )
            for spec, prefix, name in zip(self.specs, self.prefixes, self.names, strict=True)
        ]
        if accelerator:
            self.with_resource_hints(accelerator=accelerator)

    @property
    def namespaces(self) -> dict[str, str]:
        """Model name -> the metrics namespace of its RunInference."""
        return {name: run.namespace for name, run in zip(self.names, self.runs, strict=True)}

    def expand(self, batches: Any) -> dict[str, Any]:
        if self.split is not None:
            return self._split(batches)
        numbered = batches | "NumberBatches" >> beam.ParDo(_NumberBatches()).with_outputs(
            "numbered", main="rows"
        )
        branches: dict[str, Any] = {"rows": numbered.rows}
        for prefix, name, run in zip(self.prefixes, self.names, self.runs, strict=True):
            label = name.upper()
            predictions, errors = numbered.numbered | f"Model{label}" >> run
            tagged = errors | f"Tag{label}" >> beam.ParDo(TagModel(name))
            branches[prefix] = predictions | f"Key{label}" >> beam.Map(_by_batch_id)
            branches[f"errors:{prefix}"] = tagged | f"KeyErrors{label}" >> beam.Map(_by_batch_id)
        joined = (
            branches
            | "Join" >> beam.CoGroupByKey()
            | "Columns"
            >> beam.ParDo(
                _JoinPredictions(self.prefixes, [s.key for s in self.specs])
            ).with_outputs("errors", main="rows")
        )
        return self._with_metrics({"predictions": joined.rows, "errors": joined.errors})

    def _with_metrics(self, out: dict[str, Any]) -> dict[str, Any]:
        """``out`` plus ``"metrics"`` (one evaluation per window) when there are labels."""
        if not self.labels:
            return out
        split = self.split is not None
        targets = [
            Target(name, "" if split else prefix, self.labels[name])
            for name, prefix in zip(self.names, self.prefixes, strict=True)
            if name in self.labels
        ]
        evaluate = Evaluate(targets, self.task, split=split)
        return {**out, "metrics": out["predictions"] | "Evaluate" >> evaluate}

    def _split(self, batches: Any) -> dict[str, Any]:
        routed = batches | "SplitTraffic" >> beam.ParDo(
            _SplitTraffic(float(self.split or 0), self.seed)
        ).with_outputs("b", main="a")
        predictions, errors = [], []
        for name, part, run in zip(self.names, (routed.a, routed.b), self.runs, strict=True):
            label = name.upper()
            rows, failed = part | f"Model{label}" >> run
            predictions.append(rows | f"Tag{label}" >> beam.ParDo(TagModel(name)))
            errors.append(failed | f"TagErrors{label}" >> beam.ParDo(TagModel(name)))
        return self._with_metrics({
            "predictions": tuple(predictions) | "Predictions" >> beam.Flatten(),
            "errors": tuple(errors) | "Errors" >> beam.Flatten(),
        })  # fmt: skip
