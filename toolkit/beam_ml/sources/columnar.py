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
from beam_ml.sources.files import open_text, readable
from beam_ml.sources.source import BadRecord, Source
from beam_ml.sources.text import check_text, encoding_error, excerpt, first_block, printable


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
    """JSON Lines as batches indexed by line number, every batch with the columns seen so far.

    Lines are read here, not by pandas: blank lines keep the numbering of the
    lines after them, a line that is not a JSON object fails with its number
    (pandas would make it a column named 0), and a UTF-8 byte order mark is
    dropped. pandas still turns each batch's lines into a frame, with its types.
    """
    check_text(path, first_block(path), source.encoding, "JSON Lines")
    columns: dict[Any, None] = {}  # every key seen so far, in order of first appearance
    try:
        for numbers, lines in _json_chunks(path, source.encoding, source.batch_rows):
            batch = _json_frame(path, numbers, lines)
            columns.update(dict.fromkeys(batch.columns))
            if list(batch.columns) != list(columns):
                batch = batch.reindex(columns=list(columns))  # one order; a key missing is null
            batch.index = pd.Index(numbers)
            yield batch
    except UnicodeDecodeError:
        raise encoding_error(path, source.encoding) from None


def _json_chunks(path: str, encoding: str, rows: int) -> Iterator[tuple[list[int], list[str]]]:
    """(line numbers, lines) of up to ``rows`` non-blank lines at a time."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte order mark is not part of the first object
    numbers: list[int] = []
    lines: list[str] = []
    with open_text(path, encoding) as handle:
        for number, text in enumerate(handle, start=1):
            text = text.strip()
            if not text:
                continue
            if not text.startswith("{"):
                raise _not_json_object(path, number, text)
            numbers.append(number)
            lines.append(text)
            if len(lines) >= rows:
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines


def _json_frame(path: str, numbers: list[int], lines: list[str]) -> pd.DataFrame:
    try:
        # Keys stay text: pandas would make "0" and "0.0" both the number 0 (two columns
        # with one label), and a CSV's columns are text too.
        return pd.read_json(io.StringIO("\n".join(lines)), lines=True, convert_axes=False)
    except (ValueError, TypeError, AttributeError, OverflowError) as error:
        for number, text in zip(numbers, lines, strict=True):
            try:
                json.loads(text)
            except ValueError:
                raise _not_json_object(path, number, text) from None
        where = f"line {numbers[0]}" if len(numbers) == 1 else f"lines {numbers[0]}-{numbers[-1]}"
        raise BeamMLError.expected(
            f"one JSON object per line in {path}",
            f"{where} that pandas cannot read ({first_line(str(error))})",
            "fix those lines or pass the right format",
        ) from None


def _not_json_object(path: str, number: int, text: str) -> BeamMLError:
    try:
        value = json.loads(text)
        kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        what = f"{kinds.get(type(value), 'a number')} (JSON), not an object"
    except ValueError as error:
        what = getattr(error, "msg", None) or first_line(str(error))
    return BeamMLError.expected(
        f"one JSON object per line in {path}",
        f"line {number}: {printable(what)} (the line starts {excerpt(text)})",
        "fix that line or pass the right format",
    )
