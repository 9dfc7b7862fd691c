"""The terminal progress bar of a ``beam-ml`` command: rows read and time, on stderr.

It follows the pipeline's ``beam_ml/rows_read`` counter through
:func:`beam_ml.runner.watch_progress` (four reports a second while a run lasts)
and redraws one line in place; the line is erased when the command ends, so
what the command prints afterwards starts on a clean line (also between the
runs of a command that runs several pipelines). It is off with
``--quiet`` and whenever stderr is not a terminal (a pipe, a log file, CI).

>>> import io
>>> bar = ProgressBar("profile", io.StringIO())
>>> from beam_ml.runner import RunProgress
>>> bar(RunProgress(336776, 3.25))
>>> bar.stream.getvalue().split("\\r")[-1]
'beam-ml profile: [===>     ] 336,776 rows read, 3.2 s'
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from beam_ml.runner import RunProgress, watch_progress

_WIDTH = 9  # cells of the bar's moving marker


class ProgressBar:
    """Draws :class:`~beam_ml.runner.RunProgress` reports as one line on ``stream``."""

    def __init__(self, label: str, stream: IO[str] | None = None) -> None:
        self.label = label
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self.drawn = 0  # characters of the line now on screen
        self.lock = threading.Lock()

    def __call__(self, progress: RunProgress) -> None:
        if progress.done:  # a run ended: erase, so what the command prints next starts clean
            self.close()
            return
        # The total is unknown while a file is read, so the marker moves with
        # time: a bar that stops moving is a pipeline that stopped.
        step = int(progress.elapsed * 4) % (2 * _WIDTH - 2)
        at = step if step < _WIDTH else 2 * _WIDTH - 2 - step
        marker = "=" * at + ">" + " " * (_WIDTH - 1 - at)
        line = f"beam-ml {self.label}: [{marker}] {progress.text()}"
        with self.lock:
            pad = " " * max(0, self.drawn - len(line))
            self.stream.write(f"\r{line}{pad}")
            self.stream.flush()
            self.drawn = len(line)

    def close(self) -> None:
        """Erase the line (nothing is left behind when the command prints its result)."""
        with self.lock:
            if self.drawn:
                self.stream.write("\r" + " " * self.drawn + "\r")
                self.stream.flush()
                self.drawn = 0


def wanted(args: Any, stream: IO[str] | None = None) -> bool:
    """Whether a command shows the bar: not ``--quiet`` and stderr is a terminal."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return not getattr(args, "quiet", False) and bool(isatty and isatty())


@contextmanager
def progress_bar(label: str, enabled: bool, stream: IO[str] | None = None) -> Iterator[Any]:
    """Show the bar for the runs inside the block when ``enabled``.

    >>> with progress_bar("validate", enabled=False) as bar:
    ...     bar is None
    True
    """
    if not enabled:
        yield None
        return
    bar = ProgressBar(label, stream)
    stop = watch_progress(bar)
    try:
        yield bar
    finally:
        stop()
        bar.close()
