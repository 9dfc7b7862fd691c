"""What a file's first bytes say: binary or text, its encoding errors, its CSV delimiter.

Messages about bad bytes never carry the bytes themselves: they show a short
escaped excerpt (``b'Jos\\xe9'``), so a terminal or a notebook prints one clean line.

>>> detect_delimiter(b"a;b;c\\n1;2;3\\n", "utf-8")
';'
>>> excerpt(b"\\x89PNG\\r\\n\\x1a\\n")
"b'\\\\x89PNG\\\\r\\\\n\\\\x1a\\\\n'"
"""

from __future__ import annotations

import codecs
import csv
import io

from beam_ml.errors import BeamMLError
from beam_ml.sources.files import open_binary, open_text

# The delimiters detection chooses from, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")
# Bytes read to detect binary files and delimiters: a few hundred lines of a
# typical CSV, and what git reads to call a file binary (it reads 8,000).
SNIFF_BYTES = 1 << 16
# Records looked at to choose a delimiter.
_SNIFF_RECORDS = 50
# How to fix text that does not decode, in Python and on the command line.
ENCODING_FIX = (
    "pass the file's encoding, e.g. encoding='latin-1' (--encoding latin-1 on the command line)"
)
# File signatures worth naming when a text format was expected.
_SIGNATURES = (
    (b"PAR1", "it looks like Parquet: pass format='parquet'"),
    (b"PK\x03\x04", "it looks like a zip archive (an Excel workbook?): save it as CSV"),
    (b"\x1f\x8b", "it looks gzip-compressed: name it with a .gz suffix"),
    (b"\xff\xfe", "it looks like UTF-16 text: pass encoding='utf-16'"),
    (b"\xfe\xff", "it looks like UTF-16 text: pass encoding='utf-16'"),
)


def excerpt(data: bytes | str, limit: int = 20) -> str:
    """At most ``limit`` bytes or characters of ``data``, escaped, for a message.

    >>> excerpt("caf\\u00e9\\x00")
    "'caf\\\\xe9\\\\x00'"
    """
    return ascii(data[:limit]) + ("..." if len(data) > limit else "")


def printable(text: str, limit: int = 200) -> str:
    """``text`` on one line of printable characters (others escaped), at most ``limit`` long."""
    safe = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(text.split()))
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def first_block(path: str) -> bytes:
    """The first :data:`SNIFF_BYTES` bytes of the file's content (decompressed)."""
    with open_binary(path) as handle:
        return bytes(handle.read(SNIFF_BYTES))


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python knows it, else one clear error."""
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise BeamMLError.expected(
            "an encoding Python knows", repr(encoding), "pass e.g. encoding='latin-1'"
        ) from None
    return encoding


def ascii_compatible(encoding: str) -> bool:
    """Whether ASCII text has the same bytes in ``encoding`` (utf-8, latin-1, cp1252: yes)."""
    return "a,\n".encode(encoding) == b"a,\n"


def check_text(path: str, block: bytes, encoding: str, what: str) -> None:
    """Refuse a binary file (a NUL byte in its first block) with one line naming it."""
    if not ascii_compatible(encoding) or b"\x00" not in block:
        return
    hint = next(
        (h for signature, h in _SIGNATURES if block.startswith(signature)),
        "pass the right format, or a text file",
    )
    raise BeamMLError.expected(
        f"a text {what} file at {path}", f"binary data (it starts {excerpt(block)})", hint
    )


def encoding_error(path: str, encoding: str) -> BeamMLError:
    """The error for text that does not decode: where, a short excerpt, and the option to pass."""
    found = first_undecodable(path, encoding)
    where = "a line"
    if found is not None:
        line, near = found
        where = f"line {line} ({excerpt(near)})"
    return BeamMLError.expected(
        f"{encoding} text in {path}",
        f"bytes that are not {encoding} at {where}",
        ENCODING_FIX,
    )


def first_undecodable(path: str, encoding: str) -> tuple[int, bytes] | None:
    """(line number, the bytes around the first bad one) of the first line that does not decode."""
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as error:
                return number, bytes(raw[max(error.start - 8, 0) : error.start + 12])
    return None


def _records(block: bytes, encoding: str, delimiter: str) -> list[list[str]]:
    """The first complete records of ``block`` as Python's csv module splits them."""
    text = block.decode(encoding, errors="replace")
    if len(block) >= SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # the last line may be cut
    records = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if record:
                records.append(record)
            if len(records) >= _SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # what was split so far still counts
    return records


def detect_delimiter(block: bytes, encoding: str) -> str:
    """The delimiter among ``, ; \\t |`` that splits the first records most consistently.

    A candidate must split the first line into more than one field; among those,
    the one giving the most records with the first line's field count wins (then
    the most fields, then the order above). A one-column file gets a comma.

    >>> detect_delimiter(b"a|b\\n1|2\\n", "utf-8")
    '|'
    """
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        records = _records(block, encoding, delimiter)
        if not records or len(records[0]) < 2:
            continue
        fields = len(records[0])
        consistent = sum(len(r) == fields for r in records) / len(records)
        if (consistent, fields) > best_score:
            best, best_score = delimiter, (consistent, fields)
    return best


def first_record(path: str, encoding: str, delimiter: str) -> tuple[list[str], int] | None:
    """The file's first CSV record and the physical lines it spans (blank lines before it too).

    Streamed, so a first record longer than :data:`SNIFF_BYTES` is still whole.
    None when Python's csv module cannot split it (a field over its size limit).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = path.write_bytes(b'"a\\nb",c\\n1,2\\n')
    >>> first_record(str(path), "utf-8", ",")
    (['a\\nb', 'c'], 2)
    """
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # pyarrow drops a UTF-8 byte order mark
    with open_text(path, encoding, errors="replace", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            for record in reader:
                if record:
                    return record, reader.line_num
        except csv.Error:
            return None
    return None


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique as ``pd.read_csv`` makes them: ``a, a.1``; ``""`` -> ``Unnamed: i``.

    >>> unique_names(["a", "a", "", "a.1"])
    ['a', 'a.2', 'Unnamed: 2', 'a.1']
    """
    named = [name if name else f"Unnamed: {i}" for i, name in enumerate(names)]
    taken = set(named)
    out: list[str] = []
    seen: set[str] = set()
    for name in named:
        if name in seen:
            k = 1
            while f"{name}.{k}" in taken:
                k += 1
            name = f"{name}.{k}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def count_fields(block: bytes, encoding: str, delimiter: str) -> int:
    """The number of fields of the first record of ``block`` (0 if it has none)."""
    records = _records(block, encoding, delimiter)
    return len(records[0]) if records else 0
