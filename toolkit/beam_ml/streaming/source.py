"""The streaming source: new files matching a pattern, read as they land, then windowed.

:class:`WatchFiles` lists the pattern every ``poll`` seconds with Beam's
``fileio.MatchContinuously`` (each file once), reads each new file with the
same readers as a batch read (:func:`beam_ml.sources.iter_file_batches`), and
windows the batches. With an event-time column each batch is split by window
period and stamped with its rows' event time; otherwise rows take the poll time
at which their file was found. A line that cannot be read, a row without an
event time and a file that cannot be read at all are bad records, in the window
of their file: no row is lost.

Files must land whole (write them elsewhere, then move them in): a file is read
once, when a poll first sees it.

>>> with beam.Pipeline(options=streaming_options) as p:           # doctest: +SKIP
...     read = p | WatchFiles(Source("incoming/*.csv"), StreamSettings(window=60))
...     read["batches"], read["bad_records"]
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd
from apache_beam.transforms.window import TimestampedValue

from beam_ml.errors import BeamMLError, one_line
from beam_ml.sources import BAD_RECORDS, BadRecord, Source, iter_file_batches, typed_as_frames
from beam_ml.streaming.windows import StreamSettings

_LOG = logging.getLogger(__name__)


def event_seconds(values: pd.Series) -> np.ndarray:
    """Event times as seconds since the epoch (numbers are taken as such; NaN if unreadable).

    >>> event_seconds(pd.Series(["1970-01-01T00:01:00Z", "x"])).tolist()
    [60.0, nan]
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    stamps = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    out = stamps.astype("int64").to_numpy(dtype="float64") / 1e9
    out[stamps.isna().to_numpy()] = np.nan
    return out


def _row_text(frame: pd.DataFrame) -> list[str]:
    return [json.dumps(r, default=str) for r in frame.to_dict(orient="records")]


class ReadLandedFile(beam.DoFn):
    """A landed file's path -> its batches, stamped by event time or poll time; bad records."""

    def __init__(self, source: Source, settings: StreamSettings, event_time: str | None) -> None:
        super().__init__()
        self.source = source
        self.settings = settings
        self.event_time = event_time

    def process(self, path: str, timestamp: Any = beam.DoFn.TimestampParam) -> Iterator[Any]:
        bad: list[BadRecord] = []
        stamps: list[float] = []
        try:
            for batch in iter_file_batches(self.source, path, bad.append):
                if self.event_time is None:
                    yield batch  # the poll time, which the element already carries
                else:
                    yield from self._by_event_time(batch, path, bad, stamps)
        except (BeamMLError, OSError, ValueError) as error:
            reason = one_line(f"{type(error).__name__}: {error}", 300)
            bad.append(BadRecord(file=path, line=None, reason=reason, text=""))
        # bad records go to the window of their file's first rows (or of the poll)
        where = min(stamps) if stamps else float(timestamp)
        for record in bad:
            yield beam.pvalue.TaggedOutput(BAD_RECORDS, TimestampedValue(record, where))

    def _by_event_time(
        self, batch: pd.DataFrame, path: str, bad: list[BadRecord], stamps: list[float]
    ) -> Iterator[Any]:
        column = str(self.event_time)
        if column not in batch.columns:
            raise BeamMLError.expected(
                f"the event-time column {column!r} in {path}", f"columns {list(batch.columns)}"
            )
        times = event_seconds(batch[column])
        missing = np.isnan(times)
        if missing.any():
            for line, text in zip(batch.index[missing], _row_text(batch[missing]), strict=True):
                reason = f"no event time in column {column!r}"
                bad.append(BadRecord(file=path, line=int(line), reason=reason, text=text))
        period = self.settings.period
        buckets = np.floor(times / period)
        for bucket in np.unique(buckets[~missing]):
            mask = buckets == bucket
            part = batch[mask]
            part.attrs = dict(batch.attrs)
            stamp = float(times[mask].max())
            stamps.append(float(times[mask].min()))
            yield TimestampedValue(part, stamp)


class WatchFiles(beam.PTransform):
    """The pipeline -> ``{"batches", "bad_records"}`` of the files that land, windowed.

    ``source`` is a resolved :class:`~beam_ml.sources.Source` (its options fixed:
    there may be no file yet to detect them from).
    """

    def __init__(self, source: Source, settings: StreamSettings, event_time: str | None = None):
        super().__init__()
        if source.path is None:
            raise BeamMLError.expected("a file pattern to watch", source.describe())
        self.source = source
        self.settings = settings
        self.event_time = event_time

    def expand(self, pbegin: Any) -> Any:
        from apache_beam.io.fileio import MatchContinuously
        from apache_beam.utils.timestamp import MAX_TIMESTAMP, Timestamp

        now = self.settings.started or time.time()
        stop = self.settings.stop_time()
        until = "cancelled" if stop is None else f"{stop:.3f} (epoch seconds)"
        _LOG.info("beam_ml streaming: watching %s from %.3f until %s", self.source.path, now, until)
        read = (
            pbegin
            | "Watch"
            >> MatchContinuously(
                str(self.source.path),
                interval=self.settings.poll,
                start_timestamp=Timestamp.of(now),
                stop_timestamp=MAX_TIMESTAMP if stop is None else Timestamp.of(stop),
            )
            | "Path" >> beam.Map(lambda match: match.path)
            | "Read"
            >> beam.ParDo(ReadLandedFile(self.source, self.settings, self.event_time)).with_outputs(
                BAD_RECORDS, main="batches"
            )
        )
        batches = typed_as_frames(read.batches | "Window" >> self.settings.windowing())
        bad = read[BAD_RECORDS] | "WindowBad" >> self.settings.windowing()
        return {"batches": batches, BAD_RECORDS: bad}
