"""Text, HTML and matplotlib views of a profile, all derived from ``Profile.to_dict()``.

The HTML comes from the ``profile.html`` / ``profile_page.html`` templates
(autoescaped: a column named ``<script>`` shows as text) with one bar chart per
column from :func:`beam_ml.rendering.bars_data`: a histogram with its axes for
numbers, the top values with their shares for everything else. It needs no
JavaScript, so a saved notebook or a report file renders anywhere.

>>> data = {"source": None, "rows": 2, "duplicates": {"estimate": 0, "lower": 0, "upper": 0},
...         "columns": {}, "alerts": [], "error_bounds": {}}
>>> profile_text(data)
'Profile: 2 rows × 0 columns, 0 duplicate rows, 0 alerts'
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

from beam_ml.rendering import bars_data, clip, fmt, hbars_data, render

_ORDER = ("empty", "duplicates", "mixed_types", "unhashable", "infinite", "missing", "constant")
# a column's share of missing values shown in red
_MISSING_BAD = 0.2
_CHART_WIDTH, _CHART_HEIGHT = 220, 64


def _duplicates(data: dict[str, Any]) -> str:
    """'12 duplicate rows' when exact, else the estimate with its sketch bounds."""
    d = data["duplicates"]
    low, high = d.get("lower", d["estimate"]), d.get("upper", d["estimate"])
    if low == high:
        return f"{d['estimate']:,} duplicate rows"
    return f"~{d['estimate']:,} duplicate rows ({low:,}–{high:,})"


def _sorted_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {k: i for i, k in enumerate(_ORDER)}
    return sorted(alerts, key=lambda a: rank.get(a["kind"], len(rank)))


def _infinities(c: dict[str, Any]) -> list[tuple[str, Any]]:
    if not c.get("inf"):
        return []
    return [("+inf", c.get("pos_inf", 0)), ("-inf", c.get("neg_inf", 0))]


# ------------------------------------------------------------------------ text
def profile_text(data: dict[str, Any]) -> str:
    """A short plain-text summary: overview, alerts, one line per column."""
    cols = data["columns"]
    lines = [
        f"Profile: {data['rows']:,} rows × {len(cols)} columns, "
        f"{_duplicates(data)}, {len(data['alerts'])} alerts"
    ]
    for a in _sorted_alerts(data["alerts"]):
        where = f"{a['column']}: " if a["column"] is not None else ""
        lines.append(f"  ! {a['kind']}: {where}{a['detail']}")
    width = min(max((len(n) for n in cols), default=4), 30)
    for name, c in cols.items():
        if c["type"] in ("float", "integer"):
            shown = [(k, c[k]) for k in ("mean", "std", "min", "max")] + _infinities(c)
            stats = "  ".join(f"{k} {fmt(v)}" for k, v in shown)
        elif c["type"] == "datetime":
            stats = f"{fmt(c['min'])} … {fmt(c['max'])}"
        else:
            top = ", ".join(f"{clip(fmt(v), 60)} ({n:,})" for v, n in c["top"][:3])
            stats = f"top {top}" if top else ""
        lines.append(
            f"  {clip(name, width):<{width}}  {c['type']:<11} nulls {c['nulls']:>7,}  "
            f"distinct {c['distinct']:>7,}  {stats}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------ html
# How the explorer's column list can be sorted: (key, label); "table" is the data's order.
SORTS = (("table", "table order"), ("name", "name"), ("missing", "missing"),
         ("distinct", "distinct"), ("alerts", "alerts"))  # fmt: skip
TYPES = ("float", "integer", "boolean", "categorical", "string", "datetime")
# columns whose details start open (more: the list starts collapsed, one line per column)
_OPEN_UP_TO = 10


def column_chart(
    name: str, c: dict[str, Any], width: int = _CHART_WIDTH, height: int = _CHART_HEIGHT
) -> dict[str, Any] | None:
    """The column's chart: its histogram (``kind`` "hist"), else category bars ("hbar").

    The one chart of a column, for the profile view and the notebook's explorer;
    None when the column has no value to plot.
    """
    hist = c.get("histogram")
    if hist and hist.get("counts") and max(hist["counts"]) > 0:
        edges, counts = hist["edges"], hist["counts"]
        labels = [f"{fmt(a)} to {fmt(b)}" for a, b in itertools.pairwise(edges)]
        middle = (edges[0] + edges[-1]) / 2
        return {
            "kind": "hist",
            **bars_data(
                counts,
                labels,
                axis=(fmt(edges[0]), fmt(middle), fmt(edges[-1])),
                total=sum(counts),
                title=f"histogram of {name}",
                width=width,
                height=height,
            ),
        }
    top = c.get("top") or []
    if top and max(n for _, n in top) > 0:
        values = [(clip(fmt(v), 40), int(n)) for v, n in top[:8]]
        bars = hbars_data(values, int(c["count"] or 0), title=f"top values of {name}", width=width)
        return {"kind": "hbar", **bars}
    return None


def _stats(c: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) pairs shown beside the chart."""
    q = c.get("quantiles") or {}
    parts: list[tuple[str, Any]] = []
    if c["type"] in ("float", "integer"):
        parts += [("mean", c["mean"]), ("std", c["std"]), ("min", c["min"])]
        parts += [("median", q.get("0.5")), ("max", c["max"]), ("zeros", c["zeros"])]
        parts += _infinities(c)
    elif c["type"] == "datetime":
        parts += [("min", c["min"]), ("median", q.get("0.5")), ("max", c["max"])]
    elif c["type"] == "boolean":
        parts += [("share true", c["mean"])]
    if c.get("lengths"):
        ln = c["lengths"]
        parts += [("length", f"{ln['min']}–{ln['max']} (mean {fmt(ln['mean'], 3)})")]
    return parts


