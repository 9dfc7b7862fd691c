"""Dataset-level checks: each rule evaluated on a profile, with no second pass over the data.

Schema, row count, completeness, uniqueness, statistics, unseen values, class
balance and drift are read from a :class:`beam_ml.profiling.Profile` (plus
exact duplicate counts when `ValidateDataset` made them). Bounds a rule carries
a ``calibration`` for are recomputed for the checked data's size. A rule about
a column the data lacks fails with ``observed: "column missing"``; a profile
without what a rule needs is a failed check with a reason, never a crash. Each
check says what it found in words (`beam_ml.validation.messages`).

>>> evaluate_profile(bml.profile(df), RuleSet((Mean("x", min=0.0),)))  # doctest: +SKIP
[Check(rule='mean', column='x', passed=True, ...)]
"""

from __future__ import annotations

from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import NUMERIC, TYPE_FAMILY, RowRule, Rule
from beam_ml.validation.calibrate import bounded, mean_bounds, share_limit, std_bounds
from beam_ml.validation.dataset_rules import (
    PSI,
    ClassBalance,
    Completeness,
    JSDivergence,
    KSDistance,
    LInfDistance,
    Mean,
    Quantile,
    RowCount,
    Schema,
    Std,
    Unique,
    UnseenValues,
)
from beam_ml.validation.drift_checks import check_drift
from beam_ml.validation.messages import between, make_check, share_words, value_words
from beam_ml.validation.outliers import Outliers
from beam_ml.validation.profile_view import (
    ProfileView,
    as_view,
    distinct,
    nulls,
    outlier_share,
    value_key,
)
from beam_ml.validation.report import Check
from beam_ml.validation.row_rules import TypeRule
from beam_ml.validation.rules import RuleSet

__all__ = ["MISSING", "evaluate_profile", "expected_of", "make_check", "profile_rules"]

MISSING = "column missing"
# Unseen values a check lists as its sample (its share counts all of them).
SAMPLE_VALUES = 10


def profile_rules(rules: RuleSet) -> tuple[Rule, ...]:
    """The rules checked on the profile: dataset-level ones, and outliers without stats."""
    return tuple(
        r
        for r in rules.rules
        if not isinstance(r, RowRule) or (isinstance(r, Outliers) and r.stats is None)
    )


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
    typed = frozenset(r.column for r in rules.rules if isinstance(r, TypeRule))
    for rule in profile_rules(rules):
        try:
            if isinstance(rule, Schema):  # it reads the type rules: see _readable_as
                checks.append(_check_schema(rule, view, typed))
            else:
                checks.append(_evaluate(rule, view, ref, duplicates or {}))
        except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            # a profile without what the rule needs is a failed check, never a crash
            checks.append(
                make_check(rule, False, None, expected_of(rule), message=f"cannot check: {exc}")
            )
    return checks


def expected_of(rule: Rule) -> Any:
    d = rule.to_dict()
    for key in ("kind", "column", "edges", "reference", "points", "level", "calibration"):
        d.pop(key, None)
    if "values" in d and len(d["values"]) > SAMPLE_VALUES:
        d["values"] = f"{len(d['values'])} values"
    return d


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


def _count(view: ProfileView, name: str) -> int:
    return int(view.columns[name].get("count") or 0)


def _evaluate(
    rule: Rule,
    view: ProfileView,
    ref: ProfileView | None,
    duplicates: dict[tuple[str, ...], dict[str, Any]],
) -> Check:
    missing = _missing(rule, view)
    if missing is not None:
        return missing
    if isinstance(rule, RowCount):
        ok = (rule.min is None or view.rows >= rule.min) and (
            rule.max is None or view.rows <= rule.max
        )
        said = f"{view.rows:,} rows {between(view.rows, rule.min, rule.max, ok)}"
        return make_check(rule, ok, view.rows, {"min": rule.min, "max": rule.max}, message=said)
    if isinstance(rule, Completeness):
        share = view.null_share(rule.column)
        limit = bounded(rule.calibration, view.rows, share_limit, rule.max_null_share)
        ok = share <= limit
        said = f"null share {share_words(share, limit, ok)}"
        return make_check(rule, ok, share, limit, share, message=said)
    if isinstance(rule, Unique):
        return _check_unique(rule, view, duplicates)
    if isinstance(rule, UnseenValues):
        return _check_unseen(rule, view)
    c = view.columns[rule.target] if rule.target is not None else {}
    numeric_kinds = Mean | Std | Quantile | Outliers | JSDivergence | KSDistance
    if isinstance(rule, numeric_kinds) and (c.get("type") not in NUMERIC or c.get("mean") is None):
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
    if isinstance(rule, Mean | Std):
        stat = "mean" if isinstance(rule, Mean) else "std"
        value = float(c["mean"]) if isinstance(rule, Mean) else float(c["std"] or 0.0)
        fn = mean_bounds if isinstance(rule, Mean) else std_bounds
        lo, hi = bounded(rule.calibration, _count(view, rule.column), fn, (rule.min, rule.max))
        ok = (lo is None or value >= lo) and (hi is None or value <= hi)
        said = f"{stat} {value_words(value)} {between(value, lo, hi, ok)}"
        return make_check(rule, ok, value, {"min": lo, "max": hi}, message=said)
    if isinstance(rule, Quantile):
        q_value = view.quantile(rule.column, rule.q)
        ok = (rule.min is None or q_value >= rule.min) and (rule.max is None or q_value <= rule.max)
        name = "median" if rule.q == 0.5 else f"{rule.q:g} quantile"
        said = f"{name} {value_words(q_value)} {between(q_value, rule.min, rule.max, ok)}"
        return make_check(
            rule, ok, q_value, {"q": rule.q, "min": rule.min, "max": rule.max}, message=said
        )
    if isinstance(rule, Outliers):
        return _check_outliers(rule, view, c)
    if isinstance(rule, ClassBalance):
        return _check_balance(rule, view)
    if isinstance(rule, JSDivergence | LInfDistance | PSI | KSDistance):
        return check_drift(rule, view, ref)
    raise BeamMLError.expected("a dataset-level rule", rule.kind)


