"""A profile with a column picker and the picked column's chart and statistics."""

from __future__ import annotations

import html
import math
from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.notebook.session import Session
from beam_ml.notebook.view_base import (
    View,
    _bundle,
    _ipywidgets,
    _styled,
)
from beam_ml.rendering import render_macro


def histogram_svg(column: str, data: dict[str, Any], width: int = 360, height: int = 120) -> str:
    """The chart of one column of ``Profile.to_dict()``: the profile view's own bar chart.

    Numeric columns show their histogram; others their most frequent values.
    """
    from beam_ml.profiling.view import column_chart
    from beam_ml.rendering import render, render_string

    bars = column_chart(column, data, width=width, height=height)
    if bars is None:
        return render_string("<p>{{ column }}: no values to plot</p>", column=column)
    return render("charts.html", bars=bars)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stat(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


class ProfileView(View):
    """A profile with a column picker and the picked column's histogram and statistics."""

    STATS = ("type", "count", "nulls", "distinct", "mean", "std", "min", "max")

    @classmethod
    def for_step(cls, session: Session, name: str, result: Any) -> ProfileView:
        return cls(result)

    def __init__(self, profile: Any, column: str | None = None) -> None:
        super().__init__()
        self.profile = profile
        self.data = profile.to_dict()
        names = list(self.data["columns"])
        self.column = column if column in names else (names[0] if names else None)

    @property
    def columns(self) -> list[str]:
        return list(self.data["columns"])

    def select(self, column: str) -> str:
        """Show ``column``; returns the HTML of its chart and statistics."""
        if column not in self.data["columns"]:
            raise BeamMLError.expected(
                "a column of the profile", repr(column), "pick one of " + ", ".join(self.columns)
            )
        self.column = column
        if self._widget is not None:
            self.picker.value = column
            self.detail.value = self.column_html()
        return self.column_html()

    def column_html(self) -> str:
        if self.column is None:
            return render_macro("notebook.html", "line", "no columns")
        c = self.data["columns"][self.column]
        stats = [(s, _stat(c.get(s))) for s in self.STATS if s in c]
        chart = histogram_svg(self.column, c)
        return render_macro("notebook.html", "column", self.column, chart, stats)

    def static_bundle(self) -> dict[str, Any]:
        return _bundle(self.profile)

    def _build(self) -> Any:
        w = _ipywidgets()
        self.picker = w.Dropdown(options=self.columns, value=self.column, description="Column")
        self.detail = w.HTML(value=_styled(self.column_html()))
        self.picker.observe(lambda ch: self.select(ch["new"]), names="value")
        summary = w.HTML(value=_bundle(self.profile).get("text/html", ""))
        return w.VBox(
            [self.picker, self.detail, w.Accordion(children=[summary], titles=("Report",))]
        )
