"""The progress line of a running step, shown in the cell that runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from beam_ml.notebook.session import Progress, Session
from beam_ml.notebook.view_base import (
    View,
    _ipywidgets,
    _styled,
)
from beam_ml.rendering import render_macro


class ProgressView(View):
    """Progress while a step runs: the stage, rows processed and time elapsed.

    With ``tick`` (seconds), the elapsed time of a running stage counts up in
    the widget from a background thread, since the kernel is busy running Beam.

    >>> v = ProgressView()
    >>> v.update(Progress("heavy_profile", "profile", "started", 344, 0.0))
    >>> v.text
    'profile heavy_profile: started, 344 rows, 0.0 s'
    """

    def __init__(self, clock: Any = time.perf_counter, tick: float | None = None) -> None:
        super().__init__()
        self.events: list[Progress] = []
        self.clock = clock
        self.tick = tick
        self._since = 0.0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def text(self) -> str:
        return self.events[-1].text() if self.events else "waiting"

    @property
    def running(self) -> bool:
        return bool(self.events) and self.events[-1].stage == "started"

    def update(self, event: Progress) -> None:
        self.events.append(event)
        self._stop_ticker()
        if self.running:
            self._since = self.clock() - event.elapsed
            if self.tick and self._widget is not None:
                self._stop = threading.Event()
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()
        self._render()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            self._render()

    def _stop_ticker(self) -> None:
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        self._ticker = None

    def _render(self) -> None:
        if self._widget is not None:
            self._widget.value = self._html()

    def elapsed(self) -> float:
        if not self.events:
            return 0.0
        return self.clock() - self._since if self.running else self.events[-1].elapsed

    def _html(self) -> str:
        if not self.events:
            return render_macro("notebook.html", "line", "waiting", "muted")
        e = self.events[-1]
        running = e.stage == "started"
        rows = "–" if e.rows is None else f"{e.rows:,}"
        cls = "bad" if e.stage == "failed" else ("muted" if running else "good")
        stage = "running" if running else e.stage
        seconds = f"{self.elapsed():.1f}"
        return render_macro("notebook.html", "progress", e.kind, e.step, stage, cls, rows, seconds)

    def _build(self) -> Any:
        return _ipywidgets().HTML(value=self._html())

    def static_bundle(self) -> dict[str, Any]:
        return {"text/plain": self.text, "text/html": _styled(self._html())}


@contextmanager
def progress_display(session: Session) -> Iterator[ProgressView]:
    """Show a progress line while ``session`` runs Beam steps in this block.

    Nothing is shown for cached results and for the pandas-speed previews
    (read, transform); at the end the line says what ran and how long it took.
    """
    view = ProgressView(tick=0.5)
    handle: dict[str, Any] = {}

    def listen(event: Progress) -> None:
        beam_stage = event.beam and event.stage == "started"
        if beam_stage and "display" not in handle:
            from IPython.display import display

            handle["display"] = display(view, display_id=True)  # builds the widget first
        view.update(event)

    unsubscribe = session.on_progress(listen)
    try:
        yield view
    finally:
        unsubscribe()
        view._stop_ticker()
        if "display" in handle and handle["display"] is not None:
            handle["display"].update(view)
