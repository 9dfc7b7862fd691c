"""Hypothesis strategies for dirty CSV / JSON Lines bytes, and the checks every input must pass.

Each strategy draws a :class:`Case`: the bytes of a file, how to read it and its
input class (for the benchmark's table). :func:`read_outcome` reads a case with
the in-process readers and returns an :class:`Outcome`; :func:`check_outcome`
asserts the contract of issue #18: a result whose row counts add up (rows +
bad records = the records Python's ``csv`` module finds), or one BeamMLError
line with no raw bytes in it. ``tests/hardening/test_fuzz_inputs.py`` runs a
few hundred cases; ``benchmarks/fuzz_bench.py`` runs many more.

>>> case = Case("csv", b"a,b\\n1,2\\n", "plain")
>>> expected_records(case)
1
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from beam_ml.errors import BeamMLError
from hypothesis import strategies as st

# Cells a dirty export holds: quotes, delimiters, line breaks, numbers that
# overflow, unicode look-alikes and bidi controls, a BOM inside a value.
_CHARS = [*"ab ,;|\t\"'\n\r\\xé€ß\u202e\u200b\ufeff\u0430{}%$<>/", "\U0001f600"]
_TOKENS = [
    "1",
    "-2.5",
    "0",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e308",
    "-1e308",
    "1e309",
    "",
    "NULL",
    "true",
    "2024-01-31",
    "2024-13-45",
    "0x1f",
    "  7 ",
    '"',
    '""',
    "</script>",
    "{{ x }}",
    "$(id)",
]
CELLS = st.one_of(
    st.sampled_from(_TOKENS),
    st.text(st.sampled_from(_CHARS), max_size=6),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
LONG_CELL = st.integers(1_000, 70_000).map(lambda n: "x" * n)
ENCODINGS = ("utf-8", "latin-1", "cp1252", "utf-16", "mixed")


@dataclass(frozen=True)
class Case:
    """One file to read: its format, bytes, input class and reading options."""

    format: str
    data: bytes
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str, name: str = "case") -> str:
        path = os.path.join(folder, f"{name}.{'csv' if self.format == 'csv' else 'jsonl'}")
        with open(path, "wb") as handle:
            handle.write(self.data)
        return path


def _encode(text: str, encoding: str, rows: list[str] | None = None) -> bytes:
    if encoding == "mixed":  # alternate lines in UTF-8 and Latin-1: read as UTF-8
        parts = rows if rows is not None else text.splitlines(keepends=True)
        return b"".join(
            p.encode("utf-8" if i % 2 == 0 else "latin-1", errors="replace")
            for i, p in enumerate(parts)
        )
    return text.encode(encoding, errors="replace")


def _declared(encoding: str) -> str:
    return "utf-8" if encoding == "mixed" else encoding


@st.composite
def csv_cases(draw: Any) -> Case:
    """A CSV written by Python's csv module from drawn cells: quoted, ragged, any encoding."""
    width = draw(st.integers(1, 4))
    cells = st.one_of(CELLS, LONG_CELL) if draw(st.booleans()) and draw(st.booleans()) else CELLS
    ragged = draw(st.booleans())
    lengths = st.integers(max(width - 2, 1), width + 2) if ragged else st.just(width)
    rows = draw(
        st.lists(lengths.flatmap(lambda n: st.lists(cells, min_size=n, max_size=n)), max_size=8)
    )
    header = draw(st.booleans())
    names = draw(st.lists(CELLS, min_size=width, max_size=width)) if header else None
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=terminator)
    lines = []
    for row in ([names] if names else []) + rows:
        start = buffer.tell()
        writer.writerow(row)
        lines.append(buffer.getvalue()[start:])
    text = buffer.getvalue()
    bom = draw(st.booleans()) and encoding in ("utf-8", "mixed")
    data = (codecs.BOM_UTF8 if bom else b"") + _encode(text, encoding, lines)
    long = any(len(c) >= 1000 for r in rows for c in r)
    nul = "\x00" in text
    kind = "csv " + ("long fields" if long else "ragged rows" if ragged else "rectangular")
    kind += f", {encoding}" + (" + BOM" if bom else "") + (", NUL" if nul else "")
    if not rows:
        kind = "csv header only" if header else "csv empty file"
    options = {"delimiter": ",", "encoding": _declared(encoding), "header": header}
    return Case("csv", data, kind, options)


