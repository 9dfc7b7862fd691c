"""Rules to and from YAML: typed fields, line-numbered errors, a readable layout.

The YAML form is meant to be read and edited by a person; a mistake in it
raises a `BeamMLError` naming the file, the line, what was expected and how to
fix it. `beam_ml.validation.rules.RuleSet` reads and writes through here::

    version: 1
    rules:
    - kind: range
      level: error
      column: body_mass_g
      min: 2400.0
      max: 6600.0

>>> convert(3, float | None)
(True, 3.0, '')
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable
from typing import Any

import yaml

from beam_ml.errors import BeamMLError, one_line
from beam_ml.validation.base import OLD_LEVELS, RowRule, Rule

HEADER = (
    "# beam-ml validation rules: edit freely, then `beam-ml validate DATA --rules FILE`.\n"
    "# kinds: {kinds}\n"
    "# level: error fails the check (exit 1); warn is reported only (`--fail-on warn`).\n"
    "version: 1\n"
)


class RulesError(BeamMLError):
    """A rules file or mapping that cannot be read (the message names the line)."""


def describe(value: Any) -> str:
    """``value`` and its YAML-side type, for error messages."""
    return f"{value!r} ({type(value).__name__})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def convert(value: Any, hint: Any) -> tuple[bool, Any, str]:
    """Convert a YAML value to the field's type: (ok, converted, what-was-expected)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        if isinstance(value, list):
            return True, tuple(value), ""
        return True, value, ""
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if value is None and type(None) in args:
            return True, None, ""
        for arg in non_none:
            ok, conv, _ = convert(value, arg)
            if ok:
                return True, conv, ""
        return False, None, convert(value, non_none[0])[2] + " or null"
    if hint is float:
        if _is_number(value) and math.isfinite(float(value)):
            return True, float(value), ""
        return False, None, "a number"
    if hint is int:
        if _is_number(value) and float(value).is_integer():
            return True, int(value), ""
        return False, None, "a whole number"
    if hint is bool:
        return (isinstance(value, bool), value, "true or false")
    if hint is str:
        return (isinstance(value, str), value, "text")
    if origin is tuple:
        item = args[0]
        if not isinstance(value, list):
            return False, None, "a list"
        out = []
        for v in value:
            ok, conv, what = convert(v, item)
            if not ok:
                return False, None, f"a list of {what}s" if what else "a list"
            out.append(conv)
        return True, tuple(out), ""
    if origin is dict:
        key_t, val_t = args
        if not isinstance(value, dict):
            return False, None, "a mapping"
        converted = {}
        for k, v in value.items():
            ok_k, ck, _ = convert(k, key_t)
            ok_v, cv, what = convert(v, val_t)
            if not (ok_k and ok_v):
                return False, None, f"a mapping of names to {what or 'values'}"
            converted[ck] = cv
        return True, converted, ""
    raise TypeError(f"unsupported rule field type {hint!r}")  # a bug, not user input


