"""A column's state: the frequent-items feed, merging, and states written before new fields."""

from __future__ import annotations

import numpy as np
import pandas as pd
from beam_ml.profiling import FI_FEED, ColumnAccumulator, DatasetAccumulator, ProfileOptions


def test_frequent_items_feed_is_capped_and_the_dropped_weight_is_counted():
    acc = DatasetAccumulator()
    values = np.r_[np.repeat(np.arange(10), 50), np.arange(100, 100 + 3 * FI_FEED)]
    acc.add_batch(pd.DataFrame({"v": values.astype(float)}))
    col = acc.columns["v"]
    assert col.fi_dropped == 1  # every value left out of the feed appeared once
    assert col.fi.total_weight <= 500 + FI_FEED


def test_merge_adds_the_counts_of_both_sides():
    a, b = ColumnAccumulator(ProfileOptions()), ColumnAccumulator(ProfileOptions())
    a.add(pd.Series([1.0, np.inf, None]))
    b.add(pd.Series([-np.inf, 0.0, 5.0]))
    a.merge(b)
    assert (a.count, a.nulls, a.inf, a.pos_inf, a.zeros, a.min, a.max) == (5, 1, 2, 1, 1, 0, 5)


def test_a_state_without_the_newer_fields_still_loads():
    acc = ColumnAccumulator(ProfileOptions())
    acc.add(pd.Series([1.0, 2.0, np.inf]))
    state = acc.to_state()
    old = {k: v for k, v in state.items() if k not in ("pos_inf", "scale")}
    # an old state holds plain (unscaled) moments
    old["moments"] = [3 - 1, 1.5, 0.5, 0.0, 0.125]
    again = ColumnAccumulator.from_state(old, ProfileOptions())
    assert again.scale == 1.0 and again.pos_inf == 0 and again.inf == 1
