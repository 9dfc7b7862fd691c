"""Parquet and JSON Lines files as pandas batches.

Parquet batches are indexed by 0-based row number; JSON Lines batches by line
number (the first line is 1). A malformed JSON line fails with its number.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
>>> _ = path.write_text('{"x": 1}\\n{"x": 2}\\n')
>>> next(_json_batches(Source(str(path)), str(path), print)).index.tolist()
[1, 2]
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.sources.arrow import _types_mapper
from beam_ml.sources.files import open_binary, readable
from beam_ml.sources.source import BadRecord, Source
from beam_ml.sources.text import check_text, encoding_error, first_block, printable


def first_line(message: str) -> str:
    """The first line of an error message from a library, printable and short."""
    return printable(message.strip().splitlines()[0]) if message.strip() else "an unreadable file"


def open_parquet(path: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile``, or one clear error if the file is not Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # No pre-buffering: memory stays at about one batch, and Beam
        # parallelises across files and workers anyway.
        return pq.ParquetFile(readable(path), pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as error:
        raise BeamMLError.expected(
            f"a Parquet file at {path}",
            first_line(str(error)),
            "check the file, or pass the right format (csv, json)",
        ) from None


def _parquet_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None]
) -> Iterator[pd.DataFrame]:
    parquet = open_parquet(path)
    start = 0
    types_mapper = _types_mapper(source.strings)
    # One decoding thread: Beam parallelises across files and workers.
    for record_batch in parquet.iter_batches(batch_size=source.batch_rows, use_threads=False):
        batch = record_batch.to_pandas(types_mapper=types_mapper)
        batch.index = pd.RangeIndex(start, start + len(batch))
        start += len(batch)
        yield batch


def _json_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None]
) -> Iterator[pd.DataFrame]:
    check_text(path, first_block(path), source.encoding, "JSON Lines")
    try:
        reader = pd.read_json(
            readable(path), lines=True, chunksize=source.batch_rows, encoding=source.encoding
        )
        line = 1
        for batch in reader:
            batch.index = pd.RangeIndex(line, line + len(batch))
            line += len(batch)
            yield batch
    except UnicodeDecodeError:
        raise encoding_error(path, source.encoding) from None
    except ValueError as error:
        bad = _first_bad_json_line(path, source.encoding)
        where = f"line {bad[0]}: {printable(bad[1])}" if bad else first_line(str(error))
        raise BeamMLError.expected(
            f"one JSON object per line in {path}", where, "fix that line or pass the right format"
        ) from None


def _first_bad_json_line(path: str, encoding: str) -> tuple[int, str] | None:
    with io.TextIOWrapper(open_binary(path), encoding=encoding, errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                return number, error.msg
            if not isinstance(value, dict):
                return number, f"a JSON {type(value).__name__}, not an object"
    return None
