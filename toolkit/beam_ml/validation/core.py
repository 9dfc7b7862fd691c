"""Validate a dataset: infer rules from a profile, check them, quarantine bad rows.

Dataset-level rules (schema, completeness, statistics, class balance, drift,
uniqueness) are evaluated on a :class:`beam_ml.profiling.dataset.Profile`, so they need no
second pass over the data. Row-level rules (type, null, range, allowed values,
regex, length) run in :class:`ValidateRows`, a vectorised Beam transform with two
outputs: every input row is either valid or quarantined with the rules it failed
and its source line. :func:`validate` does both in one pipeline.

Rules about a column the data lacks never crash: the check fails with
``observed: "column missing"`` and no row is quarantined for it (the schema rule,
when present, fails too).

>>> import beam_ml as bml
>>> ref = bml.profile(bml.datasets.load("penguins"))       # doctest: +SKIP
>>> rules = bml.infer_rules(ref)                           # doctest: +SKIP
>>> report = bml.validate(new_data, rules)                 # doctest: +SKIP
>>> report.passed, report.rows                             # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.validation.rules import (
    PSI,
    TYPE_FAMILY,
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
    RowCount,
    RowRule,
    Rule,
    RuleSet,
    Schema,
    Std,
    TypeRule,
    Unique,
)

__all__ = [
    "Check",
    "RuleSet",
    "ValidateRows",
    "ValidationReport",
    "as_reference",
    "evaluate_profile",
    "infer_rules",
    "validate",
]

INVALID = "invalid"
VALID = "valid"
MISSING = "column missing"
SAMPLE_ROWS = 5
# How many distinct values a profile must list before we trust them as complete.
REFERENCE_TOP_K = 1000
NUMERIC = ("float", "integer")
CATEGORICAL = ("categorical", "boolean", "string")


# ---------------------------------------------------------------- results


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
    level: str = "dataset"
    message: str = ""
    sample: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "column": self.column,
            "passed": self.passed,
            "observed": _jsonable(self.observed),
            "expected": _jsonable(self.expected),
            "share": _jsonable(self.share),
            "id": self.id,
            "level": self.level,
            "message": self.message,
            "sample": [_jsonable(r) for r in self.sample],
        }


@dataclass(frozen=True, eq=False)
class ValidationReport:
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
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks],
            "rows": {k: int(v) for k, v in self.rows.items()},
            "invalid_rows_kept": len(self.invalid_rows),
            "source": self.source,
            "failed": len(self.failures),
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
            for record in _records(self.invalid_rows):
                handle.write(json.dumps(record, allow_nan=False) + "\n")
        return out

    def __repr__(self) -> str:
        return self._text()

    def text(self, failures_only: bool = False) -> str:
        """The plain-text report; ``failures_only`` keeps the summary and failed checks."""
        return self._text(failures_only)

    def _text(self, failures_only: bool = False) -> str:
        d = self.to_dict()
        rows = d["rows"]
        head = "PASSED" if d["passed"] else f"FAILED ({d['failed']} of {len(d['checks'])} checks)"
        lines = [
            f"ValidationReport {head}: {self.source}",
            f"rows: {rows['total']} total, {rows['valid']} valid, {rows['invalid']} invalid",
        ]
        for c in _failures_first(d["checks"]):
            if failures_only and c["passed"]:
                continue
            mark = "ok  " if c["passed"] else "FAIL"
            share = "" if c["share"] is None else f" share={c['share']:.4g}"
            lines.append(
                f"  {mark} {c['id']}: observed={_short(c['observed'])}"
                f" expected={_short(c['expected'])}{share}"
                + (f" ({c['message']})" if c["message"] else "")
            )
        return "\n".join(lines)

    def to_html(self, path: str | Path | None = None) -> str:
        """A standalone HTML report (the same view as in a notebook)."""
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>validation report</title></head><body>{self._html()}</body></html>"
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _html(self) -> str:
        d = self.to_dict()
        esc = html.escape
        rows = d["rows"]
        verdict = (
            "<span class='bml-good'>passed</span>"
            if d["passed"]
            else f"<span class='bml-bad'>failed: {d['failed']} of {len(d['checks'])} checks</span>"
        )
        parts = [
            f"<style>{_css()}</style><div class='bml bml-validation'>",
            f"<h3>Validation {verdict}</h3>",
            f"<p class='bml-muted'>{esc(str(d['source']))} — rows: {rows['total']} total, "
            f"{rows['valid']} valid, {rows['invalid']} invalid</p>",
            "<table><thead><tr><th></th><th>rule</th><th>column</th><th>observed</th>"
            "<th>expected</th><th>share</th><th>failing rows</th></tr></thead><tbody>",
        ]
        for c in _failures_first(d["checks"]):
            cls = "bml-good" if c["passed"] else "bml-bad"
            share = "" if c["share"] is None else f"{c['share']:.4g}"
            sample = ""
            if c["sample"]:
                sample = "<details><summary>{}</summary><pre>{}</pre></details>".format(
                    _plural(len(c["sample"]), "row", "rows"),
                    esc("\n".join(json.dumps(r, default=str) for r in c["sample"])),
                )
            message = f"<br><span class='bml-muted'>{esc(c['message'])}</span>" * bool(c["message"])
            parts.append(
                f"<tr class='bml-check {cls}'><td class='{cls}'>"
                f"{'✓' if c['passed'] else '✗'}</td>"
                f"<td>{esc(str(c['rule']))}</td><td>{esc(str(c['column'] or ''))}</td>"
                f"<td>{esc(_short(c['observed']))}{message}</td>"
                f"<td>{esc(_short(c['expected']))}</td><td>{share}</td><td>{sample}</td></tr>"
            )
        parts.append("</tbody></table></div>")
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self._text(), "text/html": self._html()}


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _failures_first(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(checks, key=lambda c: bool(c["passed"]))


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _css() -> str:
    from beam_ml.assets import css

    return css("base.css", "validation.css")


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN/inf -> None, times as ISO text."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _jsonable(float(value))
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        yield {str(c): _jsonable(_scalar(v)) for c, v in zip(columns, row, strict=True)}


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


# ---------------------------------------------------------------- row-level transform


def split_batch(batch: pd.DataFrame, rules: Iterable[RowRule]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one batch into (valid rows, invalid rows with ``_errors`` and ``_line``).

    Pure pandas; `ValidateRows` runs it on every batch. Rules on a column the
    batch lacks are skipped here (they fail as dataset-level checks). Rows read
    from a file also get ``_file``.

    >>> ok, bad = split_batch(pd.DataFrame({"x": [1, -1]}), [Range("x", min=0)])
    >>> len(ok), bad["_errors"].tolist()
    (1, [['range:x']])
    """
    ids: list[str] = []
    masks: list[np.ndarray] = []
    for rule in rules:
        column = rule.column  # type: ignore[attr-defined]
        if column not in batch.columns:
            continue
        series = batch[column]
        if isinstance(series, pd.DataFrame):  # duplicated column name: check the first
            series = series.iloc[:, 0]
        mask = _failures(rule, series)
        if mask.any():
            ids.append(rule.id)
            masks.append(mask)
    if not masks:
        return batch, _empty_invalid(batch)
    matrix = np.column_stack(masks)
    bad = matrix.any(axis=1)
    valid = batch[~bad]
    invalid = batch[bad].copy()
    names = np.asarray(ids, dtype=object)
    invalid["_errors"] = [list(names[row]) for row in matrix[bad]]
    invalid["_line"] = np.asarray(batch.index)[bad]
    source_file = batch.attrs.get("file")
    if source_file and source_file != "<dataframe>":
        invalid["_file"] = source_file  # a glob reads many files: say which one
    invalid.attrs = dict(batch.attrs)
    return valid, invalid.reset_index(drop=True)


