"""The row-level ``outliers`` rule, scored by Beam's own anomaly detectors.

`Outliers` names a detector of ``apache_beam.ml.anomaly`` (``zscore`` ->
`ZScore`, ``iqr`` -> `IQR`, ``robust_zscore`` -> `RobustZScore`), its
`FixedThreshold` cutoff (``fence``) and the reference statistics the detector
scores against (``stats``: mean / std, q1 / q3, or median / mad). The
detector's trackers are frozen at those statistics, so a value's score does not
depend on the rows before it: every worker, the preview and the exported module
flag the same rows. In the pipeline each flagged row is quarantined with the
detector's score and reason (``_reasons``). `detector` gives the configured Beam
detector, for ``AnomalyDetection`` elsewhere.

>>> rule = Outliers("x", method="zscore", fence=3.0, stats={"mean": 0.0, "std": 1.0})
>>> rule.scores(pd.Series([0.5, -4.0, None])).tolist()
[0.5, 4.0, nan]
>>> rule.failures(pd.Series([0.5, -4.0, None])).tolist()
[False, True, False]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import apache_beam as beam
import numpy as np
import pandas as pd
from apache_beam.ml.anomaly.base import AnomalyDetector
from apache_beam.ml.anomaly.detectors.iqr import IQR
from apache_beam.ml.anomaly.detectors.robust_zscore import RobustZScore
from apache_beam.ml.anomaly.detectors.zscore import ZScore
from apache_beam.ml.anomaly.specifiable import specifiable
from apache_beam.ml.anomaly.thresholds import FixedThreshold
from apache_beam.ml.anomaly.univariate.mad import MadTracker
from apache_beam.ml.anomaly.univariate.mean import MeanTracker
from apache_beam.ml.anomaly.univariate.quantile import QuantileTracker
from apache_beam.ml.anomaly.univariate.stdev import StdevTracker

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import RowRule

# method -> (Beam detector, its default cutoff, the reference statistics it needs)
METHODS: dict[str, tuple[type[AnomalyDetector], float, tuple[str, ...]]] = {
    "zscore": (ZScore, 3.0, ("mean", "std")),
    "iqr": (IQR, 1.5, ("q1", "q3")),
    "robust_zscore": (RobustZScore, 3.5, ("median", "mad")),
}
# Significant digits of the score in a quarantined row's reason.
REASON_DIGITS = 4


@specifiable
class FrozenStat(MeanTracker, StdevTracker):
    """A Beam mean / stdev tracker fixed at a reference value (``push`` ignores data)."""

    def __init__(self, value: float) -> None:
        self._value = float(value)

    def push(self, x: Any) -> None:
        """Reference statistics do not move with the data being checked."""

    def get(self) -> float:
        return self._value


@specifiable
class FrozenQuantile(QuantileTracker):
    """A Beam quantile tracker fixed at the reference's ``q`` quantile."""

    def __init__(self, value: float, q: float) -> None:
        QuantileTracker.__init__(self, q)
        self._value = float(value)

    def push(self, x: Any) -> None:
        """Reference statistics do not move with the data being checked."""

    def get(self) -> float:
        return self._value


@specifiable
class FrozenMad(MadTracker):
    """A Beam MAD tracker fixed at the reference's median and MAD."""

    def __init__(self, median: float, mad: float) -> None:
        self._median = float(median)
        self._mad = float(mad)

    def push(self, x: Any) -> None:
        """Reference statistics do not move with the data being checked."""

    def get(self) -> float:
        return self._mad

    def get_median(self) -> float:
        return self._median


