"""Pairwise co-moments: exact merges, aligned column sets, no overflow near the float limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
from beam_ml.profiling import CoMoments


def test_comoments_of_split_batches_equal_one_batch_with_missing_values():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 3))
    x[rng.random((500, 3)) < 0.2] = np.nan
    whole = CoMoments.from_batch(["a", "b", "c"], x)
    merged = CoMoments.from_batch(["a", "b", "c"], x[:123]).merge(
        CoMoments.from_batch(["a", "b", "c"], x[123:])
    )
    np.testing.assert_allclose(merged.pearson(), whole.pearson(), rtol=1e-12)
    expected = pd.DataFrame(x, columns=["a", "b", "c"]).corr().to_numpy()
    np.testing.assert_allclose(whole.pearson(), expected, rtol=1e-9)


def test_comoments_merge_aligns_different_column_sets():
    rng = np.random.default_rng(3)
    ab = CoMoments.from_batch(["a", "b"], rng.normal(size=(50, 2)))
    bc = CoMoments.from_batch(["b", "c"], rng.normal(size=(50, 2)))
    merged = ab.merge(bc)
    assert merged.names == ["a", "b", "c"]
    assert merged.n[0, 2] == 0 and merged.n[1, 1] == 100
    assert np.isnan(merged.pearson()[0, 2])


def test_columns_near_the_float_limits_still_correlate(recwarn):
    rng = np.random.default_rng(4)
    base = rng.normal(size=400)
    x = np.column_stack([base * 1e307, base * 1e-300 + 1e-301, rng.normal(size=400)])
    expected = pd.DataFrame(np.column_stack([base, base, x[:, 2]])).corr().to_numpy()
    whole = CoMoments.from_batch(["huge", "tiny", "noise"], x)
    np.testing.assert_allclose(whole.pearson(), expected, rtol=1e-9, atol=1e-12)
    # batches of very different magnitudes merge on the larger scale
    merged = CoMoments.from_batch(["huge", "tiny", "noise"], x[:10] / 1e300).merge(
        CoMoments.from_batch(["huge", "tiny", "noise"], x[10:])
    )
    assert np.isfinite(merged.pearson()).all()
    again = CoMoments.from_state(whole.to_state())
    np.testing.assert_array_equal(again.pearson(), whole.pearson())
    assert not [w for w in recwarn if "overflow" in str(w.message)]
