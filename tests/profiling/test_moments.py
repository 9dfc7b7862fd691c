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


_OUT_OF_ORDER = """
import json, threading
from beam_ml.profiling.moments import one_blas_thread
from threadpoolctl import ThreadpoolController

def blas_threads():  # numpy's BLAS, the one its products use
    return [i["num_threads"] for i in ThreadpoolController().info() if "numpy" in i["filepath"]]

before = blas_threads()
a_in, b_in, a_out, b_may_leave = (threading.Event() for _ in range(4))

def first():
    with one_blas_thread():
        a_in.set()
        b_in.wait(5)
    a_out.set()

def second():
    a_in.wait(5)
    with one_blas_thread():
        b_in.set()
        b_may_leave.wait(5)

threads = [threading.Thread(target=first), threading.Thread(target=second)]
for t in threads:
    t.start()
b_in.wait(5)
a_out.wait(5)
inside = blas_threads()  # A has left, B is still inside
b_may_leave.set()
for t in threads:
    t.join(10)
print(json.dumps({"before": before, "b alone inside": inside, "both left": blas_threads()}))
"""


def test_one_blas_thread_restores_blas_when_worker_threads_leave_out_of_order():
    """A enters, B enters, A leaves, B leaves (DirectRunner's worker threads): BLAS stays
    limited while either is inside and has its own threads back after both left.

    In a fresh interpreter: once a Beam pipeline has run in a process, OpenBLAS 0.3.31
    no longer shows one thread's limit to another, so the check reads nothing there.
    """
    import json
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _OUT_OF_ORDER], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    before = seen.pop("before")
    assert before, "numpy's BLAS is loaded"
    assert seen == {"b alone inside": [1] * len(before), "both left": before}
