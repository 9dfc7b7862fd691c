"""The knobs of a profile (``ProfileOptions``), kept in its state so merges finalise alike.

>>> ProfileOptions(top_k=5).to_dict()["top_k"]
5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProfileOptions:
    """The knobs of a profile; kept in its state so merges finalise the same way.

    >>> ProfileOptions.from_dict({"bins": 10, "unknown": 1}).bins
    10
    """

    top_k: int = 10
    bins: int = 20
    kll_k: int = 200
    hll_lg_k: int = 12
    # duplicates = rows - distinct rows: a small difference of big numbers needs precision
    row_hll_lg_k: int = 16
    fi_lg_max_k: int = 10
    max_correlation_columns: int = 50
    missing_together_columns: int = 10
    categorical_max_distinct: int = 50
    categorical_max_ratio: float = 0.05
    missing_threshold: float = 0.2
    zeros_threshold: float = 0.1
    skew_threshold: float = 20.0
    imbalance_threshold: float = 0.5
    correlation_threshold: float = 0.9
    high_cardinality_threshold: int = 50
    # Cramér's V: the first non-numeric columns with at most this many distinct values,
    # each cut to its top categories (+ "other") at the end
    cramers_max_columns: int = 12
    cramers_max_categories: int = 50
    cramers_top_k: int = 20
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the ``options`` of a profile's state)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileOptions:
        """The options of ``data``; keys this version does not know are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