def _check_outliers(rule: Outliers, view: ProfileView, c: dict[str, Any]) -> Check:
    """An outliers rule without reference stats: the share beyond the fences, from the sketch."""
    method = "iqr" if rule.method == "iqr" else "zscore"
    out_share = outlier_share(
        view, rule.column, method, rule.cutoff, float(c["mean"]), float(c["std"] or 0.0)
    )
    count = int(c.get("count") or 0)
    row_share = None if out_share is None or not view.rows else out_share * count / view.rows
    ok = out_share is not None and out_share <= rule.max_share
    said = f"share beyond the {rule.method} fences {share_words(out_share, rule.max_share, ok)}"
    return make_check(
        rule,
        ok,
        out_share,
        {"max_share": rule.max_share, "method": rule.method, "fence": rule.cutoff},
        row_share,
        message=said + " (no reference stats: scored against the data's own)",
    )


def _readable_as(observed: str, expected: str, has_type_rule: bool) -> bool:
    """Whether a column typed ``observed`` holds values of the ``expected`` type.

    Numbers, booleans and dates read as text. Text where another type was expected is
    left to the column's ``type`` rule when it has one: a rare marker such as ``"."``
    makes a reader type a column of numbers as text, and the type rule counts exactly
    the values that do not parse (and quarantines their rows).
    """
    got, want = TYPE_FAMILY.get(observed), TYPE_FAMILY.get(expected)
    if got == want or want == "text":
        return True
    return got == "text" and has_type_rule


def _check_schema(rule: Schema, view: ProfileView, typed: frozenset[str]) -> Check:
    present = {name: str(c["type"]) for name, c in view.columns.items()}
    missing = [c for c in rule.columns if c not in present]
    unexpected = [] if rule.allow_extra else [c for c in present if c not in rule.columns]
    wrong = {
        c: {"expected": t, "observed": present[c]}
        for c, t in rule.columns.items()
        if c in present
        and not _readable_as(present[c], t, c in typed)
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
        problems.append(
            "wrong types: "
            + ", ".join(f"{k} is {v['observed']}, not {v['expected']}" for k, v in wrong.items())
        )
    return make_check(
        rule,
        not problems,
        observed,
        {"columns": rule.columns, "allow_extra": rule.allow_extra},
        message="; ".join(problems) or f"{len(rule.columns)} columns of the expected types",
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
    ok = share <= rule.max_duplicate_share
    what = "duplicated rows" if not rule.columns else f"duplicated {'+'.join(rule.columns)}"
    return make_check(
        rule,
        ok,
        {"duplicates": dups, "share": share},
        {"max_duplicate_share": rule.max_duplicate_share},
        share,
        message=f"{what} {share_words(share, rule.max_duplicate_share, ok)}"
        f" ({dups:,} rows, {note})",
    )


def _check_unseen(rule: UnseenValues, view: ProfileView) -> Check:
    c = view.columns[rule.column]
    listed = c.get("values") or c.get("top") or []
    count = int(c.get("count") or 0)
    known = {value_key(v) for v in rule.values}
    new = sorted(
        ((v, int(k)) for v, k in listed if value_key(v) not in known), key=lambda vk: -vk[1]
    )
    unseen = sum(k for _, k in new)
    if view.values(rule.column) is None and count:
        # a cut frequent-items list: a known value it leaves out holds at most
        # top_error rows, so the known values hold at most this many
        error = int(c.get("top_error") or 0)
        listed_known = [k for v, k in listed if value_key(v) in known]
        most_known = sum(listed_known) + (len(known) - len(listed_known)) * max(error, 1)
        unseen = max(unseen, count - most_known)
    # a lower bound of the unseen share (exact when every value is listed)
    share = unseen / count if count else 0.0
    ok = share <= rule.max_share
    said = f"unseen values {share_words(share, rule.max_share, ok)} of values"
    if new:
        said += f" (e.g. {', '.join(repr(v) for v, _ in new[:3])})"
    return make_check(
        rule,
        ok,
        {"unseen_share": share, "unseen_listed": len(new)},
        {"max_share": rule.max_share},
        share,
        message=said,
        sample=tuple({"value": v, "rows": k} for v, k in new[:SAMPLE_VALUES]),
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
    ratio = max(counts) / min(counts) if min(counts) else float("inf")
    ok_share = rule.min_share is None or rarest >= rule.min_share
    ok_ratio = rule.max_imbalance_ratio is None or ratio <= rule.max_imbalance_ratio
    said = [f"rarest class {value_words(rarest, share=True)}"]
    if rule.min_share is not None:
        said[0] += f" {'≥' if ok_share else '<'} min {value_words(rule.min_share, share=True)}"
    if rule.max_imbalance_ratio is not None:
        said.append(
            f"imbalance {value_words(ratio)} {'≤' if ok_ratio else '>'} "
            f"allowed {value_words(rule.max_imbalance_ratio)}"
        )
    return make_check(
        rule,
        ok_share and ok_ratio,
        {"min_share": rarest, "imbalance_ratio": ratio, "classes": len(counts)},
        {"min_share": rule.min_share, "max_imbalance_ratio": rule.max_imbalance_ratio},
        message="; ".join(said),
    )
