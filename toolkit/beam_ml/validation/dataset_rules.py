"""Dataset-level rule kinds: checked on a profile, with no second pass over the data.

Schema, completeness, uniqueness, statistics (mean, std, quantile), row
count, class balance and drift (Jensen–Shannon, L∞, PSI, Kolmogorov–Smirnov).
The row-level ``outliers`` kind is `beam_ml.validation.outliers`. What each rule
checks is in `beam_ml.validation.checks`.

>>> Quantile("x", q=0.5, min=0.0).id
'quantile:x@0.5'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import TYPES, Rule

__all__ = [
    "PSI",
    "ClassBalance",
    "Completeness",
    "JSDivergence",
    "KSDistance",
    "LInfDistance",
    "Mean",
    "Quantile",
    "RowCount",
    "Schema",
    "Std",
    "Unique",
    "UnseenValues",
]

# ``calibration`` (written by inference) holds the reference statistics a rule's
# bounds are recomputed from at check time, for the size of the data checked:
# rows (the reference's size), center / sd / spread / share, z (the width in
# standard errors) and slack; drift rules keep rows, alpha (the false-alarm rate)
# and rank_error (the reference sketch's). Bounds written next to it are those
# for a check of the reference's size; delete calibration to use them as written.
Calibration = dict[str, float] | None


@dataclass(frozen=True)
class Schema(Rule):
    """The expected columns and their types; unexpected columns fail unless allowed."""

    columns: dict[str, str]
    allow_extra: bool = False
    kind: ClassVar[str] = "schema"
    doc: ClassVar[str] = "expected columns and types"

    def __post_init__(self) -> None:
        for name, kind in self.columns.items():
            if kind not in TYPES:
                raise BeamMLError.expected(
                    f"the type of column {name!r} to be one of {', '.join(TYPES)}",
                    repr(kind),
                    "fix the schema rule",
                )


@dataclass(frozen=True)
class Completeness(Rule):
    """At most ``max_null_share`` of the rows may be null in ``column``."""

    column: str
    max_null_share: float
    calibration: Calibration = None
    kind: ClassVar[str] = "completeness"
    doc: ClassVar[str] = "share of nulls at most max_null_share"


@dataclass(frozen=True)
class Unique(Rule):
    """Rows must be unique on ``columns`` (all columns when empty), up to a share."""

    columns: tuple[str, ...] = ()
    max_duplicate_share: float = 0.0
    kind: ClassVar[str] = "unique"
    doc: ClassVar[str] = "share of duplicated rows at most max_duplicate_share"


@dataclass(frozen=True)
class Mean(Rule):
    """The mean of ``column`` lies in [min, max]."""

    column: str
    min: float | None = None
    max: float | None = None
    calibration: Calibration = None
    kind: ClassVar[str] = "mean"
    doc: ClassVar[str] = "mean within [min, max]"


@dataclass(frozen=True)
class Std(Rule):
    """The standard deviation of ``column`` lies in [min, max]."""

    column: str
    min: float | None = None
    max: float | None = None
    calibration: Calibration = None
    kind: ClassVar[str] = "std"
    doc: ClassVar[str] = "standard deviation within [min, max]"


@dataclass(frozen=True)
class Quantile(Rule):
    """The ``q`` quantile of ``column`` lies in [min, max]."""

    column: str
    q: float
    min: float | None = None
    max: float | None = None
    kind: ClassVar[str] = "quantile"
    doc: ClassVar[str] = "quantile within [min, max]"

    def __post_init__(self) -> None:
        if not 0.0 <= self.q <= 1.0:
            raise BeamMLError.expected("q between 0 and 1", repr(self.q), "e.g. q: 0.5")

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.column}@{self.q:g}"


@dataclass(frozen=True)
class RowCount(Rule):
    """The number of rows lies in [min, max]."""

    min: int | None = None
    max: int | None = None
    kind: ClassVar[str] = "row_count"
    doc: ClassVar[str] = "number of rows within [min, max]"


@dataclass(frozen=True)
class ClassBalance(Rule):
    """The rarest class has at least ``min_share``; most/rarest is at most the ratio.

    With ``classes``, only those count (one missing has share 0: the check fails);
    a value outside them is the business of an ``allowed_values`` rule.
    """

    column: str
    min_share: float | None = None
    max_imbalance_ratio: float | None = None
    classes: tuple[Any, ...] | None = None
    kind: ClassVar[str] = "class_balance"
    doc: ClassVar[str] = "rarest class share and imbalance ratio"


@dataclass(frozen=True)
class JSDivergence(Rule):
    """Jensen-Shannon divergence (base 2) of the numeric distribution vs the reference.

    ``edges`` are the reference's quantile-histogram edges and ``reference`` the
    reference's share of values in each bin (below the 2nd edge, between edges,
    above the next-to-last); both are filled in from a reference profile when absent.
    """

    column: str
    threshold: float
    edges: tuple[float, ...] | None = None
    reference: tuple[float, ...] | None = None
    calibration: Calibration = None
    kind: ClassVar[str] = "js_divergence"
    doc: ClassVar[str] = "Jensen-Shannon divergence vs reference at most threshold"


@dataclass(frozen=True)
class LInfDistance(Rule):
    """L-infinity distance between categorical value shares and the reference's."""

    column: str
    threshold: float
    reference: dict[Any, float] | None = None
    calibration: Calibration = None
    kind: ClassVar[str] = "linf_distance"
    doc: ClassVar[str] = "largest change of a value's share vs reference at most threshold"


@dataclass(frozen=True)
class PSI(Rule):
    """Population stability index vs the reference (numeric bins or categorical values)."""

    column: str
    threshold: float
    edges: tuple[float, ...] | None = None
    reference: Any = None
    calibration: Calibration = None
    kind: ClassVar[str] = "psi"
    doc: ClassVar[str] = "population stability index vs reference at most threshold"


@dataclass(frozen=True)
class KSDistance(Rule):
    """Kolmogorov–Smirnov distance of the numeric distribution vs the reference's.

    ``points`` are values of the reference and ``reference`` its cdf there (the
    share of values <= each point, from its KLL sketch); the distance is the
    largest gap of the two cdfs at those points, read from the checked data's
    sketch. Both are filled in from a reference profile when absent.
    """

    column: str
    threshold: float
    points: tuple[float, ...] | None = None
    reference: tuple[float, ...] | None = None
    calibration: Calibration = None
    kind: ClassVar[str] = "ks_distance"
    doc: ClassVar[str] = "Kolmogorov–Smirnov distance vs reference at most threshold"


@dataclass(frozen=True)
class UnseenValues(Rule):
    """At most ``max_share`` of the non-null values are outside ``values``.

    The soft form of ``allowed_values`` for an open set of values (names, codes
    with a long tail): new values are expected, a surge of them is not. Read from
    the checked data's frequent values (a lower bound when the list is cut).
    """

    column: str
    values: tuple[Any, ...]
    max_share: float
    kind: ClassVar[str] = "unseen_values"
    doc: ClassVar[str] = "share of values never seen in the reference at most max_share"
