"""Who shows a step: the session tells every view of a step when the step is re-run.

The session is the one source of truth of a step's device, sample and result; the
notebook views (``beam_ml.notebook.view_base.StepView``) subscribe here, so a change
made anywhere (a toggle, ``set_device`` from code, an edited upstream step) shows in
every cell that shows the step.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from typing import Any


class StepWatchers:
    """Listeners told ``{step: result or BeamMLError}`` after each run (a Session mixin)."""

    _watchers: list[Any]

    def __init__(self) -> None:
        self._watchers = []

    def on_change(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``listener({step: result or BeamMLError})`` whenever steps are (re)run.

        The session is the one source of truth of a step's device, sample and
        result: every view of a step listens here, so a change made anywhere (a
        toggle, ``set_device`` from code, an edited upstream step) shows in all of
        them. Bound methods are held weakly (a view nobody shows is not kept
        alive). Returns an unsubscribe.

        >>> s = StepWatchers()
        >>> seen = []
        >>> stop = s.on_change(seen.append)
        >>> s._notify({"a": 1}); stop(); s._notify({"a": 2}); seen
        [{'a': 1}]
        """
        ref: Any = weakref.WeakMethod(listener) if inspect.ismethod(listener) else None
        entry = ref if ref is not None else (lambda: listener)
        self._watchers.append(entry)

        def unsubscribe() -> None:
            if entry in self._watchers:
                self._watchers.remove(entry)

        return unsubscribe

    def _notify(self, changes: dict[str, Any]) -> None:
        for entry in list(self._watchers):
            listener = entry()
            if listener is None:
                self._watchers.remove(entry)  # its view is gone
                continue
            try:
                listener(changes)
            except Exception as error:  # a view that cannot redraw must not fail the step
                logging.getLogger(__name__).warning("a view of %s: %s", list(changes), error)
