"""beam_ml.sources.bottomk: a mergeable uniform sample in memory bounded by its size."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
from beam_ml.sources import bottomk as sources


def test_sample_memory_is_bounded_by_the_sample_not_the_data():
    def peak_for(rows: int) -> int:
        def batches():
            for start in range(0, rows, 10_000):
                yield pd.DataFrame({"x": np.arange(start, start + 10_000, dtype="float64")})

        bottom = sources._BottomK(1000, seed=0)
        tracemalloc.start()
        accumulator = bottom.create_accumulator()
        for batch in batches():
            accumulator = bottom.add_input(accumulator, batch)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(bottom.extract_output(accumulator)) == 1000
        return peak

    small, large = peak_for(50_000), peak_for(1_000_000)
    assert large < 1.5 * small  # 20x the rows, about the same memory


def test_merged_parts_keep_the_same_rows_and_count_the_whole_population():
    frame = pd.DataFrame({"x": np.arange(1000)})
    bottom = sources._BottomK(50, seed=2)
    whole = bottom.extract_output(bottom.add_input(bottom.create_accumulator(), frame))
    parts = [
        bottom.add_input(bottom.create_accumulator(), frame.iloc[i : i + 300])
        for i in range(0, 1000, 300)
    ]
    merged = bottom.extract_output(bottom.merge_accumulators(parts))
    assert merged.index.tolist() == whole.index.tolist()
    assert merged.attrs["beam_ml_sample"]["population"] == 1000


def test_an_empty_input_gives_an_empty_sample_that_says_so():
    bottom = sources._BottomK(10, seed=0)
    frame = bottom.extract_output(bottom.create_accumulator())
    assert frame.empty and frame.attrs["beam_ml_sample"]["population"] == 0