def node_line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def child_nodes(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return {}


def fail(where: str, line: int | None, what: str, got: str, fix: str) -> BeamMLError:
    """The one error shape: ``WHERE line N: expected WHAT, got GOT: FIX``."""
    at = f"{where} line {line}" if line is not None else where
    return RulesError(f"{at}: expected {what}, got {got}: {fix}")


def build_rule(
    cls: type[Rule], data: dict[str, Any], where: str, node: yaml.Node | None, label: str
) -> Rule:
    """Build a rule of kind ``cls`` from its mapping, converting each field to its type."""
    line = node_line(node)
    children = child_nodes(node)
    kind = cls.kind
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "kind" or (key == "level" and value in OLD_LEVELS):
            continue  # older files wrote the scope (row / dataset) as "level"
        key_line = node_line(children.get(str(key))) or line
        if key not in fields:
            raise fail(
                where,
                key_line,
                f"a field of a {kind} rule ({', '.join(fields)})",
                repr(key),
                "fix or remove the field",
            )
        ok, converted, what = convert(value, hints[key])
        if not ok:
            raise fail(
                where,
                key_line,
                f"{what} for {key!r} of {label} ({kind})",
                describe(value),
                f"write e.g. {key}: {_example(hints[key])}",
            )
        kwargs[key] = converted
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise fail(
            where,
            line,
            f"{label} ({kind}) to have {', '.join(repr(m) for m in missing)}",
            f"only {', '.join(repr(k) for k in data)}",
            f"add {missing[0]}: ...",
        )
    try:
        return cls(**kwargs)
    except BeamMLError as exc:
        at = f"{where} line {line}" if line is not None else where
        raise RulesError(f"{at}: {exc}") from None


def _example(hint: Any) -> str:
    text = str(hint)
    if "float" in text:
        return "0.5"
    if "int" in text:
        return "10"
    if "bool" in text:
        return "true"
    if "tuple" in text:
        return "[a, b]"
    if "dict" in text:
        return "{name: value}"
    return "text"


def load_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text into (data, node tree); a syntax error names its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = one_line(getattr(exc, "problem", None) or str(exc))
        raise fail(where, line, "valid YAML", reason, "fix the syntax there") from None
    return data, node


def rule_items(data: Any, where: str, node: yaml.Node | None) -> list[tuple[Any, yaml.Node | None]]:
    """The rule mappings of a rules document (``{version, rules}`` or a bare list)."""
    if data is None:
        return []
    if isinstance(data, list):
        items, items_node = data, node
    elif isinstance(data, dict):
        children = child_nodes(node)
        extra = [k for k in data if k not in ("version", "rules")]
        if extra:
            raise fail(
                where,
                node_line(children.get(str(extra[0]))),
                "top-level keys 'version' and 'rules'",
                repr(extra[0]),
                "put rules under 'rules:'",
            )
        version = data.get("version", 1)
        if version != 1:
            raise fail(
                where,
                node_line(children.get("version")),
                "version: 1",
                repr(version),
                "this toolkit reads version 1 rules",
            )
        items, items_node = data.get("rules") or [], children.get("rules")
        if not isinstance(items, list):
            raise fail(
                where,
                node_line(items_node),
                "'rules' to be a list of rules",
                describe(items),
                "start each rule with '- kind: ...'",
            )
    else:
        raise fail(
            where,
            node_line(node),
            "a mapping with 'rules:' or a list of rules",
            describe(data),
            "see RuleSet.to_yaml() for the layout",
        )
    item_nodes = items_node.value if isinstance(items_node, yaml.SequenceNode) else []
    return [(item, item_nodes[i] if i < len(item_nodes) else None) for i, item in enumerate(items)]


def dump_rules(
    rules: Iterable[Rule], kinds: Iterable[str], notes: dict[str, str] | None = None
) -> str:
    """The rules as commented YAML: one comment line per rule says what it checks.

    ``notes`` (rule id -> a sentence) add how inference set the rule's bounds.
    """
    rules = list(rules)
    notes = notes or {}
    parts = [HEADER.format(kinds=", ".join(kinds)) + "rules:" + ("\n" if rules else " []\n")]
    for rule in rules:
        doc = rule.doc + (" (columns: [] = whole rows)" if rule.id == "unique" else "")
        if isinstance(rule, RowRule):
            doc += "; failing rows are quarantined, the check allows max_share of them"
        parts.append(f"# {rule.id}: {doc}\n")
        if rule.id in notes:
            parts.append(f"#   inferred: {notes[rule.id]}\n")
        parts.append(
            yaml.dump(
                [rule.to_dict()], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
            )
        )
    return "".join(parts)


class _Dumper(yaml.SafeDumper):
    """Block style for rules; flow style for short lists of scalars (edges, values)."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(v, dict | list) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    flow = all(not isinstance(v, dict | list) for v in data.values()) and "kind" not in data
    flow = flow and len(data) <= 30
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)
