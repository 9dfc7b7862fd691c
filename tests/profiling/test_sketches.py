"""The vectorised HLL registers and the sketch helpers."""

from __future__ import annotations

import datasketches as ds
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import HllRegisters, safe_text
from beam_ml.profiling.sketches import b64, unb64


def _hashes(values: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(values)


def test_hll_registers_estimate_within_the_datasketches_bound():
    rng = np.random.default_rng(11)
    values = rng.integers(0, 10**12, size=200_000).astype(np.float64)
    truth = len(np.unique(values))
    regs = HllRegisters(12)
    for chunk in np.array_split(values, 7):
        regs.update_hashes(_hashes(chunk))
    sketch = regs.sketch()
    assert isinstance(sketch, ds.hll_sketch)
    assert sketch.get_lower_bound(3) <= truth <= sketch.get_upper_bound(3)
    assert abs(sketch.get_estimate() - truth) / truth < 0.04


def test_hll_registers_count_small_sets_exactly_then_switch_to_registers():
    regs = HllRegisters(12)
    assert regs.is_empty() and regs.sketch().is_empty() and regs.estimate() == 0
    regs.update_hashes(_hashes(np.array([1.0, 2.0, 3.0, 2.0, 1.0])))
    assert regs.estimate() == 3 and regs.bounds(3) == (3, 3)
    assert round(regs.sketch().get_estimate()) == 3
    other = HllRegisters(12)
    other.update_hashes(_hashes(np.arange(3, 400, dtype=np.float64)))
    assert other.exact is not None and other.estimate() == 397
    regs.merge(other)
    assert regs.estimate() == 399 and regs.exact is not None
    big = HllRegisters(12)
    big.update_hashes(_hashes(np.arange(10_000, dtype=np.float64)))
    assert big.exact is None
    regs.merge(big)  # an exact set merges into registers
    low, high = regs.bounds(3)
    assert low <= 10_000 <= high and regs.exact is None
    again = HllRegisters.from_state(HllRegisters(12).to_state())
    assert again.is_empty()


def test_hll_register_merge_is_the_union_and_the_image_round_trips():
    a, b, whole = HllRegisters(10), HllRegisters(10), HllRegisters(10)
    xs = np.arange(5000, dtype=np.float64)
    a.update_hashes(_hashes(xs[:3000]))
    b.update_hashes(_hashes(xs[2000:]))
    whole.update_hashes(_hashes(xs))
    a.merge(b)
    np.testing.assert_array_equal(a.regs, whole.regs)
    again = HllRegisters.from_state(a.to_state())
    np.testing.assert_array_equal(again.regs, a.regs)
    # the image is a real DataSketches sketch: a DataSketches union takes it
    union = ds.hll_union(10)
    union.update(ds.hll_sketch.deserialize(a.image()))
    assert union.get_result().get_estimate() == pytest.approx(a.sketch().get_estimate())
    with pytest.raises(BeamMLError, match="HLL_8 register image"):
        HllRegisters.from_state("CgEHDAAQAAo=")


def test_safe_text_escapes_lone_surrogates_and_b64_round_trips():
    assert safe_text("ok") == "ok"
    assert safe_text("a\udcffb").encode("utf-8") == b"a\\udcffb"
    assert unb64(b64(b"\x00\xff")) == b"\x00\xff"


def test_a_sorted_batch_reaches_kll_as_a_sketch_within_the_kll_bound():
    from beam_ml.profiling.sketches import kll_update_sorted

    rng = np.random.default_rng(3)
    values = rng.lognormal(0, 1.5, 300_000)
    kll = ds.kll_doubles_sketch(200)
    kll.update(values[:1000])  # an exact sketch first: batches merge into any state
    for chunk in np.array_split(values[1000:], 6):
        kll_update_sorted(kll, np.sort(chunk))
    kll = ds.kll_doubles_sketch.deserialize(kll.serialize())  # the state round-trips
    exact = np.sort(values)
    assert kll.n == len(values)
    assert (kll.get_min_value(), kll.get_max_value()) == (exact[0], exact[-1])
    eps = kll.normalized_rank_error(False)
    for q in (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999):
        rank = np.searchsorted(exact, kll.get_quantile(q)) / len(exact)
        assert abs(rank - q) <= eps, (q, rank)


def test_a_small_sorted_batch_is_added_value_by_value_and_stays_exact():
    from beam_ml.profiling.sketches import kll_update_sorted

    kll = ds.kll_doubles_sketch(200)
    kll_update_sorted(kll, np.arange(150, dtype=np.float64))
    assert not kll.is_estimation_mode()
    assert kll.get_quantile(0.5) == 75.0
