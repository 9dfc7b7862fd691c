"""Propose rules from a reference profile: every bound from the profile and its size.

Each bound is what a fresh sample of the checked size would show, from the
reference's KLL ranks, counts and moments (`beam_ml.validation.calibrate`),
robust to heavy tails and zero inflation; each rule's YAML comment says in one
sentence how it was inferred (`NOTES`). Schema, types, nulls and ranges are
``error``-level; distribution checks (mean, std, median, drift, class balance)
are ``warn``. Categorical columns get ``allowed_values`` only when their set of
values looks closed (Good–Turing), else ``unseen_values``; ``unique`` only for
key-like columns (`beam_ml.validation.infer_columns`).

>>> rules = infer_rules(bml.profile(bml.datasets.load("penguins")))  # doctest: +SKIP
>>> [r.kind for r in rules][:3]                                    # doctest: +SKIP
['schema', 'row_count', 'unique']
"""

from __future__ import annotations

from typing import Any

from beam_ml.validation.base import CATEGORICAL, NUMERIC, TYPE_FAMILY, Rule
from beam_ml.validation.calibrate import Z_ERROR, share_limit
from beam_ml.validation.dataset_rules import Completeness, RowCount, Schema, Unique
from beam_ml.validation.display import ceil_sig
from beam_ml.validation.infer_columns import (
    NOTES,
    categorical_rules,
    key_like,
    length_rule,
    numeric_rules,
)
from beam_ml.validation.profile_view import as_view, nulls
from beam_ml.validation.row_rules import NotNull, TypeRule
from beam_ml.validation.rules import RuleSet

__all__ = ["NOTES", "REFERENCE_TOP_K", "infer_rules"]

# How many distinct values a profile must list before we trust them as complete.
REFERENCE_TOP_K = 1000


def infer_rules(profile: Any, allow_extra_columns: bool = False) -> RuleSet:
    """Propose rules from a reference profile (like TFDV infer_schema / Deequ suggestions).

    Bounds hold for a clean fresh sample of the checked size (recomputed at
    check time from each rule's ``calibration``) and still catch a spike of
    nulls, out-of-range values, new categories, corrupted types, shifted
    distributions, duplicated rows and dropped or renamed columns. Edit the YAML
    (``rules.to_yaml(path)``) to taste.

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
    dup_cal = {"rows": n, "share": dup / n if n else 0.0, "z": Z_ERROR, "slack": 0.005}
    rules.append(Unique((), max_duplicate_share=ceil_sig(share_limit(dup_cal, n))))
    for name, c in view.columns.items():
        if key_like(view, name, c):
            rules.append(Unique((name,), max_duplicate_share=0.0))
    for name, c in view.columns.items():
        rules.extend(_infer_column(view, name, c, n))
    notes = {r.id: NOTES[r.kind] for r in rules if r.kind in NOTES}
    return RuleSet(tuple(rules), notes=notes)


def null_rule(name: str, null_count: int, n: int) -> Rule:
    """``not_null`` when the reference has no nulls, else ``completeness``: binomial limits."""
    cal = {"rows": n, "share": null_count / n if n else 0.0, "z": Z_ERROR, "slack": 0.005}
    if null_count == 0:
        # a row rule: its limit is for a check of the reference's size
        return NotNull(name, max_share=ceil_sig(min(0.05, share_limit(cal, n))))
    share = cal["share"]
    # a feed's null rate wanders a little between months (flights: 3.3 % vs 3.5 %)
    cal["slack"] = 0.01 + 0.25 * share
    limit = share_limit(cal, n)
    return Completeness(name, max_null_share=ceil_sig(limit), calibration=cal)


def type_rule(name: str, c: dict[str, Any], n: int) -> TypeRule:
    """The column's type, allowing the few unparseable values that a binomial bound for a
    zero count allows (no slack: a marker such as ``"."`` once in 5,000 rows passes, ten
    garbage strings in 5,000 fail); their rows are quarantined all the same.

    A column whose file writes decimals (``1.0``) and has no nulls is a ``float`` even when
    every reference value is whole: its whole values are chance, not its type.
    """
    kind = str(c["type"])
    if kind == "integer" and set(c.get("kinds") or {}) == {"float"} and not nulls(c):
        kind = "float"
    cal = {"rows": n, "share": 0.0, "z": Z_ERROR, "slack": 0.0}
    return TypeRule(name, kind, max_share=ceil_sig(min(0.05, share_limit(cal, n))))


def _infer_column(view: Any, name: str, c: dict[str, Any], n: int) -> list[Rule]:
    kind = str(c["type"])
    out: list[Rule] = [null_rule(name, nulls(c), n)]
    if TYPE_FAMILY.get(kind) in ("numeric", "boolean", "datetime"):
        out.append(type_rule(name, c, n))
    count = int(c.get("count") or 0)
    if count == 0:
        return out
    if kind in NUMERIC and c.get("min") is not None and c.get("mean") is not None:
        out.extend(numeric_rules(view, name, c, count))
    elif kind in CATEGORICAL:
        out.extend(categorical_rules(view, name, c, count))
    if kind == "string" and c.get("lengths"):
        out.append(length_rule(name, c["lengths"], count))
    return out
