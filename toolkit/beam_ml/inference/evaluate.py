"""Predictions against a label column: one Beam ``CombineFn`` over the prediction batches.

:class:`Evaluate` is what ``InferModel`` / ``CompareModels`` / ``CascadeModels``
apply to their predictions when given a label, in the preview and in the
exported module alike (which writes its one output as ``metrics.json``). The
output is one plain-JSON dict per window:

- one model: ``{"label", "task", "metrics": {...}}``
- several (compare, split, cascade): ``{"label", "task", "models": {name: {...}},
  "versus": {...} or None}`` — ``versus`` (champion ``a`` / challenger ``b``,
  see :mod:`beam_ml.inference.versus`) for two models with the same label.

Metric keys, classification: ``task rows unlabelled_rows accuracy accuracy_ci
balanced_accuracy precision_macro recall_macro f1_macro classes per_class
confusion_matrix roc_auc roc_auc_max_error log_loss``; regression: ``task rows
unlabelled_rows unpredicted_rows mae mae_ci rmse r2 mape label_mean``.

>>> Target("a", "a_", "species").column("prediction")
'a_prediction'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError, check_choice
from beam_ml.inference.label_metrics import (
    ClassificationStats,
    RegressionStats,
    _Moments,
    label_value,
)
from beam_ml.inference.versus import paired_accuracy, paired_mae, unpaired

__all__ = ["TASKS", "Evaluate", "EvaluateFn", "Target", "parse_labels"]

TASKS = ("auto", "classification", "regression")
_STATS = {"classification": ClassificationStats, "regression": RegressionStats}


@dataclass(frozen=True)
class Target:
    """One model to evaluate: its name, its columns' prefix and its label column."""

    name: str
    prefix: str
    label: str

    def column(self, stem: str) -> str:
        return self.prefix + stem


def parse_labels(label: Any, names: Sequence[str]) -> dict[str, str]:
    """``'COL'`` (every model) or ``'a=COL1,b=COL2'`` / a dict -> ``{model: column}``.

    >>> parse_labels("species", ["a", "b"])
    {'a': 'species', 'b': 'species'}
    >>> parse_labels("b=body_mass_g", ["a", "b"])
    {'b': 'body_mass_g'}
    """
    if label is None:
        return {}
    if isinstance(label, dict):
        pairs = {str(k): str(v) for k, v in label.items()}
    elif isinstance(label, str) and "=" in label:
        pairs = {}
        for part in label.split(","):
            name, sep, column = part.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise BeamMLError.expected("labels like a=COL,b=COL", repr(label))
            pairs[name.strip()] = column.strip()
    elif isinstance(label, str) and label.strip():
        return {name: label.strip() for name in names}
    else:
        raise BeamMLError.expected("a label column name", repr(label), "e.g. label='species'")
    unknown = sorted(set(pairs) - set(names))
    if unknown:
        raise BeamMLError.expected(f"labels for models among {list(names)}", unknown)
    return pairs


def _task_of(predictions: pd.Series, has_proba: bool) -> str:
    # A regressor predicts floats; a classifier labels (text, ints, bools) or probabilities.
    if has_proba or predictions.dtype.kind not in "fc":
        return "classification"
    return "regression"


class _Accumulator:
    """Per-model stats plus the paired counts of champion and challenger."""

    def __init__(self) -> None:
        self.models: dict[str, Any] = {}
        self.pair_rows = 0
        self.champion_only = 0
        self.challenger_only = 0
        self.pair_diff = _Moments()


