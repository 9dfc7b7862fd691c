"""One way to render a result: Jinja2 templates (autoescaped) over its ``to_dict()``.

Every view of the engine and the notebook renders through :func:`render`: the
templates and CSS live in the top-level ``widgets/`` folder (shipped as
``beam_ml.assets``), so all HTML escapes data — a column named ``<script>``
shows as text — and looks the same everywhere. :class:`HtmlRepr` gives a result
``_repr_mimebundle_`` with ``text/plain`` and ``text/html`` from its
``_text()`` and ``to_html()``.

>>> render_string("<b>{{ name }}</b>", name="<script>")
'<b>&lt;script&gt;</b>'
>>> fmt(3.14159265), pct(0.1194)
('3.142', '11.9 %')
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

CSS_PREFIX = "bml"


def fmt(value: Any, digits: int = 4) -> str:
    """A number to ``digits`` significant digits (ints with thousands separators).

    >>> fmt(1234567), fmt(0.000123456), fmt(None), fmt(float("inf")), fmt([0.123456, 1.0])
    ('1,234,567', '0.0001235', '–', 'inf', '[0.1235, 1]')
    """
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, list | tuple | np.ndarray):
        # a row of scores (a model's probabilities): each to 4 digits, a few shown
        items = [fmt(v, digits) for v in list(value)[:8]]
        return "[" + ", ".join(items) + (", …" if len(value) > 8 else "") + "]"
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.{digits}g}"
    return str(value)


def pct(share: Any, digits: int = 3) -> str:
    """A share in [0, 1] as a percentage to ``digits`` significant digits.

    >>> pct(0.5), pct(0.0), pct(None)
    ('50 %', '0 %', '–')
    """
    if share is None:
        return "–"
    value = float(share) * 100
    if value == 0:
        return "0 %"
    return f"{value:.{digits}g} %"


def clip(text: Any, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (the one clipping helper).

    >>> clip("abcdef", 4)
    'abc…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def environment() -> Any:
    """The Jinja2 environment over ``beam_ml.assets/templates`` (autoescape on)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("beam_ml.assets", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(fmt=fmt, pct=pct, clip=clip)
    env.globals.update(prefix=CSS_PREFIX, css=_css)
    return env


def _css(*names: str) -> str:
    from beam_ml.assets import css

    return css(*names)


def render(template: str, **context: Any) -> str:
    """Render ``widgets/templates/<template>`` with ``context``.

    >>> "bml-bars" in render("charts.html", bars=bars_data([1, 2], ["a", "b"]))
    True
    """
    return str(environment().get_template(template).render(**context))


def render_macro(template: str, name: str, *args: Any, **kwargs: Any) -> str:
    """Call macro ``name`` of a template (a view made of small pieces, like the notebook's).

    >>> render_macro("notebook.html", "line", "<b>")
    '<p>&lt;b&gt;</p>'
    """
    module = environment().get_template(template).module
    return str(getattr(module, name)(*args, **kwargs))


def render_string(source: str, **context: Any) -> str:
    """Render a template given as text (same environment, same escaping)."""
    return str(environment().from_string(source).render(**context))


def page(title: str, body: str) -> str:
    """A standalone HTML page: ``title`` (escaped) around a view's rendered ``body``."""
    return render("page.html", title=title, body=body)


def bars_data(
    counts: list[int],
    labels: list[str],
    *,
    axis: tuple[str, ...] | None = None,
    total: int | None = None,
    title: str = "",
    width: int = 360,
    height: int = 120,
) -> dict[str, Any]:
    """The geometry of a histogram for ``charts.html``: bars, a y axis of counts, an x axis.

    ``labels`` name each bar (its range); ``total`` turns counts into percentages
    in the tooltips; ``axis`` labels the x axis (its two ends, or ends and middle).
    The y axis shows 0, half the peak and the peak count, with a dashed grid line.

    >>> d = bars_data([1, 3], ["x", "y"], total=4)
    >>> [b["tip"] for b in d["bars"]], d["ymax"], d["ymid"]
    (['x: 1 (25 %)', 'y: 3 (75 %)'], '3', '1.5')
    """
    peak = max([*counts, 1])
    n = max(len(counts), 1)
    left, bottom = 40, 16  # room for the y axis labels and the x axis labels
    plot_w, plot_h = width - left, height - bottom - 6
    step = plot_w / n
    bars = []
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = 0.0 if count == 0 else max(1.0, plot_h * count / peak)
        share = f" ({pct(count / total)})" if total else ""
        bars.append(
            {
                "x": round(left + i * step, 1),
                "y": round(6 + plot_h - h, 1),
                "w": round(max(step - 1, 1), 1),
                "h": round(h, 1),
                "tip": f"{label}: {fmt(count)}{share}",
            }
        )
    return {
        "bars": bars,
        "width": width,
        "height": height,
        "left": left,
        "top": 6,
        "base": 6 + plot_h,
        "mid": round(6 + plot_h / 2, 1),
        "ymax": fmt(peak),
        "ymid": fmt(peak / 2),
        "axis": axis,
        "title": title,
    }


def hbars_data(
    values: list[tuple[str, int]], total: int, *, title: str = "", width: int = 360
) -> dict[str, Any]:
    """The geometry of category bars for ``charts.html``: one row per value, its count and %.

    >>> d = hbars_data([("a", 3), ("b", 1)], total=4)
    >>> [(r["label"], r["value"]) for r in d["rows"]]
    [('a', '3 (75 %)'), ('b', '1 (25 %)')]
    """
    row_h, label_w, value_w = 16, 110, 86
    peak = max([n for _, n in values] or [1]) or 1
    plot_w = width - label_w - value_w
    rows = []
    for i, (label, count) in enumerate(values):
        share = pct(count / total) if total else ""
        rows.append(
            {
                "y": i * row_h,
                "ty": i * row_h + 11,
                "w": round(max(plot_w * count / peak, 1.0 if count else 0.0), 1),
                "label": clip(label, 18),
                "value": f"{fmt(count)} ({share})" if share else fmt(count),
                "tip": f"{label}: {fmt(count)}" + (f" ({share})" if share else ""),
            }
        )
    height = max(len(rows), 1) * row_h + 2
    return {
        "rows": rows,
        "width": width,
        "height": height,
        "left": label_w,
        "vx": label_w + plot_w + 4,
        "base": height,
        "title": title,
    }


class HtmlRepr:
    """Mixin: ``_repr_mimebundle_`` from ``_text()`` and ``to_html()``, and ``save_html``.

    A subclass defines ``to_dict()``, ``_text()`` (plain text) and ``to_html()``.
    """

    def _text(self) -> str:
        raise NotImplementedError

    def to_html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self._text(), "text/html": self.to_html()}

    def __repr__(self) -> str:
        return self._text()