def _orders(columns: list[dict[str, Any]]) -> None:
    """Give each column its rank under every sort (the CSS ``order`` of its card)."""
    keys = {
        "table": lambda c: c["index"],
        "name": lambda c: (c["name"].lower(), c["index"]),
        "missing": lambda c: (-c["nulls"], c["index"]),
        "distinct": lambda c: (-c["distinct"], c["index"]),
        "alerts": lambda c: (-len(c["alerts"]), c["index"]),
    }
    for sort, key in keys.items():
        for rank, c in enumerate(sorted(columns, key=key)):
            c["order"][sort] = rank
    for c in columns:
        c["style"] = ";".join(f"--bml-o-{k}:{v}" for k, v in c["order"].items())


def _heat(value: float | None, scale: float = 1.0) -> str:
    """The inline background of a matrix cell: blue for positive, red for negative."""
    if value is None:
        return ""
    strength = min(abs(value) / scale, 1.0) * 0.85
    rgb = "var(--bml-pos)" if value >= 0 else "var(--bml-neg)"
    return f"background: rgba({rgb}, {strength:.2f})"


def _matrix(names: list[str], values: Any, scale: float = 1.0, share: bool = False) -> Any:
    """A square matrix for ``profile.html``: its column names and cells (text, colour)."""
    if not names or not isinstance(values, list) or len(values) != len(names):
        return None
    rows = []
    for name, row in zip(names, values, strict=True):
        cells = []
        for other, v in zip(names, row, strict=False):
            number = None if v is None else float(v)
            text = fmt(number) if not share else fmt(int(number or 0))
            cells.append({"text": text, "style": _heat(number, scale), "tip": f"{name} × {other}"})
        rows.append({"name": name, "cells": cells})
    return {"columns": names, "rows": rows}


def _cramers(corr: dict[str, Any]) -> Any:
    """Cramér's V of the categorical pairs, in whichever layout the profile keeps it."""
    value = corr.get("cramers_v")
    if isinstance(value, dict):
        names = value.get("columns") or []
        grid = next((value[k] for k in ("values", "matrix", "cramers_v", "v") if k in value), None)
        return _matrix(list(names), grid)
    if isinstance(value, list):
        names = corr.get("categorical") or corr.get("cramers_v_columns") or []
        return _matrix(list(names), value)
    return None


def _associations(data: dict[str, Any]) -> dict[str, Any]:
    corr = data.get("correlations") or {}
    pearson = _matrix(list(corr.get("columns") or []), corr.get("pearson"))
    if pearson is not None and len(pearson["columns"]) < 2:
        pearson = None
    return {"pearson": pearson, "cramers_v": _cramers(corr)}


def _missing(data: dict[str, Any], columns: list[dict[str, Any]]) -> dict[str, Any]:
    rows = data["rows"] or 1
    shares = sorted(
        ((c["name"], c["nulls"], c["nulls"] / rows) for c in columns if c["nulls"]),
        key=lambda t: -t[1],
    )
    together = data.get("missing_together") or {}
    names = list(together.get("columns") or [])
    counts = together.get("counts") or []
    peak = max((max(r) for r in counts if r), default=1) or 1
    matrix = _matrix(names, counts, scale=float(peak), share=True)
    if matrix is not None and len(names) < 2:
        matrix = None
    widest = max((s for _, _, s in shares), default=1.0) or 1.0
    bars = [
        {"name": n, "nulls": k, "share": s, "width": f"width: {max(s / widest * 100, 1):.0f}%"}
        for n, k, s in shares
    ]
    return {"columns": bars, "together": matrix}


