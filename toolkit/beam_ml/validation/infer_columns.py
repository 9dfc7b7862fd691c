"""The per-column inference rules: numeric bounds from KLL ranks, closed or open value sets.

`NOTES` is the one sentence each inferred kind's YAML comment carries. The
numbers: ``Z_ERROR`` / ``Z_WARN`` standard errors (`beam_ml.validation.calibrate`),
drift thresholds at ``DRIFT_ALPHA`` false alarms, Good–Turing's unseen mass
``f1 / n`` (values seen once, over values seen) for categories.

>>> good_turing([("a", 50), ("b", 1), ("c", 2)], 53)
(0.018867924528301886, 1, 1)
"""

from __future__ import annotations

import math
from typing import Any

from beam_ml.validation.base import Rule
from beam_ml.validation.calibrate import (
    DRIFT_ALPHA,
    Z_ERROR,
    Z_WARN,
    mean_bounds,
    std_bounds,
)
from beam_ml.validation.dataset_rules import (
    ClassBalance,
    JSDivergence,
    KSDistance,
    LInfDistance,
    Mean,
    Quantile,
    Std,
    UnseenValues,
)
from beam_ml.validation.display import ceil_sig, floor_sig, sig
from beam_ml.validation.drift import (
    js_threshold,
    ks_reference,
    ks_threshold,
    linf_threshold,
    numeric_reference,
)
from beam_ml.validation.profile_view import ProfileView, nulls, value_key
from beam_ml.validation.row_rules import AllowedValues, Length, Range

NOTES = {
    "schema": "the reference's columns and types; a missing, renamed or retyped column fails "
    "(numbers may read as text; text where numbers were is left to the type rule).",
    "unique": "whole-row duplicates up to the reference's share plus a binomial margin; "
    "a single column only when key-like (distinct integers filling a dense range, or id text).",
    "not_null": "no nulls in the reference: a fresh sample may show a few (binomial bound for "
    "a zero count).",
    "completeness": "the reference's null share plus a binomial margin for both sample sizes "
    "and a slack of 1 % + a quarter of the share, recomputed for the checked size.",
    "type": "the reference's type (integer only if the file writes integers or pandas made "
    "them floats for nulls); unparseable values are quarantined, and up to the binomial "
    "bound of a zero count (no slack) allowed.",
    "range": "the reference's extremes pushed out by half their distance to the 1st / 99th "
    "KLL percentile (at least a tenth of the span), tolerating 8 rows past them.",
    "mean": "the reference mean ± 4 standard errors for both sample sizes (sd inflated for "
    "heavy tails), recomputed for the checked size.",
    "std": "the reference std times exp(± 4 standard errors of log sd, from the kurtosis), "
    "recomputed for the checked size.",
    "quantile": "the reference values at KLL ranks 0.5 ± 4 binomial rank errors plus the "
    "sketch's rank error: robust to heavy tails and ties.",
    "js_divergence": "chi-square law of the binned divergence for both sizes at 1 % false "
    "alarms, plus the sketches' rank error.",
    "ks_distance": "two-sample Kolmogorov law for both sizes at 1 % false alarms, plus both "
    "sketches' rank error.",
    "linf_distance": "largest of the binomial share differences for both sizes at 1 % false "
    "alarms (Bonferroni over the values).",
    "allowed_values": "a closed set: Good–Turing puts the unseen mass (values seen once / "
    "values) near zero, so new values are quarantined.",
    "unseen_values": "an open set: new values are expected at the Good–Turing rate (values seen "
    "once / values), a surge above its binomial bound fails.",
    "class_balance": "the rarest class at least half its share (or 4 binomial sds less).",
    "length": "text length between half the shortest and twice the longest seen, tolerating "
    "8 rows past them (a long tail of lengths).",
}

# A closed category set: Good-Turing's unseen mass at most this.
CLOSED_MASS = 0.002
# Unseen-value bounds at or past this are no rule at all (a column of names).
USELESS_SHARE = 0.5


def _bound(x: float) -> float | None:
    """A bound as written: None (no bound) where it overflowed past the largest float."""
    return x if math.isfinite(x) else None


def _rank_quantile(view: ProfileView, name: str, rank: float) -> float:
    return view.quantile(name, min(1.0, max(0.0, rank)))


