"""Durations, windows and the settings of a streaming run (:class:`StreamSettings`).

A duration is written as the CLI takes it: ``500ms``, ``60s``, ``5m``, ``1h`` or
plain seconds. Windows are fixed (``window``) or sliding (``window`` every
``every``); an event-time column gives each row its timestamp, otherwise rows
take the processing time at which their file was found.

>>> seconds("90s"), seconds("2m"), seconds("250ms")
(90.0, 120.0, 0.25)
>>> StreamSettings(window=60).window_start(125.0)
120.0
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from beam_ml.errors import BeamMLError

MODEL_REFRESH = ("auto", "side_input", "poll")
# runners without triggered global-window side inputs (Prism: apache/beam#31438)
POLLING_RUNNERS = (
    "PrismRunner",
    "DirectRunner",
    "BundleBasedDirectRunner",
    "SwitchingDirectRunner",
)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def seconds(value: Any, name: str = "duration") -> float:
    """A duration (``"60s"``, ``"5m"``, ``"250ms"``, ``"1h"`` or a number of seconds) in seconds.

    >>> seconds("1.5s")
    1.5
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        match = _DURATION.match(str(value)) if isinstance(value, str) else None
        if match is None:
            raise BeamMLError.expected(
                f"{name} as a duration", repr(value), "e.g. 60s, 5m, 500ms or 1h"
            )
        number = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not math.isfinite(number) or number <= 0:
        raise BeamMLError.expected(f"{name} > 0", repr(value), "e.g. 60s")
    return number


def window_name(start: float) -> str:
    """The folder name of a window: its start in UTC, ISO 8601 to the millisecond.

    >>> window_name(0)
    'window=1970-01-01T00:00:00.000Z'
    """
    stamp = datetime.fromtimestamp(start, tz=UTC)
    return "window=" + stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class StreamSettings:
    """How a streaming run windows and stops.

    Durations may be given as text (``"60s"``) and are kept in seconds.
    ``window``: window size (s); ``every``: the period of sliding windows (None:
    fixed windows); ``event_time``: read step -> its event-time column (rows of
    other reads take processing time); ``poll``: how often the folder is listed;
    ``stop_after``: stop watching after this long (None: run until cancelled);
    ``lateness``: how late (event time) a row may arrive and still count, in a
    late firing of its window (default 0: Beam drops it; a step whose output is
    one report per window cannot take late firings);
    ``model_patterns``: model step -> the file pattern of its refreshed model;
    ``model_refresh``: how a new model reaches the model step — ``side_input``
    (Beam's ``WatchFilePattern`` into RunInference), ``poll`` (the handler lists
    the pattern) or ``auto`` (poll on Prism and DirectRunner, which refuse
    triggered global-window side inputs; side input elsewhere); ``started``: the
    pipeline's start (epoch seconds; :func:`build_streaming` sets it): the stop
    time counts from it, and only models written after it replace the step's.

    >>> StreamSettings(window=10, every=5).windows_of(12.0)
    [10.0, 5.0]
    """

    window: float = 60.0
    every: float | None = None
    event_time: dict[str, str] = field(default_factory=dict)
    poll: float = 1.0
    stop_after: float | None = None
    lateness: float | None = None
    model_patterns: dict[str, str] = field(default_factory=dict)
    model_poll: float = 1.0
    model_refresh: str = "auto"
    started: float | None = None

    def __post_init__(self) -> None:
        from beam_ml.errors import check_choice

        check_choice("model_refresh", self.model_refresh, MODEL_REFRESH)
        object.__setattr__(self, "window", seconds(self.window, "window"))
        if self.every is not None:
            every = seconds(self.every, "every")
            ratio = self.window / every
            if abs(ratio - round(ratio)) > 1e-9:
                raise BeamMLError.expected(
                    "a sliding period that divides the window",
                    f"window {self.window:g}s every {every:g}s",
                    "e.g. --window 60s --every 15s",
                )
            object.__setattr__(self, "every", every)
        object.__setattr__(self, "poll", seconds(self.poll, "poll interval"))
        object.__setattr__(self, "model_poll", seconds(self.model_poll, "model poll interval"))
        if self.stop_after is not None:
            object.__setattr__(self, "stop_after", seconds(self.stop_after, "stop_after"))
        if self.lateness is not None and self.lateness not in (0, "0", "0s"):
            object.__setattr__(self, "lateness", seconds(self.lateness, "allowed lateness"))
        elif self.lateness is not None:
            object.__setattr__(self, "lateness", 0.0)

    @property
    def period(self) -> float:
        """The grain of the windows: rows in one period fall in the same windows."""
        return self.every or self.window

    @property
    def allowed_lateness(self) -> float:
        """Allowed lateness in seconds (default 0: a row after its window closed is dropped)."""
        return 0.0 if self.lateness is None else self.lateness

    def window_start(self, timestamp: float) -> float:
        """The start of the (last) window holding ``timestamp``."""
        return math.floor(timestamp / self.period) * self.period

    def windows_of(self, timestamp: float) -> list[float]:
        """The starts of every window holding ``timestamp``, latest first."""
        last = self.window_start(timestamp)
        count = round(self.window / self.period)
        return [last - i * self.period for i in range(count)]

    def stop_time(self) -> float | None:
        """When watching stops (epoch seconds), or None."""
        if self.stop_after is None:
            return None
        import time

        return (self.started or time.time()) + self.stop_after

    def refresh_by_side_input(self, runner: Any) -> bool:
        """Whether a new model reaches RunInference as Beam's model side input on ``runner``."""
        if self.model_refresh != "auto":
            return self.model_refresh == "side_input"
        name = runner if isinstance(runner, str) else type(runner).__name__ if runner else ""
        return bool(name) and name.rsplit(".", 1)[-1] not in POLLING_RUNNERS

    def windowing(self) -> Any:
        """Beam's ``WindowInto`` for these windows (fixed or sliding, with the lateness)."""
        import apache_beam as beam
        from apache_beam.transforms import window

        fn: Any = (
            window.FixedWindows(self.window)
            if self.every is None
            else window.SlidingWindows(self.window, self.every)
        )
        return beam.WindowInto(fn, allowed_lateness=self.allowed_lateness)
