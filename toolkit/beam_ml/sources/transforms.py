"""The Beam side: :class:`ReadBatches`, :class:`SampleRows` and the pandas batch coder.

One element of a pipeline is one *batch*: a pandas DataFrame of many rows.
Per-row elements cost Beam a lot more than the work we do on each row, so every
engine transform (profile, validate, inference) takes batches.

>>> with beam.Pipeline() as p:                              # doctest: +SKIP
...     read = p | ReadBatches(Source("data.csv", delimiter=";"))
...     read.batches | beam.Map(len)
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import apache_beam as beam
import pandas as pd
from apache_beam.coders import coder_impl
from apache_beam.typehints import Any as AnyHint

from beam_ml.errors import check_positive_int
from beam_ml.runner import count_rows
from beam_ml.sources.bottomk import SAMPLE_ATTR, _BottomK
from beam_ml.sources.files import is_local
from beam_ml.sources.reading import _frame_batches, iter_file_batches
from beam_ml.sources.sampling import READ_ATTR, head
from beam_ml.sources.source import DATAFRAME_FILE, BadRecord, Source, as_source

BAD_RECORDS = "bad_records"


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

    >>> DataFrameCoder().decode(DataFrameCoder().encode(pd.DataFrame({"a": [1]}))).a.tolist()
    [1]
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
    """Declare a PCollection of pandas batches as such, so Beam uses :class:`DataFrameCoder`.

    >>> batches = typed_as_frames(p | beam.Create([df]))     # doctest: +SKIP
    """
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
            count_rows(len(batch))  # the rows_read counter that progress displays follow
            yield batch
        yield from (beam.pvalue.TaggedOutput(BAD_RECORDS, record) for record in bad)


class _NameFrameBatchFn(beam.DoFn):
    def process(self, batch: pd.DataFrame) -> Iterator[pd.DataFrame]:
        batch.attrs["file"] = DATAFRAME_FILE
        count_rows(len(batch))
        yield batch


def workers_take_every_core(options: Any) -> bool:
    """DirectRunner's worker processes (or threads) are as many as this machine's cores.

    >>> from apache_beam.options.pipeline_options import PipelineOptions
    >>> flags = ["--direct_running_mode=multi_threading", "--direct_num_workers=0"]
    >>> workers_take_every_core(PipelineOptions(flags)), workers_take_every_core(PipelineOptions())
    (True, False)
    """
    from apache_beam.options.pipeline_options import DirectOptions

    direct = options.view_as(DirectOptions)
    if direct.direct_running_mode not in ("multi_processing", "multi_threading"):
        return False
    cores = os.cpu_count() or 1
    workers = direct.direct_num_workers or cores  # 0 asks for one per core
    return workers >= cores


# rows read from the first file to check it before the pipeline runs
_CHECK_ROWS = 64


class ReadBatches(beam.PTransform):
    """The pipeline -> ``.batches`` (pandas DataFrames) and ``.bad_records``.

    It checks the first file before the pipeline runs (it exists, its format and
    encoding read), so a typo fails at once with a clear message. Options left
    to detection are fixed then, from the first file: after the transform is
    applied, ``transform.source`` holds the options every worker reads with
    (``transform.source.note()`` says e.g. "read with delimiter ';' (detected)").

    >>> with beam.Pipeline() as p:                          # doctest: +SKIP
    ...     read = p | ReadBatches("data.csv")
    ...     read.batches | beam.Map(len)
    ...     read.bad_records | beam.Map(print)
    """

    def __init__(self, source: Any) -> None:
        self.source = as_source(source)
        super().__init__(f"ReadBatches({self.source.describe()})")

    def expand(self, pbegin: Any) -> Any:
        src = self.source = self.source.resolved()
        if src.frame is not None:
            batches = list(_frame_batches(src.frame, src.batch_rows))
            read = (
                pbegin
                | "Batches" >> beam.Create(batches, reshuffle=False)
                | "Name"
                >> beam.ParDo(_NameFrameBatchFn()).with_outputs(BAD_RECORDS, main="batches")
            )
        else:
            if workers_take_every_core(pbegin.pipeline.options):
                src = self.source = replace(src, read_ahead=False)
            files = src.files()
            if is_local(files[0]):
                # Fail now, not inside a worker, if the first file is unreadable. A small
                # batch is enough to tell: a whole one cost 0.2 s of a 1M-row Parquet profile.
                head(replace(src, batch_rows=_CHECK_ROWS), 1)
            read = (
                pbegin
                | "Files" >> beam.Create(files)
                | "Read" >> beam.ParDo(_ReadFileFn(src)).with_outputs(BAD_RECORDS, main="batches")
            )
        typed_as_frames(read.batches)
        return read


def read_batches(pipeline: Any, source: Any) -> Any:
    """The PCollection of pandas batches of ``source`` in ``pipeline``.

    >>> batches = read_batches(p, Source("data.csv", encoding="latin-1"))  # doctest: +SKIP
    """
    return (pipeline | ReadBatches(source)).batches


def proxy(source: Any) -> pd.DataFrame:
    """The empty DataFrame Beam's DataFrame API needs to know the columns and types.

    Integer columns are widened to float64: a later batch may hold nulls there.

    >>> proxy(pd.DataFrame({"a": [1, 2]})).dtypes.tolist()
    [dtype('float64')]
    """
    first = head(source, 1000)
    empty = first.iloc[:0]
    for key in (SAMPLE_ATTR, READ_ATTR):  # about the preview, not the columns
        empty.attrs.pop(key, None)
    ints = [c for c in empty.columns if pd.api.types.is_integer_dtype(empty[c].dtype)]
    return empty.astype({c: "float64" for c in ints}) if ints else empty


def read_dataframe(pipeline: Any, source: Any) -> Any:
    """``source`` in ``pipeline`` as a Beam DeferredDataFrame.

    >>> with beam.Pipeline() as p:                          # doctest: +SKIP
    ...     df = read_dataframe(p, Source("flights.csv", header=True))
    ...     late = df[df.dep_delay > 60]
    """
    from apache_beam.dataframe.convert import to_dataframe

    src = as_source(source).resolved()
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

    It keeps the same rows as :func:`sample` with the same seed, and states
    the same ``attrs["beam_ml_sample"]``.

    >>> batches | SampleRows(1000, seed=0)                  # doctest: +SKIP
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        super().__init__(f"SampleRows({n})")
        self.n = check_positive_int("n", n)
        self.seed = seed

    def expand(self, batches: Any) -> Any:
        return batches | beam.CombineGlobally(_SampleFn(int(self.n or 0), self.seed))