def _range_rule(view: ProfileView, name: str, c: dict[str, Any], count: int) -> Range:
    lo, hi = float(c["min"]), float(c["max"])
    q_lo, q_hi = _rank_quantile(view, name, 0.01), _rank_quantile(view, name, 0.99)
    span = hi - lo
    tiny = max(abs(hi), abs(lo), 1.0) * 1e-3
    low = lo - max(0.5 * (q_lo - lo), 0.1 * span, tiny)
    high = hi + max(0.5 * (hi - q_hi), 0.1 * span, tiny)
    if lo >= 0:
        low = max(low, 0.0)  # a non-negative column stays non-negative (Deequ's hint)
    margin = max(high - hi, hi - low, tiny)
    return Range(
        name,
        min=_bound(floor_sig(low, margin)),
        max=_bound(ceil_sig(high, margin)),
        # a clean re-sample of a heavy tail may pass the reference's extremes in a
        # handful of rows: tolerate that many, still quarantine them
        max_share=tail_share(count),
    )


def numeric_rules(view: ProfileView, name: str, c: dict[str, Any], count: int) -> list[Rule]:
    """Range (error); mean, std, median, JS and KS drift (warn) of a numeric column."""
    rules: list[Rule] = [_range_rule(view, name, c, count)]
    mean, std = float(c["mean"]), float(c.get("std") or 0.0)
    excess = max(0.0, float(c.get("kurtosis") or 0.0))
    eps = view.kll_error
    if std > 0 and count > 1:
        heavy = excess > 3.0  # a sample underestimates the sd and kurtosis of a heavy tail
        cal = {
            "rows": count,
            "center": sig(mean, 8),
            "sd": sig(std * (1.5 if heavy else 1.0), 6),
            "z": Z_WARN,
            "slack": sig(0.02 * std, 4),
        }
        lo, hi = mean_bounds(cal, count)
        margin = hi - mean
        rules.append(
            Mean(
                name,
                min=_bound(floor_sig(lo, margin)),
                max=_bound(ceil_sig(hi, margin)),
                calibration=cal,
                level="warn",
            )
        )
        kurt = (2.0 * excess if heavy else excess) + 2.0
        scal = {
            "rows": count,
            "center": sig(std, 8),
            "spread": sig(math.sqrt(max(kurt, 0.5) / 4.0), 4),
            "z": Z_WARN,
            "slack": 0.03,
        }
        slo, shi = std_bounds(scal, count)
        rules.append(
            Std(
                name,
                min=_bound(floor_sig(slo)),
                max=_bound(ceil_sig(shi)),
                calibration=scal,
                level="warn",
            )
        )
    delta = Z_WARN * math.sqrt(0.25 * 2.0 / count) + 2.0 * eps
    qlo, qhi = _rank_quantile(view, name, 0.5 - delta), _rank_quantile(view, name, 0.5 + delta)
    qmargin = max(qhi - qlo, 1e-12)
    rules.append(
        Quantile(
            name,
            q=0.5,
            min=_bound(floor_sig(qlo, qmargin)),
            max=_bound(ceil_sig(qhi, qmargin)),
            level="warn",
        )
    )
    drift = numeric_reference(view, name)
    dcal = {"rows": count, "alpha": DRIFT_ALPHA, "rank_error": sig(eps, 4)}
    if drift is not None:
        edges, probs = drift
        threshold = js_threshold(probs, count, count, DRIFT_ALPHA, eps)
        rules.append(
            JSDivergence(
                name,
                threshold=ceil_sig(threshold),
                edges=edges,
                reference=probs,
                calibration=dcal,
                level="warn",
            )
        )
    ks = ks_reference(view, name)
    if ks is not None:
        points, cdf = ks
        rules.append(
            KSDistance(
                name,
                threshold=ceil_sig(ks_threshold(count, count, DRIFT_ALPHA, eps)),
                points=points,
                reference=cdf,
                calibration=dcal,
                level="warn",
            )
        )
    values = view.values(name) if c.get("type") == "integer" else None
    if values and len(values) <= 20:
        # a few whole numbers (years, months, ratings): quantile bins merge them,
        # so watch the share of each value too
        rules.append(_linf(name, {value_key(v): k / count for v, k in values}, count, 0.0))
    return rules


def _linf(name: str, shares: dict[Any, float], count: int, top_error: float) -> LInfDistance:
    cal = {"rows": count, "alpha": DRIFT_ALPHA, "rank_error": sig(top_error, 4)}
    return LInfDistance(
        name,
        threshold=ceil_sig(linf_threshold(shares.values(), count, count, DRIFT_ALPHA, top_error)),
        reference={k: sig(v, 6) for k, v in shares.items()},
        calibration=cal,
        level="warn",
    )


