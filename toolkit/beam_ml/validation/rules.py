"""Validation rules as data: small frozen dataclasses and a YAML-backed `RuleSet`.

A rule says what the data should look like; it does not evaluate itself against
a profile (that is `beam_ml.validation.core`). Row-level rules (`not_null`, `type`,
`range`, `allowed_values`, `regex`, `length`) also know how to find their failing
rows in one pandas batch, vectorised, so `ValidateRows` can quarantine them.

The YAML form is meant to be read and edited by a person::

    version: 1
    rules:
    - kind: range
      column: body_mass_g
      min: 2400.0
      max: 6600.0

>>> rs = RuleSet.from_yaml("rules: [{kind: not_null, column: species}]")
>>> rs.rules[0]
NotNull(column='species', max_share=0.0)
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from beam_ml.errors import BeamMLError, one_line

TYPES = ("float", "integer", "boolean", "categorical", "string", "datetime")
# Types that may stand in for each other: whether a numeric column holds whole
# numbers, or a text column is "categorical" rather than "string", depends on the
# sample (a null turns integers into floats; cardinality decides categorical).
TYPE_FAMILY = {
    "float": "numeric",
    "integer": "numeric",
    "boolean": "boolean",
    "categorical": "text",
    "string": "text",
    "datetime": "datetime",
}


@dataclass(frozen=True)
class Rule:
    """Base of every rule kind. ``kind`` is the YAML name; ``level`` row or dataset."""

    kind: ClassVar[str] = ""
    level: ClassVar[str] = "dataset"
    doc: ClassVar[str] = ""

    @property
    def target(self) -> str | None:
        """The column the rule is about (None for table-wide rules)."""
        return getattr(self, "column", None)

    @property
    def id(self) -> str:
        """A short stable name, e.g. ``range:body_mass_g``; used in ``_errors``."""
        target = self.target
        if target is None:
            cols = getattr(self, "columns", None)
            if isinstance(cols, tuple) and cols:
                return f"{self.kind}:{'+'.join(cols)}"
            return self.kind
        if isinstance(self, Quantile):
            return f"{self.kind}:{target}@{self.q:g}"
        if isinstance(self, Outliers):
            return f"{self.kind}:{target}:{self.method}"
        return f"{self.kind}:{target}"

    def columns_used(self) -> tuple[str, ...]:
        target = self.target
        if target is not None:
            return (target,)
        cols = getattr(self, "columns", None)
        if isinstance(cols, tuple):
            return cols
        if isinstance(cols, dict):
            return tuple(cols)
        return ()

    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping of the rule: ``kind`` first, None fields left out."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out


class RowRule(Rule):
    """A rule that every row can pass or fail on its own."""

    level: ClassVar[str] = "row"
    max_share: float

    def failures(self, series: pd.Series) -> np.ndarray:
        """Boolean array: True where the row fails this rule."""
        raise NotImplementedError


def _notnull(series: pd.Series) -> np.ndarray:
    return np.asarray(series.notna(), dtype=bool)


def _per_unique(series: pd.Series, fails: Callable[[pd.Series], Any]) -> np.ndarray:
    """Run ``fails`` once per distinct non-null value: text columns repeat a lot.

    ``fails`` gets a Series of the distinct values and returns a boolean array.
    """
    codes, uniques = pd.factorize(series)
    out = np.zeros(len(series), dtype=bool)
    if len(uniques) == 0:
        return out
    per_value = np.asarray(fails(pd.Series(np.asarray(uniques, dtype=object))), dtype=bool)
    have = codes >= 0
    out[have] = per_value[codes[have]]
    return out


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _as_numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_numeric(series, errors="coerce")


@dataclass(frozen=True)
class NotNull(RowRule):
    """Rows where ``column`` is null fail; the check passes up to ``max_share``."""

    column: str
    max_share: float = 0.0
    kind: ClassVar[str] = "not_null"
    doc: ClassVar[str] = "no nulls"

    def failures(self, series: pd.Series) -> np.ndarray:
        return ~_notnull(series)


@dataclass(frozen=True)
class TypeRule(RowRule):
    """Non-null values that do not parse as ``type`` fail."""

    column: str
    type: str
    max_share: float = 0.0
    kind: ClassVar[str] = "type"
    doc: ClassVar[str] = "values of the expected type"

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise BeamMLError.expected(
                f"type to be one of {', '.join(TYPES)}", repr(self.type), "fix the rule's type"
            )

    def failures(self, series: pd.Series) -> np.ndarray:
        present = _notnull(series)
        family = TYPE_FAMILY[self.type]
        if family == "text":
            return np.zeros(len(series), dtype=bool)
        if family == "numeric":
            if pd.api.types.is_bool_dtype(series):
                return present
            if pd.api.types.is_numeric_dtype(series):
                return present & self._not_whole(series)
            return _per_unique(series, self._not_a_number)
        if family == "boolean":
            if pd.api.types.is_bool_dtype(series):
                return np.zeros(len(series), dtype=bool)
            return _per_unique(series, _not_boolean)
        # datetime
        if pd.api.types.is_datetime64_any_dtype(series):
            return np.zeros(len(series), dtype=bool)
        return _per_unique(series, _not_a_date)

    def _not_whole(self, values: pd.Series) -> np.ndarray:
        if self.type != "integer":
            return np.zeros(len(values), dtype=bool)
        arr = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(arr), arr != np.round(arr), False)

    def _not_a_number(self, values: pd.Series) -> np.ndarray:
        numbers = pd.to_numeric(values, errors="coerce")
        return ~np.asarray(numbers.notna(), dtype=bool) | self._not_whole(numbers)


def _not_boolean(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    ok = text.isin(["true", "false", "1", "0", "1.0", "0.0", "yes", "no"])
    return ~np.asarray(ok, dtype=bool)


def _not_a_date(values: pd.Series) -> np.ndarray:
    bad = ~np.asarray(_parse_dates(values, "ISO8601").notna(), dtype=bool)
    if bad.any():  # ISO 8601 is vectorised; other layouts only for what it missed
        idx = np.flatnonzero(bad)
        ok = np.asarray(_parse_dates(values.iloc[idx], "mixed").notna(), dtype=bool)
        bad[idx[ok]] = False
    return bad


def _parse_dates(series: pd.Series, layout: str) -> pd.Series:
    try:
        return pd.to_datetime(series, errors="coerce", format=layout)
    except (TypeError, ValueError, OverflowError):  # mixed time zones, odd objects
        return pd.to_datetime(series.astype(str), errors="coerce", format=layout, utc=True)


@dataclass(frozen=True)
class Range(RowRule):
    """Numeric values below ``min`` or above ``max`` fail (nulls and non-numbers do not)."""

    column: str
    min: float | None = None
    max: float | None = None
    max_share: float = 0.0
    kind: ClassVar[str] = "range"
    doc: ClassVar[str] = "values within [min, max]"

    def failures(self, series: pd.Series) -> np.ndarray:
        if _is_text(series):
            return _per_unique(series, self._outside)
        return self._outside(series)

    def _outside(self, series: pd.Series) -> np.ndarray:
        values = _as_numbers(series)
        if pd.api.types.is_datetime64_any_dtype(values):
            return np.zeros(len(series), dtype=bool)
        arr = np.asarray(values, dtype=float)
        bad = np.zeros(len(arr), dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.min is not None:
                bad |= arr < self.min
            if self.max is not None:
                bad |= arr > self.max
        return bad


@dataclass(frozen=True)
class AllowedValues(RowRule):
    """Non-null values outside ``values`` fail; the check tolerates ``max_share`` of rows."""

    column: str
    values: tuple[Any, ...]
    max_share: float = 0.0
    kind: ClassVar[str] = "allowed_values"
    doc: ClassVar[str] = "values from the allowed set"

    def failures(self, series: pd.Series) -> np.ndarray:
        present = _notnull(series)
        ok = np.asarray(series.isin(list(self.values)), dtype=bool)
        todo = present & ~ok
        if todo.any():
            # CSV batches may read "2007" as a number in one file and text in
            # another: compare the leftovers by their text form too.
            texts = {_text(v) for v in self.values}
            ok_text = np.asarray(series[todo].map(_text).isin(texts), dtype=bool)
            idx = np.flatnonzero(todo)
            ok[idx[ok_text]] = True
        return present & ~ok


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Regex(RowRule):
    """Non-null values whose text does not fully match ``pattern`` fail."""

    column: str
    pattern: str
    max_share: float = 0.0
    kind: ClassVar[str] = "regex"
    doc: ClassVar[str] = "text matching the pattern"

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise BeamMLError.expected(
                "a valid regular expression", f"{self.pattern!r} ({exc})", "fix the pattern"
            ) from None

    def failures(self, series: pd.Series) -> np.ndarray:
        return _per_unique(series, self._no_match)

    def _no_match(self, values: pd.Series) -> np.ndarray:
        ok = values.astype(str).str.fullmatch(self.pattern)
        return ~np.asarray(ok.fillna(False), dtype=bool)


@dataclass(frozen=True)
class Length(RowRule):
    """Non-null values whose text is shorter than ``min`` or longer than ``max`` fail."""

    column: str
    min: int | None = None
    max: int | None = None
    max_share: float = 0.0
    kind: ClassVar[str] = "length"
    doc: ClassVar[str] = "text length within [min, max]"

    def failures(self, series: pd.Series) -> np.ndarray:
        return _per_unique(series, self._bad_length)

    def _bad_length(self, values: pd.Series) -> np.ndarray:
        lengths = np.asarray(values.astype(str).str.len(), dtype=float)
        bad = np.zeros(len(values), dtype=bool)
        if self.min is not None:
            bad |= lengths < self.min
        if self.max is not None:
            bad |= lengths > self.max
        return bad


@dataclass(frozen=True)
class Schema(Rule):
    """The expected columns and their types; unexpected columns fail unless allowed."""

    columns: dict[str, str]
    allow_extra: bool = False
    kind: ClassVar[str] = "schema"
    doc: ClassVar[str] = "expected columns and types"

    def __post_init__(self) -> None:
        for name, kind in self.columns.items():
            if kind not in TYPES:
                raise BeamMLError.expected(
                    f"the type of column {name!r} to be one of {', '.join(TYPES)}",
                    repr(kind),
                    "fix the schema rule",
                )


@dataclass(frozen=True)
class Completeness(Rule):
    """At most ``max_null_share`` of the rows may be null in ``column``."""

    column: str
    max_null_share: float
    kind: ClassVar[str] = "completeness"
    doc: ClassVar[str] = "share of nulls at most max_null_share"


@dataclass(frozen=True)
class Unique(Rule):
    """Rows must be unique on ``columns`` (all columns when empty), up to a share."""

    columns: tuple[str, ...] = ()
    max_duplicate_share: float = 0.0
    kind: ClassVar[str] = "unique"
    doc: ClassVar[str] = "share of duplicated rows at most max_duplicate_share"


@dataclass(frozen=True)
class Mean(Rule):
    """The mean of ``column`` lies in [min, max]."""

    column: str
    min: float | None = None
    max: float | None = None
    kind: ClassVar[str] = "mean"
    doc: ClassVar[str] = "mean within [min, max]"


@dataclass(frozen=True)
class Std(Rule):
    """The standard deviation of ``column`` lies in [min, max]."""

    column: str
    min: float | None = None
    max: float | None = None
    kind: ClassVar[str] = "std"
    doc: ClassVar[str] = "standard deviation within [min, max]"


@dataclass(frozen=True)
class Quantile(Rule):
    """The ``q`` quantile of ``column`` lies in [min, max]."""

    column: str
    q: float
    min: float | None = None
    max: float | None = None
    kind: ClassVar[str] = "quantile"
    doc: ClassVar[str] = "quantile within [min, max]"

    def __post_init__(self) -> None:
        if not 0.0 <= self.q <= 1.0:
            raise BeamMLError.expected("q between 0 and 1", repr(self.q), "e.g. q: 0.5")


@dataclass(frozen=True)
class Outliers(Rule):
    """At most ``max_share`` of values lie beyond the z-score or IQR fences."""

    column: str
    max_share: float
    method: str = "zscore"
    fence: float = 3.0
    kind: ClassVar[str] = "outliers"
    doc: ClassVar[str] = "share of values beyond the fences at most max_share"

    def __post_init__(self) -> None:
        if self.method not in ("zscore", "iqr"):
            raise BeamMLError.expected(
                "method to be 'zscore' or 'iqr'", repr(self.method), "e.g. method: iqr"
            )


@dataclass(frozen=True)
class RowCount(Rule):
    """The number of rows lies in [min, max]."""

    min: int | None = None
    max: int | None = None
    kind: ClassVar[str] = "row_count"
    doc: ClassVar[str] = "number of rows within [min, max]"


@dataclass(frozen=True)
class ClassBalance(Rule):
    """The rarest class has at least ``min_share``; most/rarest is at most the ratio.

    With ``classes``, only those count (one missing has share 0: the check fails);
    a value outside them is the business of an ``allowed_values`` rule.
    """

    column: str
    min_share: float | None = None
    max_imbalance_ratio: float | None = None
    classes: tuple[Any, ...] | None = None
    kind: ClassVar[str] = "class_balance"
    doc: ClassVar[str] = "rarest class share and imbalance ratio"


@dataclass(frozen=True)
class JSDivergence(Rule):
    """Jensen-Shannon divergence (base 2) of the numeric distribution vs the reference.

    ``edges`` are the reference's quantile-histogram edges and ``reference`` the
    reference's share of values in each bin (below the 2nd edge, between edges,
    above the next-to-last); both are filled in from a reference profile when absent.
    """

    column: str
    threshold: float
    edges: tuple[float, ...] | None = None
    reference: tuple[float, ...] | None = None
    kind: ClassVar[str] = "js_divergence"
    doc: ClassVar[str] = "Jensen-Shannon divergence vs reference at most threshold"


@dataclass(frozen=True)
class LInfDistance(Rule):
    """L-infinity distance between categorical value shares and the reference's."""

    column: str
    threshold: float
    reference: dict[Any, float] | None = None
    kind: ClassVar[str] = "linf_distance"
    doc: ClassVar[str] = "largest change of a value's share vs reference at most threshold"


