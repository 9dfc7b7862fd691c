"""Moments: merges equal one pass, and scaled moments never overflow."""

from __future__ import annotations

import math
from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
from beam_ml.profiling import batch_moments, merge_moments
from beam_ml.profiling.moments import (
    merge_scaled_moments,
    power_of_two_scale,
    scaled_batch_moments,
)
from hypothesis import HealthCheck, given, settings

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    st.integers(0, 60),
)
def test_moments_merge_exactly_like_one_pass(values: list[float], cut: int) -> None:
    x = np.array(values)
    cut = min(cut, len(x))
    merged = merge_moments(batch_moments(x[:cut]), batch_moments(x[cut:]))
    whole = batch_moments(x)
    assert merged[0] == whole[0]
    scale = max(1.0, float(np.abs(x).max()))
    for got, want, power in zip(merged[1:], whole[1:], (1, 2, 3, 4), strict=True):
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-7 * scale**power * len(x))


@SETTINGS
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    st.integers(0, 60),
)
def test_scaled_moments_are_the_plain_ones_bit_for_bit(values: list[float], cut: int) -> None:
    # dividing by a power of two is exact: scaling changes nothing for ordinary data
    x = np.array(values)
    cut = min(cut, len(x))
    m, s = merge_scaled_moments(*scaled_batch_moments(x[:cut]), *scaled_batch_moments(x[cut:]))
    plain = merge_moments(batch_moments(x[:cut]), batch_moments(x[cut:]))
    assert m[0] == plain[0]
    for got, want, power in zip(m[1:], plain[1:], (1, 2, 3, 4), strict=True):
        assert got * s**power == want or math.isclose(got * s**power, want, rel_tol=1e-15)


@SETTINGS
@given(
    st.lists(st.floats(-1.7e308, 1.7e308), min_size=2, max_size=40),
    st.integers(0, 40),
)
def test_moments_of_values_near_the_float_limits_stay_finite(values: list[float], cut: int) -> None:
    x = np.array(values)
    cut = min(cut, len(x))
    m, s = merge_scaled_moments(*scaled_batch_moments(x[:cut]), *scaled_batch_moments(x[cut:]))
    assert all(math.isfinite(v) for v in m)
    # M2 against exact rational arithmetic, in the same units
    exact = [Fraction(v) for v in values]
    mean = sum(exact) / len(exact)
    m2 = sum((v - mean) ** 2 for v in exact) / Fraction(s) ** 2
    assert math.isclose(m[2], float(m2), rel_tol=1e-9, abs_tol=1e-300)


def test_power_of_two_scale_brackets_the_magnitude():
    assert power_of_two_scale(3.0) == 4.0 and power_of_two_scale(4.0) == 8.0
    assert power_of_two_scale(0.0) == 2.0**-1074 and power_of_two_scale(float("inf")) == 1.0
    assert power_of_two_scale(1.7976931348623157e308) == 2.0**1023
    np.testing.assert_array_equal(power_of_two_scale(np.array([0.5, 1e-320])), [1.0, 2.0**-1063])
