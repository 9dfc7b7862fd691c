"""The statistics of one column in a finished profile (``ColumnProfile``).

A frozen value built by :mod:`~beam_ml.profiling.finalise`; ``to_dict()`` is
the column's entry in ``Profile.to_dict()["columns"]`` (plain JSON types).

>>> import pandas as pd
>>> from beam_ml.profiling import Profile
>>> c = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, float("inf")]})).columns["x"]
>>> c.type, c.count, c.inf, c.pos_inf, c.mean
('integer', 3, 1, 1, 1.5)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TYPES = ("float", "integer", "boolean", "categorical", "string", "datetime")
NUMERIC_TYPES = ("float", "integer")


@dataclass(frozen=True)
class ColumnProfile:
    """The statistics of one column (see ``Profile.to_dict()`` for their meaning).

    ``count`` includes the infinities (``inf`` = ``pos_inf`` + ``neg_inf``); the
    moments, ``min`` / ``max``, quantiles and histograms are of the finite values.
    """

    name: str
    type: str
    count: int
    nulls: int
    nan: int
    inf: int
    zeros: int
    negatives: int
    mean: float | None
    std: float | None
    min: Any
    max: Any
    skewness: float | None
    kurtosis: float | None
    quantiles: dict[str, Any] | None
    histogram: dict[str, list[Any]] | None
    quantile_histogram: dict[str, list[Any]] | None
    distinct: int
    distinct_bounds: tuple[int, int]
    top: tuple[tuple[Any, int], ...]
    top_error: int
    imbalance_ratio: float | None
    entropy: float | None
    lengths: dict[str, Any] | None
    kinds: dict[str, int]
    unhashable: int
    pos_inf: int = 0
    neg_inf: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (the name is the key it is stored under)."""
        return {
            "type": self.type,
            "count": self.count,
            "nulls": self.nulls,
            "nan": self.nan,
            "inf": self.inf,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "zeros": self.zeros,
            "negatives": self.negatives,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "skewness": self.skewness,
            "kurtosis": self.kurtosis,
            "quantiles": dict(self.quantiles) if self.quantiles is not None else None,
            "histogram": _copy_hist(self.histogram),
            "quantile_histogram": _copy_hist(self.quantile_histogram),
            "distinct": self.distinct,
            "distinct_bounds": list(self.distinct_bounds),
            "top": [[value, count] for value, count in self.top],
            "top_error": self.top_error,
            "imbalance_ratio": self.imbalance_ratio,
            "entropy": self.entropy,
            "lengths": dict(self.lengths) if self.lengths is not None else None,
            "kinds": dict(self.kinds),
            "unhashable": self.unhashable,
        }

    def to_json(self, indent: int | None = None) -> str:
        """JSON of ``to_dict()`` (with the name)."""
        return json.dumps({"name": self.name, **self.to_dict()}, indent=indent, allow_nan=False)


def _copy_hist(hist: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
    return None if hist is None else {k: list(v) for k, v in hist.items()}
