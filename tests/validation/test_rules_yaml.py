"""Rules YAML: hand-written layouts and line-numbered errors for every mistake."""

from __future__ import annotations

import re

import pytest
from beam_ml.errors import BeamMLError
from beam_ml.validation import (
    NotNull,
    Range,
    RuleSet,
)

from .data import ONE_OF_EACH


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


def test_when_a_written_file_is_edited_wrongly_then_the_error_points_at_the_edited_line():
    text = ONE_OF_EACH.to_yaml()
    lines = text.splitlines()
    assert sum(line.startswith("# ") for line in lines) == 3 + len(ONE_OF_EACH)  # a comment each
    target = next(i for i, line in enumerate(lines) if line.strip() == "threshold: 0.1")
    lines[target] = "  threshold: '0.1'"  # quoted: text, not a number
    message = _error("\n".join(lines))
    assert message.startswith(f"rules.yaml line {target + 1}: expected a number for 'threshold'")
