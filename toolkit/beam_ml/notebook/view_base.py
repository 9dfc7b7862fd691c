"""What every notebook view shares: a step's result, its static HTML, and live controls.

A view shows in a notebook as two outputs (``View._ipython_display_``):

1. the **controls** (an ipywidgets box: toggles, boxes), when the view has any;
2. the **static view**: plain ``text/html`` + ``text/plain`` rendered from the result's
   templates, displayed with a ``display_id``.

The static output is what a saved notebook, nbconvert and GitHub show without a kernel:
it never depends on a widget model. When a control changes the step, or the step changes
from anywhere else (``Session.set_device`` from code, an edited upstream step), the session
tells every view of that step (``Session.on_change``); each re-syncs its controls and
updates its static output in place, in whichever cell it was shown.

ipywidgets is imported lazily: these modules import without it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from beam_ml.errors import one_line

DEVICE_LABELS = (("Auto", "auto"), ("CPU", "cpu"), ("GPU", "gpu"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _ipywidgets() -> Any:
    import ipywidgets

    return ipywidgets


def css() -> str:
    """The CSS of the notebook views (``widgets/notebook.css``, shipped as beam_ml.assets)."""
    from beam_ml.assets import css as read_css

    return read_css("notebook.css")


def _styled(body: str) -> str:
    """``body`` (already rendered HTML) inside the notebook views' styled container."""
    from beam_ml.rendering import render_macro

    return render_macro("notebook.html", "view", body)


def _bundle(obj: Any) -> dict[str, Any]:
    """The static mime bundle of a result (text/plain always)."""
    method = getattr(obj, "_repr_mimebundle_", None)
    bundle = dict(method()) if method else {}
    if isinstance(obj, pd.DataFrame):
        bundle = {"text/plain": repr(obj), "text/html": obj.to_html(max_rows=20)}
    bundle.setdefault("text/plain", repr(obj))
    return bundle


class View:
    """Base: a result, its static bundle, and (lazily) an ipywidgets box.

    Its bundle holds both the widget and the static HTML (a progress line, whose
    widget is its whole view). Views of a step's result are ``StepView`` objects.
    """

    def __init__(self) -> None:
        self._widget: Any = None

    @property
    def widget(self) -> Any:
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        raise NotImplementedError

    def static_bundle(self) -> dict[str, Any]:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget for live frontends, plus static HTML and text for everything else."""
        bundle = self.static_bundle()
        try:
            live = self.widget._repr_mimebundle_()
        except ImportError:
            return bundle
        if live and WIDGET_MIME in live:
            bundle[WIDGET_MIME] = live[WIDGET_MIME]
        return bundle


class StepView(View):
    """The view of a step's result: controls (lazily) apart from its static HTML.

    A subclass defines ``static_bundle()`` and, when it has controls, ``_build()``
    (the ipywidgets box) and ``_sync_controls()``. ``watch(session, name)`` makes it
    follow step ``name``: any change of the step re-syncs it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._displays: list[Any] = []  # handles of the static outputs showing this view
        self.name: str | None = None
        self.error: str | None = None
        self._unwatch: Any = None

    def _build(self) -> Any:
        return None  # no controls: the static view is the whole view

    def _sync_controls(self) -> None:
        """Show the step's current settings in the controls (without re-running)."""

    # ------------------------------------------------------------------ following a step
    def watch(self, session: Any, name: str) -> None:
        """Follow step ``name`` of ``session``: re-sync whenever it changes."""
        self.name = name
        if self._unwatch is None:
            self._unwatch = session.on_change(self._changed)

    def retire(self) -> None:
        """Stop following the step and close the controls (the cell that showed this view
        was run again: its output was replaced, and redrawing it would cost every run)."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        close = getattr(self._widget, "close", None)
        if callable(close):
            close()
        self._displays.clear()

    def _changed(self, changes: dict[str, Any]) -> None:
        """The session recomputed steps: ``{name: result or BeamMLError}``."""
        if self.name not in changes:
            return
        value = changes[self.name]
        if isinstance(value, BaseException):
            self.error = one_line(str(value))
        else:
            self.error = None
            self._set_result(value)
        self.refresh()

    def _set_result(self, result: Any) -> None:
        self.result = result

    def refresh(self) -> None:
        """Re-sync the controls and update every static output of this view in place."""
        if self._widget is not None:
            self._sync_controls()
        if self._displays:
            bundle = self.static_bundle()
            for handle in self._displays:
                handle.update(bundle, raw=True)

    # ------------------------------------------------------------------ showing
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The static view: what every frontend shows, with or without a kernel."""
        return self.static_bundle()

    def _ipython_display_(self) -> None:
        """Controls (when any) then the static view, as two outputs of the cell."""
        from IPython.display import display

        controls = self.controls_bundle()
        if controls is not None:
            display(controls, raw=True)
        handle = display(self.static_bundle(), raw=True, display_id=True)
        if handle is not None:
            self._displays.append(handle)

    def controls_bundle(self) -> dict[str, Any] | None:
        """The controls as a widget output (None without controls or without ipywidgets).

        Its text/plain says what the controls are, for frontends without widgets.
        """
        try:
            widget = self.widget
        except ImportError:
            return None
        if widget is None:
            return None
        live = widget._repr_mimebundle_() or {}
        if WIDGET_MIME not in live:
            return None
        what = f" of {self.name}" if self.name else ""
        text = f"(controls{what}: they work while the notebook's kernel runs)"
        return {"text/plain": text, WIDGET_MIME: live[WIDGET_MIME]}


def value_text(value: Any, limit: int = 80, share: bool = False) -> str:
    """A check's observed/expected value, short: numbers to 4 significant digits,
    shares of rows (``share``, or keys naming a share or rate) as percentages."""
    from beam_ml.validation.display import readable

    return readable(value, limit=limit, share=share)
