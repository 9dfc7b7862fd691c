"""Read CSV, Parquet, JSON Lines or an in-memory DataFrame, as pandas batches.

One element of a pipeline is one *batch*: a pandas DataFrame of many rows.
Per-row elements cost Beam a lot more than the work we do on each row, so every
engine transform (profile, validate, inference) takes batches.

A batch's index is where its rows came from: for CSV and JSON Lines the line
number in the file (the header is line 1), for Parquet the 0-based row number,
for an in-memory DataFrame its own index. ``batch.attrs["file"]`` names the
file. Validation uses this to report ``_line`` for each quarantined row.

CSV lines with the wrong number of fields are never dropped silently: they come
out of :class:`ReadBatches` as :class:`BadRecord`s, with their line and text.

Sampling happens upstream: :func:`head` reads only the first rows, and
:func:`sample` keeps a uniform sample in memory bounded by its size (a
bottom-k sample over a hash of each row's position, so the same seed picks the
same rows however the data is batched, in a notebook or on a runner).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd
from apache_beam.coders import coder_impl
from apache_beam.io.filesystems import FileSystems
from apache_beam.typehints import Any as AnyHint

from beam_ml.errors import BeamMLError, check_choice, check_positive_int

FORMATS = ("csv", "parquet", "json")
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4")
DATAFRAME_FILE = "<dataframe>"


@dataclass(frozen=True)
class BadRecord:
    """A line of a file that could not become a row: where it is and why."""

    file: str
    line: int | None
    reason: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    """Where the data comes from: files of one format (a path or a glob), or a DataFrame.

    >>> Source("flights-*.csv").format
    'csv'
    >>> Source(frame=pd.DataFrame({"a": [1, 2]})).describe()
    '<DataFrame: 2 rows x 1 columns>'
    """

    path: str | None = None
    format: str | None = None
    frame: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    batch_rows: int = 50_000
    encoding: str = "utf-8"
    delimiter: str = ","
    # How CSV and Parquet text columns arrive: "object" (Python str, what
    # pd.read_csv gives) or "arrow" (pandas' pyarrow-backed string dtype). The
    # profiler asks for "arrow": the text stays in Arrow buffers, a batch takes
    # less memory and is factorized by Arrow; its statistics are the same.
    strings: str = "object"

    def __post_init__(self) -> None:
        if (self.path is None) == (self.frame is None):
            raise BeamMLError.expected(
                "either a path (a file or a glob) or an in-memory DataFrame",
                "both" if self.path is not None else "neither",
                "pass Source('data.csv') or Source(frame=df)",
            )
        if self.frame is not None and not isinstance(self.frame, pd.DataFrame):
            raise BeamMLError.expected("a pandas DataFrame", type(self.frame).__name__)
        if self.path is not None:
            object.__setattr__(self, "path", os.fspath(self.path))
            fmt = self.format or _format_from_suffix(str(self.path))
            object.__setattr__(self, "format", check_choice("format", fmt, FORMATS))
        check_positive_int("batch_rows", self.batch_rows)
        check_choice("strings", self.strings, ("object", "arrow"))

    def describe(self) -> str:
        """A short human name for messages and reports."""
        if self.frame is not None:
            rows, cols = self.frame.shape
            return f"<DataFrame: {rows} rows x {cols} columns>"
        return str(self.path)

    def files(self) -> list[str]:
        """The files the path or glob names, sorted; an error if there are none."""
        if self.path is None:
            return [DATAFRAME_FILE]
        try:
            matches = FileSystems.match([self.path])[0].metadata_list
        except Exception as error:  # Beam raises BeamIOError for a missing plain path
            raise _missing(self.path) from error
        paths = sorted(m.path for m in matches)
        if not paths:
            raise _missing(self.path)
        return paths


def is_local(path: str) -> bool:
    """Whether ``path`` is on this machine's file system (not gs://, s3://, ...).

    >>> is_local("data/a.csv"), is_local("gs://bucket/a.csv")
    (True, False)
    """
    return "://" not in path


def _open_binary(path: str) -> Any:
    """A binary file object for any file system Beam knows (compression decoded)."""
    return open(path, "rb") if is_local(path) else FileSystems.open(path)


def _readable(path: str) -> Any:
    """What pyarrow and pandas read: the path itself when local, else a Beam file object."""
    return path if is_local(path) else FileSystems.open(path)


def _missing(path: str) -> BeamMLError:
    return BeamMLError.expected(
        "an existing file or a glob that matches files",
        f"{path!r}, which matches nothing",
        "check the path (relative paths are read from the current folder)",
    )


def _format_from_suffix(path: str) -> str:
    name = path.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    fmt = _SUFFIX_FORMATS.get(os.path.splitext(name)[1])
    if fmt is None:
        raise BeamMLError.expected(
            "a file ending in .csv, .parquet or .jsonl",
            repr(path),
            "pass the format explicitly, e.g. format='csv'",
        )
    return fmt


def as_source(obj: Any, format: str | None = None) -> Source:
    """Turn a path, a glob, a pathlib.Path, a DataFrame or a Source into a Source.

    >>> as_source("data/*.parquet").format
    'parquet'
    """
    if isinstance(obj, Source):
        return replace(obj, format=format) if format and obj.path else obj
    if isinstance(obj, pd.DataFrame):
        return Source(frame=obj)
    if isinstance(obj, str | os.PathLike):
        return Source(path=os.fspath(obj), format=format)
    raise BeamMLError.expected(
        "a path, a glob, a pandas DataFrame or a beam_ml Source",
        type(obj).__name__,
        "pass e.g. bml.datasets.load('penguins')",
    )


# ---------------------------------------------------------------------------
# Reading one file, in-process. The Beam transforms and the in-process helpers
# below all call these, so a notebook preview reads exactly what a pipeline does.


def iter_file_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None] | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the batches of one file of ``source``; report bad lines to ``on_bad``."""
    if source.frame is not None:
        yield from _frame_batches(source.frame, source.batch_rows)
        return
    reader = {"csv": _csv_batches, "parquet": _parquet_batches, "json": _json_batches}
    rows = 0
    for batch in reader[str(source.format)](source, path, on_bad or (lambda _record: None)):
        batch.attrs["file"] = path
        rows += len(batch)
        yield batch
    if rows == 0:
        raise BeamMLError.expected(
            f"at least one data row in {path}", "a file with a header and no rows"
        )


