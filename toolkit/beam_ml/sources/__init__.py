"""Read CSV / Parquet / JSON Lines / DataFrames as PCollections of pandas batches; samples."""

from __future__ import annotations

from beam_ml.sources.readers import (
    BadRecord,
    DataFrameCoder,
    ReadBatches,
    SampleRows,
    Source,
    as_source,
    head,
    is_local,
    iter_batches,
    iter_file_batches,
    proxy,
    read_batches,
    read_dataframe,
    sample,
    typed_as_frames,
)

__all__ = [
    "BadRecord",
    "DataFrameCoder",
    "ReadBatches",
    "SampleRows",
    "Source",
    "as_source",
    "head",
    "is_local",
    "iter_batches",
    "iter_file_batches",
    "proxy",
    "read_batches",
    "read_dataframe",
    "sample",
    "typed_as_frames",
]
