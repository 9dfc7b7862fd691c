"""Dataset-level checks: each rule evaluated on a profile, with no second pass over the data.

Schema, row count, completeness, uniqueness, statistics, class balance and
drift are read from a :class:`beam_ml.profiling.Profile` (plus exact duplicate
counts when `ValidateDataset` made them). A rule about a column the data lacks
fails with ``observed: "column missing"``; a profile without what a rule needs
is a failed check with a reason, never a crash.

>>> evaluate_profile(bml.profile(df), RuleSet((Mean("x", min=0.0),)))  # doctest: +SKIP
[Check(rule='mean', column='x', passed=True, ...)]
"""

from __future__ import annotations

import math
from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import NUMERIC, TYPE_FAMILY, Rule
from beam_ml.validation.dataset_rules import (
    PSI,
    ClassBalance,
    Completeness,
    JSDivergence,
    LInfDistance,
    Mean,
    Outliers,
    Quantile,
    RowCount,
    Schema,
    Std,
    Unique,
)
from beam_ml.validation.drift import (
    bin_probs,
    js_divergence,
    linf,
    numeric_reference,
    psi,
    psi_categorical,
)
from beam_ml.validation.profile_view import (
    ProfileView,
    as_view,
    distinct,
    nulls,
    outlier_share,
    value_key,
)
from beam_ml.validation.report import Check
from beam_ml.validation.rules import RuleSet

MISSING = "column missing"


def evaluate_profile(
    profile: Any,
    rules: RuleSet,
    reference: Any = None,
    duplicates: dict[tuple[str, ...], dict[str, Any]] | None = None,
) -> list[Check]:
    """Evaluate the dataset-level rules of ``rules`` on ``profile`` (no data pass).

    ``reference`` (a Profile) fills in drift rules that carry no reference
    distribution; ``duplicates`` are exact duplicate counts from `validate`
    (without them uniqueness uses the profile's estimates).
    """
    view = as_view(profile)
    ref = as_view(reference) if reference is not None else None
    checks = []
    for rule in rules.dataset_rules:
        try:
            checks.append(_evaluate(rule, view, ref, duplicates or {}))
        except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            # a profile without what the rule needs is a failed check, never a crash
            checks.append(
                make_check(rule, False, None, expected_of(rule), message=f"cannot check: {exc}")
            )
    return checks


def expected_of(rule: Rule) -> Any:
    d = rule.to_dict()
    for key in ("kind", "column", "edges", "reference"):
        d.pop(key, None)
    return d


def make_check(
    rule: Rule,
    passed: bool,
    observed: Any,
    expected: Any,
    share: float | None = None,
    message: str = "",
) -> Check:
    return Check(
        rule=rule.kind,
        column=rule.target if rule.target is not None else _columns_label(rule),
        passed=bool(passed),
        observed=observed,
        expected=expected,
        share=None if share is None else float(share),
        id=rule.id,
        level=rule.level,
        message=message,
    )


def _columns_label(rule: Rule) -> str | None:
    cols = getattr(rule, "columns", None)
    if isinstance(cols, tuple) and cols:
        return ",".join(cols)
    return None


