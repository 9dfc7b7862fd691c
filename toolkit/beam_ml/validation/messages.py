"""Checks in words: what was found, against what was allowed, with units.

Every `Check` carries a message a person reads: "null share 11.9 % > allowed
3.2 %", "mean 21.73 outside 6.8 – 13.2 (warn)". Numbers are shown to four
significant digits and shares in %; the check's JSON keeps full precision.

>>> between(21.73, 6.8, 13.2, False), share_words(0.119, 0.032, False)
('outside 6.8 – 13.2', '11.9 % > allowed 3.2 %')
"""

from __future__ import annotations

from typing import Any

from beam_ml.rendering import fmt, pct
from beam_ml.validation.base import Rule
from beam_ml.validation.report import Check


def value_words(value: Any, share: bool = False) -> str:
    """A number to 4 significant digits (a share in %)."""
    if value is None:
        return "–"
    return pct(value) if share else fmt(value)


def between(value: Any, lo: Any, hi: Any, ok: bool) -> str:
    """``within lo – hi`` / ``outside lo – hi`` (or ``≥ lo`` / ``below lo`` when one-sided)."""
    if lo is not None and hi is not None:
        digits = 4
        while digits < 10 and len({fmt(lo, digits), fmt(hi, digits), fmt(value, digits)}) < 3:
            digits += 1  # bounds close together: enough digits to tell them apart
        if len({fmt(lo, digits), fmt(hi, digits)}) == 1:
            digits = 4
        return f"{'within' if ok else 'outside'} {fmt(lo, digits)} – {fmt(hi, digits)}"
    if lo is not None:
        return f"≥ {fmt(lo)}" if ok else f"below the min {fmt(lo)}"
    if hi is not None:
        return f"≤ {fmt(hi)}" if ok else f"above the max {fmt(hi)}"
    return "(no bounds)"


def share_words(share: float | None, limit: float, ok: bool) -> str:
    """``1.2 % ≤ allowed 3.2 %`` or ``11.9 % > allowed 3.2 %``."""
    return f"{value_words(share, share=True)} {'≤' if ok else '>'} allowed {pct(limit)}"


def make_check(
    rule: Rule,
    passed: bool,
    observed: Any,
    expected: Any,
    share: float | None = None,
    message: str = "",
    sample: tuple[dict[str, Any], ...] = (),
) -> Check:
    """The `Check` of ``rule``; a failed warn-level check's message ends in ``(warn)``."""
    if message and not passed and rule.level == "warn":
        message += " (warn)"
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
        sample=sample,
        scope=rule.scope,
    )


def _columns_label(rule: Rule) -> str | None:
    cols = getattr(rule, "columns", None)
    if isinstance(cols, tuple) and cols:
        return ",".join(cols)
    return None
