"""Rules as data: every rule kind by its YAML name, and `RuleSet`, the ordered rules.

A rule says what the data should look like; it does not evaluate itself against
a profile (that is `beam_ml.validation.checks`). Row-level kinds
(`beam_ml.validation.row_rules`) also find their failing rows in one pandas
batch, so `ValidateRows` can quarantine them; dataset-level kinds are in
`beam_ml.validation.dataset_rules`. YAML reading and writing is
`beam_ml.validation.rules_yaml`.

>>> rs = RuleSet.from_yaml("rules: [{kind: not_null, column: species}]")
>>> rs.rules[0]
NotNull(level='error', column='species', max_share=0.0)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from beam_ml.errors import BeamMLError
from beam_ml.rendering import HtmlRepr, render
from beam_ml.validation.base import LEVELS, TYPE_FAMILY, TYPES, RowRule, Rule
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
from beam_ml.validation.display import readable
from beam_ml.validation.outliers import Outliers
from beam_ml.validation.row_rules import AllowedValues, Length, NotNull, Range, Regex, TypeRule
from beam_ml.validation.rules_yaml import (
    build_rule,
    child_nodes,
    describe,
    dump_rules,
    fail,
    load_yaml,
    node_line,
    rule_items,
)

__all__ = [
    "DRIFT_KINDS",
    "PSI",
    "ROW_KINDS",
    "RULE_KINDS",
    "TYPES",
    "TYPE_FAMILY",
    "AllowedValues",
    "ClassBalance",
    "Completeness",
    "JSDivergence",
    "KSDistance",
    "LInfDistance",
    "Length",
    "Mean",
    "NotNull",
    "Outliers",
    "Quantile",
    "Range",
    "Regex",
    "RowCount",
    "RowRule",
    "Rule",
    "RuleSet",
    "Schema",
    "Std",
    "TypeRule",
    "Unique",
    "UnseenValues",
    "rule_from_dict",
]

# The YAML name of every rule kind, in the order `to_yaml` lists them.
RULE_KINDS: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (
        Schema,
        NotNull,
        TypeRule,
        Completeness,
        Range,
        AllowedValues,
        UnseenValues,
        Regex,
        Length,
        Unique,
        Mean,
        Std,
        Quantile,
        Outliers,
        RowCount,
        ClassBalance,
        JSDivergence,
        LInfDistance,
        PSI,
        KSDistance,
    )
}
ROW_KINDS = tuple(k for k, c in RULE_KINDS.items() if c.scope == "row")
DRIFT_KINDS = ("js_divergence", "linf_distance", "psi", "ks_distance")


def rule_from_dict(
    data: Any, where: str = "rule", node: yaml.Node | None = None, index: int | None = None
) -> Rule:
    """Build one rule from its mapping; errors name the line when ``node`` is given.

    >>> rule_from_dict({"kind": "range", "column": "x", "max": 5, "level": "warn"})
    Range(level='warn', column='x', min=None, max=5.0, max_share=0.0)
    """
    line = node_line(node)
    label = f"rule {index + 1}" if index is not None else "the rule"
    if not isinstance(data, dict):
        raise fail(where, line, f"{label} to be a mapping with a 'kind'", describe(data), "")
    kind = data.get("kind")
    if kind not in RULE_KINDS:
        raise fail(
            where,
            node_line(child_nodes(node).get("kind")) or line,
            f"{label}'s kind to be one of {', '.join(RULE_KINDS)}",
            repr(kind),
            "fix the kind or remove the rule",
        )
    return build_rule(RULE_KINDS[kind], data, where, node, label)


@dataclass(frozen=True)
class RuleSet(HtmlRepr):
    """An ordered list of rules, read from and written to human-editable YAML.

    >>> rs = RuleSet((Range("x", min=0.0, max=1.0),))
    >>> RuleSet.from_yaml(rs.to_yaml()) == rs
    True
    """

    rules: tuple[Rule, ...] = field(default_factory=tuple)
    # rule id -> how inference set it (one sentence, written as a YAML comment)
    notes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        for r in self.rules:
            if not isinstance(r, Rule):
                raise BeamMLError.expected(
                    "rules", describe(r), "build them from beam_ml.validation.rules"
                )
            if r.level not in LEVELS:
                raise BeamMLError.expected(
                    f"the level of rule {r.id} to be one of {', '.join(LEVELS)}",
                    repr(r.level),
                    "write level: error or level: warn",
                )

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    @property
    def row_rules(self) -> tuple[RowRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RowRule))

    @property
    def dataset_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not isinstance(r, RowRule))

    def of_kind(self, kind: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == kind)

    def for_column(self, column: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if column in r.columns_used())

    def columns(self) -> tuple[str, ...]:
        """Every column some rule names, in first-mention order."""
        seen: dict[str, None] = {}
        for r in self.rules:
            for c in r.columns_used():
                seen.setdefault(c, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "rules": [r.to_dict() for r in self.rules]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "rules") -> RuleSet:
        return cls._build(data, where, None)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The rules as YAML (written to ``path`` too when given)."""
        text = dump_rules(self.rules, RULE_KINDS, self.notes)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, text: str, where: str = "rules") -> RuleSet:
        """Parse YAML text; a bad file raises `BeamMLError` naming the line and the reason."""
        data, node = load_yaml(text, where)
        return cls._build(data, where, node)

    @classmethod
    def read(cls, path: str | Path) -> RuleSet:
        """Read a rules file (YAML)."""
        p = Path(path)
        if not p.is_file():
            raise BeamMLError.expected("a rules YAML file", repr(str(path)), "check the path")
        return cls.from_yaml(p.read_text(encoding="utf-8"), where=str(p))

    def write(self, path: str | Path) -> Path:
        self.to_yaml(path)
        return Path(path)

    @classmethod
    def _build(cls, data: Any, where: str, node: yaml.Node | None) -> RuleSet:
        items = rule_items(data, where, node)
        return cls(tuple(rule_from_dict(item, where, n, i) for i, (item, n) in enumerate(items)))

    def _text(self) -> str:
        return self.to_yaml()

    def to_html(self) -> str:
        """A table of the rules: kind, column, level, row or dataset scope, parameters."""
        rows = []
        for rule in self.rules:
            params = {
                k: v for k, v in rule.to_dict().items() if k not in ("kind", "column", "level")
            }
            rows.append(
                {
                    "kind": rule.kind,
                    "column": rule.target or "",
                    "level": rule.level,
                    "scope": rule.scope,
                    # the YAML's field names; clipped: drift references can be long
                    "params": readable(params, limit=160, words=False),
                }
            )
        return render("validation_rules.html", rules=rows)
