"""Read CSV / Parquet / JSON Lines / DataFrames as PCollections of pandas batches; samples.

A batch's index is where its rows came from: for CSV and JSON Lines the line
number in the file (the header is line 1), for Parquet the 0-based row number,
for an in-memory DataFrame its own index; ``batch.attrs["file"]`` names the
file. CSV lines with the wrong number of fields are never dropped silently:
they come out of :class:`ReadBatches` as :class:`BadRecord`s.

Modules: ``source`` (the :class:`Source` spec and its options), ``files``
(local or Beam file systems), ``text`` (binary files, encodings, delimiter
detection), ``lines`` (physical line numbers), ``csv_reader`` and ``columnar`` (the
format readers), ``arrow`` (Arrow to pandas batches), ``reading`` (in-process
reading), ``bottomk`` (the mergeable uniform sample), ``blocks`` (block samples
of huge inputs), ``sampling`` (:func:`head`, :func:`sample`) and ``transforms``
(the Beam transforms and the batch coder).

>>> from beam_ml.sources import Source, sample
"""

from __future__ import annotations

from beam_ml.sources.blocks import SCAN_LIMIT
from beam_ml.sources.files import is_local
from beam_ml.sources.reading import iter_batches, iter_file_batches
from beam_ml.sources.sampling import describe_sample, head, sample
from beam_ml.sources.source import FORMATS, BadRecord, Source, as_source
from beam_ml.sources.text import DELIMITERS
from beam_ml.sources.transforms import (
    BAD_RECORDS,
    DataFrameCoder,
    ReadBatches,
    SampleRows,
    proxy,
    read_batches,
    read_dataframe,
    typed_as_frames,
    workers_take_every_core,
)

__all__ = [
    "BAD_RECORDS",
    "DELIMITERS",
    "FORMATS",
    "SCAN_LIMIT",
    "BadRecord",
    "DataFrameCoder",
    "ReadBatches",
    "SampleRows",
    "Source",
    "as_source",
    "describe_sample",
    "head",
    "is_local",
    "iter_batches",
    "iter_file_batches",
    "proxy",
    "read_batches",
    "read_dataframe",
    "sample",
    "typed_as_frames",
    "workers_take_every_core",
]