class EvaluateFn(beam.CombineFn):
    """Prediction batches -> the evaluation dict (see the module docstring).

    ``split=True``: rows carry a ``model`` column naming the model that answered
    (a traffic split) and unprefixed prediction columns.
    """

    def __init__(
        self,
        targets: Sequence[Target],
        task: str = "auto",
        split: bool = False,
        versus: bool = True,
    ) -> None:
        super().__init__()
        self.targets = list(targets)
        self.task = check_choice("task", task, TASKS)
        self.split = split
        self.versus = versus and len(self.targets) == 2
        self.single = len(self.targets) == 1 and self.targets[0].name == "model"

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator()

    def _stats(self, acc: _Accumulator, target: Target, task: str) -> Any:
        stats = acc.models.get(target.name)
        if stats is None:
            stats = acc.models[target.name] = _STATS[task]()
        elif stats.task != task:
            raise BeamMLError.expected(
                f"one task for model {target.name}",
                f"{stats.task} and {task} batches",
                "pass task='classification' or task='regression'",
            )
        return stats

    def add_input(self, acc: _Accumulator, batch: pd.DataFrame) -> _Accumulator:
        if not len(batch):
            return acc
        tasks: dict[str, str] = {}
        for target in self.targets:
            rows = batch[batch["model"] == target.name] if self.split else batch
            pred_col = target.column("prediction")
            for col in (target.label, pred_col):
                if col not in rows.columns:
                    raise BeamMLError.expected(
                        f"column {col!r} to evaluate model {target.name}",
                        f"columns {[str(c) for c in rows.columns][:20]!r}",
                        "fix label= (names are case-sensitive)",
                    )
            proba_cols = [c for c in rows.columns if str(c).startswith(target.column("proba_"))]
            task = self.task if self.task != "auto" else _task_of(rows[pred_col], bool(proba_cols))
            tasks[target.name] = task
            if not len(rows):
                continue
            labelled = rows[target.label].notna().to_numpy()
            kept = rows[labelled]
            proba = {str(c)[len(target.column("proba_")) :]: kept[c].to_numpy() for c in proba_cols}
            self._stats(acc, target, task).add(
                kept[target.label].to_numpy(),
                kept[pred_col].to_numpy(),
                proba or None,
                unlabelled=int((~labelled).sum()),
            )
        if self.versus and not self.split:
            self._add_pair(acc, batch, tasks)
        return acc

    def _add_pair(self, acc: _Accumulator, batch: pd.DataFrame, tasks: dict[str, str]) -> None:
        champion, challenger = self.targets
        if champion.label != challenger.label or len(set(tasks.values())) != 1:
            return
        y = batch[champion.label]
        a, b = batch[champion.column("prediction")], batch[challenger.column("prediction")]
        ok = (y.notna() & a.notna() & b.notna()).to_numpy()
        if tasks[champion.name] == "classification":
            truth = [label_value(v) for v in y[ok]]
            right_a = np.array([t == label_value(p) for t, p in zip(truth, a[ok], strict=True)])
            right_b = np.array([t == label_value(p) for t, p in zip(truth, b[ok], strict=True)])
            acc.champion_only += int((right_a & ~right_b).sum())
            acc.challenger_only += int((right_b & ~right_a).sum())
        else:
            yv = y[ok].to_numpy(dtype=np.float64)
            diff = np.abs(b[ok].to_numpy(np.float64) - yv) - np.abs(a[ok].to_numpy(np.float64) - yv)
            acc.pair_diff.add(diff)
        acc.pair_rows += int(ok.sum())

    def merge_accumulators(self, accumulators: Any) -> _Accumulator:
        out = _Accumulator()
        for acc in accumulators:
            for name, stats in acc.models.items():
                mine = out.models.get(name)
                if mine is None:
                    out.models[name] = stats
                elif mine.task != stats.task:
                    raise BeamMLError.expected(
                        f"one task for model {name}",
                        f"{mine.task} and {stats.task}",
                        "pass task='classification' or task='regression'",
                    )
                else:
                    mine.merge(stats)
            out.pair_rows += acc.pair_rows
            out.champion_only += acc.champion_only
            out.challenger_only += acc.challenger_only
            out.pair_diff.merge(acc.pair_diff)
        return out

    def extract_output(self, acc: _Accumulator) -> dict[str, Any]:
        results = {
            t.name: acc.models[t.name].result() for t in self.targets if t.name in acc.models
        }
        labels = {t.name: t.label for t in self.targets}
        tasks = sorted({r["task"] for r in results.values()})
        label: Any = next(iter(labels.values())) if len(set(labels.values())) == 1 else labels
        out: dict[str, Any] = {"label": label, "task": tasks[0] if len(tasks) == 1 else tasks}
        if self.single:
            return {**out, "metrics": results.get("model")}
        out["models"] = results
        out["versus"] = self._versus(acc, results) if self.versus else None
        return out

    def _versus(self, acc: _Accumulator, results: dict[str, Any]) -> dict[str, Any] | None:
        champion, challenger = (t.name for t in self.targets)
        first, second = results.get(champion), results.get(challenger)
        if first is None or second is None or first["task"] != second["task"]:
            return None
        classify = first["task"] == "classification"
        if self.split:
            stats = acc.models
            found = unpaired(
                first,
                second,
                stats[champion].abs_error.variance if not classify else np.nan,
                stats[challenger].abs_error.variance if not classify else np.nan,
            )
        elif classify:
            found = paired_accuracy(acc.pair_rows, acc.champion_only, acc.challenger_only)
        else:
            found = paired_mae(acc.pair_rows, acc.pair_diff.mean, acc.pair_diff.variance)
        metric = found["metric"]
        return {
            "champion": champion,
            "challenger": challenger,
            "champion_value": first.get(metric),
            "champion_ci": first.get(f"{metric}_ci"),
            "challenger_value": second.get(metric),
            "challenger_ci": second.get(f"{metric}_ci"),
            **found,
        }


class Evaluate(beam.PTransform):
    """Prediction batches -> one evaluation dict per window (:class:`EvaluateFn`).

    >>> metrics = predictions | Evaluate([Target("model", "", "species")])  # doctest: +SKIP
    """

    def __init__(self, targets: Sequence[Target], task: str = "auto", split: bool = False) -> None:
        super().__init__()
        self.fn = EvaluateFn(targets, task, split)

    def expand(self, predictions: Any) -> Any:
        from apache_beam.transforms.window import GlobalWindows

        combine = beam.CombineGlobally(self.fn)
        # In the global window an all-failed run still says "0 rows"; windows need no defaults.
        if not isinstance(predictions.windowing.windowfn, GlobalWindows):
            combine = combine.without_defaults()
        return predictions | "Metrics" >> combine
