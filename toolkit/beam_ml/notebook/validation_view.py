"""A validation report: checks (failures first or all) and the quarantined rows."""

from __future__ import annotations

from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.notebook.session import Session
from beam_ml.notebook.view_base import (
    View,
    _bundle,
    _ipywidgets,
    _styled,
    value_text,
)
from beam_ml.rendering import render_macro


class ValidationView(View):
    """A validation report: checks (failures first or all) and the quarantined rows."""

    @classmethod
    def for_step(cls, session: Session, name: str, result: Any) -> ValidationView:
        return cls(result)

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report
        self.data = report.to_dict()
        self.show = "failures"

    def checks(self) -> list[dict[str, Any]]:
        checks = list(self.data.get("checks", []))
        if self.show == "failures":
            return [c for c in checks if not c.get("passed")]
        return checks

    def set_filter(self, show: str) -> str:
        """Show 'failures' or 'all' checks; returns the table's HTML."""
        if show not in ("failures", "all"):
            raise BeamMLError.expected("'failures' or 'all'", repr(show))
        self.show = show
        if self._widget is not None:
            self.table.value = _styled(self.checks_html())
        return self.checks_html()

    def checks_html(self) -> str:
        rows = [
            {
                "passed": bool(c.get("passed")),
                "rule": str(c.get("rule")),
                "column": str(c.get("column") or ""),
                "observed": value_text(c.get("observed")),
                "expected": value_text(c.get("expected")),
            }
            for c in self.checks()
        ]
        return render_macro("notebook.html", "checks", rows)

    def static_bundle(self) -> dict[str, Any]:
        return _bundle(self.report)

    def _build(self) -> Any:
        w = _ipywidgets()
        summary = w.HTML(value=_styled(render_macro("notebook.html", "line", self.summary())))
        self.filter = w.ToggleButtons(
            options=[("Failures", "failures"), ("All checks", "all")], value=self.show
        )
        self.table = w.HTML(value=_styled(self.checks_html()))
        self.filter.observe(lambda ch: self.set_filter(ch["new"]), names="value")
        report = w.HTML(value=_bundle(self.report).get("text/html", ""))
        details = w.Accordion(children=[report], titles=("Report and quarantined rows",))
        return w.VBox([summary, self.filter, self.table, details])

    def summary(self) -> str:
        """One line: the verdict and where the rows went."""
        rows = self.data.get("rows", {})
        verdict = "passed" if self.data.get("passed") else "failed"
        failed = sum(1 for c in self.data.get("checks", []) if not c.get("passed"))
        counts = ", ".join(f"{v:,} {k}" for k, v in rows.items() if isinstance(v, int))
        return f"validation {verdict}: {failed} failed check(s); rows: {counts}"
