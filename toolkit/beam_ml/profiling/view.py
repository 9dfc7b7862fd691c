"""Text, HTML and matplotlib views of a profile, all derived from ``Profile.to_dict()``.

The HTML needs no JavaScript: histograms are small inline SVGs, so a saved
notebook or a report file renders anywhere.  Every piece of data goes through
``html.escape`` — a column named ``<script>`` shows as text.
"""

from __future__ import annotations

import html
import itertools
import math
from typing import Any

_ORDER = ("empty", "duplicates", "mixed_types", "unhashable", "infinite", "missing", "constant")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
            return f"{value:.{digits}g}"
        return f"{value:,.{digits}g}" if abs(value) >= 1e4 else f"{value:.{digits}g}"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _e(value: Any) -> str:
    return html.escape(_fmt(value), quote=True)


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
        shown = name if len(name) <= width else name[: width - 1] + "…"
        if c["type"] in ("float", "integer"):
            stats = (
                f"mean {_fmt(c['mean'])}  std {_fmt(c['std'])}  "
                f"min {_fmt(c['min'])}  max {_fmt(c['max'])}"
            )
        else:
            top = ", ".join(f"{_fmt(v)} ({n:,})" for v, n in c["top"][:3])
            stats = f"top {top}" if top else ""
            if c["type"] == "datetime":
                stats = f"{_fmt(c['min'])} … {_fmt(c['max'])}"
        lines.append(
            f"  {shown:<{width}}  {c['type']:<11} nulls {c['nulls']:>7,}  "
            f"distinct {c['distinct']:>7,}  {stats}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------ html
def _svg_bars(counts: list[int], width: int = 120, height: int = 28, title: str = "") -> str:
    if not counts or max(counts) <= 0:
        return ""
    top = max(counts)
    w = width / len(counts)
    bars = []
    for i, c in enumerate(counts):
        h = 0 if c <= 0 else max(1.0, height * c / top)
        bars.append(
            f'<rect x="{i * w:.2f}" y="{height - h:.2f}" width="{max(w - 1, 0.5):.2f}" '
            f'height="{h:.2f}"><title>{html.escape(str(c))}</title></rect>'
        )
    return (
        f'<svg class="bml-hist" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{html.escape(title, quote=True)}">{"".join(bars)}</svg>'
    )


def _column_chart(c: dict[str, Any]) -> str:
    hist = c.get("histogram")
    if hist and hist.get("counts"):
        return _svg_bars(hist["counts"], title="histogram")
    top = c.get("top") or []
    if top:
        return _svg_bars([n for _, n in top], title="top values")
    return ""


def _column_stats(c: dict[str, Any]) -> str:
    parts: list[tuple[str, Any]] = []
    if c["type"] in ("float", "integer"):
        q = c.get("quantiles") or {}
        parts += [
            ("mean", c["mean"]),
            ("std", c["std"]),
            ("min", c["min"]),
            ("median", q.get("0.5")),
            ("max", c["max"]),
            ("zeros", c["zeros"]),
        ]
    elif c["type"] == "datetime":
        q = c.get("quantiles") or {}
        parts += [("min", c["min"]), ("median", q.get("0.5")), ("max", c["max"])]
    elif c["type"] == "boolean":
        parts += [("share true", c["mean"])]
    if c.get("lengths"):
        ln = c["lengths"]
        parts += [("length", f"{ln['min']}–{ln['max']} (mean {_fmt(ln['mean'], 3)})")]
    cells = " ".join(
        f'<span class="bml-stat"><span class="bml-muted">{html.escape(k)}</span> {_e(v)}</span>'
        for k, v in parts
    )
    top = c.get("top") or []
    if top and c["type"] not in ("float",):
        items = ", ".join(f"{_e(v)} <span class='bml-muted'>({n:,})</span>" for v, n in top[:5])
        cells += f'<div class="bml-top">{items}</div>'
    return cells


def _css() -> str:
    from beam_ml.assets import css

    return css("base.css", "profile.css")


def profile_html(data: dict[str, Any], standalone: bool = False) -> str:
    """The HTML view: overview, alerts first, one row per column with a histogram."""
    cols = data["columns"]
    rows = data["rows"]
    alerts = _sorted_alerts(data["alerts"])
    out = [f"<style>{_css()}</style>", '<div class="bml bml-profile">']
    out.append(
        '<div class="bml-overview">'
        f"<b>{rows:,}</b> rows · <b>{len(cols)}</b> columns · "
        f"{html.escape(_duplicates(data))} · "
        f'<span class="{"bml-bad" if alerts else "bml-good"}">{len(alerts)} alerts</span></div>'
    )
    if alerts:
        out.append('<ul class="bml-alerts">')
        for a in alerts:
            where = f"<code>{html.escape(a['column'])}</code> " if a["column"] is not None else ""
            out.append(
                f'<li><span class="bml-kind bml-bad">{html.escape(a["kind"])}</span> '
                f"{where}{html.escape(a['detail'])}</li>"
            )
        out.append("</ul>")
    out.append(
        '<table class="bml-columns"><thead><tr><th>column</th><th>type</th><th>missing</th>'
        "<th>distinct</th><th>distribution</th><th>statistics</th></tr></thead><tbody>"
    )
    for name, c in cols.items():
        share = c["nulls"] / rows if rows else 0.0
        miss_cls = "bml-bad" if share > 0.2 else ""
        out.append(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(c['type'])}</td>"
            f'<td class="{miss_cls}">{c["nulls"]:,} ({share:.1%})</td><td>{c["distinct"]:,}</td>'
            f"<td>{_column_chart(c)}</td><td>{_column_stats(c)}</td></tr>"
        )
    out.append("</tbody></table>")
    eb = data.get("error_bounds") or {}
    if eb:
        out.append(
            '<div class="bml-muted bml-bounds">sketch error bounds: quantile rank ±'
            f"{eb.get('kll_rank', 0):.2%}, distinct counts ±{eb.get('hll_relative', 0):.2%}, "
            f"top-value counts ±{eb.get('frequent_items', 0):.2%} of the column's count</div>"
        )
    out.append("</div>")
    body = "\n".join(out)
    if not standalone:
        return body
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>beam-ml profile</title></head><body>\n" + body + "\n</body></html>\n"
    )


# ------------------------------------------------------------------------ plot
def plot_column(data: dict[str, Any], column: str, ax: Any = None) -> Any:
    """Draw one column's histogram (numeric) or its top values (others)."""
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
        labels = [_fmt(v) for v, _ in top][::-1]
        ax.barh(labels, [n for _, n in top][::-1])
        ax.set_xlabel("rows")
    ax.set_title(f"{column} ({c['type']})")
    return ax
