"""Metrics against a label: mergeable accumulators over prediction batches.

A :class:`ClassificationStats` holds the confusion counts, a fine histogram of
each class's probability among the rows of that class and of the others (ROC
AUC) and the summed log loss; a :class:`RegressionStats` holds sums and
Chan-merged moments. Both ``add`` a batch and ``merge`` another accumulator, so
a Beam ``CombineFn`` (:mod:`beam_ml.inference.evaluate`) computes them over any
number of batches, in any order, and ``result()`` gives plain JSON.

ROC AUC from histograms of ``AUC_BINS`` bins treats two rows in the same bin as
a tie; ``roc_auc_max_error`` is the exact bound on that (half the share of
positive/negative pairs that share a bin).

>>> s = ClassificationStats()
>>> s.add(np.array(["x", "y", "y"]), np.array(["x", "y", "x"]))
>>> s.result()["accuracy"]
0.6666666666666666
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from beam_ml.inference.versus import mean_interval, wilson_interval

__all__ = ["AUC_BINS", "ClassificationStats", "RegressionStats", "label_value"]

AUC_BINS = 10_000
_EPS = float(np.finfo(np.float64).eps)  # sklearn's clip for log loss and MAPE


def label_value(value: Any) -> Any:
    """A label or prediction as a plain Python value: 1.0 and 1 are the same class.

    >>> label_value(np.float64(2.0)), label_value(np.str_("a"))
    (2, 'a')
    """
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers before text, each in its own order (a mixed column stays sortable)
    return (0, value) if isinstance(value, int | float | bool) else (1, str(value))


def _parse_class(name: Any) -> Any:
    """A probability column's class as a value: "2" -> 2, "2.5" -> 2.5, "x" -> "x"."""
    text = str(name)
    for kind in (int, float):
        try:
            return label_value(kind(text))
        except ValueError:
            continue
    return text


def _class_key(name: Any) -> str:
    return str(_parse_class(name))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0  # sklearn's zero_division default


class ClassificationStats:
    """Confusion counts, probability histograms and log loss of one classifier."""

    task = "classification"

    def __init__(self) -> None:
        self.counts: dict[tuple[Any, Any], int] = {}
        self.hist: dict[Any, np.ndarray] = {}  # class -> [2, AUC_BINS]: rows of it, the others
        self.log_loss_sum = 0.0
        self.proba_rows = 0
        self.rows_without_proba = 0
        self.unlabelled = 0

    def add(
        self,
        y: np.ndarray,
        pred: np.ndarray,
        proba: dict[Any, np.ndarray] | None = None,
        unlabelled: int = 0,
    ) -> None:
        """Count one batch: labels ``y``, predictions ``pred``, ``{class: probabilities}``."""
        self.unlabelled += unlabelled
        ys = [label_value(v) for v in y]
        pairs: dict[tuple[Any, Any], int] = {}
        for pair in zip(ys, (label_value(v) for v in pred), strict=True):
            pairs[pair] = pairs.get(pair, 0) + 1
        for pair, n in pairs.items():
            self.counts[pair] = self.counts.get(pair, 0) + n
        if not proba:
            self.rows_without_proba += len(ys)
            return
        classes = list(proba)
        matrix = np.column_stack([np.asarray(proba[c], dtype=np.float64) for c in classes])
        # As sklearn (1.5+): no renormalising of rows, only clipping to [eps, 1 - eps].
        # Columns are named by str(class): compare as text ("proba_1" is label 1 or 1.0).
        index = {_class_key(c): i for i, c in enumerate(classes)}
        true_col = np.array([index.get(str(v), -1) for v in ys], dtype=np.int64)
        p_true = np.where(true_col >= 0, matrix[np.arange(len(ys)), np.maximum(true_col, 0)], 0.0)
        self.log_loss_sum += float(-np.log(np.clip(p_true, _EPS, 1 - _EPS)).sum())
        self.proba_rows += len(ys)
        bins = np.minimum((matrix * AUC_BINS).astype(np.int64), AUC_BINS - 1)
        for c, i in index.items():
            hist = self.hist.setdefault(c, np.zeros((2, AUC_BINS), dtype=np.int64))
            mine = true_col == i
            hist[0] += np.bincount(bins[mine, i], minlength=AUC_BINS)
            hist[1] += np.bincount(bins[~mine, i], minlength=AUC_BINS)

    def merge(self, other: ClassificationStats) -> None:
        for pair, n in other.counts.items():
            self.counts[pair] = self.counts.get(pair, 0) + n
        for c, hist in other.hist.items():
            if c in self.hist:
                self.hist[c] = self.hist[c] + hist
            else:
                self.hist[c] = hist.copy()
        self.log_loss_sum += other.log_loss_sum
        self.proba_rows += other.proba_rows
        self.rows_without_proba += other.rows_without_proba
        self.unlabelled += other.unlabelled

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def correct(self) -> int:
        return sum(n for (t, p), n in self.counts.items() if t == p)

    def labels(self) -> list[Any]:
        """Every class seen as a label or a prediction, sorted (sklearn's default labels)."""
        seen = {t for t, _ in self.counts} | {p for _, p in self.counts}
        return sorted(seen, key=_sort_key)

    def matrix(self, labels: list[Any]) -> np.ndarray:
        """The confusion matrix: rows are true classes, columns predicted ones."""
        index = {c: i for i, c in enumerate(labels)}
        out = np.zeros((len(labels), len(labels)), dtype=np.int64)
        for (t, p), n in self.counts.items():
            out[index[t], index[p]] += n
        return out

    def _auc(self) -> tuple[float | None, float | None]:
        """Macro one-vs-rest ROC AUC (binary: of the second class) and its error bound."""
        if not self.hist or self.rows_without_proba:
            return None, None
        classes = sorted(self.hist, key=lambda c: _sort_key(_parse_class(c)))
        if len(classes) == 2:
            classes = classes[1:]  # binary: the positive class's AUC, as sklearn
        aucs, bounds = [], []
        for c in classes:
            pos, neg = self.hist[c][0].astype(np.float64), self.hist[c][1].astype(np.float64)
            n_pos, n_neg = pos.sum(), neg.sum()
            if not n_pos or not n_neg:
                return None, None  # undefined when a class is absent (sklearn raises)
            below = np.cumsum(neg) - neg
            aucs.append(float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg)))
            bounds.append(float(0.5 * (pos * neg).sum() / (n_pos * n_neg)))
        return float(np.mean(aucs)), float(np.mean(bounds))

    def result(self) -> dict[str, Any]:
        """The metrics as plain JSON (see the module docstring of evaluate for the keys)."""
        n = self.rows
        labels = self.labels()
        out: dict[str, Any] = {"task": self.task, "rows": n, "unlabelled_rows": self.unlabelled}
        if not n:
            return {**out, "accuracy": None}
        m = self.matrix(labels)
        tp = np.diag(m).astype(np.float64)
        support, predicted = m.sum(axis=1), m.sum(axis=0)
        precision = [_ratio(tp[i], predicted[i]) for i in range(len(labels))]
        recall = [_ratio(tp[i], support[i]) for i in range(len(labels))]
        f1 = [_ratio(2 * p * r, p + r) for p, r in zip(precision, recall, strict=True)]
        present = [recall[i] for i in range(len(labels)) if support[i]]
        names = [str(c) for c in labels]
        out.update(
            accuracy=self.correct / n,
            accuracy_ci=list(wilson_interval(self.correct, n)),
            balanced_accuracy=float(np.mean(present)),
            precision_macro=float(np.mean(precision)),
            recall_macro=float(np.mean(recall)),
            f1_macro=float(np.mean(f1)),
            classes=names,
            per_class={
                name: {
                    "precision": precision[i],
                    "recall": recall[i],
                    "f1": f1[i],
                    "support": int(support[i]),
                }
                for i, name in enumerate(names)
            },
            confusion_matrix={"labels": names, "matrix": m.tolist()},
        )
        auc, bound = self._auc()
        out["roc_auc"] = auc
        out["roc_auc_max_error"] = bound
        out["log_loss"] = (
            self.log_loss_sum / self.proba_rows
            if self.proba_rows and not self.rows_without_proba
            else None
        )
        return out


