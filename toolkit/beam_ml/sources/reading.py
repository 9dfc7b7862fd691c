"""Reading in-process: one file's batches by format, or every file's in order, without Beam.

The Beam transforms and the previews both call :func:`iter_file_batches`, so a
notebook preview reads exactly what a pipeline does.

>>> sum(len(b) for b in iter_batches(pd.DataFrame({"a": range(5)})))
5
"""

from __future__ import annotations

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

    >>> next(iter_file_batches(Source(frame=pd.DataFrame({"a": [1]})), "<dataframe>")).a.tolist()
    [1]
    """
    if source.frame is not None:
        yield from _frame_batches(source.frame, source.batch_rows)
        return
    rows = 0
    bad: list[BadRecord] = []  # the first one, for the message when no line was a row

    def report(record: BadRecord) -> None:
        if not bad:
            bad.append(record)
        if on_bad is not None:
            on_bad(record)

    for batch in _READERS[str(source.format)](source, path, report):
        if not len(batch):
            continue  # an empty batch says nothing (and has no columns to agree on)
        batch.attrs["file"] = path
        rows += len(batch)
        yield batch
    if rows == 0:
        raise _no_rows(source, path, bad[0] if bad else None)


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