def _frame_batches(frame: pd.DataFrame, batch_rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, max(len(frame), 1), batch_rows):
        batch = frame.iloc[start : start + batch_rows].copy()
        batch.attrs["file"] = DATAFRAME_FILE
        yield batch


def _csv_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None]
) -> Iterator[pd.DataFrame]:
    """Stream a CSV with pyarrow, widening a column's type when a later block needs it.

    pyarrow infers types from the first block; a later value that does not fit
    (``1.5`` in an int column, ``abc`` in a float one) stops the stream. Then we
    widen that column (int -> float -> string) and read again, skipping the
    rows already given, so no row is lost and the batches stay pandas-like.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    column_types: dict[str, Any] = {}
    blank_lines = _blank_lines(path)
    rows_done = 0
    last_bad_line = 0
    while True:
        bad_lines: list[int] = []

        def handle(row: Any, bad_lines: list[int] = bad_lines) -> str:
            nonlocal last_bad_line
            line = None if row.number is None else int(_physical(int(row.number), blank_lines))
            bad_lines.append(line or 0)
            if line is None or line > last_bad_line:
                last_bad_line = line or last_bad_line
                on_bad(
                    BadRecord(
                        path,
                        line,
                        f"expected {row.expected_columns} fields, saw {row.actual_columns}",
                        str(row.text),
                    )
                )
            return "skip"

        try:
            reader = pacsv.open_csv(
                _readable(path),
                read_options=pacsv.ReadOptions(
                    block_size=_CSV_BLOCK_BYTES, use_threads=False, encoding=source.encoding
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=source.delimiter, invalid_row_handler=handle, newlines_in_values=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=column_types, strings_can_be_null=True
                ),
            )
        except pa.ArrowInvalid as error:
            raise _csv_error(path, source, error) from None
        if any(pa.types.is_binary(t) for t in reader.schema.types):
            # pyarrow reads text that is not valid in the encoding as bytes.
            raise _encoding_error(path, source.encoding)
        seen = 0
        # Blocks are small (memory); batches are the rows the caller asked for,
        # glued from consecutive blocks.
        pending = _Rebatcher(source.batch_rows, _types_mapper(source))
        try:
            for record_batch in reader:
                start, seen = seen, seen + record_batch.num_rows
                if seen <= rows_done:
                    continue  # already given before a restart
                skip = max(rows_done - start, 0)
                block = record_batch.slice(skip)
                lines = _csv_lines(start + skip, block.num_rows, bad_lines, blank_lines)
                rows_done = seen
                yield from pending.add(block, lines)
            yield from pending.flush()
            return
        except pa.ArrowInvalid as error:
            # The rows read so far are good: give them before reading again.
            yield from pending.flush()
            widened = _widen(reader.schema, str(error))
            if widened is None:
                raise _csv_error(path, source, error) from None
            column_types[widened[0]] = widened[1]


# pyarrow's CSV reader holds several blocks at once, and its peak memory grows
# with the block: reading a 280 MB file peaked at 0.19 GB with 1 MiB blocks,
# 0.35 GB with 4 MiB and 0.60 GB with 32 MiB, at the same speed; profiling 1M
# rows peaked at 0.35 GB with 1 MiB blocks and 0.34 GB with 512 KiB, in 5.0 s
# both. Types are inferred from the first block; a later surprise widens the
# column (above).
_CSV_BLOCK_BYTES = 1 << 19


def _types_mapper(source: Source) -> Callable[[Any], Any] | None:
    """pyarrow -> pandas dtype mapping for ``source.strings`` (None: pyarrow's default)."""
    if source.strings == "object":
        return None
    import pyarrow as pa

    arrow = pd.StringDtype("pyarrow")
    return {pa.string(): arrow, pa.large_string(): arrow}.get


class _Rebatcher:
    """Glue consecutive Arrow record batches into pandas batches of ``rows`` rows.

    Gluing happens in Arrow, before the conversion to pandas: one conversion per
    batch, not one per block, and no pandas concat (the last batch may be short).
    """

    def __init__(self, rows: int, types_mapper: Any = None) -> None:
        self.rows = rows
        self.types_mapper = types_mapper
        self.parts: list[Any] = []  # pyarrow RecordBatches
        self.index: list[np.ndarray] = []  # each part's row labels
        self.count = 0

    def add(self, block: Any, index: Any) -> Iterator[pd.DataFrame]:
        self.parts.append(block)
        self.index.append(np.asarray(index))
        self.count += block.num_rows
        while self.count >= self.rows:
            yield self._take(self.rows)

    def flush(self) -> Iterator[pd.DataFrame]:
        if self.count:
            yield self._take(self.count)

    def _take(self, rows: int) -> pd.DataFrame:
        """The first ``rows`` pending rows as one pandas batch; the rest stay pending."""
        import pyarrow as pa

        table = pa.Table.from_batches(self.parts)
        index = np.concatenate(self.index)
        self.parts = table.slice(rows).to_batches() if rows < self.count else []
        self.index = [index[rows:]] if rows < self.count else []
        self.count -= rows
        frame = table.slice(0, rows).to_pandas(types_mapper=self.types_mapper)
        frame.index = pd.Index(index[:rows])
        return frame


def _csv_lines(
    first_record: int, count: int, bad_lines: list[int], blank_lines: np.ndarray
) -> pd.Index:
    """Physical line numbers of records ``first_record ...`` (the header is line 1).

    ``bad_lines`` are physical numbers of the lines skipped so far. Records are
    one line each: a quoted value spanning lines shifts the numbers after it.
    """
    records = np.arange(first_record, first_record + count)
    # Number the non-blank lines first (as pyarrow does), then map to physical.
    # A bad line with non-blank number b (sorted, i-th) would have been record b - 2 - i.
    bad = np.sort(np.asarray([_nonblank(b, blank_lines) for b in bad_lines], dtype=np.int64))
    shifted = bad - 2 - np.arange(len(bad))
    nonblank = records + 2 + np.searchsorted(shifted, records, side="right")
    return pd.Index(_physical(nonblank, blank_lines))


# Bytes per read when looking for blank lines: small, so a big CSV costs no
# memory here (16 MiB reads, doubled by the join below, were 32 MB of peak).
_BLANK_SCAN_BYTES = 1 << 20


def _blank_lines(path: str) -> np.ndarray:
    """Sorted physical numbers of the empty lines of a file (pyarrow skips them).

    Line k is the one ending at the k-th newline; a line is blank when that
    newline follows another one (or ``\\r`` after one, or the file's start).
    """
    found: list[int] = []
    before = 0  # newlines in the file before `chunk`
    tail = b"\n"  # the (up to) two bytes before `chunk`; the start counts as a newline
    with _open_binary(path) as handle:
        while chunk := handle.read(_BLANK_SCAN_BYTES):
            text = tail + chunk
            if b"\n\n" in text or b"\n\r\n" in text:
                for match in re.finditer(rb"\n(?=(\r?\n))", text):
                    end = match.end(1) - 1  # the blank line's own newline
                    if end >= len(tail):  # else it was found with the previous chunk
                        found.append(before + chunk.count(b"\n", 0, end - len(tail)) + 1)
            before += chunk.count(b"\n")
            tail = text[-2:]
    return np.asarray(found, dtype=np.int64)


def _physical(nonblank: Any, blank_lines: np.ndarray) -> Any:
    """Map line numbers that skip blank lines to physical line numbers."""
    if not len(blank_lines):
        return nonblank
    # A non-blank line n comes after the i-th blank line e_i iff n >= e_i - i.
    return nonblank + np.searchsorted(blank_lines - np.arange(len(blank_lines)), nonblank, "right")


def _nonblank(physical: int, blank_lines: np.ndarray) -> int:
    return physical - int(np.searchsorted(blank_lines, physical))


_COLUMN_ERROR = re.compile(r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\w+)")


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
        return _encoding_error(path, source.encoding)
    if "Empty CSV file" in message:
        return BeamMLError.expected(f"a header line in {path}", "an empty file")
    return BeamMLError.expected(f"a readable CSV file at {path}", _first_line(message))


def _encoding_error(path: str, encoding: str) -> BeamMLError:
    line = _first_undecodable_line(path, encoding)
    where = f"line {line}" if line else "a line"
    return BeamMLError.expected(
        f"{encoding} text in {path}",
        f"bytes that are not {encoding} at {where}",
        "pass the file's encoding, e.g. encoding='latin-1'",
    )


def _first_undecodable_line(path: str, encoding: str) -> int | None:
    with _open_binary(path) as handle:
        number = 0
        while raw := handle.readline():
            number += 1
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "an unreadable file"


def _parquet_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None]
) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # No pre-buffering and one decoding thread: memory stays at about one batch,
        # and Beam parallelises across files and workers anyway.
        parquet = pq.ParquetFile(_readable(path), pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as error:
        raise BeamMLError.expected(
            f"a Parquet file at {path}",
            _first_line(str(error)),
            "check the file, or pass the right format (csv, json)",
        ) from None
    start = 0
    types_mapper = _types_mapper(source)
    for record_batch in parquet.iter_batches(batch_size=source.batch_rows, use_threads=False):
        batch = record_batch.to_pandas(types_mapper=types_mapper)
        batch.index = pd.RangeIndex(start, start + len(batch))
        start += len(batch)
        yield batch


def _json_batches(
    source: Source, path: str, on_bad: Callable[[BadRecord], None]
) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_json(
            _readable(path), lines=True, chunksize=source.batch_rows, encoding=source.encoding
        )
        line = 1
        for batch in reader:
            batch.index = pd.RangeIndex(line, line + len(batch))
            line += len(batch)
            yield batch
    except UnicodeDecodeError:
        raise _encoding_error(path, source.encoding) from None
    except ValueError as error:
        bad = _first_bad_json_line(path, source.encoding)
        where = f"line {bad[0]}: {bad[1]}" if bad else _first_line(str(error))
        raise BeamMLError.expected(
            f"one JSON object per line in {path}", where, "fix that line or pass the right format"
        ) from None


def _first_bad_json_line(path: str, encoding: str) -> tuple[int, str] | None:
    with io.TextIOWrapper(_open_binary(path), encoding=encoding, errors="replace") as handle:
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


# ---------------------------------------------------------------------------
# In-process reading: previews in a notebook, schema checks before a pipeline.


def iter_batches(source: Any, bad_records: list[BadRecord] | None = None) -> Iterator[pd.DataFrame]:
    """Yield every batch of every file, in order, without Beam.

    >>> sum(len(b) for b in iter_batches(pd.DataFrame({"a": range(5)})))
    5
    """
    src = as_source(source)
    on_bad = bad_records.append if bad_records is not None else None
    for path in src.files():
        yield from iter_file_batches(src, path, on_bad)


def head(source: Any, n: int, bad_records: list[BadRecord] | None = None) -> pd.DataFrame:
    """The first ``n`` rows, reading no further than needed.

    >>> len(head(pd.DataFrame({"a": range(10)}), 3))
    3
    """
    check_positive_int("n", n)
    taken: list[pd.DataFrame] = []
    count = 0
    for batch in iter_batches(source, bad_records):
        taken.append(batch.iloc[: n - count])
        count += len(taken[-1])
        if count >= n:
            break
    return _concat(taken)


def sample(
    source: Any, n: int, seed: int = 0, bad_records: list[BadRecord] | None = None
) -> pd.DataFrame:
    """A uniform random sample of ``n`` rows (all rows if there are fewer).

    Memory holds at most ``n`` rows plus one batch. The same seed picks the same
    rows as :class:`SampleRows` in a pipeline, whatever the batching.

    >>> len(sample(pd.DataFrame({"a": range(100)}), 10, seed=1))
    10
    """
    check_positive_int("n", n)
    bottom = _BottomK(n, seed)
    accumulator = bottom.create_accumulator()
    for batch in iter_batches(source, bad_records):
        accumulator = bottom.add_input(accumulator, batch)
    return bottom.extract_output(accumulator)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    result = pd.concat(frames) if len(frames) > 1 else frames[0]
    result.attrs = dict(frames[0].attrs)
    return result


def _row_keys(batch: pd.DataFrame, seed: int) -> np.ndarray:
    """A uniform 64-bit key per row, from the seed, the file and the row's position."""
    index = batch.index
    if pd.api.types.is_integer_dtype(index.dtype):
        positions = np.asarray(index, dtype=np.int64).view(np.uint64)
    else:
        positions = pd.util.hash_pandas_object(index.to_series(), index=False).to_numpy()
    salt = _mix(np.array([zlib.crc32(str(batch.attrs.get("file", "")).encode())], np.uint64))
    seeded = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    return _mix(_mix(positions ^ seeded) ^ salt)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads any 64-bit input into uniform 64-bit output."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


class _BottomK:
    """Keep the ``n`` rows with the smallest keys: a mergeable uniform sample."""

    key = "__beam_ml_sample_key"

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.seed = seed

    def create_accumulator(self) -> pd.DataFrame | None:
        return None

    def add_input(self, accumulator: pd.DataFrame | None, batch: pd.DataFrame) -> pd.DataFrame:
        keyed = batch.assign(**{self.key: _row_keys(batch, self.seed)})
        keyed.attrs = dict(batch.attrs)
        return self._trim([accumulator, keyed])

    def merge_accumulators(self, accumulators: Any) -> pd.DataFrame | None:
        return self._trim(list(accumulators))

    def _trim(self, parts: list[pd.DataFrame | None]) -> pd.DataFrame:
        frames = [p for p in parts if p is not None]
        merged = _concat(frames) if frames else pd.DataFrame({self.key: []})
        if len(merged) > self.n:
            merged = merged.nsmallest(self.n, self.key)
        return merged

    def extract_output(self, accumulator: pd.DataFrame | None) -> pd.DataFrame:
        if accumulator is None:
            return pd.DataFrame()
        return accumulator.sort_values(self.key).drop(columns=[self.key])


# ---------------------------------------------------------------------------
# Beam transforms.


def _frame_size(value: Any) -> int:
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=False).sum()) + 64
    return 64