class _Moments:
    """Count, mean and sum of squared deviations, merged with Chan's formula."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        other = _Moments()
        other.n = len(values)
        if other.n:
            other.mean = float(values.mean())
            other.m2 = float(((values - other.mean) ** 2).sum())
            self.merge(other)

    def merge(self, other: _Moments) -> None:
        n = self.n + other.n
        if not n:
            return
        delta = other.mean - self.mean
        self.m2 += other.m2 + delta * delta * self.n * other.n / n
        self.mean += delta * other.n / n
        self.n = n

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else math.nan


class RegressionStats:
    """Sums and moments of one regressor's errors: MAE, RMSE, R², MAPE."""

    task = "regression"

    def __init__(self) -> None:
        self.y = _Moments()
        self.abs_error = _Moments()
        self.sq_sum = 0.0
        self.ape_sum = 0.0
        self.unlabelled = 0
        self.unpredicted = 0

    def add(self, y: np.ndarray, pred: np.ndarray, proba: Any = None, unlabelled: int = 0) -> None:
        """Add one batch of labels and predictions (rows without a prediction are counted)."""
        y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
        ok = ~np.isnan(pred)
        self.unpredicted += int((~ok).sum())
        self.unlabelled += unlabelled
        y, pred = y[ok], pred[ok]
        error = pred - y
        self.y.add(y)
        self.abs_error.add(np.abs(error))
        self.sq_sum += float((error * error).sum())
        self.ape_sum += float((np.abs(error) / np.maximum(np.abs(y), _EPS)).sum())

    def merge(self, other: RegressionStats) -> None:
        self.y.merge(other.y)
        self.abs_error.merge(other.abs_error)
        self.sq_sum += other.sq_sum
        self.ape_sum += other.ape_sum
        self.unlabelled += other.unlabelled
        self.unpredicted += other.unpredicted

    @property
    def rows(self) -> int:
        return self.y.n

    def result(self) -> dict[str, Any]:
        n = self.rows
        out: dict[str, Any] = {
            "task": self.task,
            "rows": n,
            "unlabelled_rows": self.unlabelled,
            "unpredicted_rows": self.unpredicted,
        }
        if not n:
            return {**out, "mae": None}
        ss_tot = self.y.m2
        r2 = 1 - self.sq_sum / ss_tot if ss_tot else (1.0 if not self.sq_sum else 0.0)
        mae = self.abs_error.mean
        out.update(
            mae=mae,
            mae_ci=list(mean_interval(mae, self.abs_error.variance, n)),
            rmse=math.sqrt(self.sq_sum / n),
            r2=r2,
            mape=self.ape_sum / n,
            label_mean=self.y.mean,
        )
        return out
