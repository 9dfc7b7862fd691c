"""Rules as data: YAML round trip, line-numbered errors, and vectorised row checks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from beam_ml.errors import BeamMLError
from beam_ml.validation.rules import (
    PSI,
    RULE_KINDS,
    AllowedValues,
    ClassBalance,
    Completeness,
    JSDivergence,
    Length,
    LInfDistance,
    Mean,
    NotNull,
    Outliers,
    Quantile,
    Range,
    Regex,
    RowCount,
    RuleSet,
    Schema,
    Std,
    TypeRule,
    Unique,
)

ONE_OF_EACH = RuleSet(
    (
        Schema({"species": "categorical", "mass": "integer", "when": "datetime"}, allow_extra=True),
        NotNull("species"),
        TypeRule("mass", "integer", max_share=0.01),
        Completeness("sex", max_null_share=0.05),
        Range("mass", min=2000.0, max=7000.0),
        AllowedValues("species", ("Adelie", "yes", 2007, True), max_share=0.01),
        Regex("tailnum", r"N[0-9A-Z]{3,5}"),
        Length("tailnum", min=4, max=7),
        Unique(("year", "month", "flight")),
        Unique(),
        Mean("mass", min=3900.0, max=4500.0),
        Std("mass", min=500.0, max=1100.0),
        Quantile("mass", q=0.5, min=3800.0, max=4300.0),
        Outliers("mass", max_share=0.02, method="iqr", fence=1.5),
        RowCount(min=1, max=1000),
        ClassBalance("species", min_share=0.1, max_imbalance_ratio=4.0, classes=("a", "b")),
        JSDivergence("mass", threshold=0.1, edges=(1.0, 2.0, 3.0), reference=(0.25, 0.75)),
        LInfDistance("species", threshold=0.2, reference={"Adelie": 0.5, "Gentoo": 0.5}),
        PSI("mass", threshold=0.25, edges=(1.0, 2.0, 3.0), reference=(0.5, 0.5)),
        PSI("species", threshold=0.25, reference={"Adelie": 0.5, "Gentoo": 0.5}),
    )
)


def test_when_every_rule_kind_is_written_to_yaml_then_it_reads_back_equal():
    assert {r.kind for r in ONE_OF_EACH} == set(RULE_KINDS)
    text = ONE_OF_EACH.to_yaml()
    again = RuleSet.from_yaml(text)
    assert again == ONE_OF_EACH
    # the YAML-looking strings and mixed value types keep their types
    values = next(r for r in again if isinstance(r, AllowedValues)).values
    assert values == ("Adelie", "yes", 2007, True)
    assert [type(v) for v in values] == [str, str, int, bool]


def test_when_rules_are_written_to_a_file_then_read_gives_the_same_rules(tmp_path):
    path = ONE_OF_EACH.write(tmp_path / "rules.yaml")
    assert RuleSet.read(path) == ONE_OF_EACH
    assert path.read_text().startswith("# beam-ml validation rules")


def test_when_yaml_is_hand_written_as_a_plain_list_then_it_is_accepted():
    rules = RuleSet.from_yaml(
        """
        - kind: range
          column: x
          min: 0          # ints are fine where a number is expected
        - {kind: not_null, column: y}
        """
    )
    assert rules.rules == (Range("x", min=0.0), NotNull("y"))
    assert isinstance(rules.rules[0].min, float)  # type: ignore[attr-defined]


def test_when_yaml_is_empty_then_the_ruleset_is_empty():
    assert len(RuleSet.from_yaml("")) == 0
    assert len(RuleSet.from_yaml("version: 1\nrules: []\n")) == 0


def _error(text: str) -> str:
    with pytest.raises(BeamMLError) as info:
        RuleSet.from_yaml(text, where="rules.yaml")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_when_yaml_does_not_parse_then_the_error_names_the_line():
    message = _error("rules:\n- kind: range\n  column: x\n   min: 3\n")
    assert message.startswith("rules.yaml line 4: expected valid YAML")


def test_when_a_bracket_is_never_closed_then_the_error_names_a_line():
    assert re.match(r"rules\.yaml line \d+: expected valid YAML", _error("rules: [\n- a\n"))


def test_when_a_rule_kind_is_unknown_then_the_error_names_its_line_and_the_known_kinds():
    text = "version: 1\nrules:\n- kind: range\n  column: x\n- kind: nonsense\n  column: y\n"
    message = _error(text)
    assert message.startswith("rules.yaml line 5: expected rule 2's kind to be one of")
    assert "'nonsense'" in message and "js_divergence" in message


def test_when_a_threshold_has_the_wrong_type_then_the_error_names_its_line_and_value():
    text = "rules:\n- kind: js_divergence\n  column: x\n  threshold: high\n"
    message = _error(text)
    assert message.startswith("rules.yaml line 4: expected a number for 'threshold'")
    assert "'high' (str)" in message


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("rules:\n- kind: range\n  column: x\n  min: true\n", 4, "a number or null for 'min'"),
        ("rules:\n- kind: length\n  column: x\n  max: 2.5\n", 4, "a whole number or null"),
        ("rules:\n- kind: unique\n  columns: a\n", 3, "a list"),
        ("rules:\n- kind: schema\n  columns: [a, b]\n", 3, "a mapping"),
        ("rules:\n- kind: schema\n  columns: {a: float}\n  allow_extra: 1\n", 4, "true or false"),
        ("rules:\n- kind: range\n  column: x\n  mnx: 3\n", 4, "a field of a range rule"),
        ("rules:\n- kind: completeness\n  column: x\n", 2, "to have 'max_null_share'"),
        ("rules:\n- kind: regex\n  column: x\n  pattern: '('\n", 2, "a valid regular expression"),
        ("rules:\n- kind: type\n  column: x\n  type: decimal\n", 2, "type to be one of"),
        ("rules:\n- kind: outliers\n  column: x\n  max_share: 0.1\n  method: mad\n", 2, "'zscore'"),
        ("rules:\n- kind: quantile\n  column: x\n  q: 5\n", 2, "q between 0 and 1"),
        ("rules:\n- just a string\n", 2, "rule 1 to be a mapping"),
        ("version: 1\nrulez: []\n", 2, "top-level keys"),
        ("version: 2\nrules: []\n", 1, "version: 1"),
        ("rules: {kind: range}\n", 1, "'rules' to be a list"),
        ("42\n", 1, "a mapping with 'rules:'"),
    ],
)
def test_when_a_rule_is_malformed_then_the_error_names_the_line_and_reason(text, line, fragment):
    message = _error(text)
    assert message.startswith(f"rules.yaml line {line}: "), message
    assert fragment in message


def test_when_the_rules_file_is_missing_then_the_error_says_so(tmp_path):
    with pytest.raises(BeamMLError, match="expected a rules YAML file"):
        RuleSet.read(tmp_path / "nope.yaml")


def test_when_rules_are_printed_then_the_text_is_their_yaml_and_html_is_escaped():
    rules = RuleSet((Regex("<b>", "<script>"),))
    bundle = rules._repr_mimebundle_()
    assert yaml.safe_load(bundle["text/plain"])["rules"][0]["column"] == "<b>"
    assert "<script>" not in bundle["text/html"] and "&lt;script&gt;" in bundle["text/html"]


def test_rule_ids_name_the_kind_and_the_column():
    assert Range("x").id == "range:x"
    assert Unique(("a", "b")).id == "unique:a+b"
    assert Unique().id == "unique"
    assert Quantile("x", q=0.5).id == "quantile:x@0.5"
    assert RowCount().id == "row_count"
    assert ONE_OF_EACH.columns()[:3] == ("species", "mass", "when")


# ------------------------------------------------------------------ row checks


def test_when_values_are_null_then_not_null_fails_exactly_those_rows():
    s = pd.Series([1.0, np.nan, 3.0, None])
    assert NotNull("x").failures(s).tolist() == [False, True, False, True]


def test_when_text_hides_in_a_numeric_column_then_the_type_rule_fails_those_rows():
    s = pd.Series(["1", "2.5", "abc", None, "7"], dtype=object)
    assert TypeRule("x", "float").failures(s).tolist() == [False, False, True, False, False]
    assert TypeRule("x", "integer").failures(s).tolist() == [False, True, True, False, False]
    assert not TypeRule("x", "categorical").failures(s).any()


def test_when_dates_do_not_parse_then_the_datetime_type_rule_fails_them():
    s = pd.Series(["2013-01-01 05:00:00", "not a date", None])
    assert TypeRule("t", "datetime").failures(s).tolist() == [False, True, False]


def test_when_values_leave_the_range_then_only_those_rows_fail():
    s = pd.Series([0.0, 5.0, 10.0, 11.0, -1.0, np.nan])
    assert Range("x", min=0.0, max=10.0).failures(s).tolist() == [0, 0, 0, 1, 1, 0]
    assert Range("x", max=5.0).failures(pd.Series(["3", "9", "zz"])).tolist() == [0, 1, 0]


def test_when_a_value_is_not_allowed_then_it_fails_but_its_text_form_counts_as_allowed():
    s = pd.Series([2007, 2008.0, "2009", "2010", None], dtype=object)
    rule = AllowedValues("year", (2007, 2008, 2009))
    assert rule.failures(s).tolist() == [False, False, False, True, False]


def test_when_text_does_not_fully_match_the_pattern_then_the_regex_rule_fails_it():
    s = pd.Series(["N14228", "n1", "XN123", None])
    assert Regex("t", r"N\d+").failures(s).tolist() == [False, True, True, False]


def test_when_text_is_too_short_or_long_then_the_length_rule_fails_it():
    s = pd.Series(["ab", "abcd", "abcdefgh", None])
    assert Length("t", min=3, max=6).failures(s).tolist() == [True, False, True, False]


def test_a_ruleset_separates_row_and_dataset_rules():
    row_kinds = {r.kind for r in ONE_OF_EACH.row_rules}
    assert row_kinds == {"not_null", "type", "range", "allowed_values", "regex", "length"}
    assert not row_kinds & {r.kind for r in ONE_OF_EACH.dataset_rules}


def test_when_a_written_file_is_edited_wrongly_then_the_error_points_at_the_edited_line():
    text = ONE_OF_EACH.to_yaml()
    lines = text.splitlines()
    assert sum(line.startswith("# ") for line in lines) == 2 + len(ONE_OF_EACH)  # a comment each
    target = next(i for i, line in enumerate(lines) if line.strip() == "threshold: 0.1")
    lines[target] = "  threshold: '0.1'"  # quoted: text, not a number
    message = _error("\n".join(lines))
    assert message.startswith(f"rules.yaml line {target + 1}: expected a number for 'threshold'")