@dataclass(frozen=True)
class PSI(Rule):
    """Population stability index vs the reference (numeric bins or categorical values)."""

    column: str
    threshold: float
    edges: tuple[float, ...] | None = None
    reference: Any = None
    kind: ClassVar[str] = "psi"
    doc: ClassVar[str] = "population stability index vs reference at most threshold"


RULE_KINDS: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (
        Schema,
        NotNull,
        TypeRule,
        Completeness,
        Range,
        AllowedValues,
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
    )
}
ROW_KINDS = tuple(k for k, c in RULE_KINDS.items() if c.level == "row")
DRIFT_KINDS = ("js_divergence", "linf_distance", "psi")


# ---------------------------------------------------------------- YAML reading


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _convert(value: Any, hint: Any) -> tuple[bool, Any, str]:
    """Convert a YAML value to the field's type: (ok, converted, what-was-expected)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        if isinstance(value, list):
            return True, tuple(value), ""
        return True, value, ""
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        non_none = [a for a in args if a is not type(None)]
        if value is None and type(None) in args:
            return True, None, ""
        for arg in non_none:
            ok, conv, _ = _convert(value, arg)
            if ok:
                return True, conv, ""
        return False, None, _convert(value, non_none[0])[2] + " or null"
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
            ok, conv, what = _convert(v, item)
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
            ok_k, ck, _ = _convert(k, key_t)
            ok_v, cv, what = _convert(v, val_t)
            if not (ok_k and ok_v):
                return False, None, f"a mapping of names to {what or 'values'}"
            converted[ck] = cv
        return True, converted, ""
    raise TypeError(f"unsupported rule field type {hint!r}")  # a bug, not user input


def _node_line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _child_nodes(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return {}


class _RulesError(BeamMLError):
    pass


def _fail(where: str, line: int | None, what: str, got: str, fix: str) -> BeamMLError:
    at = f"{where} line {line}" if line is not None else where
    return _RulesError(f"{at}: expected {what}, got {got}: {fix}")


def rule_from_dict(
    data: Any, where: str = "rule", node: yaml.Node | None = None, index: int | None = None
) -> Rule:
    """Build one rule from its mapping; errors name the line when ``node`` is given."""
    line = _node_line(node)
    label = f"rule {index + 1}" if index is not None else "the rule"
    if not isinstance(data, dict):
        raise _fail(where, line, f"{label} to be a mapping with a 'kind'", _describe(data), "")
    children = _child_nodes(node)
    kind = data.get("kind")
    if kind not in RULE_KINDS:
        known = ", ".join(RULE_KINDS)
        raise _fail(
            where,
            _node_line(children.get("kind")) or line,
            f"{label}'s kind to be one of {known}",
            repr(kind),
            "fix the kind or remove the rule",
        )
    cls = RULE_KINDS[kind]
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "kind":
            continue
        key_line = _node_line(children.get(str(key))) or line
        if key not in fields:
            raise _fail(
                where,
                key_line,
                f"a field of a {kind} rule ({', '.join(fields)})",
                repr(key),
                "fix or remove the field",
            )
        ok, converted, what = _convert(value, hints[key])
        if not ok:
            raise _fail(
                where,
                key_line,
                f"{what} for {key!r} of {label} ({kind})",
                _describe(value),
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
        raise _fail(
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
        raise _RulesError(f"{at}: {exc}") from None


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


@dataclass(frozen=True)
class RuleSet:
    """An ordered list of rules, read from and written to human-editable YAML.

    >>> rs = RuleSet((Range("x", min=0.0, max=1.0),))
    >>> RuleSet.from_yaml(rs.to_yaml()) == rs
    True
    """

    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        for r in self.rules:
            if not isinstance(r, Rule):
                raise BeamMLError.expected(
                    "rules", _describe(r), "build them from beam_ml.validation.rules"
                )

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> typing.Iterator[Rule]:
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
        parts = [
            "# beam-ml validation rules: edit freely, then `beam-ml validate DATA --rules FILE`.\n"
            "# kinds: " + ", ".join(RULE_KINDS) + "\n"
            "version: 1\n"
            "rules:" + ("\n" if self.rules else " []\n")
        ]
        for rule in self.rules:
            # one comment line per rule says what it checks
            doc = rule.doc + (" (columns: [] = whole rows)" if rule.id == "unique" else "")
            if isinstance(rule, RowRule):
                doc += "; failing rows are quarantined, the check allows max_share of them"
            parts.append(f"# {rule.id}: {doc}\n")
            parts.append(
                yaml.dump(
                    [rule.to_dict()],
                    Dumper=_Dumper,
                    sort_keys=False,
                    allow_unicode=True,
                    width=100,
                )
            )
        text = "".join(parts)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, text: str, where: str = "rules") -> RuleSet:
        """Parse YAML text; a bad file raises `BeamMLError` naming the line and the reason."""
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            reason = one_line(getattr(exc, "problem", None) or str(exc))
            raise _fail(where, line, "valid YAML", reason, "fix the syntax there") from None
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
        if data is None:
            return cls(())
        if isinstance(data, list):
            items, items_node = data, node
        elif isinstance(data, dict):
            children = _child_nodes(node)
            extra = [k for k in data if k not in ("version", "rules")]
            if extra:
                raise _fail(
                    where,
                    _node_line(children.get(str(extra[0]))),
                    "top-level keys 'version' and 'rules'",
                    repr(extra[0]),
                    "put rules under 'rules:'",
                )
            version = data.get("version", 1)
            if version != 1:
                raise _fail(
                    where,
                    _node_line(children.get("version")),
                    "version: 1",
                    repr(version),
                    "this toolkit reads version 1 rules",
                )
            items, items_node = data.get("rules") or [], children.get("rules")
            if not isinstance(items, list):
                raise _fail(
                    where,
                    _node_line(items_node),
                    "'rules' to be a list of rules",
                    _describe(items),
                    "start each rule with '- kind: ...'",
                )
        else:
            raise _fail(
                where,
                _node_line(node),
                "a mapping with 'rules:' or a list of rules",
                _describe(data),
                "see RuleSet.to_yaml() for the layout",
            )
        item_nodes = items_node.value if isinstance(items_node, yaml.SequenceNode) else []
        rules = []
        for i, item in enumerate(items):
            item_node = item_nodes[i] if i < len(item_nodes) else None
            rules.append(rule_from_dict(item, where, item_node, i))
        return cls(tuple(rules))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        import html
        import json

        rows = []
        for rule in self.rules:
            params = {k: v for k, v in rule.to_dict().items() if k not in ("kind", "column")}
            shown = json.dumps(params, default=str)
            if len(shown) > 160:
                shown = shown[:159] + "…"
            rows.append(
                f"<tr><td>{html.escape(rule.kind)}</td>"
                f"<td>{html.escape(str(rule.target or ''))}</td>"
                f"<td class='bml-muted'>{rule.level}</td><td>{html.escape(shown)}</td></tr>"
            )
        table = (
            f"<div class='bml'><b>{len(self.rules)} rules</b><table><thead><tr><th>kind</th>"
            "<th>column</th><th>level</th><th>parameters</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></div>"
        )
        return {"text/plain": self.to_yaml(), "text/html": table}


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
