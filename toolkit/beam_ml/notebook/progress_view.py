"""The progress line of a running step, shown in the cell that runs it, gone when it ends.

While Beam runs, the line counts up the elapsed time and the rows read so far
(``beam_ml.runner.current_progress``: the ``rows_read`` counter of the run in
progress) twice a second. When the step is done the line is removed; when the
kernel is interrupted the run stops and the cell says so in one line.
"""

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
            self.start_ticking()
        self._render()

    def start_ticking(self) -> None:
        """Redraw every ``tick`` seconds while a stage runs (once the widget is shown)."""
        if self.running and self.tick and self._widget is not None and self._ticker is None:
            self._stop = threading.Event()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

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

    def rows(self) -> int | None:
        """Rows of the running step: read so far by its pipeline, else what it was given."""
        if not self.events:
            return None
        e = self.events[-1]
        if e.stage == "started":
            from beam_ml.runner import current_progress

            live = current_progress()
            if live is not None and live.rows:
                return live.rows
        return e.rows

    def _html(self) -> str:
        if not self.events:
            return render_macro("notebook.html", "line", "waiting", "muted")
        e = self.events[-1]
        running = e.stage == "started"
        count = self.rows()
        rows = "–" if count is None else f"{count:,}"
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
    (read, transform); the line is removed when the block ends. Ctrl-C (the
    notebook's interrupt) becomes one line, a ``UsageError`` that says how far
    the run got, instead of a traceback.
    """
    from IPython.core.error import UsageError

    view = ProgressView(tick=0.5)
    handle: dict[str, Any] = {}

    def listen(event: Progress) -> None:
        view.update(event)  # first: what is displayed already says what runs, not "waiting"
        beam_stage = event.beam and event.stage == "started"
        if beam_stage and "display" not in handle:
            from IPython.display import display

            handle["display"] = display(view, display_id=True)  # builds the widget
            view.start_ticking()

    unsubscribe = session.on_progress(listen)
    try:
        yield view
    except KeyboardInterrupt as error:
        said = str(error) or "interrupted"
        if not said.startswith("interrupted"):
            said = f"interrupted ({said})"
        raise UsageError(f"%beam_ml: {said}") from None
    finally:
        unsubscribe()
        view._stop_ticker()
        if "display" in handle and handle["display"] is not None:
            # done: the line goes (a stale "running" or "waiting" line must not stay)
            handle["display"].update({"text/plain": ""}, raw=True)
