"""Beam-native dataset profiler: ``ProfileDataset``, ``profile()`` and ``Profile``.

``ProfileDataset`` is one ``CombineFn`` over pandas batches: each batch is
summarised with vectorised pandas / numpy into mergeable per-column
accumulators (exact counts and moments, DataSketches KLL / HLL / frequent
items; see :mod:`beam_ml.profiling.accumulators`), so it runs on any runner and
its memory does not grow with the number of rows.

>>> import beam_ml as bml
>>> p = bml.profile(bml.datasets.load("penguins"))          # doctest: +SKIP
>>> p.columns["body_mass_g"].mean                           # doctest: +SKIP
4201.754385964912

``Profile`` is a frozen value: it keeps its accumulator state (plain JSON, the
sketches as base64), so two profiles ``merge`` into the profile of the whole,
and ``cdf`` / ``quantile`` answer from the column's KLL sketch.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import datasketches as ds
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError, check_positive_int
from beam_ml.profiling.accumulators import (
    ColumnAccumulator,
    DatasetAccumulator,
    ProfileOptions,
    finite_or_none,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "Alert",
    "ColumnProfile",
    "Profile",
    "ProfileDataset",
    "ProfileOptions",
    "profile",
    "profile_dataframe",
]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TYPES = ("float", "integer", "boolean", "categorical", "string", "datetime")
NUMERIC_TYPES = ("float", "integer")
# How many standard deviations the reported HLL bound covers (3 -> ~99.7%).
HLL_STD_DEVS = 3
# Rows per batch when profile() reads a CSV path (see profile()).
PROFILE_CSV_BATCH_ROWS = 32_768
ALERT_KINDS = (
    "empty",
    "duplicates",
    "constant",
    "unique",
    "high_cardinality",
    "missing",
    "zeros",
    "skewed",
    "imbalanced",
    "high_correlation",
    "infinite",
    "mixed_types",
    "unhashable",
)


@dataclass(frozen=True)
class Alert:
    """A finding worth a look: ``column`` is None for dataset-level alerts."""

    column: str | None
    kind: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class ColumnProfile:
    """The statistics of one column (see ``Profile.to_dict()`` for their meaning)."""

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "count": self.count,
            "nulls": self.nulls,
            "nan": self.nan,
            "inf": self.inf,
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


def _copy_hist(hist: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
    return None if hist is None else {k: list(v) for k, v in hist.items()}


@dataclass(frozen=True)
class Profile:
    """The profile of a dataset: per-column statistics, correlations and alerts.

    >>> p = Profile.empty()
    >>> p.rows, p.columns, p.alerts
    (0, {}, (Alert(column=None, kind='empty', detail='the dataset has no rows'),))
    """

    rows: int
    columns: dict[str, ColumnProfile]
    alerts: tuple[Alert, ...]
    duplicates: int
    duplicate_bounds: tuple[int, int]
    correlations: dict[str, Any]
    missing_together: dict[str, Any]
    error_bounds: dict[str, float]
    state: dict[str, Any] = field(repr=False, compare=False)

    # ------------------------------------------------------------ building
    @classmethod
    def empty(cls, options: ProfileOptions | None = None) -> Profile:
        return cls.from_accumulator(DatasetAccumulator(options))

    @classmethod
    def from_accumulator(cls, acc: DatasetAccumulator) -> Profile:
        return _finalise(acc)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Profile:
        return _finalise(DatasetAccumulator.from_state(state))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, options: ProfileOptions | None = None) -> Profile:
        """Profile an in-memory DataFrame without a pipeline (same accumulators)."""
        acc = DatasetAccumulator(options)
        acc.add_batch(frame)
        return _finalise(acc)

    def accumulator(self) -> DatasetAccumulator:
        """A fresh, mutable accumulator holding this profile's state."""
        return DatasetAccumulator.from_state(self.state)

    # ----------------------------------------------------------- combining
    def merge(self, other: Profile) -> Profile:
        """The profile of both datasets together; neither side changes.

        >>> a = Profile.from_frame(pd.DataFrame({"x": [1, 2]}))
        >>> b = Profile.from_frame(pd.DataFrame({"x": [3]}))
        >>> a.merge(b).rows, a.rows
        (3, 2)
        """
        if not isinstance(other, Profile):
            raise BeamMLError.expected("a Profile to merge", type(other).__name__)
        acc = self.accumulator()
        acc.merge(other.accumulator())
        return _finalise(acc)

    # ------------------------------------------------------------- queries
    def _sketch(self, column: str) -> Any:
        col = self._column(column)
        if col.type not in (*NUMERIC_TYPES, "boolean"):
            raise BeamMLError.expected(
                f"a numeric column for {column!r}", f"type {col.type!r}", "pick a numeric column"
            )
        state = self.state["columns"][column]
        return ColumnAccumulator.from_state(state, ProfileOptions()).kll

    def _column(self, column: str) -> ColumnProfile:
        if column not in self.columns:
            names = ", ".join(repr(c) for c in list(self.columns)[:10])
            raise BeamMLError.expected(
                "a column of the profile", repr(column), f"use one of {names}"
            )
        return self.columns[column]

    def cdf(self, column: str, points: Sequence[float]) -> list[float]:
        """Share of the finite values of ``column`` that are <= each point (from KLL).

        >>> Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})).cdf("x", [2, 10])
        [0.5, 1.0]
        """
        kll = self._sketch(column)
        pts = [float(p) for p in points]
        if kll.is_empty():
            return [math.nan for _ in pts]
        order = sorted(set(pts))
        cum = kll.get_cdf(order, True)
        by_point = dict(zip(order, cum[:-1], strict=True))
        return [float(by_point[p]) for p in pts]

    def quantile(self, column: str, q: float) -> float:
        """The ``q`` quantile of the finite values of ``column`` (from KLL).

        >>> Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0]})).quantile("x", 0.5)
        2.0
        """
        if not 0.0 <= float(q) <= 1.0:
            raise BeamMLError.expected("q between 0 and 1", repr(q))
        kll = self._sketch(column)
        return math.nan if kll.is_empty() else float(kll.get_quantile(float(q)))

    # ---------------------------------------------------------- serialising
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; the layout of ``beam-ml profile --json``."""
        return {
            "rows": self.rows,
            "duplicates": {
                "estimate": self.duplicates,
                "lower": self.duplicate_bounds[0],
                "upper": self.duplicate_bounds[1],
            },
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
            "correlations": json.loads(json.dumps(self.correlations)),
            "missing_together": json.loads(json.dumps(self.missing_together)),
            "alerts": [a.to_dict() for a in self.alerts],
            "error_bounds": dict(self.error_bounds),
        }

    def to_json(self, indent: int | None = None, state: bool = True) -> str:
        """JSON of ``to_dict()`` plus (by default) the state that ``from_json`` needs."""
        data = self.to_dict()
        if state:
            data["state"] = self.state
        return json.dumps(data, indent=indent, allow_nan=False, default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        """Rebuild a profile (sketches included) from ``to_json()``'s output."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise BeamMLError.expected("profile JSON", f"unreadable text ({error})") from error
        if not isinstance(data, dict) or "state" not in data:
            raise BeamMLError.expected(
                "JSON written by Profile.to_json() (with its 'state')",
                "JSON without it",
                "write it with profile.to_json() or beam-ml profile --json",
            )
        return cls.from_state(data["state"])

    # -------------------------------------------------------------- viewing
    def __str__(self) -> str:
        from beam_ml.profiling.view import profile_text

        return profile_text(self.to_dict())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from beam_ml.profiling.view import profile_html, profile_text

        data = self.to_dict()
        return {"text/plain": profile_text(data), "text/html": profile_html(data)}

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A standalone HTML report (CSS inlined); written to ``path`` if given."""
        from beam_ml.profiling.view import profile_html

        page = profile_html(self.to_dict(), standalone=True)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(page)
        return page

    def plot(self, column: str, ax: Axes | None = None) -> Axes:
        """Draw the column's histogram (or top values) with matplotlib."""
        from beam_ml.profiling.view import plot_column

        self._column(column)
        return plot_column(self.to_dict(), column, ax)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return finite_or_none(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --------------------------------------------------------------------- finalise
def _column_type(acc: ColumnAccumulator, distinct: int, options: ProfileOptions) -> str:
    kinds = {k for k, n in acc.kinds.items() if n > 0}
    if not kinds:
        dtype = acc.dtype
        if dtype.startswith(("float", "int", "uint", "Float", "Int", "UInt")):
            return "float"
        if dtype == "bool" or dtype == "boolean":
            return "boolean"
        if dtype.startswith("datetime"):
            return "datetime"
        return "string"
    if kinds == {"boolean"}:
        return "boolean"
    if kinds <= {"integer", "float"}:
        whole = acc.nonwhole == 0 and acc.moments[0] > 0
        return "integer" if whole else "float"
    if kinds == {"datetime"}:
        return "datetime"
    few = distinct <= options.categorical_max_distinct or (
        distinct <= 1000 and distinct <= options.categorical_max_ratio * acc.count
    )
    return "categorical" if few else "string"


def _is_mixed(acc: ColumnAccumulator) -> bool:
    groups = {"integer": "number", "float": "number"}
    present = {groups.get(k, k) for k, n in acc.kinds.items() if n > 0}
    return len(present) > 1


def _top_values(acc: ColumnAccumulator, col_type: str) -> tuple[list[tuple[Any, int]], int]:
    """Values by estimated count, and the largest error of any count (0 = exact).

    The sketch's own error is its offset (upper - lower bound, the same for all
    items); values a batch did not feed it (see FI_FEED) add ``fi_dropped``.
    """
    items = acc.fi.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    offset = max((ub - lb for _, _, lb, ub in items), default=0)
    error = int(offset) + int(acc.fi_dropped)
    items = sorted(items, key=lambda it: (-it[1], it[0]))
    return [(_key_value(key, col_type), int(est)) for key, est, _, _ in items], error


def _key_value(key: str, col_type: str) -> Any:
    if col_type in ("integer", "float"):
        try:
            value = float(key)
        except ValueError:
            return key
        if col_type == "integer" and math.isfinite(value):
            return int(value)
        return finite_or_none(value) if math.isfinite(value) else key
    if col_type == "boolean":
        return {"True": True, "False": False, "1.0": True, "0.0": False}.get(key, key)
    return key


def _histograms(
    acc: ColumnAccumulator, bins: int
) -> tuple[dict[str, list[Any]] | None, dict[str, list[Any]] | None]:
    kll = acc.kll
    if kll.is_empty() or acc.min is None or acc.max is None:
        return None, None
    n = int(kll.n)
    lo, hi = float(acc.min), float(acc.max)
    if lo == hi:
        return {"edges": [lo, hi], "counts": [n]}, {"edges": [lo, hi], "counts": [n]}
    edges = np.linspace(lo, hi, bins + 1).tolist()
    counts = _counts_between(kll, edges, n)
    qs = kll.get_quantiles(np.linspace(0.0, 1.0, 11).tolist())
    qedges = sorted({float(lo), *[float(q) for q in qs], float(hi)})
    qcounts = _counts_between(kll, qedges, n)
    return {"edges": edges, "counts": counts}, {"edges": qedges, "counts": qcounts}


def _instant(ns: float, zone: str | None) -> str:
    """An instant from the KLL sketch (float nanoseconds), to the microsecond, in ISO 8601."""
    return pd.Timestamp(int(np.rint(ns / 1000.0)) * 1000, tz=zone).isoformat()


def _counts_between(kll: Any, edges: list[float], n: int) -> list[int]:
    """Counts per [edge_i, edge_i+1) bin (last bin closed), from the sketch's CDF."""
    inner = edges[1:-1]
    cum = [0.0, *kll.get_cdf(inner)] if inner else [0.0, 1.0]
    scaled = np.rint(np.asarray(cum) * n).astype(np.int64)
    return np.diff(scaled).tolist()


def _entropy(top: list[tuple[Any, int]], count: int, distinct: int) -> tuple[float | None, int]:
    """Shannon entropy in bits, and the number of values it spans.

    Values outside ``top`` (the sketch kept only the frequent ones) are taken to
    share the rest of the count evenly.
    """
    if count <= 0:
        return None, 0
    counts = np.array([c for _, c in top if c > 0], dtype=np.float64)
    probs = counts / count
    h = float(-(probs * np.log2(probs)).sum())
    rest = max(count - float(counts.sum()), 0.0)
    others = max(distinct - len(counts), 1) if rest else 0
    if rest:
        share = rest / count
        h += -share * math.log2(share / others)
    return h, len(counts) + others


def _finalise_column(
    name: str, acc: ColumnAccumulator, rows: int, options: ProfileOptions
) -> ColumnProfile:
    hll = acc.hll
    if hll.is_empty():
        distinct, bounds = 0, (0, 0)
    else:
        distinct = round(hll.estimate())
        low, high = hll.bounds(HLL_STD_DEVS)
        bounds = (math.floor(low), math.ceil(high))
        # a distinct count cannot exceed the number of values
        distinct = min(distinct, acc.count)
        bounds = (min(bounds[0], acc.count), min(bounds[1], acc.count))
    col_type = _column_type(acc, distinct, options)
    top_all, top_error = _top_values(acc, col_type)
    if _is_mixed(acc):
        col_type = "string" if col_type not in ("categorical", "string") else col_type
    numeric = col_type in NUMERIC_TYPES
    n, mean, m2, m3, m4 = acc.moments
    n = int(n)
    mean_v = std_v = skew_v = kurt_v = None
    quantiles: dict[str, Any] | None = None
    hist = qhist = None
    lo: Any = None
    hi: Any = None
    if numeric or col_type == "boolean":
        if n > 0:
            mean_v = float(mean)
        if n > 1:
            std_v = math.sqrt(max(m2, 0.0) / (n - 1))
    if numeric:
        lo, hi = acc.min, acc.max
        if col_type == "integer" and lo is not None and hi is not None:
            lo, hi = int(lo), int(hi)
        # a constant column's M2 may be rounding noise: its shape is 0, not noise / noise
        flat = m2 <= n * (1e-13 * abs(mean)) ** 2
        if n > 2:
            skew_v = 0.0 if flat else (m3 / n) / (m2 / n) ** 1.5 * math.sqrt(n * (n - 1)) / (n - 2)
        if n > 3:
            if flat:
                kurt_v = 0.0
            else:
                num = n * (n + 1) * (n - 1) * m4
                den = (n - 2) * (n - 3) * m2 * m2
                kurt_v = num / den - 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))
        if not acc.kll.is_empty():
            qs = acc.kll.get_quantiles(list(QUANTILES))
            quantiles = {str(q): float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        hist, qhist = _histograms(acc, options.bins)
    elif col_type == "boolean":
        lo = None if acc.min is None else bool(acc.min)
        hi = None if acc.max is None else bool(acc.max)
    elif col_type == "datetime" and acc.dt_min is not None and acc.dt_max is not None:
        zone = "UTC" if acc.dt_utc else None
        lo = pd.Timestamp(acc.dt_min, tz=zone).isoformat()
        hi = pd.Timestamp(acc.dt_max, tz=zone).isoformat()
        if not acc.kll.is_empty():
            qs = acc.kll.get_quantiles(list(QUANTILES))
            quantiles = {str(q): _instant(v, zone) for q, v in zip(QUANTILES, qs, strict=True)}
    lengths = None
    if acc.len_n:
        lengths = {
            "min": int(acc.len_min or 0),
            "mean": acc.len_sum / acc.len_n,
            "max": int(acc.len_max or 0),
            "empty": int(acc.empty),
        }
    entropy = imbalance = None
    if top_all and col_type in ("categorical", "boolean", "integer", "string"):
        entropy, _ = _entropy(top_all, acc.count, distinct)
        # majority / minority count, when the sketch saw every value
        if sum(c for _, c in top_all) >= acc.count and len(top_all) > 1:
            imbalance = top_all[0][1] / max(top_all[-1][1], 1)
        elif len(top_all) == 1 and top_all[0][1] >= acc.count:
            imbalance = 1.0
    return ColumnProfile(
        name=name,
        type=col_type,
        count=int(acc.count),
        nulls=int(acc.nulls),
        nan=int(acc.nan),
        inf=int(acc.inf),
        zeros=int(acc.zeros) if numeric else 0,
        negatives=int(acc.negatives) if numeric else 0,
        mean=finite_or_none(mean_v),
        std=finite_or_none(std_v),
        min=lo,
        max=hi,
        skewness=finite_or_none(skew_v),
        kurtosis=finite_or_none(kurt_v),
        quantiles=quantiles,
        histogram=hist,
        quantile_histogram=qhist,
        distinct=int(distinct),
        distinct_bounds=bounds,
        top=tuple(top_all[: options.top_k]),
        top_error=int(top_error),
        imbalance_ratio=finite_or_none(imbalance),
        entropy=finite_or_none(entropy),
        lengths=lengths,
        kinds={k: int(v) for k, v in acc.kinds.items()},
        unhashable=int(acc.unhashable),
    )


def _finalise(acc: DatasetAccumulator) -> Profile:
    options = acc.options
    columns = {
        name: _finalise_column(name, col, acc.rows, options) for name, col in acc.columns.items()
    }
    duplicates, dup_bounds = 0, (0, 0)
    row_hll = acc.row_hll
    if acc.rows and not row_hll.is_empty():
        # rows minus distinct rows; the bounds come from the HLL's bounds
        duplicates = max(0, acc.rows - round(row_hll.estimate()))
        low, high = row_hll.bounds(HLL_STD_DEVS)
        dup_bounds = (max(0, acc.rows - math.ceil(high)), max(0, acc.rows - math.floor(low)))
    numeric = [c for c in acc.comoments.names if c in columns and columns[c].type in NUMERIC_TYPES]
    correlations: dict[str, Any] = {"columns": numeric, "pearson": []}
    if numeric:
        idx = [acc.comoments.names.index(c) for c in numeric]
        r = acc.comoments.pearson()[np.ix_(idx, idx)]
        correlations["pearson"] = [[finite_or_none(v) for v in row] for row in r.tolist()]
    with_nulls = sorted(
        (c for c in acc.null_names if columns.get(c) and columns[c].nulls > 0),
        key=lambda c: -columns[c].nulls,
    )[: options.missing_together_columns]
    missing: dict[str, Any] = {"columns": with_nulls, "counts": []}
    if with_nulls:
        idx = [acc.null_names.index(c) for c in with_nulls]
        missing["counts"] = acc.null_co[np.ix_(idx, idx)].astype(np.int64).tolist()
    bounds = {
        "kll_rank": float(ds.kll_doubles_sketch(options.kll_k).normalized_rank_error(False)),
        "hll_relative": float(
            abs(ds.hll_sketch.get_rel_err(True, False, options.hll_lg_k, HLL_STD_DEVS))
        ),
        "frequent_items": float(
            ds.frequent_strings_sketch.get_epsilon_for_lg_size(options.fi_lg_max_k)
        ),
    }
    profile = Profile(
        rows=int(acc.rows),
        columns=columns,
        alerts=(),
        duplicates=int(duplicates),
        duplicate_bounds=dup_bounds,
        correlations=correlations,
        missing_together=missing,
        error_bounds=bounds,
        state=acc.to_state(),
    )
    return replace(profile, alerts=tuple(_alerts(profile, options)))


def _alerts(p: Profile, options: ProfileOptions) -> Iterator[Alert]:
    limits = {
        "missing": options.missing_threshold,
        "zeros": options.zeros_threshold,
        "skewed": options.skew_threshold,
        "imbalanced": options.imbalance_threshold,
        "high_correlation": options.correlation_threshold,
        "high_cardinality": float(options.high_cardinality_threshold),
        **options.thresholds,
    }
    if p.rows == 0:
        yield Alert(None, "empty", "the dataset has no rows")
    if p.duplicate_bounds[0] > 0:
        share = p.duplicates / p.rows
        yield Alert(None, "duplicates", f"about {p.duplicates} duplicate rows ({share:.1%})")
    state = p.state["columns"]
    for name, c in p.columns.items():
        if p.rows and c.nulls / p.rows > limits["missing"]:
            yield Alert(
                name, "missing", f"{c.nulls} of {p.rows} values missing ({c.nulls / p.rows:.1%})"
            )
        if c.count == 0:
            continue
        kinds = {k: n for k, n in c.kinds.items() if n}
        col_state = state[name]
        groups = {"integer": "number", "float": "number"}
        if len({groups.get(k, k) for k in kinds}) > 1:
            detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            pytypes = col_state.get("pytypes") or {}
            if pytypes:
                detail += (
                    " (python types: "
                    + ", ".join(f"{k} {n}" for k, n in sorted(pytypes.items()))
                    + ")"
                )
            yield Alert(name, "mixed_types", f"values of several types: {detail}")
        if c.unhashable:
            yield Alert(
                name, "unhashable", f"{c.unhashable} nested values (lists, dicts…) profiled as text"
            )
        if c.inf:
            yield Alert(name, "infinite", f"{c.inf} infinite values")
        if c.distinct == 1 and c.count > 0:
            value = c.top[0][0] if c.top else c.min
            yield Alert(name, "constant", f"every value is {value!r}")
            continue
        # unique: HLL allows it and no value is known to repeat
        most = c.top[0][1] - c.top_error if c.top else 1
        unique = c.count > 1 and c.distinct_bounds[1] >= c.count and most <= 1
        if unique and c.type not in ("float",):
            yield Alert(name, "unique", f"all {c.count} values are distinct")
        elif c.type in ("categorical", "string") and c.distinct > limits["high_cardinality"]:
            yield Alert(name, "high_cardinality", f"about {c.distinct} distinct values")
        if c.type in NUMERIC_TYPES and c.zeros / c.count > limits["zeros"]:
            yield Alert(name, "zeros", f"{c.zeros} zeros ({c.zeros / c.count:.1%})")
        if c.skewness is not None and abs(c.skewness) > limits["skewed"]:
            yield Alert(name, "skewed", f"skewness {c.skewness:.1f}")
        if c.type in ("categorical", "boolean") and c.entropy is not None and c.distinct > 1:
            balance = c.entropy / math.log2(c.distinct)
            if 1.0 - balance > limits["imbalanced"]:
                yield Alert(
                    name,
                    "imbalanced",
                    f"entropy {c.entropy:.2f} bits over {c.distinct} values; "
                    f"majority {c.top[0][0]!r}",
                )
    cols = p.correlations.get("columns", [])
    matrix = p.correlations.get("pearson", [])
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            r = matrix[i][j]
            if r is not None and abs(r) > limits["high_correlation"]:
                yield Alert(a, "high_correlation", f"Pearson r = {r:.2f} with {cols[j]!r}")


# ------------------------------------------------------------------- transform
class _ProfileCombineFnBody:
    """The CombineFn's logic (the Beam class wraps it: see ``_combine_fn``)."""

    def __init__(self, options: ProfileOptions) -> None:
        self.options = options

    def create_accumulator(self) -> DatasetAccumulator:
        return DatasetAccumulator(self.options)

    def add_input(self, acc: DatasetAccumulator, batch: Any) -> DatasetAccumulator:
        acc.add_batch(batch)
        return acc

    def merge_accumulators(self, accs: Any) -> DatasetAccumulator:
        it = iter(accs)
        first = next(it)
        for other in it:
            first.merge(other)
        return first

    def extract_output(self, acc: DatasetAccumulator) -> Profile:
        return _finalise(acc)


_CLASSES: dict[str, Any] = {}


def _profile_dataset_class() -> Any:
    """Build ``ProfileDataset`` on first use: importing this module stays Beam-free."""
    if "ProfileDataset" in _CLASSES:
        return _CLASSES["ProfileDataset"]
    import apache_beam as beam

    from beam_ml.sources.readers import typed_as_frames

    class _ProfileCombineFn(beam.CombineFn):
        def __init__(self, options: ProfileOptions) -> None:
            super().__init__()
            self.body = _ProfileCombineFnBody(options)

        def create_accumulator(self) -> DatasetAccumulator:
            return self.body.create_accumulator()

        def add_input(self, acc: DatasetAccumulator, batch: Any) -> DatasetAccumulator:
            return self.body.add_input(acc, batch)

        def merge_accumulators(self, accs: Any) -> DatasetAccumulator:
            return self.body.merge_accumulators(accs)

        def extract_output(self, acc: DatasetAccumulator) -> Profile:
            return self.body.extract_output(acc)

    class ProfileDataset(beam.PTransform):
        """PCollection of pandas DataFrame batches (or a Beam DataFrame) -> one ``Profile``.

        >>> import apache_beam as beam                        # doctest: +SKIP
        >>> with beam.Pipeline() as p:                        # doctest: +SKIP
        ...     batches = p | beam.Create([df1, df2])
        ...     batches | ProfileDataset(top_k=5) | beam.Map(print)
        """

        def __init__(self, top_k: int = 10, bins: int = 20, **options: Any) -> None:
            super().__init__()
            check_positive_int("top_k", top_k)
            check_positive_int("bins", bins)
            unknown = set(options) - set(ProfileOptions.__dataclass_fields__)
            if unknown:
                known = ", ".join(sorted(ProfileOptions.__dataclass_fields__))
                raise BeamMLError.expected(
                    f"ProfileDataset options among {known}", ", ".join(sorted(unknown))
                )
            self.options = ProfileOptions(top_k=top_k, bins=bins, **options)

        def expand(self, pcoll: Any) -> Any:
            batches = typed_as_frames(_as_batches(pcoll))
            return batches | "Profile" >> beam.CombineGlobally(_ProfileCombineFn(self.options))

    ProfileDataset.__module__ = __name__
    ProfileDataset.__qualname__ = "ProfileDataset"
    _CLASSES["ProfileDataset"] = ProfileDataset
    return ProfileDataset


def profile_dataframe(deferred: Any, label: str = "ProfileDataset", **options: Any) -> Any:
    """Apply ``ProfileDataset`` to a Beam DeferredDataFrame -> PCollection of one Profile.

    (``deferred | ProfileDataset()`` cannot work: Beam's DataFrame ``|`` turns
    the frame into schema rows and the result back into a DataFrame.)

    >>> profiled = profile_dataframe(read_dataframe(p, "data.csv"))  # doctest: +SKIP
    """
    return _as_batches(deferred) | label >> _profile_dataset_class()(**options)


def _as_batches(pvalue: Any) -> Any:
    """A Beam DeferredDataFrame becomes its PCollection of pandas batches."""
    from apache_beam.dataframe.frame_base import DeferredFrame

    if isinstance(pvalue, DeferredFrame):
        from apache_beam.dataframe.convert import to_pcollection

        return to_pcollection(pvalue, yield_elements="pandas")
    return pvalue


if TYPE_CHECKING:
    import apache_beam as beam

    class ProfileDataset(beam.PTransform):
        options: ProfileOptions

        def __init__(self, top_k: int = 10, bins: int = 20, **options: Any) -> None: ...
else:

    def __getattr__(name: str) -> Any:
        if name == "ProfileDataset":
            return _profile_dataset_class()
        raise AttributeError(f"module 'beam_ml.profiling.dataset' has no attribute {name!r}")


class _Progress:
    """Pass batches through, printing rows read and time elapsed on a terminal."""

    def __init__(self, stream: Any = None, every: float = 0.5) -> None:
        self.stream = stream
        self.every = every
        self.rows = 0
        self.start = 0.0
        self.last = 0.0

    def process(self, batch: Any) -> Iterator[Any]:
        now = time.monotonic()
        if not self.start:
            self.start = self.last = now
        self.rows += len(batch)
        if now - self.last >= self.every:
            self.last = now
            stream = self.stream or sys.stderr
            stream.write(f"\rprofiling: {self.rows:,} rows read, {now - self.start:.1f} s")
            stream.flush()
        yield batch


def profile(
    source: Any,
    sample: int | None = None,
    options: Any = None,
    *,
    progress: bool = False,
    **profile_options: Any,
) -> Profile:
    """Profile ``source`` (a path, glob, DataFrame or ``Source``) in a Beam pipeline.

    ``sample`` keeps only the first ``sample`` rows; ``options`` are Beam pipeline
    options (None = DirectRunner, or a list of flags such as ``["--runner=..."]``).

    >>> import beam_ml as bml
    >>> p = bml.profile(bml.datasets.load("penguins"))           # doctest: +SKIP
    >>> p.rows                                                   # doctest: +SKIP
    344
    """
    import apache_beam as beam

    from beam_ml.runner import run_and_collect
    from beam_ml.sources.readers import ReadBatches, Source, as_source, head

    check_positive_int("sample", sample, allow_none=True)
    src = as_source(source)
    if sample is not None:
        src = replace(as_source(head(src, sample)), batch_rows=src.batch_rows)
    elif src.frame is None:
        # Text in Arrow buffers: 5M rows from Parquet peaked at 0.38 GB, not 0.41 GB,
        # and ran in 17 s, not 20 s. The statistics are the same.
        src = replace(src, strings="arrow")
        if src.format == "csv" and not isinstance(source, Source):
            # Smaller CSV batches (unless the caller chose a Source's batch_rows):
            # 5M rows peaked at 330 MB, not 351 MB, for 7% more time. Parquet
            # gains nothing: decoding its row groups sets its peak.
            src = replace(src, batch_rows=PROFILE_CSV_BATCH_ROWS)
    transform = _profile_dataset_class()(**profile_options)

    def build(pipeline: Any) -> Any:
        batches = (pipeline | "Read" >> ReadBatches(src)).batches
        if progress:
            batches = batches | "Progress" >> beam.FlatMap(_Progress().process)
        return batches | "ProfileDataset" >> transform

    result = run_and_collect(build, options)
    if progress:
        sys.stderr.write("\n")
    if len(result) != 1:
        raise BeamMLError.expected("one profile from the pipeline", f"{len(result)} results")
    return result[0]
