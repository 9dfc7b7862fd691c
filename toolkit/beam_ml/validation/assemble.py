"""Assemble a `ValidationReport` from what the validation graph computed.

The profile of the checked data, the (possibly bounded) quarantined rows, the
exact per-rule failing-row counts, the valid-row count, the read's bad records
and exact duplicate counts become one report: a parse check, then one `Check`
per rule in the rules' order. Every row is valid or invalid, never both or lost.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import RowRule
from beam_ml.validation.checks import (
    MISSING,
    evaluate_profile,
    expected_of,
    make_check,
    profile_rules,
)
from beam_ml.validation.combiners import ROWS_KEY, error_counts
from beam_ml.validation.messages import between, share_words
from beam_ml.validation.profile_view import ProfileView, as_view
from beam_ml.validation.report import Check, ValidationReport, records
from beam_ml.validation.rules import RuleSet

# Example rows a check carries (the counts are exact whatever this is).
SAMPLE_ROWS = 5


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def build_report(
    rules: RuleSet,
    profile: Any,
    invalid: list[pd.DataFrame],
    valid_rows: int,
    bad_records: list[Any] = (),  # type: ignore[assignment]
    reference: Any = None,
    duplicates: dict[tuple[str, ...], dict[str, Any]] | None = None,
    source: str = "",
    counts: dict[str, int] | None = None,
) -> ValidationReport:
    """Assemble a report from a profile and the outputs of `ValidateRows`.

    ``counts`` (from `error_counts`, summed) are needed only when ``invalid``
    holds a bounded sample of the quarantined rows rather than all of them.
    """
    view = as_view(profile)
    frames = [f for f in invalid if len(f)]
    invalid_frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["_errors", "_line"])
    )
    if len(invalid_frame):
        order = [c for c in ("_file", "_line") if c in invalid_frame.columns]
        invalid_frame = invalid_frame.sort_values(order, kind="stable").reset_index(drop=True)
    parsed_rows = view.rows
    exact = error_counts(invalid_frame) if counts is None else dict(counts)
    invalid_rows = exact.pop(ROWS_KEY, len(invalid_frame))
    samples: dict[str, list[int]] = {}
    if len(invalid_frame):
        # one row per (row, failed rule): the first rows of each rule
        exploded = invalid_frame["_errors"].explode().dropna()
        firsts = exploded.groupby(exploded, sort=False).head(SAMPLE_ROWS)
        for position, rule_id in firsts.items():
            samples.setdefault(str(rule_id), []).append(int(position))
    checks: list[Check] = []
    on_profile = profile_rules(rules)
    for rule in rules.rules:
        if isinstance(rule, RowRule) and rule not in on_profile:
            checks.append(_row_check(rule, view, exact, samples, invalid_frame, parsed_rows))
    checks = [*evaluate_profile(view, rules, reference, duplicates), *checks]
    checks = _in_rule_order(rules, checks)
    bad = list(bad_records)
    if bad:
        bad_frame = pd.DataFrame(
            {
                "_errors": [[f"parse: {b.reason}"] for b in bad],
                "_line": [b.line for b in bad],
                "_text": [b.text for b in bad],
            }
        )
        invalid_frame = pd.concat([invalid_frame, bad_frame], ignore_index=True)
    total = parsed_rows + len(bad)
    checks.insert(
        0,
        Check(
            rule="parse",
            column=None,
            passed=not bad,
            observed=len(bad),
            expected=0,
            share=len(bad) / total if total else 0.0,
            id="parse",
            scope="row",
            message=_plural(len(bad), "line", "lines") + " could not be read as rows"
            if bad
            else "every line read as a row",
            sample=tuple(b.to_dict() for b in bad[:SAMPLE_ROWS]),
        ),
    )
    rows = {"total": total, "valid": int(valid_rows), "invalid": int(invalid_rows) + len(bad)}
    if rows["valid"] + rows["invalid"] != rows["total"]:
        # every row lands in exactly one output; a mismatch is a bug, never hidden
        raise BeamMLError.expected(
            "valid + invalid rows == total rows", rows, "please report this as a bug"
        )
    return ValidationReport(
        checks=tuple(checks), rows=rows, invalid_rows=invalid_frame, source=source, profile=profile
    )


def _in_rule_order(rules: RuleSet, checks: list[Check]) -> list[Check]:
    order = {r.id: i for i, r in enumerate(rules.rules)}
    return sorted(checks, key=lambda c: order.get(c.id, len(order)))


def _row_check(
    rule: RowRule,
    view: ProfileView,
    counts: dict[str, int],
    samples: dict[str, list[int]],
    invalid: pd.DataFrame,
    rows: int,
) -> Check:
    expected = expected_of(rule)
    if rule.column not in view.columns:  # type: ignore[attr-defined]
        return make_check(
            rule,
            False,
            MISSING,
            expected,
            message=f"the data has no column {rule.column!r}",  # type: ignore[attr-defined]
        )
    failing = counts.get(rule.id, 0)
    share = failing / rows if rows else 0.0
    sample: tuple[dict[str, Any], ...] = ()
    if failing:
        sample = tuple(records(invalid.loc[samples.get(rule.id, [])]))
    ok = share <= rule.max_share
    said = (
        f"{_plural(failing, 'row', 'rows')} {failing_words(rule)} "
        f"({share_words(share, rule.max_share, ok)})"
    )
    return make_check(rule, ok, {"failing_rows": failing}, expected, share, said, sample)


def failing_words(rule: RowRule) -> str:
    """What a failing row of ``rule`` is, in words (``outside 0 – 10``, ``null``)."""
    kind = rule.kind
    if kind == "not_null":
        return "null"
    if kind == "type":
        return f"not of type {getattr(rule, 'type', '')}"
    if kind in ("range", "length"):
        lo, hi = getattr(rule, "min", None), getattr(rule, "max", None)
        what = between(0.0, lo, hi, False)
        return what if kind == "range" else f"of length {what}"
    if kind == "allowed_values":
        return f"not among the {len(getattr(rule, 'values', ())):,} allowed values"
    if kind == "regex":
        return "not matching the pattern"
    if kind == "outliers":
        method = rule.id.split(":")[-1]
        return f"scored at or past {getattr(rule, 'cutoff', '')} by the {method} detector"
    return "failing"
