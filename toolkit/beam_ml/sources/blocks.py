"""Samples of inputs too large to scan: random Parquet row groups, random text byte ranges.

Over a size limit (1 GB by default) a full scan for a preview takes too long,
so :func:`sample_blocks` reads a few random blocks and keeps a bottom-k sample
of their rows. That is not a uniform sample of rows, and the sample says so:
its ``attrs["beam_ml_sample"]`` names the unit, how many blocks were read and
the bias.

- Parquet: row groups chosen uniformly, read whole (in batches); the population
  is exact (the files' metadata). Rows of one group come together.
- CSV and JSON Lines: byte ranges at uniform random offsets, each aligned to the
  next line start and read to a line end; the population is estimated from
  the bytes per line read. A long line is likelier to be hit than a short
  one, neighbouring lines come together, and a CSV value holding a line break
  would be split (so CSV ranges assume none). Rows are indexed by byte offset.

>>> BLOCK_RANGES
64
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.sources.arrow import _types_mapper
from beam_ml.sources.bottomk import SAMPLE_ATTR, _BottomK
from beam_ml.sources.columnar import first_line, open_parquet
from beam_ml.sources.files import is_compressed, match, open_binary
from beam_ml.sources.source import BadRecord, Source
from beam_ml.sources.text import (
    ENCODING_FIX,
    ascii_compatible,
    check_text,
    count_fields,
    excerpt,
    first_block,
    printable,
)

# Inputs larger than this (bytes, all files together) are sampled by blocks.
SCAN_LIMIT = 1_000_000_000
# Byte ranges read from a large text input; row groups read at least (if there are as many).
BLOCK_RANGES = 64
MIN_ROW_GROUPS = 8
# Rows gathered per sampled row: the bottom-k then thins them, spreading the sample.
_OVERSAMPLE = 4


def block_files(source: Source, scan_limit: int) -> list[tuple[str, int]] | None:
    """The (file, size) list when ``source`` is too large to scan, else None.

    Compressed files cannot be read at a random offset, nor text in an encoding
    whose newline is not the byte ``\\n``: they are always scanned.
    """
    if source.path is None or not ascii_compatible(source.encoding):
        return None
    found = match(source.path)
    if sum(size for _, size in found) <= scan_limit or any(is_compressed(p) for p, _ in found):
        return None
    return found


def sample_blocks(
    source: Source,
    found: list[tuple[str, int]],
    n: int,
    seed: int,
    on_bad: Callable[[BadRecord], None],
) -> pd.DataFrame:
    """A sample of ``n`` rows from random blocks of ``found`` (see the module docstring)."""
    if source.format == "parquet":
        return _row_groups(source, found, n, seed)
    return _byte_ranges(source, found, n, seed, on_bad)


def _row_groups(source: Source, found: list[tuple[str, int]], n: int, seed: int) -> pd.DataFrame:
    groups = []  # (file, group, first row, rows)
    for path, _ in found:
        metadata = open_parquet(path).metadata
        start = 0
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            groups.append((path, group, start, rows))
            start += rows
    bottom = _BottomK(n, seed)
    accumulator = bottom.create_accumulator()
    used = gathered = 0
    mapper = _types_mapper(source.strings)
    for choice in np.random.default_rng(seed).permutation(len(groups)):
        if gathered >= _OVERSAMPLE * n and used >= min(MIN_ROW_GROUPS, len(groups)):
            break
        path, group, start, rows = groups[int(choice)]
        parquet = open_parquet(path)
        for part in parquet.iter_batches(
            batch_size=source.batch_rows, row_groups=[group], use_threads=False
        ):
            batch = part.to_pandas(types_mapper=mapper)
            batch.index = pd.RangeIndex(start, start + len(batch))
            batch.attrs["file"] = path
            start += len(batch)
            accumulator = bottom.add_input(accumulator, batch)
        used, gathered = used + 1, gathered + rows
    frame = bottom.extract_output(accumulator)
    frame.attrs[SAMPLE_ATTR] = {
        "method": "blocks",
        "unit": "Parquet row groups",
        "blocks": used,
        "of_blocks": len(groups),
        "rows": len(frame),
        "population": sum(g[3] for g in groups),
        "population_estimated": False,
        "scanned_rows": gathered,
        "seed": seed,
        "bias": "whole row groups chosen at random, then rows within them: "
        "rows of one group come together",
    }
    return frame


def _byte_ranges(
    source: Source,
    found: list[tuple[str, int]],
    n: int,
    seed: int,
    on_bad: Callable[[BadRecord], None],
) -> pd.DataFrame:
    first = first_block(found[0][0])
    what = "CSV" if source.format == "csv" else "JSON Lines"
    check_text(found[0][0], first, source.encoding, what)
    per_line = len(first) / max(first.count(b"\n"), 1)
    span = max(int(_OVERSAMPLE * n / BLOCK_RANGES * per_line), 4096)
    sizes = np.asarray([size for _, size in found], dtype=np.int64)
    ends = np.cumsum(sizes)
    offsets = np.sort(np.random.default_rng(seed).integers(0, int(ends[-1]), BLOCK_RANGES))
    which = np.searchsorted(ends, offsets, side="right")
    bottom = _BottomK(n, seed)
    accumulator = bottom.create_accumulator()
    lines_read = bytes_read = 0
    for index in np.unique(which):
        path = found[int(index)][0]
        local = offsets[which == index] - (ends[index] - sizes[index])
        lines = _read_ranges(source, path, local.tolist(), span)
        if not lines:
            continue
        lines_read += len(lines)
        bytes_read += sum(len(text) for text in lines.values())
        batch = _parse(source, path, lines, on_bad)
        accumulator = bottom.add_input(accumulator, batch)
    frame = bottom.extract_output(accumulator)
    frame.attrs[SAMPLE_ATTR] = {
        "method": "blocks",
        "unit": "byte ranges",
        "blocks": BLOCK_RANGES,
        "rows": len(frame),
        "population": int(ends[-1] / (bytes_read / lines_read)) if lines_read else 0,
        "population_estimated": True,
        "scanned_rows": lines_read,
        "bytes": int(ends[-1]),
        "seed": seed,
        "index": "byte offset",
        "bias": "neighbouring lines come together, longer lines are likelier, "
        "and a quoted value must not hold a line break",
    }
    return frame


def _read_ranges(source: Source, path: str, offsets: list[int], span: int) -> dict[int, bytes]:
    """{byte offset of a line: the line} for the lines of ``span`` bytes after each offset."""
    lines: dict[int, bytes] = {}
    with open_binary(path) as handle:
        header_end = len(handle.readline()) if source.format == "csv" and source.header else 0
        for offset in offsets:
            start = max(int(offset), header_end)
            handle.seek(start)
            if start > header_end:
                start += len(handle.readline())  # the rest of a line begun before the range
            data = handle.read(span) + handle.readline()
            for text in data.splitlines(keepends=True):
                if text.strip(b"\r\n"):
                    lines.setdefault(start, text)
                start += len(text)
    return lines


def _parse(
    source: Source, path: str, lines: dict[int, bytes], on_bad: Callable[[BadRecord], None]
) -> pd.DataFrame:
    offsets = np.asarray(sorted(lines), dtype=np.int64)
    body = b"".join(lines[int(o)].rstrip(b"\r\n") + b"\n" for o in offsets)
    try:
        body.decode(source.encoding)
    except UnicodeDecodeError as error:
        raise BeamMLError.expected(
            f"{source.encoding} text in {path}",
            f"bytes that are not {source.encoding} ({excerpt(body[error.start :])})",
            ENCODING_FIX,
        ) from None
    if source.format == "json":
        batch = _parse_json(source, path, body)
        keep = offsets
    else:
        batch, keep = _parse_csv(source, path, body, offsets, on_bad)
    batch.index = pd.Index(keep) if len(keep) == len(batch) else pd.RangeIndex(len(batch))
    batch.attrs["file"] = path
    return batch


def _parse_csv(
    source: Source,
    path: str,
    body: bytes,
    offsets: np.ndarray,
    on_bad: Callable[[BadRecord], None],
) -> tuple[pd.DataFrame, np.ndarray]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open_binary(path) as handle:
        header = handle.readline() if source.header else b""
    names = None
    if not source.header:
        names = [str(i) for i in range(count_fields(body, source.encoding, str(source.delimiter)))]
    bad: set[int] = set()

    def skip(row: Any) -> str:  # pyarrow's invalid_row_handler: it must never raise
        position = (row.number or 0) - (2 if source.header else 1)
        bad.add(position)
        where = f" (at byte {offsets[position]})" if 0 <= position < len(offsets) else ""
        reason = f"expected {row.expected_columns} fields, saw {row.actual_columns}{where}"
        on_bad(BadRecord(path, None, reason, str(row.text)))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(header.rstrip(b"\r\n") + b"\n" + body if header else body),
            read_options=pacsv.ReadOptions(
                use_threads=False, encoding=source.encoding, column_names=names
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=str(source.delimiter), invalid_row_handler=skip
            ),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except pa.ArrowInvalid as error:
        raise BeamMLError.expected(
            f"a readable CSV file at {path}", printable(first_line(str(error)))
        ) from None
    keep = np.delete(offsets, sorted(p for p in bad if 0 <= p < len(offsets)))
    return table.to_pandas(types_mapper=_types_mapper(source.strings)), keep


def _parse_json(source: Source, path: str, body: bytes) -> pd.DataFrame:
    try:
        return pd.read_json(
            io.BytesIO(body), lines=True, encoding=source.encoding, convert_axes=False
        )
    except ValueError as error:
        raise BeamMLError.expected(
            f"one JSON object per line in {path}",
            first_line(str(error)),
            "fix that line or pass the right format",
        ) from None