def profile_context(
    data: dict[str, Any], sort: str = "table", type: str = "all", name: str = ""
) -> dict[str, Any]:
    """What ``profile.html`` shows, from ``Profile.to_dict()``.

    ``sort`` (one of :data:`SORTS`) and ``type`` pick the explorer's initial sort and
    type filter (both also switch in the page itself, CSS only); ``name`` keeps only the
    columns whose name contains it (the live notebook's name filter).

    >>> import pandas as pd
    >>> from beam_ml.profiling import Profile
    >>> ctx = profile_context(Profile.from_frame(pd.DataFrame({"s": ["a", "a", "b"]})).to_dict())
    >>> ctx["columns"][0]["top"], ctx["columns"][0]["chart"]["rows"][0]["tip"]
    ([('a', 2, 0.6666666666666666), ('b', 1, 0.3333333333333333)], 'a: 2 (66.7 %)')
    """
    rows = data["rows"]
    alerts = _sorted_alerts(data["alerts"])
    columns = []
    for index, (col, c) in enumerate(data["columns"].items()):
        share = c["nulls"] / rows if rows else 0.0
        count = c["count"] or 1
        top = [] if c["type"] == "float" else [(v, n, n / count) for v, n in c["top"][:5]]
        columns.append(
            {
                "index": index,
                "name": col,
                "type": c["type"],
                "nulls": c["nulls"],
                "missing": share,
                "missing_bad": share > _MISSING_BAD,
                "distinct": c["distinct"],
                "chart": column_chart(col, c),
                "stats": _stats(c),
                "top": top,
                "alerts": [a for a in alerts if a["column"] == col],
                "order": {},
            }
        )
    _orders(columns)
    key = dict(SORTS)
    sort = sort if sort in key else "table"
    needle = str(name or "").strip().lower()
    shown = [c for c in columns if needle in c["name"].lower()]
    shown.sort(key=lambda c: c["order"][sort])
    types = [(t, sum(c["type"] == t for c in columns)) for t in TYPES]
    return {
        "uid": uuid.uuid4().hex[:10],
        "source": data.get("source"),
        "rows": rows,
        "duplicates": _duplicates(data),
        "alerts": alerts,
        "table_alerts": [a for a in alerts if a["column"] is None],
        "columns": shown,
        "total_columns": len(columns),
        "name": needle,
        "sorts": SORTS,
        "sort": sort,
        "types": [(t, n) for t, n in types if n],
        "type": type if type in TYPES else "all",
        "open": len(columns) <= _OPEN_UP_TO,
        "missing_cells": sum(c["nulls"] for c in columns) / (rows * len(columns) or 1),
        "associations": _associations(data),
        "missing": _missing(data, columns),
        "bounds": data.get("error_bounds") or {},
        "standalone": False,
    }


def profile_html(
    data: dict[str, Any], sort: str = "table", type: str = "all", name: str = ""
) -> str:
    """The explorer: overview and alerts first, then the columns (sortable, filterable by
    type, each with its chart, statistics and alerts), associations and missing values.

    It needs no JavaScript: sorting and the type filter are CSS (radio buttons), so a
    saved notebook, nbconvert and GitHub show it and its controls work untrusted.

    >>> "bml-profile" in profile_html(
    ...     {"rows": 0, "duplicates": {"estimate": 0}, "columns": {}, "alerts": []}
    ... )
    True
    """
    return render("profile.html", **profile_context(data, sort, type, name))


def profile_page(data: dict[str, Any], written: str | None = None) -> str:
    """A standalone page: the explorer under a title with the source, rows and ``written``
    time, and a name filter (the page's one small script).

    >>> data = {"source": "a.csv", "rows": 0, "duplicates": {"estimate": 0}, "columns": {},
    ...         "alerts": []}
    >>> "<title>beam-ml profile: a.csv</title>" in profile_page(data, written="today")
    True
    """
    when = written or datetime.now().astimezone().isoformat(timespec="seconds")
    context = {**profile_context(data), "standalone": True}
    return render("profile_page.html", written=when, **context)


# ------------------------------------------------------------------------ plot
def plot_column(data: dict[str, Any], column: str, ax: Any = None) -> Any:
    """Draw one column's histogram (numeric) or its top values (others) with matplotlib."""
    import matplotlib.pyplot as plt

    c = data["columns"][column]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    hist = c.get("histogram")
    if hist and hist.get("counts"):
        edges = hist["edges"]
        widths = [b - a for a, b in itertools.pairwise(edges)] or [1.0]
        ax.bar(edges[:-1], hist["counts"], width=widths, align="edge", edgecolor="white")
        ax.set_xlabel(column)
        ax.set_ylabel("rows")
    else:
        top = c.get("top") or []
        labels = [clip(fmt(v), 40) for v, _ in top][::-1]
        ax.barh(labels, [n for _, n in top][::-1])
        ax.set_xlabel("rows")
    ax.set_title(f"{column} ({c['type']})")
    return ax
