"""Arrow record batches to pandas batches of a chosen size, with the chosen string dtype.

>>> _types_mapper("object") is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd


def _types_mapper(strings: str) -> Callable[[Any], Any] | None:
    """pyarrow -> pandas dtype mapping for a source's ``strings`` (None: pyarrow's default)."""
    if strings == "object":
        return None
    import pyarrow as pa

    arrow = pd.StringDtype("pyarrow")
    return {pa.string(): arrow, pa.large_string(): arrow}.get


def reading_pool() -> Any:
    """pyarrow's jemalloc pool where it has one (None: the default pool).

    Batches read on one thread are freed on another (see ``iter_file_batches``):
    jemalloc reuses that memory, where the default pool (mimalloc) held on to
    ~40 MB more at 1M CSV rows.
    """
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return None


class _Rebatcher:
    """Glue consecutive Arrow record batches into pandas batches of ``rows`` rows.

    Gluing happens in Arrow, before the conversion to pandas: one conversion per
    batch, not one per block, and no pandas concat (the last batch may be short).
    """

    def __init__(self, rows: int, types_mapper: Any = None, memory_pool: Any = None) -> None:
        self.rows = rows
        self.types_mapper = types_mapper
        self.memory_pool = memory_pool
        self.parts: list[Any] = []  # pyarrow RecordBatches
        self.index: list[np.ndarray] = []  # each part's row labels
        self.count = 0

    def add(self, block: Any, index: Any) -> Iterator[pd.DataFrame]:
        self.parts.append(block)
        self.index.append(np.asarray(index))
        self.count += block.num_rows
        while self.count >= self.rows:
            yield self._take(self.rows)

    def flush(self) -> Iterator[pd.DataFrame]:
        if self.count:
            yield self._take(self.count)

    def _take(self, rows: int) -> pd.DataFrame:
        """The first ``rows`` pending rows as one pandas batch; the rest stay pending."""
        import pyarrow as pa

        table = pa.Table.from_batches(self.parts)
        index = np.concatenate(self.index)
        self.parts = table.slice(rows).to_batches() if rows < self.count else []
        self.index = [index[rows:]] if rows < self.count else []
        self.count -= rows
        frame = table.slice(0, rows).to_pandas(
            types_mapper=self.types_mapper, memory_pool=self.memory_pool
        )
        frame.index = pd.Index(index[:rows])
        return frame
