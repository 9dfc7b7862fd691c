"""Where a file's bytes come from: this machine or a Beam file system, compressed or not.

>>> is_local("data/a.csv"), is_compressed("a.csv.gz")
(True, True)
"""

from __future__ import annotations

import io
import os
from typing import Any

from apache_beam.io.filesystems import FileSystems

from beam_ml.errors import BeamMLError

# Suffixes Beam's file systems decompress on open (and pyarrow on read).
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".lz4")


def is_local(path: str) -> bool:
    """Whether ``path`` is on this machine's file system (not gs://, s3://, ...).

    >>> is_local("data/a.csv"), is_local("gs://bucket/a.csv")
    (True, False)
    """
    return "://" not in path


def is_compressed(path: str) -> bool:
    """Whether ``path`` names a compressed file (its bytes on disk are not the text)."""
    return path.lower().endswith(COMPRESSION_SUFFIXES)


def open_binary(path: str) -> Any:
    """A binary file object of the file's content, on any file system Beam knows.

    A compressed file is decompressed (Beam picks the codec from the suffix), so
    what we scan is the text pyarrow parses.
    """
    if is_local(path) and not is_compressed(path):
        return open(path, "rb")
    return FileSystems.open(path)


class _RawReader(io.RawIOBase):
    """A Beam file object (a decompressing one has no ``readable()``) as a raw binary stream."""

    def __init__(self, handle: Any) -> None:
        super().__init__()
        self.handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.handle.close()
        super().close()


def open_text(path: str, encoding: str, errors: str = "strict", newline: str | None = None) -> Any:
    """A text file object of the file's content (decompressed), on any file system Beam knows."""
    if is_local(path) and not is_compressed(path):
        return open(path, encoding=encoding, errors=errors, newline=newline)
    raw = io.BufferedReader(_RawReader(FileSystems.open(path)))
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=newline)


def readable(path: str) -> Any:
    """What pyarrow and pandas read: the path itself when local, else a Beam file object."""
    return path if is_local(path) else FileSystems.open(path)


def match(path: str) -> list[tuple[str, int]]:
    """(path, size in bytes) of each file ``path`` (a file or a glob) names, sorted.

    >>> match("no-such-file.csv")                           # doctest: +SKIP
    Traceback (most recent call last):
    BeamMLError: expected an existing file or a glob that matches files, ...
    """
    try:
        found = FileSystems.match([path])[0].metadata_list
    except Exception as error:  # Beam raises BeamIOError for a missing plain path
        raise missing(path) from error
    files = sorted((m.path, int(m.size_in_bytes)) for m in found)
    if not files:
        raise missing(path)
    return files


def missing(path: str) -> BeamMLError:
    """The one error for a path or glob that names no file."""
    return BeamMLError.expected(
        "an existing file or a glob that matches files",
        f"{path!r}, which matches nothing",
        "check the path (relative paths are read from the current folder)",
    )


def suffix_of(path: str) -> str:
    """The file's suffix once any compression suffix is removed: ``a.csv.gz`` -> ``.csv``."""
    name = path.lower()
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    return os.path.splitext(name)[1]
