"""From an accumulator to the finished statistics: types, moments, histograms, alerts.

:func:`profile_fields` turns a :class:`~beam_ml.profiling.accumulator.DatasetAccumulator`
into the fields of a :class:`~beam_ml.profiling.result.Profile`; nothing here
changes the accumulator.

>>> from beam_ml.profiling import DatasetAccumulator
>>> acc = DatasetAccumulator()
>>> acc.add_batch(pd.DataFrame({"x": [1.0, 2.0, 4.0]}))
>>> fields = profile_fields(acc)
>>> fields["rows"], fields["columns"]["x"].histogram["edges"][:2]
(3, [1.0, 1.15])
"""

from __future__ import annotations

import math
from typing import Any

import datasketches as ds
import numpy as np
import pandas as pd

from beam_ml.profiling.accumulator import DatasetAccumulator
from beam_ml.profiling.alerts import find_alerts
from beam_ml.profiling.column import ColumnAccumulator
from beam_ml.profiling.column_profile import NUMERIC_TYPES, QUANTILES, ColumnProfile
from beam_ml.profiling.moments import finite_or_none
from beam_ml.profiling.options import ProfileOptions

# How many standard deviations the reported HLL bound covers (3 -> ~99.7%).
HLL_STD_DEVS = 3
# Floats at or beyond 2**53 are all whole: such a column is not called "integer".
EXACT_INTS = 2.0**53


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
        if "float" in kinds and max(abs(acc.min or 0.0), abs(acc.max or 0.0)) >= EXACT_INTS:
            whole = False  # beyond 2**53 a float is "whole" only for want of digits
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


def _top_values(
    acc: ColumnAccumulator, col_type: str, keep: int
) -> tuple[list[tuple[Any, int]], list[int], int]:
    """The ``keep`` first values by estimated count, every item's count, and the
    largest error of any count (0 = exact).

    The sketch's own error is its offset (upper - lower bound, the same for all
    items); values a batch did not feed it (see FI_FEED) add ``fi_dropped``.
    Only the values shown are converted back from the sketch's keys.
    """
    items = acc.fi.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    offset = max((ub - lb for _, _, lb, ub in items), default=0)
    error = int(offset) + int(acc.fi_dropped)
    counts = sorted((int(it[1]) for it in items), reverse=True)
    # only the items that can be among the first `keep` are sorted by (count, key)
    least = counts[keep - 1] if len(counts) >= keep else 0
    shown = sorted((it for it in items if it[1] >= least), key=lambda it: (-it[1], it[0]))
    top = [(_key_value(key, col_type), int(est)) for key, est, _, _ in shown[:keep]]
    return top, counts, error


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
    """Equal-width and equal-count (deciles) histograms of the finite values, from KLL."""
    kll = acc.kll
    if kll.is_empty() or acc.min is None or acc.max is None:
        return None, None
    n = int(kll.n)
    lo, hi = float(acc.min), float(acc.max)
    edges = bin_edges(lo, hi, bins)
    if len(edges) == 2 and lo == hi:
        return {"edges": edges, "counts": [n]}, {"edges": edges, "counts": [n]}
    counts = _counts_between(kll, edges, n)
    qs = kll.get_quantiles(np.linspace(0.0, 1.0, 11).tolist())
    qedges = sorted({lo, *[float(q) for q in qs], hi})
    qcounts = _counts_between(kll, qedges, n)
    return {"edges": edges, "counts": counts}, {"edges": qedges, "counts": qcounts}


def bin_edges(lo: float, hi: float, bins: int) -> list[float]:
    """``bins + 1`` equal-width edges from ``lo`` to ``hi``, strictly increasing.

    A range wider than the largest float (``-1e308`` to ``1e308``) is split
    without computing ``hi - lo``; edges that round to the same float (a range
    of a few ulps) are merged, so there may be fewer bins; ``lo == hi`` gives one.

    >>> bin_edges(0.0, 1.0, 4), bin_edges(5.0, 5.0, 4)
    ([0.0, 0.25, 0.5, 0.75, 1.0], [5.0, 5.0])
    >>> bin_edges(-1e308, 1e308, 2)
    [-1e+308, 0.0, 1e+308]
    """
    if not lo < hi:
        return [lo, hi]
    if math.isfinite(hi - lo):
        edges = np.linspace(lo, hi, bins + 1)
    else:
        # in halves: hi / 2 - lo / 2 is finite, and halving and doubling are exact
        edges = np.linspace(lo / 2, hi / 2, bins + 1) * 2
    edges[0], edges[-1] = lo, hi
    return [float(e) for e in np.unique(np.clip(edges, lo, hi))]


