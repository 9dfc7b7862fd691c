"""A validation report: its verdict and checks (failures first, or all), then the report."""

from __future__ import annotations

from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.notebook.session import Session
from beam_ml.notebook.view_base import StepView, _bundle, _ipywidgets, _styled, value_text
from beam_ml.rendering import render_macro


class ValidationView(StepView):
    """A validation report: checks (failures first or all) and the quarantined rows.

    The static view holds the verdict, the checks table and the full report
    (collapsed); the live control switches the table between failures and all checks.
    """

    @classmethod
    def for_step(cls, session: Session, name: str, result: Any) -> ValidationView:
        view = cls(result)
        view.watch(session, name)
        return view

    def __init__(self, report: Any) -> None:
        super().__init__()
        self._set_result(report)
        self.show = "failures"
        self._syncing = False

    def _set_result(self, result: Any) -> None:
        self.result = self.report = result
        self.data = result.to_dict()

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
        self.refresh()
        return self.checks_html()

    def checks_html(self) -> str:
        from beam_ml.validation.report import SHARE_RULES

        rows = []
        for c in self.checks():
            share = c.get("rule") in SHARE_RULES
            rows.append(
                {
                    "passed": bool(c.get("passed")),
                    "rule": str(c.get("rule")),
                    "column": str(c.get("column") or ""),
                    "observed": value_text(c.get("observed"), share=share),
                    "expected": value_text(c.get("expected"), share=share),
                }
            )
        return render_macro("notebook.html", "checks", rows)

    def static_bundle(self) -> dict[str, Any]:
        report = _bundle(self.report)
        title = "all checks" if self.show == "all" else "failed checks"
        body = render_macro(
            "notebook.html",
            "validation",
            self.summary(),
            title,
            self.checks_html(),
            report.get("text/html", ""),
        )
        return {
            "text/plain": f"{self.summary()}\n{report['text/plain']}",
            "text/html": _styled(body),
        }

    def _build(self) -> Any:
        w = _ipywidgets()
        self.filter = w.ToggleButtons(
            options=[("Failures", "failures"), ("All checks", "all")], value=self.show
        )
        self.filter.observe(self._on_filter, names="value")
        return w.HBox([self.filter])

    def _on_filter(self, change: Any) -> None:
        if not self._syncing:
            self.set_filter(change["new"])

    def _sync_controls(self) -> None:
        self._syncing = True
        try:
            self.filter.value = self.show
        finally:
            self._syncing = False

    def summary(self) -> str:
        """One line: the verdict and where the rows went."""
        rows = self.data.get("rows", {})
        verdict = "passed" if self.data.get("passed") else "failed"
        failed = sum(1 for c in self.data.get("checks", []) if not c.get("passed"))
        counts = ", ".join(f"{v:,} {k}" for k, v in rows.items() if isinstance(v, int))
        return f"validation {verdict}: {failed} failed check(s); rows: {counts}"
