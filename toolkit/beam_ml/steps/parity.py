"""How a module's output files are compared with a preview: rows, profiles, reports.

Rows are compared as multisets of JSON objects (any order; floats to 10
significant digits), profiles by exact counts, moments to 1e-9 and quantiles
within the KLL bound the profile states, reports by their verdicts and counts.

>>> compare_rows(['{"a":1}', '{"a":2}'], pd.DataFrame({"a": [2, 1]}))
(True, 'same 2 rows')
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from beam_ml.errors import one_line
from beam_ml.steps.outputs import frame_lines

Verdict = tuple[bool, str]


def canonical(value: Any) -> Any:
    """A JSON value in a form that compares and hashes: floats to 10 significant digits.

    >>> canonical({"b": [1.00000000001], "a": float("nan")})
    (('a', None), ('b', (1.0,)))
    """
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.10g}")
    if isinstance(value, list):
        return tuple(canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, canonical(v)) for k, v in value.items()))
    return value


def row_multiset(lines: Sequence[str], drop: Sequence[str] = ()) -> Counter[Any]:
    rows: Counter[Any] = Counter()
    for line in lines:
        record = json.loads(line)
        rows[tuple(sorted((k, canonical(v)) for k, v in record.items() if k not in drop))] += 1
    return rows


def read_lines(folder: Path, stem: str) -> list[str]:
    """The rows a module wrote for ``stem`` as JSON lines, from JSON Lines or Parquet shards.

    Parquet rows are read with pandas and written as the module writes JSON Lines
    (:func:`~beam_ml.steps.outputs.frame_lines`), so both formats compare alike.
    """
    lines: list[str] = []
    for file in sorted(folder.glob(f"{stem}-*.jsonl")):
        lines += [line for line in file.read_text(encoding="utf-8").splitlines() if line]
    for file in sorted(folder.glob(f"{stem}-*.parquet")):
        lines += frame_lines(pd.read_parquet(file))
    return lines


def compare_rows(module_lines: list[str], preview: Any, drop: Sequence[str] = ()) -> Verdict:
    got = row_multiset(module_lines, drop)
    want = row_multiset(frame_lines(preview), drop)
    if got == want:
        return True, f"same {sum(got.values())} rows"
    extra, missing = got - want, want - got
    example = next(iter(extra or missing))
    return False, (
        f"{sum(extra.values())} rows only in the module, {sum(missing.values())} only in the"
        f" preview (e.g. {one_line(str(dict(example)), 160)})"
    )


def compare_profiles(module: dict[str, Any], preview: Any) -> Verdict:
    """Equal within the sketches' bounds: exact counts, close moments, KLL/HLL bounds."""
    want = preview.to_dict()
    problems = []
    if module["rows"] != want["rows"]:
        problems.append(f"rows {module['rows']} vs {want['rows']}")
    kll = float(want["error_bounds"].get("kll_rank", 0.0))
    hll = float(want["error_bounds"].get("hll_relative", 0.0))
    if set(module["columns"]) != set(want["columns"]):
        problems.append(f"columns {sorted(module['columns'])} vs {sorted(want['columns'])}")
    for name in sorted(set(module["columns"]) & set(want["columns"])):
        a, b = module["columns"][name], want["columns"][name]
        for key in ("type", "count", "nulls", "nan", "inf", "zeros", "negatives", "min", "max"):
            if canonical(a.get(key)) != canonical(b.get(key)):
                problems.append(f"{name}.{key} {a.get(key)!r} vs {b.get(key)!r}")
        for key in ("mean", "std"):
            x, y = a.get(key), b.get(key)
            if (x is None) != (y is None) or (
                x is not None and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
            ):
                problems.append(f"{name}.{key} {x!r} vs {y!r}")
        if abs(a["distinct"] - b["distinct"]) > 3 * hll * max(a["distinct"], b["distinct"]) + 1:
            problems.append(f"{name}.distinct {a['distinct']} vs {b['distinct']}")
        problems += _quantile_problems(name, a.get("quantiles") or {}, preview, kll)
    if problems:
        return False, "; ".join(problems[:5])
    return True, f"{module['rows']} rows, {len(module['columns'])} columns within sketch bounds"


def _quantile_problems(name: str, quantiles: dict[str, Any], preview: Any, kll: float) -> list[str]:
    """Each quantile the module found must lie at its level in the preview's sketch.

    With ties a value covers a range of ranks: [share < value, share <= value].
    Datetime quantiles (ISO 8601) are compared as the nanoseconds the sketch holds.
    """
    problems = []
    col = preview.columns[name]
    n = max(col.count - col.nulls, 1)
    tolerance = 2 * kll + 1.0 / n
    sketch = _sketch_of(preview, name)
    for level, value in quantiles.items():
        if value is None:
            continue
        point = float(pd.Timestamp(value).value) if col.type == "datetime" else float(value)
        below, upto = (float(sketch.get_cdf([point], inclusive)[0]) for inclusive in (False, True))
        if not below - tolerance <= float(level) <= upto + tolerance:
            problems.append(f"{name} quantile {level}: {value} has ranks {below:.3f}-{upto:.3f}")
    return problems


def _sketch_of(profile: Any, name: str) -> Any:
    """The KLL sketch of a column (numbers, booleans, or datetimes as nanoseconds)."""
    from beam_ml.profiling import ColumnAccumulator, ProfileOptions

    state = profile.state["columns"][name]
    return ColumnAccumulator.from_state(state, ProfileOptions()).kll


# Checks read off KLL sketches, which are randomised: two runs over the same rows can
# land on either side of a bound when the value lies within the sketch's rank error.
SKETCH_CHECKS = ("js_divergence", "psi", "ks_distance", "linf_distance", "quantile")


def compare_reports(module: dict[str, Any], preview: Any) -> Verdict:
    want = preview.to_dict()
    got_verdicts = [(c["id"], c["passed"]) for c in module["checks"]]
    want_verdicts = [(c["id"], c["passed"]) for c in want["checks"]]
    if [i for i, _ in got_verdicts] != [i for i, _ in want_verdicts]:
        return False, "verdicts differ: different checks"
    wanted = dict(want_verdicts)
    differ = [i for i, p in got_verdicts if wanted[i] != p]
    exact = [i for i in differ if i.split(":", 1)[0] not in SKETCH_CHECKS]
    if exact:
        shown = [f"{i}: {dict(got_verdicts)[i]} vs {wanted[i]}" for i in exact[:5]]
        return False, "verdicts differ: " + "; ".join(shown)
    if module["rows"] != want["rows"]:
        return False, f"rows {module['rows']} vs {want['rows']}"
    failed = sum(not p for _, p in got_verdicts)
    same = f"same {len(got_verdicts)} verdicts ({failed} failing), rows {module['rows']}"
    if differ:
        same = (
            f"same {len(got_verdicts) - len(differ)} of {len(got_verdicts)} verdicts, rows "
            f"{module['rows']}; {', '.join(differ)} fell on the other side of their bound "
            "(sketch checks: within the KLL rank error)"
        )
    return True, same