@dataclass(frozen=True)
class Outliers(RowRule):
    """Rows whose value a Beam anomaly detector scores at or past ``fence`` fail.

    Without ``stats`` (older rule files) no row is quarantined and the check
    reads the share beyond the fences from the checked data's own profile.
    """

    column: str
    max_share: float = 0.01
    method: str = "zscore"
    fence: float | None = None
    stats: dict[str, float] | None = None
    kind: ClassVar[str] = "outliers"
    doc: ClassVar[str] = (
        "values a Beam anomaly detector (ZScore, IQR or RobustZScore) scores at or past the "
        "fence; at most max_share of rows"
    )

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise BeamMLError.expected(
                f"method to be one of {', '.join(repr(m) for m in METHODS)}",
                repr(self.method),
                "e.g. method: iqr",
            )
        needed = METHODS[self.method][2]
        if self.stats is not None and any(k not in self.stats for k in needed):
            raise BeamMLError.expected(
                f"stats with {', '.join(needed)} for method {self.method}",
                repr(sorted(self.stats)),
                f"write stats: {{{', '.join(f'{k}: 1.0' for k in needed)}}}",
            )

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.column}:{self.method}"

    @property
    def cutoff(self) -> float:
        """The detector's `FixedThreshold` cutoff (the method's default when unset)."""
        return float(self.fence) if self.fence is not None else METHODS[self.method][1]

    def detector(self) -> AnomalyDetector:
        """The Beam detector, frozen at ``stats``, with its `FixedThreshold(fence)`.

        >>> Outliers("x", stats={"mean": 0.0, "std": 2.0}).detector().score_one(beam.Row(x=5.0))
        2.5
        """
        if self.stats is None:
            raise BeamMLError.expected(
                f"reference stats for {self.id}", "none", "infer the rule or write stats:"
            )
        cls, _, _ = METHODS[self.method]
        s = self.stats
        threshold = FixedThreshold(self.cutoff)
        if self.method == "zscore":
            return ZScore(
                sub_stat_tracker=FrozenStat(s["mean"]),
                stdev_tracker=FrozenStat(s["std"]),
                threshold_criterion=threshold,
            )
        if self.method == "iqr":
            return IQR(
                q1_tracker=FrozenQuantile(s["q1"], 0.25),
                q3_tracker=FrozenQuantile(s["q3"], 0.75),
                threshold_criterion=threshold,
            )
        return cls(mad_tracker=FrozenMad(s["median"], s["mad"]), threshold_criterion=threshold)

    def scores(self, series: pd.Series) -> np.ndarray:
        """The detector's score of every row (NaN where null, not a number, or no stats)."""
        values = pd.to_numeric(series, errors="coerce")
        out = np.full(len(series), np.nan)
        if self.stats is None:
            return out
        codes, uniques = pd.factorize(values)
        if len(uniques) == 0:
            return out
        detector = self.detector()
        # one call of the detector per distinct value: the same value, the same score
        per_value = np.array(
            [_score(detector, float(v)) for v in np.asarray(uniques, dtype=float)], dtype=float
        )
        have = codes >= 0
        out[have] = per_value[codes[have]]
        return out

    def failures(self, series: pd.Series) -> np.ndarray:
        return self.flags(self.scores(series))

    def flags(self, scores: np.ndarray) -> np.ndarray:
        """Where the detector's threshold labels a score an outlier."""
        threshold = FixedThreshold(self.cutoff)
        with np.errstate(invalid="ignore"):
            return np.asarray(
                [
                    math.isfinite(s) and threshold.apply(s) == threshold._outlier_label
                    for s in scores
                ],
                dtype=bool,
            )

    def reason(self, score: float) -> str:
        """Why a row was flagged, e.g. ``ZScore score 4.2 >= 3``."""
        name = METHODS[self.method][0].__name__
        return f"{name} score {score:.{REASON_DIGITS}g} >= {self.cutoff:g}"


def _score(detector: AnomalyDetector, value: float) -> float:
    if not math.isfinite(value):
        return math.nan
    score = detector.score_one(beam.Row(value=value))
    return math.nan if score is None else float(score)


def reasons(rule: Outliers, series: pd.Series) -> list[str | None]:
    """Per row: the detector's reason where it flags the row, else None."""
    scores = rule.scores(series)
    flagged = rule.flags(scores)
    return [rule.reason(s) if f else None for s, f in zip(scores, flagged, strict=True)]
