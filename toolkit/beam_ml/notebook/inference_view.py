"""The inference preview with its Auto / CPU / GPU toggle and sample-size control.

The step (in the session) is the one source of truth of its device, sample and model:
the controls show it and change it, and every view of the step follows it
(``View.watch``), so ``set_device`` from code moves the toggle of an earlier cell.
"""

from __future__ import annotations

from typing import Any

from beam_ml.errors import BeamMLError, one_line
from beam_ml.notebook.progress_view import ProgressView
from beam_ml.notebook.session import Session
from beam_ml.notebook.view_base import (
    DEVICE_LABELS,
    StepView,
    _bundle,
    _ipywidgets,
    _styled,
)
from beam_ml.rendering import render_macro


class InferenceView(StepView):
    """An inference preview with a device toggle and a sample-size control.

    Changing either re-runs the step through the session (cached when it was
    run before with the same settings) and shows the new result.
    """

    @classmethod
    def for_step(cls, session: Session, name: str, result: Any) -> InferenceView:
        return cls(session, name, result)

    def __init__(self, session: Session, name: str, result: Any = None) -> None:
        super().__init__()
        self.session = session
        self.result = result if result is not None else session.result(name)
        self.progress = ProgressView()
        self._syncing = False
        self.watch(session, name)

    @property
    def step_name(self) -> str:
        assert self.name is not None
        return self.name

    @property
    def device(self) -> str:
        return str(self.session.get(self.step_name).device)

    @property
    def sample(self) -> int:
        return self.session.sample_for(self.step_name)

    def set_device(self, device: str) -> Any:
        """Run the step on ``device`` ('auto' | 'cpu' | 'gpu'); return the new result."""
        return self._rerun(lambda: self.session.set_device(self.step_name, device))

    def set_sample(self, sample: int) -> Any:
        """Run the step on ``sample`` rows; return the new result."""
        return self._rerun(lambda: self.session.set_sample(self.step_name, int(sample)))

    @property
    def model(self) -> str:
        step = self.session.get(self.step_name)
        return str(getattr(step, "model", None) or ", ".join(getattr(step, "models", ())))

    def set_model(self, model: str) -> Any:
        """Run an infer step with another model (``KIND:PATH``); return the new result."""
        from dataclasses import replace

        def change() -> Any:
            step = self.session.get(self.step_name)
            if not hasattr(step, "model"):
                raise BeamMLError.expected(
                    "an infer step to change its model", f"{step.kind} step {self.name!r}"
                )
            sample = self.session._samples.get(self.step_name)
            return self.session.add(replace(step, model=str(model).strip()), sample=sample)

        return self._rerun(change)

    def rerun(self) -> Any:
        """Run the step again with its settings (cached unless its model or data changed)."""
        return self._rerun(lambda: self.session.run(self.step_name))

    def _rerun(self, action: Any) -> Any:
        unsubscribe = self.session.on_progress(self.progress.update)
        self._show_progress(True)
        try:
            self.result = action()  # the session tells every view of the step, this one too
            self.error = None
        except BeamMLError as error:
            self.error = one_line(str(error))
        finally:
            unsubscribe()
            self._show_progress(False)  # the line goes when the run is done: no stale line
        self.refresh()
        return self.result

    def _show_progress(self, shown: bool) -> None:
        if self._widget is not None:
            self.progress.widget.layout.display = None if shown else "none"

    def summary(self) -> str:
        """One line: where the preview ran, on how many rows (and the last error)."""
        r = self.result
        device = getattr(r, "device", "?")
        reason = getattr(r, "device_reason", "")
        text = f"{self.name}: ran on {device} ({reason}), sample {self.sample:,} rows"
        return text + (f" | error: {self.error}" if self.error else "")

    def _status_html(self) -> str:
        """The controls' status: the settings the step has (the banner says the device)."""
        text = f"{self.name}: sample {self.sample:,} rows, device asked {self.device}"
        if self.error:
            text += f" | error: {self.error}"
        return render_macro("notebook.html", "status", text, bool(self.error))

    def static_bundle(self) -> dict[str, Any]:
        inner = _bundle(self.result)
        error = render_macro("notebook.html", "status", self.error, True) if self.error else ""
        return {
            "text/plain": f"{self.summary()}\n{inner['text/plain']}",
            "text/html": _styled(error + inner.get("text/html", "")),
        }

    def _build(self) -> Any:
        w = _ipywidgets()
        self.device_toggle = w.ToggleButtons(
            options=list(DEVICE_LABELS), value=self.device, description="Device"
        )
        self.sample_box = w.BoundedIntText(
            value=self.sample, min=1, max=10_000_000, step=100, description="Sample"
        )
        self.status = w.HTML(value=self._status_html())
        self.rerun_button = w.Button(description="Re-run", icon="refresh")
        self.model_box = w.Text(
            value=self.model,
            description="Model",
            continuous_update=False,  # re-run when the user is done typing
            disabled=not hasattr(self.session.get(self.step_name), "model"),
            layout=w.Layout(width="60%"),
        )
        self.device_toggle.observe(self._on_device, names="value")
        self.sample_box.observe(self._on_sample, names="value")
        self.model_box.observe(self._on_model, names="value")
        self.rerun_button.on_click(lambda _button: self.rerun())
        controls = w.HBox([self.device_toggle, self.sample_box, self.rerun_button])
        self.progress.widget.layout.display = "none"  # shown only while a re-run runs
        return w.VBox([controls, self.model_box, self.progress.widget, self.status])

    # A user's change always runs (a cached result comes back at once): the controls
    # show the session's settings, so no comparison with them can swallow a click.
    def _on_model(self, change: Any) -> None:
        if not self._syncing:
            self.set_model(change["new"])

    def _on_device(self, change: Any) -> None:
        if not self._syncing:
            self.set_device(change["new"])

    def _on_sample(self, change: Any) -> None:
        if not self._syncing:
            self.set_sample(change["new"])

    def _sync_controls(self) -> None:
        """Show the step's current settings and status in the controls (without re-running)."""
        self._syncing = True
        try:
            self.device_toggle.value = self.device
            self.sample_box.value = self.sample
            self.model_box.value = self.model
            self.status.value = self._status_html()
        finally:
            self._syncing = False