def _failures(rule: RowRule, series: pd.Series) -> np.ndarray:
    try:
        return np.asarray(rule.failures(series), dtype=bool)
    except (TypeError, ValueError):
        # odd cells (lists from JSON, mixed objects): judge their text form instead
        text = series.astype(str).where(series.notna(), None)
        return np.asarray(rule.failures(text), dtype=bool)


def _empty_invalid(batch: pd.DataFrame) -> pd.DataFrame:
    empty = batch.iloc[:0].copy()
    empty["_errors"] = pd.Series([], dtype=object)
    empty["_line"] = pd.Series([], dtype="int64")
    return empty.reset_index(drop=True)


def ValidateRows(ruleset: RuleSet | Iterable[Rule]) -> Any:
    """A PTransform: pandas batches -> ``.valid`` batches and ``.invalid`` row frames.

    Each invalid frame holds the rows' fields plus ``_errors`` (the ids of the rules
    each row failed) and ``_line`` (the row's source line or index). Every input row
    is in exactly one output. Only the row-level rules of ``ruleset`` are used.

    >>> import apache_beam as beam
    >>> with beam.Pipeline() as p:                             # doctest: +SKIP
    ...     out = read_batches(p, "data.csv") | ValidateRows(rules)
    ...     out.invalid | beam.Map(print)
    """
    import apache_beam as beam

    rules = ruleset if isinstance(ruleset, RuleSet) else RuleSet(tuple(ruleset))
    row_rules = rules.row_rules

    class _SplitFn(beam.DoFn):
        def process(self, batch: pd.DataFrame) -> Iterator[Any]:
            if not isinstance(batch, pd.DataFrame):
                raise BeamMLError.expected(
                    "pandas DataFrame batches", type(batch).__name__, "read with ReadBatches"
                )
            valid, invalid = split_batch(batch, row_rules)
            if len(valid):
                yield valid
            if len(invalid):
                yield beam.pvalue.TaggedOutput(INVALID, invalid)

    class _ValidateRows(beam.PTransform):
        def expand(self, batches: Any) -> Any:
            return batches | "Split" >> beam.ParDo(_SplitFn()).with_outputs(INVALID, main=VALID)

    return _ValidateRows()


# ---------------------------------------------------------------- exact duplicates