def good_turing(values: list[tuple[Any, int]], count: int) -> tuple[float, int, int]:
    """Good–Turing's unseen mass ``f1 / n``, with f1 and f2 (values seen once and twice)."""
    f1 = sum(1 for _, k in values if k == 1)
    f2 = sum(1 for _, k in values if k == 2)
    return (f1 / count if count else 1.0), f1, f2


def categorical_rules(view: ProfileView, name: str, c: dict[str, Any], count: int) -> list[Rule]:
    """Allowed values (a closed set) or unseen values (an open one); balance, L∞ drift."""
    rules: list[Rule] = []
    values = view.values(name)
    if values:
        mass, f1, f2 = good_turing(values, count)
        # an upper bound of the unseen mass: Good-Turing's f1 plus Z sds (var ~ f1 + 2 f2)
        upper = (f1 + Z_ERROR * math.sqrt(f1 + 2 * f2 + 1) + 1) / count
        listed = tuple(v for v, _ in values)
        if mass <= CLOSED_MASS:
            rules.append(
                AllowedValues(
                    name, listed, max_share=ceil_sig(min(0.03, max(0.002, upper + 2 / count)))
                )
            )
        else:
            spread = math.sqrt(mass * (1 - mass) / count)
            bound = upper + Z_ERROR * spread + 0.01
            if bound < USELESS_SHARE:
                rules.append(UnseenValues(name, listed, max_share=ceil_sig(bound)))
        counts = [k for _, k in values]
        # class balance only where the rarest class is seen often enough for its
        # share to be stable between samples (a class of 2 rows halves by chance)
        if 2 <= len(values) <= 20 and min(counts) >= 30:
            rules.append(_balance(name, values, counts, count))
    shares = view.shares(name)
    if shares and len(shares) <= 100:
        top_error = 0.0 if values else float(c.get("top_error") or 0) / count
        rules.append(_linf(name, shares, count, top_error))
    return rules


def _balance(
    name: str, values: list[tuple[Any, int]], counts: list[int], count: int
) -> ClassBalance:
    rarest, commonest = min(counts) / count, max(counts) / count
    low = min(rarest * 0.5, rarest - 4.0 * math.sqrt(rarest * (1 - rarest) / count))
    high = commonest + 4.0 * math.sqrt(commonest * (1 - commonest) / count)
    ratio = max(counts) / min(counts)
    return ClassBalance(
        name,
        min_share=floor_sig(max(0.0, low)),
        max_imbalance_ratio=ceil_sig(max(ratio * 2.0, high / max(low, 1e-12))),
        classes=tuple(v for v, _ in values),
        level="warn",
    )


def length_rule(name: str, lengths: dict[str, Any], count: int) -> Length:
    """Text lengths from half the shortest to twice the longest seen, tolerating a few rows
    past them (a long tail of lengths: one 224-character name among 20-character ones)."""
    return Length(
        name,
        min=max(0, int(lengths["min"]) // 2),
        max=int(lengths["max"]) * 2 + 1,
        max_share=tail_share(count),
    )


def tail_share(count: int) -> float:
    """The share of rows a clean re-sample may put past the reference's extremes.

    A fresh sample of the same size passes the reference's max in k rows with chance
    ~2^-k, whatever the law: 8 rows make that rare even with no margin.

    >>> tail_share(1000), tail_share(100_000)
    (0.008001, 0.002001)
    """
    return ceil_sig(min(0.02, max(0.002, 8.0 / max(count, 1))))


def key_like(view: ProfileView, name: str, c: dict[str, Any]) -> bool:
    """All values distinct where that means something: a dense integer id, or id-like text.

    Never floats or datetimes (a timestamp is distinct by chance in one sample).
    """
    count = int(c.get("count") or 0)
    unique = any(
        a.get("kind") == "unique" and a.get("column") == name for a in view.data.get("alerts") or ()
    )
    if not unique or nulls(c) or count < 20:
        return False
    kind = c.get("type")
    if kind == "integer" and c.get("min") is not None:
        span = float(c["max"]) - float(c["min"]) + 1.0
        # a dense id: n distinct values filling a range of a few n (a half of 0..N-1);
        # n values drawn from it at random would collide ~ n^2 / (2 span) times
        return span <= 4.0 * count
    if kind in ("string", "categorical"):
        lengths = c.get("lengths") or {}
        shown = [str(v) for v, _ in (c.get("top") or c.get("values") or [])[:20]]
        same_length = lengths and int(lengths["max"]) - int(lengths["min"]) <= 2
        id_text = bool(shown) and all(any(ch.isdigit() for ch in v) and " " not in v for v in shown)
        return bool(same_length and id_text)
    return False
