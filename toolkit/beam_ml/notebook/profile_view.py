"""The profile explorer in a notebook: the static explorer plus a live name filter.

The explorer's HTML (``beam_ml.profiling.view.profile_html``) sorts and filters by type
with CSS alone, so it works in a saved notebook too; the live control adds the name
filter, re-rendering the same HTML in place. ``explore()`` sets all three from code.
"""

from __future__ import annotations

from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.notebook.session import Session
from beam_ml.notebook.view_base import StepView, _ipywidgets
from beam_ml.rendering import render_macro


def histogram_svg(column: str, data: dict[str, Any], width: int = 360, height: int = 120) -> str:
    """The chart of one column of ``Profile.to_dict()``: the profile view's own chart.

    Numeric columns show their histogram; others their most frequent values.
    """
    from beam_ml.profiling.view import column_chart
    from beam_ml.rendering import render_string

    bars = column_chart(column, data, width=width, height=height)
    if bars is None:
        return render_string("<p>{{ column }}: no values to plot</p>", column=column)
    macro = "bar_chart" if bars["kind"] == "hist" else "hbar_chart"
    return render_macro("charts.html", macro, bars)


class ProfileView(StepView):
    """A profile explorer: sorted and filtered by type in the page, by name live.

    >>> view = ProfileView(bml.profile("penguins.csv"))      # doctest: +SKIP
    >>> html = view.explore(sort="missing", name="bill")     # doctest: +SKIP
    """

    @classmethod
    def for_step(cls, session: Session, name: str, result: Any) -> ProfileView:
        view = cls(result)
        view.watch(session, name)
        return view

    def __init__(
        self, profile: Any, sort: str = "table", type: str = "all", name: str = ""
    ) -> None:
        super().__init__()
        self._set_result(profile)
        self._syncing = False
        self.sort, self.type, self.filter = "table", "all", ""
        self.explore(sort=sort, type=type, name=name)

    def _set_result(self, result: Any) -> None:
        self.result = self.profile = result
        self.data = result.to_dict()

    @property
    def columns(self) -> list[str]:
        return list(self.data["columns"])

    def types(self) -> list[str]:
        return sorted({c["type"] for c in self.data["columns"].values()})

    def explore(
        self, sort: str | None = None, type: str | None = None, name: str | None = None
    ) -> str:
        """Sort the columns (table, name, missing, distinct, alerts), keep one ``type``
        ('all' for every type) and the columns whose name contains ``name``; the HTML."""
        from beam_ml.profiling.view import SORTS

        sorts = [key for key, _ in SORTS]
        if sort is not None and sort not in sorts:
            raise BeamMLError.expected("a sort: " + ", ".join(sorts), repr(sort))
        if type is not None and type != "all" and type not in self.types():
            raise BeamMLError.expected(
                "a column type of the profile: all, " + ", ".join(self.types()), repr(type)
            )
        self.sort = self.sort if sort is None else sort
        self.type = self.type if type is None else type
        self.filter = self.filter if name is None else str(name)
        self.refresh()
        return self.html()

    def shown(self) -> list[str]:
        """The columns the explorer lists now, in their order (sort, type and name applied)."""
        from beam_ml.profiling.view import profile_context

        ctx = profile_context(self.data, self.sort, self.type, self.filter)
        return [c["name"] for c in ctx["columns"] if self.type in ("all", c["type"])]

    def html(self) -> str:
        from beam_ml.profiling.view import profile_html

        return profile_html(self.data, self.sort, self.type, self.filter)

    def static_bundle(self) -> dict[str, Any]:
        return {"text/plain": str(self.profile), "text/html": self.html()}

    def _build(self) -> Any:
        # Sorting and the type filter are the explorer's own CSS controls (they work in a
        # saved notebook too); the live control adds what CSS cannot: the name filter.
        w = _ipywidgets()
        self.name_box = w.Text(
            value=self.filter,
            placeholder="part of a column name",
            description="Columns",
            layout=w.Layout(width="40%"),
        )
        self.name_box.observe(lambda ch: self._user(name=ch["new"]), names="value")
        return w.HBox([self.name_box])

    def _user(self, **change: Any) -> None:
        if not self._syncing:
            self.explore(**change)

    def _sync_controls(self) -> None:
        if self._syncing:
            return
        self._syncing = True  # setting the box fires its observer: not a user's change
        try:
            self.name_box.value = self.filter
        finally:
            self._syncing = False
