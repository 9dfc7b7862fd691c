"""Propose rules from a reference profile: every bound from the profile and its size.

Per column: nulls (a binomial margin), type, range, mean and std (margins that
shrink with the number of values), outliers, drift references, allowed values
and class balance for categories; per table: schema, row count, duplicates.

>>> rules = infer_rules(bml.profile(bml.datasets.load("penguins")))  # doctest: +SKIP
>>> [r.kind for r in rules][:3]                                    # doctest: +SKIP
['schema', 'row_count', 'unique']
"""

from __future__ import annotations

import math
from typing import Any

from beam_ml.validation.base import CATEGORICAL, NUMERIC, TYPE_FAMILY, Rule
from beam_ml.validation.dataset_rules import (
    ClassBalance,
    Completeness,
    JSDivergence,
    LInfDistance,
    Mean,
    Outliers,
    RowCount,
    Schema,
    Std,
    Unique,
)
from beam_ml.validation.display import ceil_sig, floor_sig, sig
from beam_ml.validation.drift import js_threshold, linf_threshold, numeric_reference
from beam_ml.validation.profile_view import (
    ProfileView,
    as_view,
    nulls,
    outlier_share,
    value_key,
)
from beam_ml.validation.row_rules import AllowedValues, Length, NotNull, Range, TypeRule
from beam_ml.validation.rules import RuleSet

# How many distinct values a profile must list before we trust them as complete.
REFERENCE_TOP_K = 1000


def _rare(n: int, cap: float = 0.01) -> float:
    """Tolerated share of rows never seen in a reference of ``n`` rows (rule of three)."""
    return ceil_sig(min(cap, max(0.001, 3.0 / max(n, 1))))


def _share_margin(p: float, n: int) -> float:
    """A 4-sigma binomial margin for a share seen in ``n`` rows."""
    return 4.0 * math.sqrt(max(p * (1.0 - p), 1.0 / max(n, 1)) / max(n, 1))


def infer_rules(profile: Any, allow_extra_columns: bool = False) -> RuleSet:
    """Propose rules from a reference profile (like TFDV infer_schema / Deequ suggestions).

    Margins are wide enough that a clean second sample of the same data passes
    and tight enough that a spike of nulls, out-of-range values, a new category,
    corrupted types, a shifted distribution, duplicated rows and dropped or
    renamed columns fail. Edit the YAML (``rules.to_yaml(path)``) to taste.

    >>> rules = infer_rules(bml.profile(bml.datasets.load("penguins")))  # doctest: +SKIP
    >>> [r.kind for r in rules][:3]                                    # doctest: +SKIP
    ['schema', 'row_count', 'unique']
    """
    view = as_view(profile)
    n = view.rows
    rules: list[Rule] = [
        Schema(
            {name: str(c["type"]) for name, c in view.columns.items()},
            allow_extra=allow_extra_columns,
        ),
        RowCount(min=1),
    ]
    dup = int((view.data.get("duplicates") or {}).get("estimate") or 0)
    dup_share = dup / n if n else 0.0
    rules.append(Unique((), max_duplicate_share=sig(min(1.0, dup_share + 0.005 + 2 * dup_share))))
    unique_alerts = {
        a.get("column") for a in view.data.get("alerts") or () if a.get("kind") == "unique"
    }
    for name, c in view.columns.items():
        if name in unique_alerts and nulls(c) == 0 and c.get("type") != "float":
            # an id-like column: every value distinct in the reference (profile alert)
            rules.append(Unique((name,), max_duplicate_share=0.0))
    for name, c in view.columns.items():
        rules.extend(_infer_column(view, name, c, n))
    return RuleSet(tuple(rules))


