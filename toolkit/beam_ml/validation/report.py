"""What validation found: one `Check` per rule and the `ValidationReport` of a run.

Both are frozen data with ``to_dict()`` (plain JSON types, full precision); the
report's HTML comes from ``widgets/templates/validation.html`` (errors, then
warnings, then passed checks; numbers to 4 significant digits, shares in %).
A failed check of level ``warn`` is a warning: the report still passes.

>>> c = Check("range", "x", False, {"failing_rows": 3}, {"min": 0.0}, share=0.03, id="range:x")
>>> c.to_dict()["share"], c.passed
(0.03, False)
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.rendering import HtmlRepr, pct, render
from beam_ml.validation.display import readable

# Rules whose bare observed / expected numbers are shares of rows (shown in %).
SHARE_RULES = ("completeness", "outliers")


@dataclass(frozen=True)
class Check:
    """The outcome of one rule: passed, what was observed vs expected, rows affected."""

    rule: str
    column: str | None
    passed: bool
    observed: Any
    expected: Any
    share: float | None = None
    id: str = ""
    level: str = "error"
    message: str = ""
    sample: tuple[dict[str, Any], ...] = ()
    scope: str = "dataset"

    @property
    def is_error(self) -> bool:
        """Failed at level ``error`` (a failed ``warn`` check is a warning)."""
        return not self.passed and self.level != "warn"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "column": self.column,
            "passed": self.passed,
            "observed": jsonable(self.observed),
            "expected": jsonable(self.expected),
            "share": jsonable(self.share),
            "id": self.id,
            "level": self.level,
            "scope": self.scope,
            "message": self.message,
            "sample": [jsonable(r) for r in self.sample],
        }


@dataclass(frozen=True, eq=False)
class ValidationReport(HtmlRepr):
    """What `validate` found: one `Check` per rule, row counts and the quarantined rows.

    >>> report.to_dict()["rows"]                    # doctest: +SKIP
    {'total': 344, 'valid': 340, 'invalid': 4}
    """

    checks: tuple[Check, ...]
    rows: dict[str, int]
    invalid_rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    source: str = ""
    profile: Any = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """No check failed at level ``error`` (warnings do not fail a report)."""
        return not self.errors

    @property
    def failures(self) -> tuple[Check, ...]:
        """Every failed check, errors and warnings."""
        return tuple(c for c in self.checks if not c.passed)

    @property
    def errors(self) -> tuple[Check, ...]:
        """The failed checks of level ``error``."""
        return tuple(c for c in self.checks if c.is_error)

    @property
    def warnings(self) -> tuple[Check, ...]:
        """The failed checks of level ``warn``."""
        return tuple(c for c in self.checks if not c.passed and c.level == "warn")

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks],
            "rows": {k: int(v) for k, v in self.rows.items()},
            "invalid_rows_kept": len(self.invalid_rows),
            "source": self.source,
            "failed": len(self.failures),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }

    def to_json(self, path: str | Path | None = None, indent: int | None = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def write_invalid_rows(self, path: str | Path) -> Path:
        """Write the quarantined rows as JSON Lines: fields plus ``_errors`` and ``_line``."""
        out = Path(path)
        with out.open("w", encoding="utf-8") as handle:
            for record in records(self.invalid_rows):
                handle.write(json.dumps(record, allow_nan=False) + "\n")
        return out

    def text(self, failures_only: bool = False) -> str:
        """The plain-text report; ``failures_only`` keeps the summary and failed checks."""
        return self._text(failures_only)

    def _text(self, failures_only: bool = False) -> str:
        d = self.to_dict()
        rows = d["rows"]
        lines = [
            f"ValidationReport {headline(d)}: {self.source}",
            f"rows: {rows['total']} total, {rows['valid']} valid, {rows['invalid']} invalid",
        ]
        for c in _failures_first(d["checks"]):
            if failures_only and c["passed"]:
                continue
            view = _check_view(c)
            mark = "ok  " if c["passed"] else ("WARN" if view["warn"] else "FAIL")
            said = view["message"] or (
                f"observed={view['observed']} expected={view['expected']}"
                + ("" if c["share"] is None else f" share={view['share']}")
            )
            lines.append(f"  {mark} {c['id']}: {said}")
        return "\n".join(lines)

    def to_html(self, path: str | Path | None = None) -> str:
        """The report as HTML (what a notebook shows).

        With ``path``, a standalone page (charset and title) is written there and returned.
        """
        page = render("validation.html", report=report_view(self.to_dict()), standalone=bool(path))
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page


def headline(d: dict[str, Any]) -> str:
    """A report dict's verdict: PASSED, PASSED with warnings, or FAILED with counts.

    >>> headline({"passed": True, "checks": [{"passed": False, "level": "warn"}]})
    'PASSED with 1 warning'
    """
    failed = [c for c in d["checks"] if not c["passed"]]
    warns = sum(1 for c in failed if c.get("level") == "warn")
    errors = len(failed) - warns
    if not failed:
        return "PASSED"
    said = _plural(warns, "warning", "warnings")
    if not errors:
        return f"PASSED with {said}"
    return f"FAILED ({_plural(errors, 'error', 'errors')}, {said}; {len(d['checks'])} checks)"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# The report's sections: failed errors, failed warnings, then what passed.
SECTIONS = (("errors", "bml-bad"), ("warnings", "bml-warn"), ("passed", "bml-good"))


def _section(c: dict[str, Any]) -> str:
    if c["passed"]:
        return "passed"
    return "warnings" if c.get("level") == "warn" else "errors"


def report_view(d: dict[str, Any]) -> dict[str, Any]:
    """The template context of a report dict: errors, warnings, passed; by rule kind."""
    sections = []
    for title, css in SECTIONS:
        checks = [c for c in d["checks"] if _section(c) == title]
        if not checks:
            continue
        groups = [
            {"rule": rule, "checks": [_check_view(c) for c in group]}
            for rule, group in groupby(sorted(checks, key=lambda c: str(c["rule"])), _rule)
        ]
        sections.append(
            {
                "title": title,
                "passed": title == "passed",
                "css": css,
                "count": len(checks),
                "groups": groups,
            }
        )
    return {
        "passed": d["passed"],
        "headline": headline(d),
        "failed": d["failed"],
        "errors": sum(1 for c in d["checks"] if _section(c) == "errors"),
        "warnings": sum(1 for c in d["checks"] if _section(c) == "warnings"),
        "checks": len(d["checks"]),
        "rows": d["rows"],
        "source": d["source"],
        "sections": sections,
    }


def _rule(check: dict[str, Any]) -> str:
    return str(check["rule"])


def _check_view(c: dict[str, Any]) -> dict[str, Any]:
    """One check in words: readable observed / expected, share in %, sample as JSON lines."""
    share = c["rule"] in SHARE_RULES
    return {
        "passed": bool(c["passed"]),
        "warn": c.get("level") == "warn",
        "level": c.get("level") or "error",
        "id": c["id"],
        "rule": c["rule"],
        "column": c["column"] or "",
        "observed": readable(c["observed"], share=share),
        "expected": readable(c["expected"], share=share),
        "share": "" if c["share"] is None else pct(c["share"]),
        "message": c["message"],
        "sample": [json.dumps(r, default=str) for r in c["sample"]],
    }


def _failures_first(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {title: i for i, (title, _) in enumerate(SECTIONS)}
    return sorted(checks, key=lambda c: order[_section(c)])


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN/inf -> None, times as ISO text.

    >>> jsonable({"a": np.float64("nan"), "b": np.int64(2)})
    {'a': None, 'b': 2}
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return jsonable(float(value))
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """The rows of ``frame`` as JSON-ready dicts (lists kept, nulls as None)."""
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        yield {str(c): jsonable(_scalar(v)) for c, v in zip(columns, row, strict=True)}


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value