def _within(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _bounds(lo: Any, hi: Any) -> dict[str, Any]:
    return {"min": lo, "max": hi}


def _missing(rule: Rule, view: ProfileView) -> Check | None:
    absent = [c for c in rule.columns_used() if c not in view.columns]
    if absent and not isinstance(rule, Schema):
        return make_check(
            rule,
            False,
            MISSING,
            expected_of(rule),
            message=f"the data has no column {absent[0]!r}",
        )
    return None


def _evaluate(
    rule: Rule,
    view: ProfileView,
    ref: ProfileView | None,
    duplicates: dict[tuple[str, ...], dict[str, Any]],
) -> Check:
    missing = _missing(rule, view)
    if missing is not None:
        return missing
    if isinstance(rule, Schema):
        return _check_schema(rule, view)
    if isinstance(rule, RowCount):
        return make_check(
            rule, _within(view.rows, rule.min, rule.max), view.rows, _bounds(rule.min, rule.max)
        )
    if isinstance(rule, Completeness):
        share = view.null_share(rule.column)
        return make_check(rule, share <= rule.max_null_share, share, rule.max_null_share, share)
    if isinstance(rule, Unique):
        return _check_unique(rule, view, duplicates)
    c = view.columns[rule.target] if rule.target is not None else {}
    if isinstance(rule, Mean | Std | Quantile | Outliers | JSDivergence) and (
        c.get("type") not in NUMERIC or c.get("mean") is None
    ):
        numeric = c.get("type") in NUMERIC
        return make_check(
            rule,
            False,
            "no values" if numeric else f"type {c.get('type')}",
            "a numeric column with values",
            message=f"{rule.target!r} has no values"
            if numeric
            else f"{rule.target!r} is not numeric here",
        )
    if isinstance(rule, Mean):
        value = float(c["mean"])
        return make_check(
            rule, _within(value, rule.min, rule.max), value, _bounds(rule.min, rule.max)
        )
    if isinstance(rule, Std):
        value = float(c["std"] or 0.0)
        return make_check(
            rule, _within(value, rule.min, rule.max), value, _bounds(rule.min, rule.max)
        )
    if isinstance(rule, Quantile):
        q_value = view.quantile(rule.column, rule.q)
        return make_check(
            rule,
            _within(q_value, rule.min, rule.max),
            q_value,
            {"q": rule.q, "min": rule.min, "max": rule.max},
        )
    if isinstance(rule, Outliers):
        out_share = outlier_share(
            view, rule.column, rule.method, rule.fence, float(c["mean"]), float(c["std"] or 0.0)
        )
        count = int(c.get("count") or 0)
        row_share = None if out_share is None or not view.rows else out_share * count / view.rows
        return make_check(
            rule,
            out_share is not None and out_share <= rule.max_share,
            out_share,
            {"max_share": rule.max_share, "method": rule.method, "fence": rule.fence},
            row_share,
        )
    if isinstance(rule, ClassBalance):
        return _check_balance(rule, view)
    if isinstance(rule, JSDivergence | LInfDistance | PSI):
        return _check_drift(rule, view, ref)
    raise BeamMLError.expected("a dataset-level rule", rule.kind)


def _check_schema(rule: Schema, view: ProfileView) -> Check:
    present = {name: str(c["type"]) for name, c in view.columns.items()}
    missing = [c for c in rule.columns if c not in present]
    unexpected = [] if rule.allow_extra else [c for c in present if c not in rule.columns]
    wrong = {
        c: {"expected": t, "observed": present[c]}
        for c, t in rule.columns.items()
        if c in present
        and TYPE_FAMILY.get(present[c]) != TYPE_FAMILY.get(t)
        # a column with no values has no type of its own: nothing to compare
        and int(view.columns[c].get("count") or 0) > 0
    }
    observed = {"missing": missing, "unexpected": unexpected, "wrong_type": wrong}
    problems = []
    if missing:
        problems.append(f"missing columns {missing}")
    if unexpected:
        problems.append(f"unexpected columns {unexpected}")
    if wrong:
        problems.append(f"wrong types in {list(wrong)}")
    return make_check(
        rule,
        not problems,
        observed,
        {"columns": rule.columns, "allow_extra": rule.allow_extra},
        message="; ".join(problems),
    )


def _check_unique(
    rule: Unique, view: ProfileView, duplicates: dict[tuple[str, ...], dict[str, Any]]
) -> Check:
    exact = duplicates.get(rule.columns)
    if exact is not None:
        rows, dups = exact["rows"], exact["duplicates"]
        note = "exact count"
    elif not rule.columns:
        rows = view.rows
        dups = int((view.data.get("duplicates") or {}).get("estimate") or 0)
        note = "estimated from the profile"
    elif len(rule.columns) == 1:
        c = view.columns[rule.columns[0]]
        rows = view.rows
        dups = max(0, int(c.get("count") or 0) - distinct(c)) + max(0, nulls(c) - 1)
        note = "estimated from the distinct count"
    else:
        return make_check(
            rule, False, None, expected_of(rule), message="needs validate() to count duplicates"
        )
    share = dups / rows if rows else 0.0
    return make_check(
        rule,
        share <= rule.max_duplicate_share,
        {"duplicates": dups, "share": share},
        {"max_duplicate_share": rule.max_duplicate_share},
        share,
        message=note,
    )


def _check_balance(rule: ClassBalance, view: ProfileView) -> Check:
    c = view.columns[rule.column]
    listed = c.get("values") or c.get("top") or []
    count = int(c.get("count") or 0)
    if rule.classes is not None:
        seen = {value_key(v): int(k) for v, k in listed}
        counts = [seen.get(value_key(v), 0) for v in rule.classes]
    else:
        counts = [int(k) for _, k in listed if int(k) > 0]
    if not counts or not count:
        return make_check(rule, False, None, expected_of(rule), message="no values")
    rarest = min(counts) / count
    ratio = max(counts) / min(counts) if min(counts) else math.inf
    ok = (rule.min_share is None or rarest >= rule.min_share) and (
        rule.max_imbalance_ratio is None or ratio <= rule.max_imbalance_ratio
    )
    return make_check(
        rule,
        ok,
        {"min_share": rarest, "imbalance_ratio": ratio, "classes": len(counts)},
        {"min_share": rule.min_share, "max_imbalance_ratio": rule.max_imbalance_ratio},
    )


def _check_drift(
    rule: JSDivergence | LInfDistance | PSI, view: ProfileView, ref: ProfileView | None
) -> Check:
    name = rule.column
    kind = view.columns[name].get("type")
    numeric = isinstance(rule, JSDivergence) or (
        isinstance(rule, PSI) and (rule.edges is not None or kind in NUMERIC)
    )
    if numeric:
        edges, probs = getattr(rule, "edges", None), getattr(rule, "reference", None)
        if edges is None or probs is None:
            if ref is None or name not in ref.columns:
                return _no_reference(rule)
            found = numeric_reference(ref, name)
            if found is None:
                return _no_reference(rule)
            edges, probs = found
        if kind not in NUMERIC or view.columns[name].get("count") in (0, None):
            return make_check(
                rule, False, f"type {kind}", "a numeric column", message="not numeric"
            )
        current = bin_probs(view, name, tuple(edges))
        value = (
            js_divergence(probs, current) if isinstance(rule, JSDivergence) else psi(probs, current)
        )
    else:
        shares = rule.reference if isinstance(rule.reference, dict) else None
        if shares is None:
            if ref is None or name not in ref.columns:
                return _no_reference(rule)
            shares = ref.shares(name)
        expected = {value_key(k): float(v) for k, v in shares.items()}
        now = view.shares(name)
        value = psi_categorical(expected, now) if isinstance(rule, PSI) else linf(expected, now)
    return make_check(rule, value <= rule.threshold, value, {"threshold": rule.threshold})


def _no_reference(rule: Rule) -> Check:
    return make_check(
        rule,
        False,
        None,
        expected_of(rule),
        message="no reference distribution: infer the rules from a profile or pass reference=",
    )
