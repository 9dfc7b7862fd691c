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
from datetime import datetime
from typing import Any

from beam_ml.rendering import bars_data, clip, fmt, render

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
def column_chart(
    name: str, c: dict[str, Any], width: int = _CHART_WIDTH, height: int = _CHART_HEIGHT
) -> dict[str, Any] | None:
    """The column's bar chart: its histogram, else its top values (None if empty).

    The one chart of a column, for the profile view and the notebook's explorer.
    """
    hist = c.get("histogram")
    if hist and hist.get("counts") and max(hist["counts"]) > 0:
        edges, counts = hist["edges"], hist["counts"]
        labels = [f"{fmt(a)} to {fmt(b)}" for a, b in itertools.pairwise(edges)]
        return bars_data(
            counts,
            labels,
            axis=(fmt(edges[0]), fmt(edges[-1])),
            total=sum(counts),
            title=f"histogram of {name}",
            width=width,
            height=height,
        )
    top = c.get("top") or []
    if top and max(n for _, n in top) > 0:
        labels = [clip(fmt(v), 40) for v, _ in top]
        return bars_data(
            [n for _, n in top],
            labels,
            total=c["count"] or None,
            title=f"top values of {name}",
            width=width,
            height=height,
        )
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


def profile_context(data: dict[str, Any]) -> dict[str, Any]:
    """What ``profile.html`` shows, from ``Profile.to_dict()``.

    >>> import pandas as pd
    >>> from beam_ml.profiling import Profile
    >>> ctx = profile_context(Profile.from_frame(pd.DataFrame({"s": ["a", "a", "b"]})).to_dict())
    >>> ctx["columns"][0]["top"], ctx["columns"][0]["chart"]["bars"][0]["tip"]
    ([('a', 2, 0.6666666666666666), ('b', 1, 0.3333333333333333)], 'a: 2 (66.7 %)')
    """
    rows = data["rows"]
    columns = []
    for name, c in data["columns"].items():
        share = c["nulls"] / rows if rows else 0.0
        count = c["count"] or 1
        top = [] if c["type"] == "float" else [(v, n, n / count) for v, n in c["top"][:5]]
        columns.append(
            {
                "name": name,
                "type": c["type"],
                "nulls": c["nulls"],
                "missing": share,
                "missing_bad": share > _MISSING_BAD,
                "distinct": c["distinct"],
                "chart": column_chart(name, c),
                "stats": _stats(c),
                "top": top,
            }
        )
    return {
        "source": data.get("source"),
        "rows": rows,
        "duplicates": _duplicates(data),
        "alerts": _sorted_alerts(data["alerts"]),
        "columns": columns,
        "bounds": data.get("error_bounds") or {},
    }


def profile_html(data: dict[str, Any]) -> str:
    """The notebook view: overview, alerts first, one row per column with its chart.

    >>> "bml-profile" in profile_html(
    ...     {"rows": 0, "duplicates": {"estimate": 0}, "columns": {}, "alerts": []}
    ... )
    True
    """
    return render("profile.html", **profile_context(data))


def profile_page(data: dict[str, Any], written: str | None = None) -> str:
    """A standalone page: the view under a title with the source, rows and ``written`` time.

    >>> data = {"source": "a.csv", "rows": 0, "duplicates": {"estimate": 0}, "columns": {},
    ...         "alerts": []}
    >>> "<title>beam-ml profile: a.csv</title>" in profile_page(data, written="today")
    True
    """
    when = written or datetime.now().astimezone().isoformat(timespec="seconds")
    return render("profile_page.html", written=when, **profile_context(data))


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
