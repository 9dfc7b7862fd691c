"""Streaming: a notebook's steps on windows of the files that land in a folder.

``windows`` (durations and :class:`StreamSettings`), ``source`` (:class:`WatchFiles`:
``fileio.MatchContinuously`` + the batch readers, event or processing time),
``models`` (model refresh: ``WatchFilePattern`` into RunInference's model side
input, a ``model_id`` per prediction row), ``writing`` (a file per step output
per window, written as the window closes) and ``pipeline``
(:func:`build_streaming`: the steps applied to the stream).

>>> StreamSettings(window="60s").window
60.0
"""

from __future__ import annotations

from beam_ml.streaming.models import MODEL_ID, ModelIdHandler, RefreshedInfer
from beam_ml.streaming.pipeline import build_streaming, refreshable, streamed_reads
from beam_ml.streaming.source import WatchFiles, event_seconds
from beam_ml.streaming.windows import StreamSettings, seconds, window_name
from beam_ml.streaming.writing import WriteWindows, write_windows

__all__ = [
    "MODEL_ID",
    "ModelIdHandler",
    "RefreshedInfer",
    "StreamSettings",
    "WatchFiles",
    "WriteWindows",
    "build_streaming",
    "event_seconds",
    "refreshable",
    "seconds",
    "streamed_reads",
    "window_name",
    "write_windows",
]
