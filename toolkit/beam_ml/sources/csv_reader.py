"""CSV files as pandas batches: pyarrow's streaming reader, types widened, no line lost.

Before pyarrow reads a byte, one pass checks the file is text in the given
encoding (a binary or mis-encoded file fails with one line) and finds its
blank lines; the delimiter is detected from the first block unless given.
Lines with the wrong number of fields go to ``on_bad`` as :class:`BadRecord`s.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
>>> _ = path.write_text("x;y\\n1;2\\n")
>>> next(_csv_batches(Source(str(path)), str(path), print)).columns.tolist()
['x', 'y']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from beam_ml.errors import BeamMLError
from beam_ml.sources.arrow import _Rebatcher, _types_mapper, reading_pool
from beam_ml.sources.files import readable
from beam_ml.sources.lines import _blank_lines, _csv_lines, _physical
from beam_ml.sources.source import BadRecord, Source
from beam_ml.sources.text import (
    check_text,
    count_fields,
    detect_delimiter,
    encoding_error,
    excerpt,
    first_block,
    first_record,
    printable,
    unique_names,
)

# pyarrow's CSV reader holds several blocks at once, and its peak memory grows
# with the block: reading a 280 MB file peaked at 0.19 GB with 1 MiB blocks,
# 0.35 GB with 4 MiB and 0.60 GB with 32 MiB, at the same speed; profiling 1M
# rows peaked at 0.35 GB with 1 MiB blocks and 0.34 GB with 512 KiB, in 5.0 s
# both. Types are inferred from the first block; a later surprise widens the
# column (below).
_CSV_BLOCK_BYTES = 1 << 19


class _BadLines:
    """pyarrow's ``invalid_row_handler``: report each bad line once, across restarts."""

    def __init__(
        self, path: str, blank_lines: Any, on_bad: Callable[[BadRecord], None], skipped: int = 0
    ) -> None:
        self.path = path
        # pyarrow numbers the lines it was told to skip one by one (blank ones too),
        # where it would number a header as one record: undo that.
        self.shift = max(skipped - 1, 0)
        self.blank_lines = blank_lines
        self.on_bad = on_bad
        self.last = 0  # the last line reported: a restart reads earlier lines again
        self.lines: list[int] = []  # lines skipped in the current read

    def restart(self) -> list[int]:
        self.lines = []
        return self.lines

    def __call__(self, row: Any) -> str:
        # It must never raise: pyarrow would print the exception and go on.
        number = None if row.number is None else int(row.number) - self.shift
        line = None if number is None else int(_physical(number, self.blank_lines))
        self.lines.append(line or 0)
        if line is None or line > self.last:
            self.last = line or self.last
            reason = f"expected {row.expected_columns} fields, saw {row.actual_columns}"
            self.on_bad(BadRecord(self.path, line, reason, str(row.text)))
        return "skip"


def _csv_batches(source: Source, path: str, on_bad: Callable[[BadRecord], None]) -> Iterator[Any]:
    """Stream a CSV with pyarrow, widening a column's type when a later block needs it.

    pyarrow infers types from the first block; a later value that does not fit
    (``1.5`` in an int column, ``abc`` in a float one) stops the stream. Then we
    widen that column (int -> float -> string) and read again, skipping the
    rows already given, so no row is lost and the batches stay pandas-like.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    block = first_block(path)
    check_text(path, block, source.encoding, "CSV")
    if not block.strip():
        what = "a header line" if source.header else "at least one data row"
        raise BeamMLError.expected(f"{what} in {path}", "an empty file")
    delimiter = source.delimiter or detect_delimiter(block, source.encoding)
    names, skip_rows = None, 0
    first = first_record(path, source.encoding, delimiter)
    if not source.header:
        width = len(first[0]) if first else count_fields(block, source.encoding, delimiter)
        names = [str(i) for i in range(width)]
    elif first and unique_names(first[0]) != first[0]:
        # Duplicate or empty names would collide in every batch (and in pandas,
        # rules and reports): skip the header line(s), give pandas' unique names.
        names, skip_rows = unique_names(first[0]), first[1]
    blank_lines = _blank_lines(path, source.encoding)
    bad = _BadLines(path, blank_lines, on_bad, skipped=skip_rows)
    column_types: dict[str, Any] = {}
    rows_done = 0
    pool = reading_pool()
    while True:
        bad_lines = bad.restart()
        try:
            reader = pacsv.open_csv(
                readable(path),
                read_options=pacsv.ReadOptions(
                    block_size=_CSV_BLOCK_BYTES,
                    use_threads=False,
                    encoding=source.encoding,
                    column_names=names,
                    skip_rows=skip_rows,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=bad, newlines_in_values=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=column_types, strings_can_be_null=True
                ),
                memory_pool=pool,
            )
        except pa.ArrowInvalid as error:
            raise _csv_error(path, source, error) from None
        if any(pa.types.is_binary(t) for t in reader.schema.types):
            # pyarrow reads text that is not valid in the encoding as bytes.
            raise encoding_error(path, source.encoding)
        seen = 0
        # Blocks are small (memory); batches are the rows the caller asked for,
        # glued from consecutive blocks.
        pending = _Rebatcher(source.batch_rows, _types_mapper(source.strings), pool)
        try:
            for record_batch in reader:
                start, seen = seen, seen + record_batch.num_rows
                if seen <= rows_done:
                    continue  # already given before a restart
                skip = max(rows_done - start, 0)
                part = record_batch.slice(skip)
                first_line = 2 if source.header else 1
                lines = _csv_lines(start + skip, part.num_rows, bad_lines, blank_lines, first_line)
                rows_done = seen
                yield from pending.add(part, lines)
            yield from pending.flush()
            return
        except pa.ArrowInvalid as error:
            # The rows read so far are good: give them before reading again.
            yield from pending.flush()
            widened = _widen(reader.schema, str(error))
            if widened is None:
                raise _csv_error(path, source, error) from None
            column_types[widened[0]] = widened[1]


_COLUMN_ERROR = re.compile(r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\w+)")
# pyarrow's parse errors end with the row's raw text: that part becomes an excerpt.
_ROW_TEXT = re.compile(r"^(.*?(?:Expected \d+ columns, got \d+|[Rr]ow #\d+)): (.*)$", re.DOTALL)


def _widen(schema: Any, message: str) -> tuple[str, Any] | None:
    import pyarrow as pa

    match = _COLUMN_ERROR.search(message)
    if not match or "UTF8" in message:
        return None
    name = schema.names[int(match.group(1))]
    current = schema.field(name).type
    if pa.types.is_null(current) or pa.types.is_integer(current):
        return name, pa.float64()
    if pa.types.is_string(current) or pa.types.is_large_string(current):
        return None
    return name, pa.string()


def _csv_error(path: str, source: Source, error: Exception) -> BeamMLError:
    message = str(error)
    if "UTF8" in message or "decode" in message.lower():
        return encoding_error(path, source.encoding)
    if "Empty CSV file" in message:
        return BeamMLError.expected(f"a header line in {path}", "an empty file")
    return BeamMLError.expected(f"a readable CSV file at {path}", _safe_message(message))


def _safe_message(message: str) -> str:
    """pyarrow's message on one printable line, the row's text cut to a short excerpt."""
    first = message.strip().splitlines()[0] if message.strip() else "an unreadable file"
    match = _ROW_TEXT.match(message.strip())
    if match:
        first = f"{match.group(1)} (the line starts {excerpt(match.group(2))})"
    return printable(first)