def _infer_column(view: ProfileView, name: str, c: dict[str, Any], n: int) -> list[Rule]:
    kind = str(c["type"])
    out: list[Rule] = []
    count = int(c.get("count") or 0)
    null_share = nulls(c) / n if n else 0.0
    if null_share == 0.0:
        out.append(NotNull(name, max_share=_rare(n, cap=0.02)))
    else:
        limit = null_share + _share_margin(null_share, n) + 0.01
        out.append(Completeness(name, max_null_share=ceil_sig(min(1.0, limit))))
    if TYPE_FAMILY.get(kind) in ("numeric", "boolean", "datetime"):
        out.append(TypeRule(name, kind))
    if count == 0:
        return out
    if kind in NUMERIC and c.get("min") is not None and c.get("mean") is not None:
        out.extend(_infer_numeric(view, name, c, count))
    elif kind in CATEGORICAL:
        out.extend(_infer_categorical(view, name, c, count, n))
    if kind == "string" and c.get("lengths"):
        lengths = c["lengths"]
        out.append(
            Length(name, min=max(0, int(lengths["min"]) // 2), max=int(lengths["max"]) * 2 + 1)
        )
    return out


def _infer_numeric(view: ProfileView, name: str, c: dict[str, Any], count: int) -> list[Rule]:
    lo, hi = float(c["min"]), float(c["max"])
    mean, std = float(c["mean"]), float(c.get("std") or 0.0)
    span = hi - lo
    margin = 0.25 * span if span > 0 else max(abs(hi) * 1e-3, 0.5)
    low = lo - margin
    if lo >= 0:
        low = max(low, 0.0)  # a non-negative column stays non-negative (Deequ's hint)
    rules: list[Rule] = [
        # a clean re-sample of heavy-tailed data may reach past the reference's
        # extremes in a handful of rows: tolerate that share, still quarantine them
        Range(
            name,
            min=floor_sig(low, margin),
            max=ceil_sig(hi + margin, margin),
            max_share=_rare(count),
        )
    ]
    if std > 0 and count > 1:
        se = std / math.sqrt(count)
        mean_margin = 6.0 * se + 0.05 * std
        rules.append(
            Mean(
                name,
                min=floor_sig(mean - mean_margin, mean_margin),
                max=ceil_sig(mean + mean_margin, mean_margin),
            )
        )
        excess = float(c.get("kurtosis") or 0.0)
        rel = 6.0 * math.sqrt(max(excess + 2.0, 0.5) / (4.0 * count)) + 0.1
        rules.append(
            Std(name, min=floor_sig(std * max(0.0, 1 - rel)), max=ceil_sig(std * (1 + rel)))
        )
        try:
            share = outlier_share(view, name, "zscore", 3.0, mean, std)
        except (KeyError, ValueError, TypeError):
            share = None
        if share is not None:
            limit = share + _share_margin(share, count) + 2 * view.kll_error + 0.01
            rules.append(Outliers(name, max_share=ceil_sig(min(1.0, limit))))
        drift = numeric_reference(view, name)
        if drift is not None:
            edges, probs = drift
            rules.append(
                JSDivergence(
                    name,
                    threshold=ceil_sig(js_threshold(len(probs), count, view.kll_error)),
                    edges=edges,
                    reference=probs,
                )
            )
    values = view.values(name) if c.get("type") == "integer" else None
    if values and len(values) <= 20:
        # a few whole numbers (years, months, ratings): quantile bins merge them,
        # so watch the share of each value too
        rules.append(
            LInfDistance(
                name,
                threshold=ceil_sig(linf_threshold(count)),
                reference={value_key(v): sig(k / count, 6) for v, k in values},
            )
        )
    return rules


def _infer_categorical(
    view: ProfileView, name: str, c: dict[str, Any], count: int, n: int
) -> list[Rule]:
    rules: list[Rule] = []
    values = view.values(name)
    if values and len(values) <= REFERENCE_TOP_K:
        tolerated = _rare(n)
        rules.append(
            AllowedValues(name, tuple(v for v, _ in values), max_share=ceil_sig(tolerated))
        )
        counts = [k for _, k in values]
        # class balance only where the rarest class is seen often enough for its
        # share to be stable between samples (a class of 2 rows halves by chance)
        if 2 <= len(values) <= 20 and min(counts) >= 30:
            rarest, commonest = min(counts) / count, max(counts) / count
            low = min(rarest * 0.5, rarest - 4.0 * math.sqrt(rarest * (1 - rarest) / count))
            high = commonest + 4.0 * math.sqrt(commonest * (1 - commonest) / count)
            ratio = max(counts) / min(counts)
            rules.append(
                ClassBalance(
                    name,
                    min_share=floor_sig(max(0.0, low)),
                    max_imbalance_ratio=ceil_sig(max(ratio * 2.0, high / max(low, 1e-12))),
                    classes=tuple(v for v, _ in values),
                )
            )
    shares = view.shares(name)
    if shares:
        rules.append(
            LInfDistance(
                name,
                threshold=ceil_sig(linf_threshold(count)),
                reference={k: sig(v, 6) for k, v in shares.items()},
            )
        )
    return rules