@st.composite
def delimited_cases(draw: Any) -> Case:
    """Plain cells with one of , ; \\t | between them and no delimiter given: detection."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    safe = st.text(st.sampled_from(list("abc019.-_ é")), min_size=1, max_size=5)
    width = draw(st.integers(2, 4))
    rows = draw(st.lists(st.lists(safe, min_size=width, max_size=width), min_size=1, max_size=6))
    names = [f"c{i}" for i in range(width)]
    text = "".join(delimiter.join(r) + "\n" for r in [names, *rows])
    return Case("csv", text.encode(), f"csv delimiter {delimiter!r} detected", {"delimiter": None})


@st.composite
def raw_bytes_cases(draw: Any) -> Case:
    """Arbitrary bytes, mostly CSV-ish ones (binary junk, cut multibyte characters, NULs)."""
    pieces = st.sampled_from(
        [
            b"a",
            b",",
            b'"',
            b"\n",
            b"\r\n",
            b"\x00",
            b"\xff",
            b"\xc3",
            b"\xe9",
            b"\xef\xbb\xbf",
            b"1",
        ]
    )
    data = draw(
        st.one_of(
            st.binary(max_size=64),
            st.lists(pieces, max_size=40).map(b"".join),
        )
    )
    fmt = draw(st.sampled_from(["csv", "json"]))
    options = {"delimiter": ","} if fmt == "csv" else {}
    return Case(fmt, data, f"{fmt} arbitrary bytes", options)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | CELLS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CELLS, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def json_cases(draw: Any) -> Case:
    """JSON Lines: objects with hostile keys and values, blank lines, junk or non-object lines."""
    keys = st.sampled_from(["a", "b", "c"]) | CELLS
    objects = st.dictionaries(keys, _JSON_VALUES, min_size=1, max_size=4).map(
        lambda o: json.dumps(o, ensure_ascii=False)
    )
    junk = st.sampled_from(["[1, 2]", "3", '"text"', "{", '{"a": }', "a,b", "null", "   "])
    lines = draw(
        st.lists(
            st.one_of(objects, st.just(""), junk) if draw(st.booleans()) else objects,
            max_size=8,
        )
    )
    encoding = draw(st.sampled_from(("utf-8", "latin-1", "utf-16", "mixed")))
    text = "".join(line + "\n" for line in lines)
    data = _encode(text, encoding, [line + "\n" for line in lines])
    bom = draw(st.booleans()) and encoding == "utf-8"
    if bom:
        data = codecs.BOM_UTF8 + data
    clean = all(line.startswith("{") and not line.startswith('{"a": }') for line in lines)
    kind = "json " + ("objects" if clean else "junk or blank lines") + f", {encoding}"
    kind += " + BOM" if bom else ""
    if not lines:
        kind = "json empty file"
    return Case("json", data, kind, {"encoding": _declared(encoding)})


ALL_CASES = st.one_of(csv_cases(), csv_cases(), delimited_cases(), raw_bytes_cases(), json_cases())


# ----------------------------------------------------------------------- checking
@dataclass
class Outcome:
    """What reading a case gave: rows, bad records and columns, or one error line."""

    rows: int = 0
    bad: list[Any] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    index: list[Any] = field(default_factory=list)
    delimiter: str | None = None
    error: str | None = None
    stderr: str = ""

    @property
    def summary(self) -> str:
        if self.error is not None:
            return "error: " + self.error
        return f"{self.rows} rows, {len(self.bad)} bad records"


@contextlib.contextmanager
def captured_stderr() -> Any:
    """Collect what would reach stderr, including exceptions Python reports as 'ignored'."""
    buffer = io.StringIO()
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        buffer.write(f"Exception ignored: {unraisable.exc_value!r}\n")

    sys.unraisablehook = hook
    try:
        with contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        sys.unraisablehook = previous


def source_of(case: Case, path: str) -> Any:
    from beam_ml.sources import Source

    return Source(path, format=case.format, batch_rows=3, **case.options)


def read_outcome(case: Case, folder: str) -> Outcome:
    """Read ``case`` with :func:`beam_ml.sources.iter_batches` (no Beam)."""
    from beam_ml.sources import iter_batches

    path = case.write(folder)
    outcome = Outcome()
    with captured_stderr() as err:
        try:
            source = source_of(case, path).resolved()
            outcome.delimiter = source.delimiter
            for batch in iter_batches(source, outcome.bad):
                outcome.rows += len(batch)
                outcome.index += batch.index.tolist()
                columns = list(batch.columns)
                # JSON Lines keys may first appear late: columns only ever grow, at the end
                if columns[: len(outcome.columns)] != outcome.columns or (
                    case.format == "csv" and outcome.columns and columns != outcome.columns
                ):
                    raise AssertionError(f"columns changed: {outcome.columns} -> {columns}")
                outcome.columns = list(batch.columns)
        except BeamMLError as error:
            outcome.error = str(error)
    outcome.stderr = err.getvalue()
    return outcome


def _text(case: Case) -> str | None:
    """The text pyarrow parses, or None if it does not decode in the declared encoding."""
    encoding = case.options.get("encoding", "utf-8")
    try:
        text = case.data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError:
        return None
    return text.lstrip("\ufeff")


def expected_records(case: Case, delimiter: str | None = None) -> int | None:
    """The data records Python's csv module (or json) finds in the case; None if not text."""
    text = _text(case)
    if text is None:
        return None
    if case.format == "json":
        return sum(1 for line in text.splitlines() if line.strip())
    sep = delimiter or case.options.get("delimiter") or ","
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if r]
    except csv.Error:
        return None
    header = case.options.get("header", True)
    return max(len(records) - (1 if header else 0), 0)


