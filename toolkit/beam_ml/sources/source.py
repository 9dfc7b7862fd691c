"""What to read and how: the :class:`Source` spec, its options, and :class:`BadRecord`.

The reading options are pandas' own: ``encoding``, ``delimiter`` (``None``
detects one of ``, ; \\t |`` from the first block of the first file),
``format`` and ``header``. :meth:`Source.resolved` gives the options the
readers actually use, so a caller can say "delimiter ';' (detected)".

>>> Source("flights-*.csv").format
'csv'
>>> Source(frame=pd.DataFrame({"a": [1, 2]})).describe()
'<DataFrame: 2 rows x 1 columns>'
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError, check_choice, check_positive_int
from beam_ml.sources import files
from beam_ml.sources.text import check_encoding, detect_delimiter, first_block

FORMATS = ("csv", "parquet", "json")
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
DATAFRAME_FILE = "<dataframe>"
# What the command line may spell instead of a tab character.
_DELIMITER_NAMES = {"\\t": "\t", "tab": "\t"}


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

    ``encoding``, ``delimiter`` and ``header`` mean what they mean to
    ``pd.read_csv``; ``delimiter=None`` detects it, ``header=False`` names the
    columns ``"0", "1", ...`` (``pd.read_csv(header=None)``'s 0, 1, ... as text,
    so JSON reports, rules YAML, Parquet and ``--key 0`` all name them alike).

    >>> Source("data.csv", delimiter=";", header=False).read_options()["delimiter"]
    ';'
    """

    path: str | None = None
    format: str | None = None
    frame: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    batch_rows: int = 50_000
    encoding: str = "utf-8"
    delimiter: str | None = None
    header: bool = True
    # How CSV and Parquet text columns arrive: "object" (Python str, what
    # pd.read_csv gives) or "arrow" (pandas' pyarrow-backed string dtype). The
    # profiler asks for "arrow": the text stays in Arrow buffers, a batch takes
    # less memory and is factorized by Arrow; its statistics are the same.
    strings: str = "object"
    # Parse a CSV's next batch on a second thread while this one is worked on. It pays
    # when the process has a core to spare; ReadBatches turns it off when the runner's
    # workers already take every core (2 DirectRunner workers on 2 cores: 5M rows
    # profiled in 12.1 s without, 14.0 s with).
    read_ahead: bool = field(default=True, compare=False)
    # The options :meth:`resolved` found in the data rather than was given.
    detected: tuple[str, ...] = field(default=(), compare=False)

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
        check_encoding(self.encoding)
        if self.delimiter is not None:
            object.__setattr__(self, "delimiter", _check_delimiter(self.delimiter))
        if not isinstance(self.header, bool):
            raise BeamMLError.expected("header to be True or False", repr(self.header))
        self._check_options_fit_the_format()

    def _check_options_fit_the_format(self) -> None:
        given = {
            "delimiter": self.delimiter is not None,
            "header": self.header is not True,
            "encoding": self.encoding != "utf-8",
        }
        allowed = {"csv": given.keys(), "json": {"encoding"}}.get(str(self.format), set())
        wrong = [name for name, on in given.items() if on and name not in allowed]
        if self.path is not None and wrong:
            raise BeamMLError.expected(
                f"only options {self.format} files have",
                f"{wrong[0]}={getattr(self, wrong[0])!r} for {self.format}",
                f"drop {wrong[0]}, or pass format='csv' if the files are CSV",
            )

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
        return [path for path, _ in files.match(self.path)]

    def resolved(self) -> Source:
        """This source with every option fixed: a CSV's delimiter detected from its first file.

        >>> Source("semicolons.csv").resolved().delimiter      # doctest: +SKIP
        ';'
        """
        if self.format != "csv" or self.delimiter is not None or self.path is None:
            return self
        found = detect_delimiter(first_block(self.files()[0]), self.encoding)
        return replace(self, delimiter=found, detected=(*self.detected, "delimiter"))

    def read_options(self) -> dict[str, Any]:
        """The reading options as data (``detected`` lists those found, not given)."""
        options: dict[str, Any] = {"format": self.format or "dataframe"}
        if self.format == "csv":
            options.update(delimiter=self.delimiter, header=self.header)
        if self.format in ("csv", "json"):
            options["encoding"] = self.encoding
        options["detected"] = list(self.detected)
        return options

    def note(self) -> str | None:
        """A line for output when the reading options are not the plain defaults.

        >>> Source("a.csv", delimiter=";").note()
        "read with delimiter ';'"
        """
        parts = []
        if self.delimiter not in (None, ","):
            found = " (detected)" if "delimiter" in self.detected else ""
            parts.append(f"delimiter {self.delimiter!r}{found}")
        if self.encoding != "utf-8" and self.format in ("csv", "json"):
            parts.append(f"encoding {self.encoding}")
        if not self.header:
            parts.append("no header (columns named 0, 1, ...)")
        return "read with " + ", ".join(parts) if parts else None


def _check_delimiter(delimiter: Any) -> str:
    value = _DELIMITER_NAMES.get(delimiter, delimiter)
    if not isinstance(value, str) or len(value) != 1 or value in '\r\n"':
        raise BeamMLError.expected(
            "delimiter to be one character (or '\\t' for a tab)",
            repr(delimiter),
            "pass e.g. delimiter=';', or leave it out to detect it",
        )
    return value


def _format_from_suffix(path: str) -> str:
    fmt = _SUFFIX_FORMATS.get(files.suffix_of(path))
    if fmt is None:
        raise BeamMLError.expected(
            "a file ending in .csv, .parquet or .jsonl",
            repr(path),
            "pass the format explicitly, e.g. format='csv'",
        )
    return fmt


def as_source(obj: Any, format: str | None = None, **options: Any) -> Source:
    """Turn a path, a glob, a pathlib.Path, a DataFrame or a Source into a Source.

    ``options`` (``encoding``, ``delimiter``, ``header``, ...) are :class:`Source`'s.

    >>> as_source("data/*.parquet").format
    'parquet'
    >>> as_source("data.txt", delimiter="|").delimiter
    '|'
    """
    if format is not None:
        options["format"] = format
    if isinstance(obj, Source):
        if obj.frame is not None:
            options.pop("format", None)
        return replace(obj, **options) if options else obj
    if isinstance(obj, pd.DataFrame):
        options.pop("format", None)
        return Source(frame=obj, **options)
    if isinstance(obj, str | os.PathLike):
        return Source(path=os.fspath(obj), **options)
    raise BeamMLError.expected(
        "a path, a glob, a pandas DataFrame or a beam_ml Source",
        type(obj).__name__,
        "pass e.g. bml.datasets.load('penguins')",
    )