class _DataFrameCoderImpl(coder_impl.CallbackCoderImpl):
    def estimate_size(self, value: Any, nested: bool = False) -> int:
        return _frame_size(value)

    def get_estimated_size_and_observables(
        self, value: Any, nested: bool = False
    ) -> tuple[int, list[Any]]:
        return _frame_size(value), []


class DataFrameCoder(beam.coders.Coder):
    """Pickles pandas batches, and sizes them from ``memory_usage`` instead of pickling.

    Beam samples the size of the elements passed between steps; with its default
    (pickle) coder that means pickling sampled 50,000-row DataFrames a second
    time: on 1M rows that was a third of a profiling pipeline's time.
    """

    def encode(self, value: Any) -> bytes:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def decode(self, encoded: bytes) -> Any:
        return pickle.loads(encoded)

    def is_deterministic(self) -> bool:
        return False

    def estimate_size(self, value: Any) -> int:
        return _frame_size(value)

    def to_type_hint(self) -> Any:
        return pd.DataFrame

    def _create_impl(self) -> Any:
        return _DataFrameCoderImpl(self.encode, self.decode)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


def typed_as_frames(pcoll: Any) -> Any:
    """Declare a PCollection of pandas batches as such, so Beam uses :class:`DataFrameCoder`."""
    if not isinstance(beam.coders.registry.get_coder(pd.DataFrame), DataFrameCoder):
        beam.coders.registry.register_coder(pd.DataFrame, DataFrameCoder)
    if isinstance(pcoll, beam.pvalue.PCollection) and pcoll.element_type in (None, AnyHint):
        pcoll.element_type = pd.DataFrame
    return pcoll


