"""Atomic writes: a file appears under its final name complete, or not at all.

Every report, profile and page the toolkit writes goes to a temporary name beside
its target and is renamed when complete, so a run killed mid-write (Ctrl-C, OOM,
SIGKILL, a preempted worker) leaves no half-written ``report.json`` that a later
step or a person would read as the result. The temporary name starts with a dot
and ends in ``.tmp``, so no reader's glob (``rows-*.jsonl``, ``*.json``) sees it.

- :func:`write_text` for local files (``os.replace``: atomic on POSIX and Windows);
- :func:`replacing` for a writer that takes a path (``report.to_html(path)``):
  it writes to the temporary path the block is given, renamed when the block ends;
- :func:`write_beam_file` for any file system Beam knows (local, gs://, s3://...):
  ``FileSystems.create`` on the temporary name, then ``FileSystems.rename``
  (an object store's rename is copy + delete: the final object appears whole).

Row shards need none of this: Beam's file sinks (``WriteToText``, the Parquet sink)
write each shard under ``beam-temp-<stem>-<uuid>/`` and rename it into place only
when the whole write has finished.

>>> write_text("out/report.json", '{"passed": true}')     # doctest: +SKIP
'out/report.json'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["replacing", "temporary_name", "write_beam_file", "write_bytes", "write_text"]


def temporary_name(path: str) -> str:
    """The hidden name beside ``path`` that a write goes to first.

    >>> temporary_name("out/report.json").startswith("out/.report.json.")
    True
    """
    head, _, tail = path.rpartition("/")
    hidden = f".{tail}.{uuid.uuid4().hex[:12]}.tmp"
    return f"{head}/{hidden}" if head or path.startswith("/") else hidden


def write_bytes(path: str | os.PathLike[str], data: bytes) -> str:
    """Write ``data`` to the local file ``path`` atomically; return the path.

    The bytes are written and fsync'ed under a temporary name in the same folder
    (so the rename never crosses a file system), then renamed over ``path``.

    >>> write_bytes("page.html", b"<html></html>")           # doctest: +SKIP
    'page.html'
    """
    target = Path(os.fspath(path))
    folder = target.parent
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _plain_mode(temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return str(target)


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[str]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block
    ends without an error, removed when it raises (or the process dies before the end).

    >>> with replacing("report.html") as temp:                # doctest: +SKIP
    ...     report.to_html(temp)
    """
    target = Path(os.fspath(path))
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield temp
        _plain_mode(temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _plain_mode(path: str) -> None:
    """mkstemp makes a file 0600: give it the mode a plain ``open(path, "w")`` would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> str:
    """Write ``text`` to the local file ``path`` atomically; return the path.

    >>> write_text("report.json", "{}")                        # doctest: +SKIP
    'report.json'
    """
    return write_bytes(path, text.encode(encoding))


def write_beam_file(path: str, data: bytes) -> str:
    """Write ``data`` to ``path`` on any Beam file system, under a temporary name first.

    What an exported module's one-file outputs (``report.json``, ``profile.json``)
    use: it runs on the workers of any runner, with any file system.

    >>> write_beam_file("gs://bucket/out/stats/profile.json", b"{}")   # doctest: +SKIP
    'gs://bucket/out/stats/profile.json'
    """
    from apache_beam.io.filesystems import FileSystems

    temp = temporary_name(path)
    try:
        with FileSystems.create(temp) as handle:
            handle.write(data)
        # os.rename locally (replaces an earlier run's file atomically); copy + delete
        # on an object store, whose objects appear whole
        FileSystems.rename([temp], [path])
    except BaseException:
        with contextlib.suppress(Exception):
            FileSystems.delete([temp])
        raise
    return path
