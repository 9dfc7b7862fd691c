"""The streaming options of a read step: ``--watch``, ``--window``, ``--event-time``.

``%beam_ml read orders 'incoming/*.csv' --watch --window 60s`` previews the files
present now as a sample and marks the step as streamed: an export with
``--streaming`` watches its pattern for new files, in windows of 60 s. The
preview says which windows the sample's rows fall in (by event time, or by the
time each file was last written) in ``frame.attrs["beam_ml_windows"]``.

>>> import argparse
>>> stream_options(argparse.Namespace(watch=True, window="30s", event_time=None))
{'watch': True, 'window': '30s'}
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from typing import Any

from beam_ml.errors import BeamMLError

DEFAULT_WINDOW = "60s"
WINDOWS_ATTR = "beam_ml_windows"


def add_stream_options(parser: argparse.ArgumentParser) -> None:
    """``--watch``, ``--window DURATION``, ``--event-time COL`` of ``%beam_ml read``."""
    parser.add_argument("--watch", action="store_true")
    parser.add_argument("--window")
    parser.add_argument("--event-time", dest="event_time")


def stream_options(options: argparse.Namespace) -> dict[str, Any]:
    """The streaming fields a parsed read form gives (only those set)."""
    out: dict[str, Any] = {}
    if getattr(options, "watch", False):
        out["watch"] = True
    for name in ("window", "event_time"):
        if getattr(options, name, None) is not None:
            out[name] = getattr(options, name)
    return out


def check_stream_fields(step: Any) -> None:
    """A window or event time only with ``watch``; the window a duration."""
    from beam_ml.streaming.windows import seconds

    if not isinstance(step.watch, bool):
        object.__setattr__(step, "watch", bool(step.watch))
    if (step.window is not None or step.event_time is not None) and not step.watch:
        raise BeamMLError.expected(
            "--window / --event-time with --watch", "no --watch", "add --watch"
        )
    if step.window is not None:
        seconds(step.window, "window")
    if step.event_time is not None and (
        not isinstance(step.event_time, str) or not step.event_time
    ):
        raise BeamMLError.expected("an event-time column name", repr(step.event_time))


def note_windows(step: Any, frame: Any) -> list[dict[str, Any]]:
    """Record in ``frame.attrs`` which windows the sample's rows fall in (and return it).

    By event time when the step has one, else by each file's modification time
    (the processing time at which a watching pipeline would have found it).
    """
    from beam_ml.streaming import StreamSettings, event_seconds, seconds, window_name

    settings = StreamSettings(window=seconds(step.window or DEFAULT_WINDOW, "window"))
    if step.event_time is not None:
        if step.event_time not in frame.columns:
            raise BeamMLError.expected(
                f"the event-time column {step.event_time!r}",
                f"columns {list(frame.columns)[:10]}",
                "pass --event-time with a column of the files",
            )
        times = [t for t in event_seconds(frame[step.event_time]) if t == t]
        counts = Counter(settings.window_start(t) for t in times)
        by = f"event time ({step.event_time})"
    else:
        import glob

        counts = Counter()
        for path in sorted(glob.glob(step.path)) or [step.path]:
            if os.path.isfile(path):
                counts[settings.window_start(os.path.getmtime(path))] += 1
        by = "file modification time"
    windows = [{"window": window_name(start), "count": counts[start]} for start in sorted(counts)]
    frame.attrs[WINDOWS_ATTR] = {
        "by": by,
        "size": step.window or DEFAULT_WINDOW,
        "windows": windows,
    }
    return windows


def windows_caption(frame: Any) -> str | None:
    """One line naming the windows a watched read's preview falls in (None if not watched).

    >>> import pandas as pd
    >>> f = pd.DataFrame({"x": [1]})
    >>> f.attrs[WINDOWS_ATTR] = {"by": "event time (ts)", "size": "60s",
    ...     "windows": [{"window": "window=1970-01-01T00:00:00.000Z", "count": 1}]}
    >>> windows_caption(f)
    'streamed in windows of 60s by event time (ts): window=1970-01-01T00:00:00.000Z (1 rows)'
    """
    info = getattr(frame, "attrs", {}).get(WINDOWS_ATTR)
    if not info:
        return None
    unit = "rows" if info["by"].startswith("event") else "files"
    shown = ", ".join(f"{w['window']} ({w['count']} {unit})" for w in info["windows"][:6])
    more = f" (+{len(info['windows']) - 6} more)" if len(info["windows"]) > 6 else ""
    return f"streamed in windows of {info['size']} by {info['by']}: {shown or 'none yet'}{more}"
