"""Rules as data: every kind round-trips, ids, row vs dataset rules, the RuleSet view."""

from __future__ import annotations

import yaml
from beam_ml.validation import (
    RULE_KINDS,
    AllowedValues,
    Quantile,
    Range,
    Regex,
    RowCount,
    RuleSet,
    Unique,
)

from .data import ONE_OF_EACH


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


def test_a_ruleset_separates_row_and_dataset_rules():
    row_kinds = {r.kind for r in ONE_OF_EACH.row_rules}
    assert row_kinds == {
        "not_null",
        "type",
        "range",
        "allowed_values",
        "regex",
        "length",
        "outliers",
    }
    assert not row_kinds & {r.kind for r in ONE_OF_EACH.dataset_rules}
