"""The graph's CombineFns: exact duplicates across batches, kept rows, summed counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from beam_ml.validation.combiners import (
    ROWS_KEY,
    CountDuplicates,
    KeepRows,
    SumCounts,
    error_counts,
)


def _combine(fn, parts):
    """Add each part to its own accumulator, then merge them all (as a runner may)."""
    accs = [fn.add_input(fn.create_accumulator(), part) for part in parts]
    return fn.extract_output(fn.merge_accumulators(accs))


def test_when_duplicates_span_batches_then_the_count_is_the_exact_pandas_count():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.integers(0, 5, 400), "b": rng.choice(["x", "y", None], 400)})
    parts = [frame.iloc[i : i + 64] for i in range(0, 400, 64)]
    out = _combine(CountDuplicates([(), ("a",)]), parts)
    assert out[()]["duplicates"] == frame.duplicated().sum()
    assert out[("a",)]["duplicates"] == frame.duplicated(subset=["a"]).sum()
    assert out[()]["rows"] == 400 and not out[()]["missing"]


def test_when_an_int_column_reads_as_float_elsewhere_then_equal_rows_still_match():
    parts = [pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1.0, 3.0]})]
    assert _combine(CountDuplicates([()]), parts)[()]["duplicates"] == 1


def test_when_a_batch_lacks_a_unique_column_then_the_count_is_marked_missing():
    parts = [pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]})]
    assert _combine(CountDuplicates([("a",)]), parts)[("a",)]["missing"]


def test_kept_rows_stop_at_the_cap_and_none_keeps_them_all():
    parts = [pd.DataFrame({"x": range(i, i + 4)}) for i in range(0, 20, 4)]
    assert len(_combine(KeepRows(6), parts)) == 6
    assert len(_combine(KeepRows(None), parts)) == 20
    assert _combine(KeepRows(6), []).empty


def test_error_counts_sum_to_the_exact_failing_rows_per_rule():
    frames = [
        pd.DataFrame({"_errors": [["range:x"], ["range:x", "not_null:y"]]}),
        pd.DataFrame({"_errors": [["not_null:y"]]}),
    ]
    total = _combine(SumCounts(), [error_counts(f) for f in frames])
    assert total == {ROWS_KEY: 3, "range:x": 2, "not_null:y": 2}
