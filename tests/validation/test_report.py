"""ValidationReport: JSON shape, quarantined rows as JSON Lines, the HTML view."""

from __future__ import annotations

import json

import pandas as pd
from beam_ml.validation import (
    AllowedValues,
    Check,
    NotNull,
    Range,
    RuleSet,
    ValidationReport,
    validate,
)

from .data import (
    out_of_range,
)


def test_report_to_dict_has_the_documented_shape_and_json_round_trips(penguins, penguin_rules):
    report = validate(out_of_range(penguins["new"]), penguin_rules)
    d = json.loads(report.to_json())
    assert set(d) >= {"passed", "checks", "rows"}
    assert set(d["rows"]) == {"total", "valid", "invalid"}
    for check in d["checks"]:
        assert set(check) >= {"rule", "column", "passed", "observed", "expected", "share"}
        assert check["share"] is None or 0.0 <= check["share"] <= 1.0


def test_invalid_rows_are_written_as_json_lines_with_errors_and_line(
    tmp_path, penguins, penguin_rules
):
    report = validate(out_of_range(penguins["new"]), penguin_rules)
    out = report.write_invalid_rows(tmp_path / "bad.jsonl")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == report.rows["invalid"] == 3
    assert {r["_line"] for r in records} == {3, 50, 90}  # a DataFrame's own index
    assert all(r["_errors"] == ["range:flipper_length_mm"] for r in records)
    assert set(penguins["new"].columns) <= set(records[0])


def test_html_lists_failures_first_and_escapes_every_value():
    frame = pd.DataFrame({"<script>": ["<b>x</b>", "ok", None], "y": [1.0, 2.0, 3.0]})
    rules = RuleSet(
        (
            NotNull("y"),
            AllowedValues("<script>", ("ok",)),
            Range("y", min=0.0, max=2.5),
        )
    )
    report = validate(frame, rules)
    bundle = report._repr_mimebundle_()
    html = bundle["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    first_fail = html.index("bml-check bml-bad")
    assert first_fail < html.index("bml-check bml-good")
    assert "FAIL" in bundle["text/plain"] and "allowed_values:<script>" in bundle["text/plain"]
    assert ".bml-validation" in html  # the stylesheet from beam_ml.assets


def test_html_shows_numbers_to_four_significant_digits_and_shares_in_percent():
    checks = (
        Check("mean", "x", False, 21.734567, {"min": 6.81234, "max": 13.2}, id="mean:x"),
        Check("completeness", "y", True, 0.1194, 0.25, share=0.1194, id="completeness:y"),
        Check("mean", "z", True, 1.0, {"min": 0.0, "max": 2.0}, id="mean:z"),
    )
    report = ValidationReport(checks, {"total": 10, "valid": 10, "invalid": 0})
    html = report.to_html()
    assert "21.73" in html and "21.734567" not in html
    assert "min 6.812, max 13.2" in html and "{" not in html.split("</style>")[1]
    assert "11.9 %" in html and "25 %" in html  # shares as percentages
    # errors first, and the two mean checks under one "mean" heading per section
    assert html.index("1 errors") < html.index("2 passed")
    assert "observed=21.73 expected=min 6.812, max 13.2" in report.text()


def test_when_a_path_is_given_then_a_standalone_page_is_written(tmp_path):
    report = ValidationReport((), {"total": 0, "valid": 0, "invalid": 0}, source="<none>")
    page = report.to_html(tmp_path / "report.html")
    assert page.startswith("<!doctype html>") and '<meta charset="utf-8">' in page
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == page
    assert "&lt;none&gt;" in page and not report.to_html().startswith("<!doctype")