def _instant(ns: float, zone: str | None) -> str:
    """An instant from the KLL sketch (float nanoseconds), to the microsecond, in ISO 8601."""
    return pd.Timestamp(int(np.rint(ns / 1000.0)) * 1000, tz=zone).isoformat()


def _counts_between(kll: Any, edges: list[float], n: int) -> list[int]:
    """Counts per [edge_i, edge_i+1) bin (last bin closed), from the sketch's CDF."""
    inner = edges[1:-1]
    cum = [0.0, *kll.get_cdf(inner)] if inner else [0.0, 1.0]
    scaled = np.rint(np.asarray(cum) * n).astype(np.int64)
    return np.diff(scaled).tolist()


def _entropy(top: list[int], count: int, distinct: int) -> tuple[float | None, int]:
    """Shannon entropy in bits, and the number of values it spans.

    Values outside ``top`` (the counts the sketch kept, of the frequent ones) are
    taken to share the rest of the count evenly.
    """
    if count <= 0:
        return None, 0
    counts = np.array([c for c in top if c > 0], dtype=np.float64)
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
    top, top_counts, top_error = _top_values(acc, col_type, options.top_k)
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
    scale = acc.scale  # the moments are of the values / scale (see moments.py)
    if numeric or col_type == "boolean":
        if n > 0:
            mean_v = float(mean) * scale
        if n > 1:
            with np.errstate(over="ignore"):  # a std beyond the largest float is None
                std_v = float(np.sqrt(max(m2, 0.0) / (n - 1)) * np.float64(scale))
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
    if top_counts and col_type in ("categorical", "boolean", "integer", "string"):
        entropy, _ = _entropy(top_counts, acc.count, distinct)
        # majority / minority count, when the sketch saw every value
        if sum(top_counts) >= acc.count and len(top_counts) > 1:
            imbalance = top_counts[0] / max(top_counts[-1], 1)
        elif len(top_counts) == 1 and top_counts[0] >= acc.count:
            imbalance = 1.0
    return ColumnProfile(
        name=name,
        type=col_type,
        count=int(acc.count),
        nulls=int(acc.nulls),
        nan=int(acc.nan),
        inf=int(acc.inf),
        pos_inf=int(acc.pos_inf),
        neg_inf=int(acc.inf - acc.pos_inf),
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
        top=tuple(top),
        top_error=int(top_error),
        imbalance_ratio=finite_or_none(imbalance),
        entropy=finite_or_none(entropy),
        lengths=lengths,
        kinds={k: int(v) for k, v in acc.kinds.items()},
        unhashable=int(acc.unhashable),
    )


def profile_fields(acc: DatasetAccumulator) -> dict[str, Any]:
    """The fields of the ``Profile`` of ``acc``: statistics, correlations, alerts, state."""
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
    categorical = [c for c, col in columns.items() if col.type in ("categorical", "boolean")]
    correlations["cramers_v"] = acc.pairs.cramers_v(categorical, options.cramers_top_k)
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
    alerts = find_alerts(
        int(acc.rows),
        int(duplicates),
        dup_bounds,
        columns,
        correlations,
        {name: dict(col.pytypes) for name, col in acc.columns.items()},
        options,
    )
    return {
        "rows": int(acc.rows),
        "columns": columns,
        "alerts": tuple(alerts),
        "duplicates": int(duplicates),
        "duplicate_bounds": dup_bounds,
        "correlations": correlations,
        "missing_together": missing,
        "error_bounds": bounds,
        "state": acc.to_state(),
    }
