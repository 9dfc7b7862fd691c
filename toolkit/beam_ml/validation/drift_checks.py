"""Drift checks: a column's distribution vs its reference's, with a size-aware threshold.

A drift rule inference wrote carries ``calibration`` (the reference's size,
the false-alarm rate ``alpha`` and the reference sketch's rank error): its
threshold is recomputed for the checked column's size (`beam_ml.validation.drift`).
The distance is reported even when it passes.

>>> check_drift(KSDistance("x", threshold=0.1), view, ref)  # doctest: +SKIP
Check(rule='ks_distance', column='x', passed=True, observed=0.031, ...)
"""

from __future__ import annotations

from typing import Any

from beam_ml.validation.base import NUMERIC, Rule
from beam_ml.validation.dataset_rules import PSI, JSDivergence, KSDistance, LInfDistance
from beam_ml.validation.drift import (
    bin_probs,
    js_divergence,
    js_threshold,
    ks_distance,
    ks_reference,
    ks_threshold,
    linf,
    linf_threshold,
    numeric_reference,
    psi,
    psi_categorical,
    psi_threshold,
)
from beam_ml.validation.messages import make_check, value_words
from beam_ml.validation.profile_view import ProfileView, value_key
from beam_ml.validation.report import Check

NAMES = {
    "js_divergence": "Jensen–Shannon divergence",
    "linf_distance": "largest change of a value's share",
    "psi": "PSI",
    "ks_distance": "KS distance",
}

DriftRule = JSDivergence | LInfDistance | PSI | KSDistance


def threshold_for(rule: DriftRule, reference: Any, m: int, rank_error: float) -> float:
    """The rule's threshold for ``m`` checked values: calibrated, or as written.

    ``reference`` is the rule's reference distribution (bin shares or value shares).
    """
    cal = rule.calibration
    if cal is None or not m:
        return float(rule.threshold)
    n, alpha = float(cal["rows"]), float(cal["alpha"])
    err = float(cal.get("rank_error", 0.0)) + rank_error
    if isinstance(rule, KSDistance):
        return ks_threshold(n, m, alpha, err / 2.0)
    shares = list(reference.values()) if isinstance(reference, dict) else list(reference)
    if isinstance(rule, LInfDistance):
        return linf_threshold(shares, n, m, alpha, float(cal.get("rank_error", 0.0)))
    if isinstance(rule, PSI) and isinstance(reference, dict):
        shares.append(max(0.0, 1.0 - sum(shares)))
        return psi_threshold(shares, n, m, alpha, 0.0)
    if isinstance(rule, PSI):
        return psi_threshold(shares, n, m, alpha, err / 2.0)
    return js_threshold(shares, n, m, alpha, err / 2.0)


def check_drift(rule: DriftRule, view: ProfileView, ref: ProfileView | None) -> Check:
    """The drift of ``rule.column`` vs the rule's (or ``ref``'s) reference."""
    name = rule.column
    col = view.columns[name]
    kind = col.get("type")
    count = int(col.get("count") or 0)
    numeric = isinstance(rule, JSDivergence | KSDistance) or (
        isinstance(rule, PSI) and (rule.edges is not None or kind in NUMERIC)
    )
    if numeric and (kind not in NUMERIC or not count):
        return make_check(rule, False, f"type {kind}", "a numeric column", message="not numeric")
    reference: Any
    if isinstance(rule, KSDistance):
        points, reference = rule.points, rule.reference
        if points is None or reference is None:
            found = ks_reference(ref, name) if ref is not None and name in ref.columns else None
            if found is None:
                return _no_reference(rule)
            points, reference = found
        value = ks_distance(view, name, points, reference)
    elif numeric:
        edges, reference = getattr(rule, "edges", None), getattr(rule, "reference", None)
        if edges is None or reference is None:
            found = (
                numeric_reference(ref, name) if ref is not None and name in ref.columns else None
            )
            if found is None:
                return _no_reference(rule)
            edges, reference = found
        current = bin_probs(view, name, tuple(edges))
        pick = js_divergence if isinstance(rule, JSDivergence) else psi
        value = pick(reference, current)
    else:
        shares = rule.reference if isinstance(rule.reference, dict) else None
        if shares is None:
            if ref is None or name not in ref.columns:
                return _no_reference(rule)
            shares = ref.shares(name)
        reference = {value_key(k): float(v) for k, v in shares.items()}
        now = view.shares(name)
        value = psi_categorical(reference, now) if isinstance(rule, PSI) else linf(reference, now)
    threshold = threshold_for(rule, reference, count, view.kll_error)
    ok = value <= threshold
    cal = rule.calibration
    said = (
        f"{NAMES[rule.kind]} {value_words(value)} {'≤' if ok else '>'} threshold "
        f"{value_words(threshold)}"
    )
    if cal is not None:
        said += (
            f" (false alarms {value_words(float(cal['alpha']), share=True)}; "
            f"{int(cal['rows']):,} vs {count:,} values)"
        )
    expected = {"threshold": threshold}
    if cal is not None:
        expected["alpha"] = float(cal["alpha"])
    return make_check(rule, ok, value, expected, message=said)


def _no_reference(rule: Rule) -> Check:
    return make_check(
        rule,
        False,
        None,
        {"threshold": getattr(rule, "threshold", None)},
        message="no reference distribution: infer the rules from a profile or pass reference=",
    )
