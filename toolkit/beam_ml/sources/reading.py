"""Reading in-process: one file's batches by format, or every file's in order, without Beam.

The Beam transforms and the previews both call :func:`iter_file_batches`, so a
notebook preview reads exactly what a pipeline does.

>>> sum(len(b) for b in iter_batches(pd.DataFrame({"a": range(5)})))
5
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.sources.columnar import _json_batches, _parquet_batches
from beam_ml.sources.csv_reader import _csv_batches
from beam_ml.sources.source import DATAFRAME_FILE, BadRecord, Source, as_source

_READERS = {"csv": _csv_batches, "parquet": _parquet_batches, "json": _json_batches}


def iter_file_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None] | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the batches of one file of ``source``; report bad lines to ``on_bad``.

    A CSV's next batch is read on a second thread while the caller works on
    this one (pyarrow parses without holding the GIL); ``on_bad`` is still
    called on the caller's thread, before the batch that follows those lines.

    >>> next(iter_file_batches(Source(frame=pd.DataFrame({"a": [1]})), "<dataframe>")).a.tolist()
    [1]
    """
    if source.frame is not None:
        yield from _frame_batches(source.frame, source.batch_rows)
        return
    rows = 0
    first_bad: BadRecord | None = None  # for the message when no line was a row
    reader = _READERS[str(source.format)]
    ahead = source.read_ahead and source.format in _READ_AHEAD_FORMATS
    items = _read_ahead if ahead else _read_here
    for batch, bad, error in items(reader, source, path):
        for record in bad:
            first_bad = first_bad or record
            if on_bad is not None:
                on_bad(record)
        if error is not None:
            raise error
        if batch is None or not len(batch):
            continue  # an empty batch says nothing (and has no columns to agree on)
        batch.attrs["file"] = path
        rows += len(batch)
        yield batch
    if rows == 0:
        raise _no_rows(source, path, first_bad)


# Batches decoded ahead of the caller: one keeps a second core busy (more only adds memory).
_READ_AHEAD = 1
# CSV only: parsing is ~40 % of profiling a CSV, and its reader allocates from a pool that
# gives memory back across threads. Parquet decodes through pyarrow's default pool, which
# held ~50-100 MB more at 1M rows when another thread freed the batches (for ~0.5 s less).
_READ_AHEAD_FORMATS = frozenset({"csv"})
_Reader = Callable[[Source, str, Callable[[BadRecord], None]], Iterator[pd.DataFrame]]
_Item = tuple[pd.DataFrame | None, list[BadRecord], BaseException | None]


def _read_here(reader: _Reader, source: Source, path: str) -> Iterator[_Item]:
    """``reader``'s batches as :func:`_read_ahead` gives them, read on this thread."""
    pending: list[BadRecord] = []
    try:
        for batch in reader(source, path, pending.append):
            yield batch, pending[:], None
            pending.clear()
    except Exception as error:  # raised by the caller, after the bad records before it
        yield None, pending[:], error
        return
    yield None, pending[:], None


def _read_ahead(reader: _Reader, source: Source, path: str) -> Iterator[_Item]:
    """``reader``'s batches, read on a second thread, each with the bad records met before it.

    Items are ``(batch, bad records, None)``; the last one is ``(None, the bad
    records after the last batch, the reader's error or None)``. The thread
    starts a batch only when the caller holds at most ``_READ_AHEAD`` others.
    """
    items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
    slots = threading.Semaphore(_READ_AHEAD + 1)  # the caller's batch and those ahead
    stop = threading.Event()

    def produce() -> None:
        pending: list[BadRecord] = []

        def taken() -> list[BadRecord]:
            bad = pending[:]
            pending.clear()
            return bad

        batches = reader(source, path, pending.append)
        try:
            while True:
                while not slots.acquire(timeout=0.1):
                    if stopped():
                        return  # the caller stopped reading
                if stopped():
                    return
                batch = next(batches, None)
                items.put((batch, taken(), None))
                if batch is None:
                    return
        except BaseException as error:  # handed to the caller, on its thread
            items.put((None, taken(), error))
        finally:
            close = getattr(batches, "close", None)  # a generator: its files close now
            if close is not None:
                close()

    def stopped() -> bool:
        # the caller closed us, or the interpreter is exiting (Ctrl-C) without closing us
        return stop.is_set() or not threading.main_thread().is_alive()

    # Not a daemon: a daemon thread killed inside pyarrow's parser at exit aborts the process
    # ("terminate called without an active exception", after a Ctrl-C); this one finishes
    # its batch, sees the exit and returns, and the interpreter waits for that.
    thread = threading.Thread(target=produce, name=f"read-ahead {path}", daemon=False)
    thread.start()
    try:
        while True:
            item = items.get()
            yield item
            if item[0] is None:
                return
            slots.release()  # the caller is done with this batch
    finally:
        stop.set()  # a caller that stops early leaves the reader at its next batch
        thread.join(timeout=30)  # its batch in progress (well under a second)


def _no_rows(source: Source, path: str, bad: BadRecord | None) -> BeamMLError:
    if bad is not None:  # every line was refused: say why, with the first one
        where = f"line {bad.line}" if bad.line is not None else "a line"
        return BeamMLError.expected(
            f"at least one data row in {path}",
            f"no line that could be read as a row ({where}: {bad.reason})",
            "check the delimiter and the quoting (--delimiter, delimiter=...)",
        )
    got = {
        "csv": "a file with a header and no rows" if source.header else "a file with no rows",
        "json": "no JSON object in the file",
    }.get(str(source.format), "a file with no rows")
    return BeamMLError.expected(f"at least one data row in {path}", got)


def _frame_batches(frame: pd.DataFrame, batch_rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, max(len(frame), 1), batch_rows):
        batch = frame.iloc[start : start + batch_rows].copy()
        batch.attrs["file"] = DATAFRAME_FILE
        yield batch


def iter_batches(source: Any, bad_records: list[BadRecord] | None = None) -> Iterator[pd.DataFrame]:
    """Yield every batch of every file, in order, without Beam.

    Options left to detection (a CSV's delimiter) are fixed from the first file
    and used for all of them, as :class:`ReadBatches` does.

    >>> sum(len(b) for b in iter_batches(pd.DataFrame({"a": range(5)})))
    5
    """
    src = as_source(source).resolved()
    on_bad = bad_records.append if bad_records is not None else None
    for path in src.files():
        yield from iter_file_batches(src, path, on_bad)
