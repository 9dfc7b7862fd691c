"""One column's accumulator picks how to add a batch from its dtype."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import ColumnAccumulator, ProfileOptions


@pytest.mark.parametrize(
    ("series", "kinds"),
    [
        (pd.Series([1, 2, 3]), {"integer": 3}),
        (pd.Series([1.5, None]), {"float": 1}),
        (pd.Series([1, 2], dtype="Int64"), {"integer": 2}),
        (pd.Series([True, False]), {"boolean": 2}),
        (pd.Series([1, 2.5], dtype=object), {"float": 2}),
        (pd.Series(["a", "b"], dtype="category"), {"string": 2}),
        (pd.Series(["a", "b"], dtype="string"), {"string": 2}),
        (pd.Series(pd.to_datetime(["2024-01-01"])), {"datetime": 1}),
        (pd.Series([b"x", b"y"]), {"string": 2}),
    ],
)
def test_each_dtype_is_added_as_its_kind(series, kinds):
    acc = ColumnAccumulator(ProfileOptions())
    added = acc.add(series)
    assert acc.kinds == kinds
    assert len(added.hashes) == len(series) and added.isna.sum() == series.isna().sum()
    numeric = set(kinds) <= {"integer", "float"}
    assert (added.floats is not None) == (numeric and series.dtype != object)


def test_equal_values_hash_equally_across_dtypes():
    a, b = ColumnAccumulator(ProfileOptions()), ColumnAccumulator(ProfileOptions())
    ha = a.add(pd.Series([1, 2])).hashes
    hb = b.add(pd.Series([1.0, 2.0])).hashes
    np.testing.assert_array_equal(ha, hb)