def row_hashes(batch: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """One 64-bit hash per row of ``columns`` (all when empty), stable across batches.

    Numbers hash as float64 and everything else as text, so a column read as int
    in one file and float in another still hashes the same.
    """
    cols = list(columns) or list(batch.columns)
    parts = {}
    for c in cols:
        s = batch[c]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            parts[c] = s.astype("float64")
        else:
            parts[c] = s.astype(str).where(s.notna(), "\x00null")
    frame = pd.DataFrame(parts)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


class _DuplicatesFn:
    """CombineFn body: (rows, distinct hashes) -> duplicated rows, exactly."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns

    def create_accumulator(self) -> tuple[int, np.ndarray, bool]:
        return 0, np.empty(0, dtype=np.uint64), False

    def add_input(self, acc: Any, batch: pd.DataFrame) -> Any:
        rows, seen, missing = acc
        if any(c not in batch.columns for c in self.columns):
            return rows + len(batch), seen, True
        hashes = row_hashes(batch, self.columns)
        return rows + len(batch), np.unique(np.concatenate([seen, hashes])), missing

    def merge_accumulators(self, accs: Any) -> Any:
        accs = list(accs)
        rows = sum(a[0] for a in accs)
        seen = np.unique(np.concatenate([a[1] for a in accs]))
        return rows, seen, any(a[2] for a in accs)

    def extract_output(self, acc: Any) -> dict[str, Any]:
        rows, seen, missing = acc
        return {
            "columns": self.columns,
            "rows": int(rows),
            "duplicates": int(rows - len(seen)),
            "missing": missing,
        }


# ---------------------------------------------------------------- profile access


class _View:
    """The parts of a Profile the checks read: its dict, plus cdf/quantile."""

    def __init__(self, profile: Any) -> None:
        self.profile = profile
        self.data = profile.to_dict()
        self.rows = int(self.data["rows"])
        self.columns: dict[str, dict[str, Any]] = self.data["columns"]

    def col(self, name: str) -> dict[str, Any] | None:
        return self.columns.get(name)

    def null_share(self, name: str) -> float:
        c = self.columns[name]
        return _nulls(c) / self.rows if self.rows else 0.0

    def cdf(self, name: str, points: list[float]) -> list[float]:
        return [float(v) for v in self.profile.cdf(name, [float(p) for p in points])]

    def quantile(self, name: str, q: float) -> float:
        return float(self.profile.quantile(name, q))

    def values(self, name: str) -> list[tuple[Any, int]] | None:
        """Every distinct value with its count, if the profile has them all."""
        c = self.columns[name]
        listed = c.get("values") or c.get("top") or []
        pairs = [(v, int(n)) for v, n in listed]
        count = int(c.get("count") or 0)
        exact = int(c.get("top_error") or 0) == 0
        if c.get("values") is not None or (pairs and exact and sum(n for _, n in pairs) == count):
            return pairs
        return None

    def shares(self, name: str) -> dict[Any, float]:
        c = self.columns[name]
        listed = c.get("values") or c.get("top") or []
        count = int(c.get("count") or 0) or 1
        return {_key(v): n / count for v, n in listed}

    @property
    def kll_error(self) -> float:
        return float((self.data.get("error_bounds") or {}).get("kll_rank") or 0.02)


def _nulls(c: dict[str, Any]) -> int:
    return int(c.get("nulls") or 0)


def _distinct(c: dict[str, Any]) -> int:
    return int(c.get("distinct") or 0)


def _key(value: Any) -> Any:
    """Value as a dict key that matches across CSV reads (2007 == 2007.0 == '2007')."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_view(profile: Any) -> _View:
    if isinstance(profile, _View):
        return profile
    if not (hasattr(profile, "to_dict") and hasattr(profile, "cdf")):
        raise BeamMLError.expected(
            "a Profile",
            type(profile).__name__,
            "pass bml.profile(data), or validate(data, reference=path) to profile it for you",
        )
    return _View(profile)


# ---------------------------------------------------------------- inference


def _sig(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits so the YAML stays readable."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def _floor_sig(x: float, margin: float | None = None) -> float:
    """Round ``x`` down, to a step a tenth of ``margin``'s order (4 digits without one)."""
    step = _step(x, margin)
    return float(_sig(math.floor(x / step) * step, 12))


def _ceil_sig(x: float, margin: float | None = None) -> float:
    """Round ``x`` up, to a step a tenth of ``margin``'s order (4 digits without one)."""
    step = _step(x, margin)
    return float(_sig(math.ceil(x / step) * step, 12))


def _step(x: float, margin: float | None) -> float:
    scale = abs(margin) if margin else abs(x)
    if scale == 0 or not math.isfinite(scale):
        return 1e-6
    digits = 1 if margin else 3
    return float(10.0 ** (math.floor(math.log10(scale)) - digits))


def _rare(n: int, cap: float = 0.01) -> float:
    """Tolerated share of rows never seen in a reference of ``n`` rows (rule of three)."""
    return _ceil_sig(min(cap, max(0.001, 3.0 / max(n, 1))))


def _share_margin(p: float, n: int) -> float:
    """A 4-sigma binomial margin for a share seen in ``n`` rows."""
    return 4.0 * math.sqrt(max(p * (1.0 - p), 1.0 / max(n, 1)) / max(n, 1))


def infer_rules(profile: Any, allow_extra_columns: bool = False) -> RuleSet:
    """Propose rules from a reference profile (like TFDV infer_schema / Deequ suggestions).

    Margins are wide enough that a clean second sample of the same data passes
    and tight enough that a spike of nulls, out-of-range values, a new category,
    corrupted types, a shifted distribution, duplicated rows and dropped or
    renamed columns fail. Edit the YAML (``rules.to_yaml(path)``) to taste.

    >>> rules = infer_rules(bml.profile(bml.datasets.load("penguins")))  # doctest: +SKIP
    >>> [r.kind for r in rules][:3]                                    # doctest: +SKIP
    ['schema', 'row_count', 'unique']
    """
    view = _as_view(profile)
    n = view.rows
    rules: list[Rule] = [
        Schema(
            {name: str(c["type"]) for name, c in view.columns.items()},
            allow_extra=allow_extra_columns,
        ),
        RowCount(min=1),
    ]
    dup = int((view.data.get("duplicates") or {}).get("estimate") or 0)
    dup_share = dup / n if n else 0.0
    rules.append(Unique((), max_duplicate_share=_sig(min(1.0, dup_share + 0.005 + 2 * dup_share))))
    unique_alerts = {
        a.get("column") for a in view.data.get("alerts") or () if a.get("kind") == "unique"
    }
    for name, c in view.columns.items():
        if name in unique_alerts and _nulls(c) == 0 and c.get("type") != "float":
            # an id-like column: every value distinct in the reference (profile alert)
            rules.append(Unique((name,), max_duplicate_share=0.0))
    for name, c in view.columns.items():
        rules.extend(_infer_column(view, name, c, n))
    return RuleSet(tuple(rules))


def _infer_column(view: _View, name: str, c: dict[str, Any], n: int) -> list[Rule]:
    kind = str(c["type"])
    out: list[Rule] = []
    count = int(c.get("count") or 0)
    null_share = _nulls(c) / n if n else 0.0
    if null_share == 0.0:
        out.append(NotNull(name, max_share=_rare(n, cap=0.02)))
    else:
        limit = null_share + _share_margin(null_share, n) + 0.01
        out.append(Completeness(name, max_null_share=_ceil_sig(min(1.0, limit))))
    if TYPE_FAMILY.get(kind) in ("numeric", "boolean", "datetime"):
        out.append(TypeRule(name, kind))
    if count == 0:
        return out
    if kind in NUMERIC and c.get("min") is not None and c.get("mean") is not None:
        out.extend(_infer_numeric(view, name, c, count))
    elif kind in CATEGORICAL:
        out.extend(_infer_categorical(view, name, c, count, n))
    if kind == "string" and c.get("lengths"):
        lengths = c["lengths"]
        out.append(
            Length(name, min=max(0, int(lengths["min"]) // 2), max=int(lengths["max"]) * 2 + 1)
        )
    return out


def _infer_numeric(view: _View, name: str, c: dict[str, Any], count: int) -> list[Rule]:
    lo, hi = float(c["min"]), float(c["max"])
    mean, std = float(c["mean"]), float(c.get("std") or 0.0)
    span = hi - lo
    margin = 0.25 * span if span > 0 else max(abs(hi) * 1e-3, 0.5)
    low = lo - margin
    if lo >= 0:
        low = max(low, 0.0)  # a non-negative column stays non-negative (Deequ's hint)
    rules: list[Rule] = [
        # a clean re-sample of heavy-tailed data may reach past the reference's
        # extremes in a handful of rows: tolerate that share, still quarantine them
        Range(
            name,
            min=_floor_sig(low, margin),
            max=_ceil_sig(hi + margin, margin),
            max_share=_rare(count),
        )
    ]
    if std > 0 and count > 1:
        se = std / math.sqrt(count)
        mean_margin = 6.0 * se + 0.05 * std
        rules.append(
            Mean(
                name,
                min=_floor_sig(mean - mean_margin, mean_margin),
                max=_ceil_sig(mean + mean_margin, mean_margin),
            )
        )
        excess = float(c.get("kurtosis") or 0.0)
        rel = 6.0 * math.sqrt(max(excess + 2.0, 0.5) / (4.0 * count)) + 0.1
        rules.append(
            Std(name, min=_floor_sig(std * max(0.0, 1 - rel)), max=_ceil_sig(std * (1 + rel)))
        )
        try:
            share = _outlier_share(view, name, "zscore", 3.0, mean, std)
        except (KeyError, ValueError, TypeError):
            share = None
        if share is not None:
            limit = share + _share_margin(share, count) + 2 * view.kll_error + 0.01
            rules.append(Outliers(name, max_share=_ceil_sig(min(1.0, limit))))
        drift = _numeric_reference(view, name)
        if drift is not None:
            edges, probs = drift
            rules.append(
                JSDivergence(
                    name,
                    threshold=_ceil_sig(_js_threshold(len(probs), count, view.kll_error)),
                    edges=edges,
                    reference=probs,
                )
            )
    values = view.values(name) if c.get("type") == "integer" else None
    if values and len(values) <= 20:
        # a few whole numbers (years, months, ratings): quantile bins merge them,
        # so watch the share of each value too
        rules.append(
            LInfDistance(
                name,
                threshold=_ceil_sig(_linf_threshold(count)),
                reference={_key(v): _sig(k / count, 6) for v, k in values},
            )
        )
    return rules


def _js_threshold(bins: int, n: int, kll_error: float) -> float:
    # JS between two samples of about n values each is ~ chi2(B-1) / (4 n) nats:
    # its mean is (B-1)/(4 n ln 2) bits. Allow 3.5 times that (a chi2 tail of ~1e-3
    # for 10 bins), the sketches' rank error, and a small floor.
    return 0.02 + 3.5 * (bins - 1) / (4.0 * n * math.log(2)) + kll_error


def _linf_threshold(n: int) -> float:
    return 0.05 + 4.0 * math.sqrt(0.25 * 2.0 / max(n, 1))


def _infer_categorical(view: _View, name: str, c: dict[str, Any], count: int, n: int) -> list[Rule]:
    rules: list[Rule] = []
    values = view.values(name)
    if values and len(values) <= REFERENCE_TOP_K:
        tolerated = _rare(n)
        rules.append(
            AllowedValues(name, tuple(v for v, _ in values), max_share=_ceil_sig(tolerated))
        )
        counts = [k for _, k in values]
        # class balance only where the rarest class is seen often enough for its
        # share to be stable between samples (a class of 2 rows halves by chance)
        if 2 <= len(values) <= 20 and min(counts) >= 30:
            rarest, commonest = min(counts) / count, max(counts) / count
            low = min(rarest * 0.5, rarest - 4.0 * math.sqrt(rarest * (1 - rarest) / count))
            high = commonest + 4.0 * math.sqrt(commonest * (1 - commonest) / count)
            ratio = max(counts) / min(counts)
            rules.append(
                ClassBalance(
                    name,
                    min_share=_floor_sig(max(0.0, low)),
                    max_imbalance_ratio=_ceil_sig(max(ratio * 2.0, high / max(low, 1e-12))),
                    classes=tuple(v for v, _ in values),
                )
            )
    shares = view.shares(name)
    if shares:
        rules.append(
            LInfDistance(
                name,
                threshold=_ceil_sig(_linf_threshold(count)),
                reference={k: _sig(v, 6) for k, v in shares.items()},
            )
        )
    return rules


# ---------------------------------------------------------------- dataset-level checks


def _numeric_reference(
    view: _View, name: str
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    c = view.columns.get(name) or {}
    qh = c.get("quantile_histogram") or {}
    raw = [float(e) for e in (qh.get("edges") or []) if e is not None]
    edges = tuple(sorted({_sig(e, 8) for e in raw if math.isfinite(e)}))
    if len(edges) < 2:
        return None
    probs = _bin_probs(view, name, edges)
    return edges, tuple(_sig(p, 6) for p in probs)


def _bin_probs(view: _View, name: str, edges: tuple[float, ...]) -> list[float]:
    """Share of values per bin: (-inf, e1], (e1, e2], ..., (e_{B-1}, +inf)."""
    inner = list(edges[1:-1])
    cdf = view.cdf(name, inner) if inner else []
    points = [0.0, *[min(max(v, 0.0), 1.0) for v in cdf], 1.0]
    probs = [max(points[i + 1] - points[i], 0.0) for i in range(len(points) - 1)]
    total = sum(probs) or 1.0
    return [p / total for p in probs]


def js_divergence(p: Iterable[float], q: Iterable[float]) -> float:
    """Jensen-Shannon divergence in bits (0 = same, 1 = disjoint).

    >>> js_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    """
    a, b = np.asarray(list(p), dtype=float), np.asarray(list(q), dtype=float)
    a, b = a / (a.sum() or 1.0), b / (b.sum() or 1.0)
    m = 0.5 * (a + b)

    def kl(x: np.ndarray) -> float:
        keep = x > 0
        return float(np.sum(x[keep] * np.log2(x[keep] / m[keep])))

    return max(0.0, 0.5 * kl(a) + 0.5 * kl(b))


def psi(expected: Iterable[float], actual: Iterable[float], eps: float = 1e-4) -> float:
    """Population stability index of two distributions over the same bins.

    >>> round(psi([0.5, 0.5], [0.5, 0.5]), 6)
    0.0
    """
    e = np.clip(np.asarray(list(expected), dtype=float), eps, None)
    a = np.clip(np.asarray(list(actual), dtype=float), eps, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def _outlier_share(
    view: _View, name: str, method: str, fence: float, mean: float, std: float
) -> float | None:
    if method == "zscore":
        if not std > 0:
            return 0.0
        lo, hi = mean - fence * std, mean + fence * std
    else:
        q1, q3 = view.quantile(name, 0.25), view.quantile(name, 0.75)
        iqr = q3 - q1
        lo, hi = q1 - fence * iqr, q3 + fence * iqr
    below, upto = view.cdf(name, [lo, hi])
    return max(0.0, min(1.0, below + (1.0 - upto)))


def evaluate_profile(
    profile: Any,
    rules: RuleSet,
    reference: Any = None,
    duplicates: dict[tuple[str, ...], dict[str, Any]] | None = None,
) -> list[Check]:
    """Evaluate the dataset-level rules of ``rules`` on ``profile`` (no data pass).

    ``reference`` (a Profile) fills in drift rules that carry no reference
    distribution; ``duplicates`` are exact duplicate counts from `validate`
    (without them uniqueness uses the profile's estimates).
    """
    view = _as_view(profile)
    ref = _as_view(reference) if reference is not None else None
    checks = []
    for rule in rules.dataset_rules:
        try:
            checks.append(_evaluate(rule, view, ref, duplicates or {}))
        except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            # a profile without what the rule needs is a failed check, never a crash
            checks.append(
                _check(rule, False, None, _expected(rule), message=f"cannot check: {exc}")
            )
    return checks


def _expected(rule: Rule) -> Any:
    d = rule.to_dict()
    for key in ("kind", "column", "edges", "reference"):
        d.pop(key, None)
    return d


def _check(
    rule: Rule,
    passed: bool,
    observed: Any,
    expected: Any,
    share: float | None = None,
    message: str = "",
) -> Check:
    return Check(
        rule=rule.kind,
        column=rule.target if rule.target is not None else _columns_label(rule),
        passed=bool(passed),
        observed=observed,
        expected=expected,
        share=None if share is None else float(share),
        id=rule.id,
        level=rule.level,
        message=message,
    )


def _columns_label(rule: Rule) -> str | None:
    cols = getattr(rule, "columns", None)
    if isinstance(cols, tuple) and cols:
        return ",".join(cols)
    return None


def _within(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _bounds(lo: Any, hi: Any) -> dict[str, Any]:
    return {"min": lo, "max": hi}


def _missing(rule: Rule, view: _View) -> Check | None:
    absent = [c for c in rule.columns_used() if c not in view.columns]
    if absent and not isinstance(rule, Schema):
        return _check(
            rule,
            False,
            MISSING,
            _expected(rule),
            message=f"the data has no column {absent[0]!r}",
        )
    return None


def _evaluate(
    rule: Rule,
    view: _View,
    ref: _View | None,
    duplicates: dict[tuple[str, ...], dict[str, Any]],
) -> Check:
    missing = _missing(rule, view)
    if missing is not None:
        return missing
    if isinstance(rule, Schema):
        return _check_schema(rule, view)
    if isinstance(rule, RowCount):
        return _check(
            rule, _within(view.rows, rule.min, rule.max), view.rows, _bounds(rule.min, rule.max)
        )
    if isinstance(rule, Completeness):
        share = view.null_share(rule.column)
        return _check(rule, share <= rule.max_null_share, share, rule.max_null_share, share)
    if isinstance(rule, Unique):
        return _check_unique(rule, view, duplicates)
    c = view.columns[rule.target] if rule.target is not None else {}
    if isinstance(rule, Mean | Std | Quantile | Outliers | JSDivergence) and (
        c.get("type") not in NUMERIC or c.get("mean") is None
    ):
        numeric = c.get("type") in NUMERIC
        return _check(
            rule,
            False,
            "no values" if numeric else f"type {c.get('type')}",
            "a numeric column with values",
            message=f"{rule.target!r} has no values"
            if numeric
            else f"{rule.target!r} is not numeric here",
        )
    if isinstance(rule, Mean):
        value = float(c["mean"])
        return _check(rule, _within(value, rule.min, rule.max), value, _bounds(rule.min, rule.max))
    if isinstance(rule, Std):
        value = float(c["std"] or 0.0)
        return _check(rule, _within(value, rule.min, rule.max), value, _bounds(rule.min, rule.max))
    if isinstance(rule, Quantile):
        q_value = view.quantile(rule.column, rule.q)
        return _check(
            rule,
            _within(q_value, rule.min, rule.max),
            q_value,
            {"q": rule.q, "min": rule.min, "max": rule.max},
        )
    if isinstance(rule, Outliers):
        out_share = _outlier_share(
            view, rule.column, rule.method, rule.fence, float(c["mean"]), float(c["std"] or 0.0)
        )
        count = int(c.get("count") or 0)
        row_share = None if out_share is None or not view.rows else out_share * count / view.rows
        return _check(
            rule,
            out_share is not None and out_share <= rule.max_share,
            out_share,
            {"max_share": rule.max_share, "method": rule.method, "fence": rule.fence},
            row_share,
        )
    if isinstance(rule, ClassBalance):
        return _check_balance(rule, view)
    if isinstance(rule, JSDivergence | LInfDistance | PSI):
        return _check_drift(rule, view, ref)
    raise BeamMLError.expected("a dataset-level rule", rule.kind)


def _check_schema(rule: Schema, view: _View) -> Check:
    present = {name: str(c["type"]) for name, c in view.columns.items()}
    missing = [c for c in rule.columns if c not in present]
    unexpected = [] if rule.allow_extra else [c for c in present if c not in rule.columns]
    wrong = {
        c: {"expected": t, "observed": present[c]}
        for c, t in rule.columns.items()
        if c in present
        and TYPE_FAMILY.get(present[c]) != TYPE_FAMILY.get(t)
        # a column with no values has no type of its own: nothing to compare
        and int(view.columns[c].get("count") or 0) > 0
    }
    observed = {"missing": missing, "unexpected": unexpected, "wrong_type": wrong}
    problems = []
    if missing:
        problems.append(f"missing columns {missing}")
    if unexpected:
        problems.append(f"unexpected columns {unexpected}")
    if wrong:
        problems.append(f"wrong types in {list(wrong)}")
    return _check(
        rule,
        not problems,
        observed,
        {"columns": rule.columns, "allow_extra": rule.allow_extra},
        message="; ".join(problems),
    )


def _check_unique(
    rule: Unique, view: _View, duplicates: dict[tuple[str, ...], dict[str, Any]]
) -> Check:
    exact = duplicates.get(rule.columns)
    if exact is not None:
        rows, dups = exact["rows"], exact["duplicates"]
        note = "exact count"
    elif not rule.columns:
        rows = view.rows
        dups = int((view.data.get("duplicates") or {}).get("estimate") or 0)
        note = "estimated from the profile"
    elif len(rule.columns) == 1:
        c = view.columns[rule.columns[0]]
        rows = view.rows
        dups = max(0, int(c.get("count") or 0) - _distinct(c)) + max(0, _nulls(c) - 1)
        note = "estimated from the distinct count"
    else:
        return _check(
            rule, False, None, _expected(rule), message="needs validate() to count duplicates"
        )
    share = dups / rows if rows else 0.0
    return _check(
        rule,
        share <= rule.max_duplicate_share,
        {"duplicates": dups, "share": share},
        {"max_duplicate_share": rule.max_duplicate_share},
        share,
        message=note,
    )


def _check_balance(rule: ClassBalance, view: _View) -> Check:
    c = view.columns[rule.column]
    listed = c.get("values") or c.get("top") or []
    count = int(c.get("count") or 0)
    if rule.classes is not None:
        seen = {_key(v): int(k) for v, k in listed}
        counts = [seen.get(_key(v), 0) for v in rule.classes]
    else:
        counts = [int(k) for _, k in listed if int(k) > 0]
    if not counts or not count:
        return _check(rule, False, None, _expected(rule), message="no values")
    rarest = min(counts) / count
    ratio = max(counts) / min(counts) if min(counts) else math.inf
    ok = (rule.min_share is None or rarest >= rule.min_share) and (
        rule.max_imbalance_ratio is None or ratio <= rule.max_imbalance_ratio
    )
    return _check(
        rule,
        ok,
        {"min_share": rarest, "imbalance_ratio": ratio, "classes": len(counts)},
        {"min_share": rule.min_share, "max_imbalance_ratio": rule.max_imbalance_ratio},
    )


def _check_drift(rule: JSDivergence | LInfDistance | PSI, view: _View, ref: _View | None) -> Check:
    name = rule.column
    kind = view.columns[name].get("type")
    numeric = isinstance(rule, JSDivergence) or (
        isinstance(rule, PSI) and (rule.edges is not None or kind in NUMERIC)
    )
    if numeric:
        edges, probs = getattr(rule, "edges", None), getattr(rule, "reference", None)
        if edges is None or probs is None:
            if ref is None or name not in ref.columns:
                return _no_reference(rule)
            found = _numeric_reference(ref, name)
            if found is None:
                return _no_reference(rule)
            edges, probs = found
        if kind not in NUMERIC or view.columns[name].get("count") in (0, None):
            return _check(rule, False, f"type {kind}", "a numeric column", message="not numeric")
        current = _bin_probs(view, name, tuple(edges))
        value = (
            js_divergence(probs, current) if isinstance(rule, JSDivergence) else psi(probs, current)
        )
    else:
        shares = rule.reference if isinstance(rule.reference, dict) else None
        if shares is None:
            if ref is None or name not in ref.columns:
                return _no_reference(rule)
            shares = ref.shares(name)
        expected = {_key(k): float(v) for k, v in shares.items()}
        now = view.shares(name)
        value = psi_categorical(expected, now) if isinstance(rule, PSI) else linf(expected, now)
    return _check(rule, value <= rule.threshold, value, {"threshold": rule.threshold})


def _floor(shares: dict[Any, float]) -> float:
    """The most an unlisted value can hold: 0 for a complete list, else the smallest listed."""
    if not shares or 1.0 - sum(shares.values()) <= 1e-6:
        return 0.0
    return min(shares.values())


def linf(expected: dict[Any, float], actual: dict[Any, float]) -> float:
    """L-infinity distance of two value-share maps, either possibly a top-k list.

    A value one side does not list holds at most that side's smallest listed
    share, so the result is a lower bound of the true distance (exact when both
    lists are complete).

    >>> linf({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.3, "c": 0.2})
    0.2
    """
    floor_e, floor_a = _floor(expected), _floor(actual)
    gaps = [0.0]
    for key in set(expected) | set(actual):
        if key in expected and key in actual:
            gaps.append(abs(expected[key] - actual[key]))
        elif key in expected:
            gaps.append(expected[key] - floor_a)
        else:
            gaps.append(actual[key] - floor_e)
    return max(0.0, round(max(gaps), 12))


def psi_categorical(expected: dict[Any, float], actual: dict[Any, float]) -> float:
    """PSI over the values both sides list, plus one bucket for all the rest."""
    common = sorted(set(expected) & set(actual), key=str)
    a = [expected[k] for k in common]
    b = [actual[k] for k in common]
    a.append(max(0.0, 1.0 - sum(a)))
    b.append(max(0.0, 1.0 - sum(b)))
    return psi(a, b)


def _no_reference(rule: Rule) -> Check:
    return _check(
        rule,
        False,
        None,
        _expected(rule),
        message="no reference distribution: infer the rules from a profile or pass reference=",
    )


# ---------------------------------------------------------------- validate


def _resolve_rules(rules: Any, reference: Any) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    if rules is None:
        if reference is None:
            raise BeamMLError.expected(
                "rules or a reference profile", "neither", "pass rules=... or reference=..."
            )
        return infer_rules(reference)
    if isinstance(rules, str | Path):
        return RuleSet.read(rules)
    if isinstance(rules, list | tuple):
        return RuleSet(tuple(rules))
    raise BeamMLError.expected(
        "a RuleSet, a rules YAML path or a list of rules", type(rules).__name__
    )


def _resolve_reference(reference: Any, options: Any) -> Any:
    return None if reference is None else as_reference(reference, options=options)


def as_reference(reference: Any, options: Any = None) -> Any:
    """A reference Profile from a Profile, a profile JSON file, or data to profile.

    >>> ref = as_reference("penguins-profile.json")          # doctest: +SKIP
    """
    if hasattr(reference, "to_dict") and hasattr(reference, "cdf"):
        return reference
    if isinstance(reference, str | Path) and str(reference).endswith(".json"):
        file = Path(reference)
        if file.is_file():
            from beam_ml.profiling.dataset import Profile

            try:
                return Profile.from_json(file.read_text(encoding="utf-8"))
            except (BeamMLError, KeyError, TypeError, ValueError):
                pass  # not a profile: JSON Lines data
    return profile_reference(reference, options=options)


def profile_reference(source: Any, sample: int | None = None, options: Any = None) -> Any:
    """Profile ``source`` as a validation reference (listing up to 1000 values per column)."""
    from beam_ml.profiling.dataset import ProfileDataset
    from beam_ml.runner import run_and_collect
    from beam_ml.sources.readers import ReadBatches, SampleRows, as_source

    src = as_source(source)

    def build(p: Any) -> Any:
        batches = (p | ReadBatches(src)).batches
        if sample:
            batches = batches | SampleRows(sample)
        return batches | ProfileDataset(top_k=REFERENCE_TOP_K)

    return run_and_collect(build, options)[0]


def validate(
    source: Any,
    rules: Any = None,
    reference: Any = None,
    sample: int | None = None,
    options: Any = None,
    max_invalid_rows: int | None = None,
) -> ValidationReport:
    """Check ``source`` against ``rules`` in one Beam pipeline; quarantine failing rows.

    ``rules``: a RuleSet, a YAML path, or None to infer them from ``reference``
    (a Profile, or data to profile). ``sample``: validate a uniform sample of
    that many rows. ``options``: Beam pipeline options (DirectRunner by default).
    ``max_invalid_rows``: bring back at most that many quarantined rows (the
    counts stay exact: they are computed in the pipeline); None brings all.

    >>> report = validate(bml.datasets.load("penguins"), rules)   # doctest: +SKIP
    >>> report.rows                                             # doctest: +SKIP
    {'total': 344, 'valid': 344, 'invalid': 0}
    """
    import apache_beam as beam

    from beam_ml.errors import check_positive_int
    from beam_ml.profiling.dataset import ProfileDataset
    from beam_ml.runner import run_and_collect
    from beam_ml.sources.readers import ReadBatches, SampleRows, as_source

    check_positive_int("sample", sample, allow_none=True)
    check_positive_int("max_invalid_rows", max_invalid_rows, allow_none=True)
    ref = _resolve_reference(reference, options)
    ruleset = _resolve_rules(rules, ref)
    src = as_source(source)
    unique_sets = sorted({r.columns for r in ruleset.rules if isinstance(r, Unique)})

    def build(p: Any) -> dict[str, Any]:
        read = p | "Read" >> ReadBatches(src)
        batches = read.batches
        if sample:
            batches = batches | "Sample" >> SampleRows(sample)
        split = batches | "ValidateRows" >> ValidateRows(ruleset)
        invalid = split[INVALID]
        out = {
            "profile": batches | "Profile" >> ProfileDataset(top_k=REFERENCE_TOP_K),
            "valid": split[VALID] | "CountValid" >> beam.Map(len),
            "invalid": invalid,
            "bad": read.bad_records,
        }
        if max_invalid_rows:
            out["invalid"] = invalid | "KeepSome" >> beam.CombineGlobally(
                _as_combine(_KeepRows(max_invalid_rows))
            )
            out["counts"] = (
                invalid
                | "CountErrors" >> beam.Map(error_counts)
                | "SumErrors" >> beam.CombineGlobally(_as_combine(_SumCounts()))
            )
        for i, cols in enumerate(unique_sets):
            out[f"unique{i}"] = batches | f"Duplicates{i}" >> beam.CombineGlobally(
                _as_combine(_DuplicatesFn(cols))
            )
        return out

    result = run_and_collect(build, options)
    profile = result["profile"][0]
    duplicates = {}
    for i, cols in enumerate(unique_sets):
        stats = result[f"unique{i}"][0]
        if not stats["missing"]:
            duplicates[cols] = stats
    return build_report(
        ruleset,
        profile,
        invalid=result["invalid"],
        valid_rows=sum(result["valid"]),
        bad_records=result["bad"],
        reference=ref,
        duplicates=duplicates,
        source=src.describe(),
        counts=result["counts"][0] if "counts" in result else None,
    )


def error_counts(invalid: pd.DataFrame) -> dict[str, int]:
    """How many rows of one invalid frame failed each rule (``__rows__``: all of them)."""
    counts: dict[str, int] = {ROWS_KEY: len(invalid)}
    if len(invalid):
        exploded = invalid["_errors"].explode().dropna()
        counts.update({str(k): int(v) for k, v in exploded.value_counts().items()})
    return counts


ROWS_KEY = "__rows__"


class _SumCounts:
    """CombineFn body: sum dicts of counts."""

    def create_accumulator(self) -> dict[str, int]:
        return {}

    def add_input(self, acc: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
        for key, n in counts.items():
            acc[key] = acc.get(key, 0) + n
        return acc

    def merge_accumulators(self, accs: Any) -> dict[str, int]:
        total: dict[str, int] = {}
        for acc in accs:
            self.add_input(total, acc)
        return total

    def extract_output(self, acc: dict[str, int]) -> dict[str, int]:
        return acc


class _KeepRows:
    """CombineFn body: keep up to ``n`` invalid rows (a bounded quarantine sample)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def create_accumulator(self) -> list[pd.DataFrame]:
        return []

    def add_input(self, acc: list[pd.DataFrame], frame: pd.DataFrame) -> list[pd.DataFrame]:
        room = self.n - sum(len(f) for f in acc)
        if room > 0 and len(frame):
            acc.append(frame.head(room))
        return acc

    def merge_accumulators(self, accs: Any) -> list[pd.DataFrame]:
        kept: list[pd.DataFrame] = []
        for acc in accs:
            for frame in acc:
                self.add_input(kept, frame)
        return kept

    def extract_output(self, acc: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(acc, ignore_index=True) if acc else pd.DataFrame()


def _as_combine(body: Any) -> Any:
    import apache_beam as beam

    class _Combine(beam.CombineFn):
        def create_accumulator(self) -> Any:
            return body.create_accumulator()

        def add_input(self, acc: Any, element: Any) -> Any:
            return body.add_input(acc, element)

        def merge_accumulators(self, accs: Any) -> Any:
            return body.merge_accumulators(accs)

        def extract_output(self, acc: Any) -> Any:
            return body.extract_output(acc)

    return _Combine()


def build_report(
    rules: RuleSet,
    profile: Any,
    invalid: list[pd.DataFrame],
    valid_rows: int,
    bad_records: list[Any] = (),  # type: ignore[assignment]
    reference: Any = None,
    duplicates: dict[tuple[str, ...], dict[str, Any]] | None = None,
    source: str = "",
    counts: dict[str, int] | None = None,
) -> ValidationReport:
    """Assemble a report from a profile and the outputs of `ValidateRows`.

    ``counts`` (from `error_counts`, summed) are needed only when ``invalid``
    holds a bounded sample of the quarantined rows rather than all of them.
    """
    view = _as_view(profile)
    frames = [f for f in invalid if len(f)]
    invalid_frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["_errors", "_line"])
    )
    if len(invalid_frame):
        order = [c for c in ("_file", "_line") if c in invalid_frame.columns]
        invalid_frame = invalid_frame.sort_values(order, kind="stable").reset_index(drop=True)
    parsed_rows = view.rows
    exact = error_counts(invalid_frame) if counts is None else dict(counts)
    invalid_rows = exact.pop(ROWS_KEY, len(invalid_frame))
    samples: dict[str, list[int]] = {}
    if len(invalid_frame):
        # one row per (row, failed rule): the first rows of each rule
        exploded = invalid_frame["_errors"].explode().dropna()
        firsts = exploded.groupby(exploded, sort=False).head(SAMPLE_ROWS)
        for position, rule_id in firsts.items():
            samples.setdefault(str(rule_id), []).append(int(position))
    checks: list[Check] = []
    for rule in rules.rules:
        if isinstance(rule, RowRule):
            checks.append(_row_check(rule, view, exact, samples, invalid_frame, parsed_rows))
    checks = [*evaluate_profile(view, rules, reference, duplicates), *checks]
    checks = _in_rule_order(rules, checks)
    bad = list(bad_records)
    if bad:
        bad_frame = pd.DataFrame(
            {
                "_errors": [[f"parse: {b.reason}"] for b in bad],
                "_line": [b.line for b in bad],
                "_text": [b.text for b in bad],
            }
        )
        invalid_frame = pd.concat([invalid_frame, bad_frame], ignore_index=True)
    total = parsed_rows + len(bad)
    checks.insert(
        0,
        Check(
            rule="parse",
            column=None,
            passed=not bad,
            observed=len(bad),
            expected=0,
            share=len(bad) / total if total else 0.0,
            id="parse",
            level="row",
            message=_plural(len(bad), "line", "lines") + " could not be read as rows"
            if bad
            else "",
            sample=tuple(b.to_dict() for b in bad[:SAMPLE_ROWS]),
        ),
    )
    rows = {"total": total, "valid": int(valid_rows), "invalid": int(invalid_rows) + len(bad)}
    if rows["valid"] + rows["invalid"] != rows["total"]:
        # every row lands in exactly one output; a mismatch is a bug, never hidden
        raise BeamMLError.expected(
            "valid + invalid rows == total rows", rows, "please report this as a bug"
        )
    return ValidationReport(
        checks=tuple(checks), rows=rows, invalid_rows=invalid_frame, source=source, profile=profile
    )


def _in_rule_order(rules: RuleSet, checks: list[Check]) -> list[Check]:
    order = {r.id: i for i, r in enumerate(rules.rules)}
    return sorted(checks, key=lambda c: order.get(c.id, len(order)))


def _row_check(
    rule: RowRule,
    view: _View,
    counts: dict[str, int],
    samples: dict[str, list[int]],
    invalid: pd.DataFrame,
    rows: int,
) -> Check:
    expected = _expected(rule)
    if rule.column not in view.columns:  # type: ignore[attr-defined]
        return _check(
            rule,
            False,
            MISSING,
            expected,
            message=f"the data has no column {rule.column!r}",  # type: ignore[attr-defined]
        )
    failing = counts.get(rule.id, 0)
    share = failing / rows if rows else 0.0
    sample: tuple[dict[str, Any], ...] = ()
    if failing:
        sample = tuple(_records(invalid.loc[samples.get(rule.id, [])]))
    check = _check(
        rule,
        share <= rule.max_share,
        {"failing_rows": failing},
        expected,
        share,
        message=_plural(failing, "row fails", "rows fail") if failing else "",
    )
    return Check(**{**check.__dict__, "sample": sample})
