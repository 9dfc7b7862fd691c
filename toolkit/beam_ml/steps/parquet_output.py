"""Row outputs as Parquet shards with the column types of the data.

``batches | WriteParquetShards("out/heavy/rows", proxy)`` writes
``out/heavy/rows-00000-of-0000N.parquet`` through a Beam ``FileBasedSink`` — the
machinery of Beam's own Parquet sink (``apache_beam.io.parquetio``): every shard is
written under ``beam-temp-rows-<uuid>/`` and renamed into place when the write is
complete, on any runner and any file system Beam knows.

Why not ``WriteToParquet(schema=...)`` with the step's proxy alone: the proxy is
known before the data is read, so it widens integer columns to float64 (a later
batch may hold nulls). The schema here is the data's: each batch becomes a
``pyarrow.Table``, their schemas are unified in one combine (integers stay int64
unless some batch holds a float or a null there, then float64; a column that
mixes text and numbers becomes text), and every table is cast to that schema
before it is written, so all shards agree. The proxy (``object`` -> string) gives
the type of a column that is null in every row, and the schema of an empty output.

>>> empty = {"a": pd.Series([], dtype="float64"), "b": pd.Series([], dtype=object)}
>>> arrow_schema(pd.DataFrame(empty))
a: double
b: string
"""

from __future__ import annotations

import math
from typing import Any

import apache_beam as beam
import pandas as pd
import pyarrow as pa
from apache_beam.io import filebasedsink
from apache_beam.io.filesystem import CompressionTypes

__all__ = ["WriteParquetShards", "arrow_schema", "arrow_table", "unify_schemas"]


def arrow_schema(proxy: pd.DataFrame | None) -> pa.Schema:
    """The pyarrow schema of a proxy DataFrame (``object`` columns as strings)."""
    if proxy is None:
        return pa.schema([])
    fields = []
    for name in proxy.columns:
        column = proxy[name]
        if column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
            kind = pa.string()
        else:
            try:
                kind = pa.from_numpy_dtype(column.dtype)
            except (NotImplementedError, TypeError, pa.ArrowException):
                kind = pa.Schema.from_pandas(proxy[[name]], preserve_index=False).field(0).type
        fields.append(pa.field(str(name), kind))
    return pa.schema(fields)


def _text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return str(value)


def arrow_table(batch: pd.DataFrame) -> pa.Table:
    """A batch as a pyarrow Table; a column pyarrow cannot type (mixed values) as text."""
    flat = batch.reset_index(drop=True)
    flat.columns = [str(c) for c in flat.columns]
    try:
        return pa.Table.from_pandas(flat, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        arrays = []
        for name in flat.columns:
            try:
                arrays.append(pa.array(flat[name], from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
                arrays.append(pa.array([_text(v) for v in flat[name]], type=pa.string()))
        return pa.Table.from_arrays(arrays, names=list(flat.columns))


def _merge(types: list[pa.DataType], fallback: pa.DataType | None) -> pa.DataType:
    """One type for a column seen with ``types`` in different batches."""
    known = list(dict.fromkeys(t for t in types if not pa.types.is_null(t)))
    if not known:
        return fallback if fallback is not None else pa.null()
    if len(known) == 1:
        return known[0]
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in known):
        return pa.float64() if any(pa.types.is_floating(t) for t in known) else pa.int64()
    if all(pa.types.is_timestamp(t) for t in known):
        return known[0]
    return pa.string()


def unify_schemas(schemas: list[pa.Schema], fallback: pa.Schema | None = None) -> pa.Schema:
    """One schema for tables written to the same output (see the module docstring).

    >>> unify_schemas([pa.schema([("a", pa.int64())]), pa.schema([("a", pa.float64())])])
    a: double
    """
    fallback = fallback if fallback is not None else pa.schema([])
    names: dict[str, list[pa.DataType]] = {name: [] for name in fallback.names}
    for schema in schemas:
        for field in schema:
            names.setdefault(field.name, []).append(field.type)
    given = {f.name: f.type for f in fallback}
    return pa.schema([pa.field(n, _merge(t, given.get(n))) for n, t in names.items()])


class _UnifySchemas(beam.CombineFn):
    """Table schemas -> one schema: few distinct schemas, kept as a list until the end."""

    def __init__(self, fallback: pa.Schema) -> None:
        super().__init__()
        self.fallback = fallback

    def create_accumulator(self) -> list[pa.Schema]:
        return []

    def add_input(self, accumulator: list[pa.Schema], schema: pa.Schema) -> list[pa.Schema]:
        if not any(schema.equals(s) for s in accumulator):
            accumulator.append(schema)
        return accumulator

    def merge_accumulators(self, accumulators: Any) -> list[pa.Schema]:
        merged: list[pa.Schema] = []
        for accumulator in accumulators:
            for schema in accumulator:
                self.add_input(merged, schema)
        return merged

    def extract_output(self, accumulator: list[pa.Schema]) -> pa.Schema:
        return unify_schemas(accumulator, self.fallback)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, in its order and types."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            columns.append(column if column.type == field.type else column.cast(field.type))
        else:
            columns.append(pa.nulls(len(table), field.type))
    return pa.Table.from_arrays(columns, schema=schema)


class _ParquetSink(filebasedsink.FileBasedSink):
    """A Parquet file per shard, its writer opened on the first table (tables carry the
    unified schema), an empty file of the proxy's schema when a shard gets none."""

    def __init__(self, prefix: str, empty_schema: pa.Schema) -> None:
        super().__init__(
            prefix,
            coder=None,
            file_name_suffix=".parquet",
            mime_type="application/x-parquet",
            compression_type=CompressionTypes.UNCOMPRESSED,
        )
        self._empty_schema = empty_schema

    def open(self, temp_path: str) -> list[Any]:
        return [super().open(temp_path), None]

    def write_record(self, state: list[Any], table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if state[1] is None:
            state[1] = pq.ParquetWriter(state[0], table.schema)
        state[1].write_table(table)

    def close(self, state: list[Any]) -> None:
        import pyarrow.parquet as pq

        if state[1] is None:
            state[1] = pq.ParquetWriter(state[0], self._empty_schema)
        state[1].close()
        super().close(state[0])


class WriteParquetShards(beam.PTransform):
    """DataFrame batches -> ``<prefix>-SSSSS-of-NNNNN.parquet`` with the data's column types.

    >>> batches | WriteParquetShards("out/heavy/rows", proxy)    # doctest: +SKIP
    """

    def __init__(self, prefix: str, proxy: pd.DataFrame | None = None) -> None:
        super().__init__()
        self.prefix = prefix
        self.fallback = arrow_schema(proxy)

    def expand(self, batches: Any) -> Any:
        tables = (
            batches
            | "Tables" >> beam.Filter(lambda b: len(b) > 0)
            | "ToArrow" >> beam.Map(arrow_table)
        )
        schema = (
            tables
            | "Schemas" >> beam.Map(lambda t: t.schema)
            | "Unify" >> beam.CombineGlobally(_UnifySchemas(self.fallback))
        )
        typed = tables | "Conform" >> beam.Map(conform, beam.pvalue.AsSingleton(schema))
        return typed | "Write" >> beam.io.Write(_ParquetSink(self.prefix, self.fallback))