class _ReadFileFn(beam.DoFn):
    """One file name in, its batches out, bad lines to the ``bad_records`` output."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def process(self, path: str) -> Iterator[Any]:
        bad: list[BadRecord] = []
        for batch in iter_file_batches(self.source, path, bad.append):
            yield from (beam.pvalue.TaggedOutput(BAD_RECORDS, record) for record in bad)
            bad.clear()
            yield batch
        yield from (beam.pvalue.TaggedOutput(BAD_RECORDS, record) for record in bad)


class _NameFrameBatchFn(beam.DoFn):
    def process(self, batch: pd.DataFrame) -> Iterator[pd.DataFrame]:
        batch.attrs["file"] = DATAFRAME_FILE
        yield batch


BAD_RECORDS = "bad_records"


class ReadBatches(beam.PTransform):
    """The pipeline -> ``.batches`` (pandas DataFrames) and ``.bad_records``.

    It checks the first file before the pipeline runs (it exists, its format and
    encoding read), so a typo fails at once with a clear message.

    >>> with beam.Pipeline() as p:                          # doctest: +SKIP
    ...     read = p | ReadBatches("data.csv")
    ...     read.batches | beam.Map(len)
    ...     read.bad_records | beam.Map(print)
    """

    def __init__(self, source: Any) -> None:
        self.source = as_source(source)
        super().__init__(f"ReadBatches({self.source.describe()})")

    def expand(self, pbegin: Any) -> Any:
        src = self.source
        if src.frame is not None:
            batches = list(_frame_batches(src.frame, src.batch_rows))
            read = (
                pbegin
                | "Batches" >> beam.Create(batches, reshuffle=False)
                | "Name"
                >> beam.ParDo(_NameFrameBatchFn()).with_outputs(BAD_RECORDS, main="batches")
            )
        else:
            files = src.files()
            if is_local(files[0]):
                head(src, 1)  # fail now, not inside a worker, if the first file is unreadable
            read = (
                pbegin
                | "Files" >> beam.Create(files)
                | "Read" >> beam.ParDo(_ReadFileFn(src)).with_outputs(BAD_RECORDS, main="batches")
            )
        typed_as_frames(read.batches)
        return read


def read_batches(pipeline: Any, source: Any) -> Any:
    """The PCollection of pandas batches of ``source`` in ``pipeline``."""
    return (pipeline | ReadBatches(source)).batches


def proxy(source: Any) -> pd.DataFrame:
    """The empty DataFrame Beam's DataFrame API needs to know the columns and types.

    Integer columns are widened to float64: a later batch may hold nulls there.
    """
    first = head(source, 1000)
    empty = first.iloc[:0]
    ints = [c for c in empty.columns if pd.api.types.is_integer_dtype(empty[c].dtype)]
    return empty.astype({c: "float64" for c in ints}) if ints else empty


def read_dataframe(pipeline: Any, source: Any) -> Any:
    """``source`` in ``pipeline`` as a Beam DeferredDataFrame.

    >>> with beam.Pipeline() as p:                          # doctest: +SKIP
    ...     df = read_dataframe(p, "flights.csv")
    ...     late = df[df.dep_delay > 60]
    """
    from apache_beam.dataframe.convert import to_dataframe

    src = as_source(source)
    return to_dataframe(read_batches(pipeline, src), proxy=proxy(src))


class _SampleFn(beam.CombineFn):
    def __init__(self, n: int, seed: int) -> None:
        super().__init__()
        self.bottom = _BottomK(n, seed)

    def create_accumulator(self) -> Any:
        return self.bottom.create_accumulator()

    def add_input(self, accumulator: Any, batch: pd.DataFrame) -> Any:
        return self.bottom.add_input(accumulator, batch)

    def merge_accumulators(self, accumulators: Any) -> Any:
        return self.bottom.merge_accumulators(accumulators)

    def extract_output(self, accumulator: Any) -> pd.DataFrame:
        return self.bottom.extract_output(accumulator)


class SampleRows(beam.PTransform):
    """Batches -> one batch holding a uniform sample of ``n`` rows.

    It keeps the same rows as :func:`sample` with the same seed.

    >>> batches | SampleRows(1000, seed=0)                  # doctest: +SKIP
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        super().__init__(f"SampleRows({n})")
        self.n = check_positive_int("n", n)
        self.seed = seed

    def expand(self, batches: Any) -> Any:
        return batches | beam.CombineGlobally(_SampleFn(int(self.n or 0), self.seed))
