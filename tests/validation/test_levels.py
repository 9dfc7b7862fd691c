"""Severities: rule levels in YAML, reports that fail only on errors, views grouped by level."""

from __future__ import annotations

import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import Profile
from beam_ml.steps.validate import report_verdict
from beam_ml.validation import (
    Completeness,
    Mean,
    NotNull,
    Range,
    RuleSet,
    infer_rules,
    validate,
)

from .data import check_frame


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 10, "c": ["a", "b"] * 20})


def test_when_levels_are_written_to_yaml_then_they_read_back_equal():
    rules = RuleSet((Range("x", min=0.0, level="warn"), Mean("x", min=1.0), NotNull("c")))
    text = rules.to_yaml()
    assert "  level: warn" in text and text.count("  level: error") == 2
    again = RuleSet.from_yaml(text)
    assert again == rules and [r.level for r in again] == ["warn", "error", "error"]


def test_when_an_old_file_says_level_row_or_dataset_then_it_reads_with_the_default_level():
    old = (
        "rules:\n- kind: range\n  column: x\n  min: 0\n  level: row\n"
        "- kind: mean\n  column: x\n  max: 9\n  level: dataset\n"
    )
    rules = RuleSet.from_yaml(old)
    assert [(r.kind, r.level, r.scope) for r in rules] == [
        ("range", "error", "row"),
        ("mean", "error", "dataset"),
    ]


def test_when_a_level_is_misspelled_then_the_error_names_the_rule_and_the_choices():
    with pytest.raises(BeamMLError, match=r"level of rule mean:x to be one of error, warn"):
        RuleSet.from_yaml("rules:\n- kind: mean\n  column: x\n  level: fatal\n")


def test_when_only_a_warn_rule_fails_then_the_report_passes_with_a_warning():
    rules = RuleSet((Mean("x", min=100.0, level="warn"), Range("x", min=0.0)))
    report = validate(_frame(), rules)
    assert report.passed and [c.id for c in report.warnings] == ["mean:x"]
    assert report.errors == () and len(report.failures) == 1
    d = report.to_dict()
    assert d["passed"] is True and d["warnings"] == 1 and d["errors"] == 0
    assert report.text().startswith("ValidationReport PASSED with 1 warning")
    assert "WARN mean:x: mean 2.5 below the min 100 (warn)" in report.text()
    verdict = report_verdict(d)
    assert verdict.startswith("passed; warnings mean:x")


def test_when_an_error_rule_fails_then_the_report_fails_and_views_group_errors_first():
    rules = RuleSet(
        (
            Mean("x", min=100.0, level="warn"),
            Completeness("x", max_null_share=0.0),
            Range("x", max=2.0),
        )
    )
    frame = _frame()
    frame.loc[:3, "x"] = None
    report = check_frame(frame, rules)
    assert not report.passed
    assert {c.id for c in report.errors} == {"completeness:x", "range:x"}
    html = report.to_html()
    assert html.index("errors</th>") < html.index("warnings</th>") < html.index("passed</th>")
    assert "bml-warn" in html and "failed: 2 errors, 1 warning" in html
    check = next(c for c in report.checks if c.id == "completeness:x")
    assert check.message == "null share 10 % > allowed 0 %"
    assert report_verdict(report.to_dict()).startswith("FAILED ")


def test_inferred_levels_put_distribution_checks_at_warn_and_schema_nulls_ranges_at_error():
    rules = infer_rules(Profile.from_frame(_frame()))
    levels = {r.kind: r.level for r in rules}
    for kind in ("schema", "not_null", "range", "type", "allowed_values", "unique"):
        assert levels[kind] == "error", kind
    for kind in ("mean", "std", "quantile", "js_divergence", "ks_distance", "linf_distance"):
        assert levels[kind] == "warn", kind
    text = rules.to_yaml()
    # each inferred rule says in one sentence how it was inferred
    assert text.count("#   inferred: ") == len(rules) - 1  # row_count is no inference