def check_message(message: str) -> None:
    """One line, printable, short: no raw bytes, no traceback, no wall of data."""
    assert "\n" not in message and "\r" not in message, message
    assert message.isprintable(), ascii(message)
    assert "Traceback" not in message, message
    assert len(message) <= 700, len(message)


def check_outcome(case: Case, outcome: Outcome) -> None:
    """The contract: rows + bad records = the records in the file, or one clear error line."""
    assert "Traceback" not in outcome.stderr and "Exception ignored" not in outcome.stderr, (
        outcome.stderr
    )
    expected = expected_records(case, outcome.delimiter)
    if outcome.error is not None:
        check_message(outcome.error)
        refused_all = "no line that could be read as a row" in outcome.error
        if (
            case.format == "csv"
            and expected
            and not refused_all
            and "\x00" not in str(_text(case))[: 1 << 16]
        ):
            # Text that decodes, with data rows and no NUL byte, must be read, not refused.
            raise AssertionError(f"refused readable CSV ({expected} records): {outcome.error}")
        return
    assert expected is not None, "bytes that do not decode were read without an error"
    assert outcome.rows + len(outcome.bad) == expected, (outcome.rows, len(outcome.bad), expected)
    assert len(set(outcome.index)) == len(outcome.index), "two rows share a line number"
    assert len(set(outcome.columns)) == len(outcome.columns), outcome.columns
    for record in outcome.bad:
        check_message(record.reason)
        assert record.line is None or record.line >= 1
    if case.kind.startswith("csv delimiter"):
        assert outcome.delimiter == case.kind.split("'")[1].encode().decode("unicode_escape")
