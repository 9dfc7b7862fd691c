"""Physical line numbers of CSV records, whatever blank lines and bad lines the reader skipped.

pyarrow skips blank lines and numbers the rest; a batch's index must be the
line a user sees in an editor. One streaming pass over the file finds its blank
lines (and, when asked, checks that every byte decodes), so the numbers can be
mapped back without holding the file.

>>> _physical(np.array([2, 3, 4]), np.array([3]))
array([2, 4, 5])
"""

from __future__ import annotations

import codecs
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.sources.files import open_binary
from beam_ml.sources.text import ascii_compatible, encoding_error

# Bytes per read when looking for blank lines: small, so a big CSV costs no
# memory here (16 MiB reads, doubled by the join below, were 32 MB of peak).
_BLANK_SCAN_BYTES = 1 << 20


def _blank_lines(path: str, encoding: str | None = None) -> np.ndarray:
    """Sorted physical numbers of the empty lines of a file (pyarrow skips them).

    Line k is the one ending at the k-th newline; a line is blank when that
    newline follows another one (or ``\\r`` after one, or the file's start).
    With ``encoding``, the same pass checks the text decodes (an ASCII read
    costs nothing more), so pyarrow never meets bytes it cannot turn into text.
    numpy finds the newlines (~5 times faster than searching the bytes, and
    without holding the GIL, so a reader thread leaves the profiler's alone).
    """
    found: list[np.ndarray] = []
    before = 0  # newlines in the file before `chunk`
    tail = b"\0\n"  # the two bytes before `chunk`; the start counts as a newline
    decoder = codecs.getincrementaldecoder(encoding)() if encoding else None
    skip_ascii = bool(encoding) and ascii_compatible(str(encoding))
    with open_binary(path) as handle:
        while chunk := handle.read(_BLANK_SCAN_BYTES):
            if decoder is not None:
                _check_decodes(decoder, chunk, skip_ascii, path, str(encoding))
            data = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero(data == 10)  # the newlines in `chunk`
            if ends.size:
                # the one and two bytes before each newline (from `tail` near the start)
                one = data[np.maximum(ends - 1, 0)]
                two = data[np.maximum(ends - 2, 0)]
                for i in range(min(2, ends.size)):
                    end = int(ends[i])
                    back = tail + chunk[max(end - 2, 0) : end]
                    one[i], two[i] = back[-1], back[-2]
                blank = (one == 10) | ((one == 13) & (two == 10))
                found.append(before + np.flatnonzero(blank) + 1)
            before += ends.size
            tail = (tail + chunk[-2:])[-2:]
    if decoder is not None:
        _check_decodes(decoder, b"", False, path, str(encoding), final=True)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _check_decodes(
    decoder: Any, chunk: bytes, skip_ascii: bool, path: str, encoding: str, final: bool = False
) -> None:
    if skip_ascii and chunk.isascii() and not decoder.getstate()[0]:
        return  # ASCII after a complete character: valid in any ASCII-compatible encoding
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        raise encoding_error(path, encoding) from None


def _physical(nonblank: Any, blank_lines: np.ndarray) -> Any:
    """Map line numbers that skip blank lines to physical line numbers."""
    if not len(blank_lines):
        return nonblank
    # A non-blank line n comes after the i-th blank line e_i iff n >= e_i - i.
    return nonblank + np.searchsorted(blank_lines - np.arange(len(blank_lines)), nonblank, "right")


def _nonblank(physical: int, blank_lines: np.ndarray) -> int:
    return physical - int(np.searchsorted(blank_lines, physical))


def _csv_lines(
    first_record: int,
    count: int,
    bad_lines: list[int],
    blank_lines: np.ndarray,
    first_line: int = 2,
) -> pd.Index:
    """Physical line numbers of records ``first_record ...``.

    ``first_line`` is the line of record 0: 2 after a header, 1 without one.
    ``bad_lines`` are physical numbers of the lines skipped so far. Records are
    one line each: a quoted value spanning lines shifts the numbers after it.
    """
    records = np.arange(first_record, first_record + count)
    # Number the non-blank lines first (as pyarrow does), then map to physical.
    # A bad line with non-blank number b (sorted, i-th) would have been record
    # b - first_line - i.
    bad = np.sort(np.asarray([_nonblank(b, blank_lines) for b in bad_lines], dtype=np.int64))
    shifted = bad - first_line - np.arange(len(bad))
    nonblank = records + first_line + np.searchsorted(shifted, records, side="right")
    return pd.Index(_physical(nonblank, blank_lines))
