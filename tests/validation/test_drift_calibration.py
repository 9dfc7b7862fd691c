"""Drift thresholds from both sample sizes: checked by simulation at the stated false-alarm rate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import Profile
from beam_ml.validation import RuleSet, evaluate_profile, infer_rules, ks_threshold
from beam_ml.validation.calibrate import DRIFT_ALPHA, chi2_quantile
from beam_ml.validation.drift import js_threshold, linf_threshold, psi_threshold

DRIFT = ("ks_distance", "js_divergence", "linf_distance")


def _drift_rules(frame: pd.DataFrame) -> RuleSet:
    rules = infer_rules(Profile.from_frame(frame))
    return RuleSet(tuple(r for r in rules if r.kind in DRIFT))


def _sample(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "k": rng.choice([0, 1, 2, 3], n, p=[0.4 - shift / 4, 0.3, 0.2, 0.1 + shift / 4]),
        }
    )


def test_thresholds_follow_their_laws_and_shrink_with_both_sizes():
    c = math.sqrt(-math.log(0.005) / 2)  # two-sample Kolmogorov at 1 %
    assert ks_threshold(400, 300, 0.01, 0.0) == c * math.sqrt(1 / 400 + 1 / 300)
    assert ks_threshold(4000, 3000, 0.01, 0.0) < ks_threshold(400, 300, 0.01, 0.0)
    probs = [0.1] * 10
    assert psi_threshold(probs, 500, 500, 0.01) == pytest.approx(chi2_quantile(9, 0.99) * 2 / 500)
    assert js_threshold(probs, 500, 500, 0.01) < psi_threshold(probs, 500, 500, 0.01)
    assert linf_threshold([0.5, 0.5], 500, 500, 0.01) > linf_threshold([0.5, 0.5], 5000, 500, 0.01)


def test_clean_pairs_of_samples_of_two_sizes_drift_no_more_than_the_stated_rate():
    rng = np.random.default_rng(7)
    runs, alarms, checks = 40, 0, 0
    values = []
    for _ in range(runs):
        rules = _drift_rules(_sample(rng, 400))
        got = evaluate_profile(Profile.from_frame(_sample(rng, 300)), rules)
        alarms += sum(not c.passed for c in got)
        checks += len(got)
        values += [c.observed for c in got]
    assert checks >= 3 * runs and all(v is not None for v in values)  # shown even when passing
    # DRIFT_ALPHA per check; a binomial allowance of three sds over its mean
    expected = DRIFT_ALPHA * checks
    assert alarms <= expected + 3 * math.sqrt(expected) + 1, (alarms, checks)


def test_a_shift_of_half_a_standard_deviation_is_caught_by_the_sketch_distances():
    rng = np.random.default_rng(8)
    caught = 0
    for _ in range(10):
        rules = _drift_rules(_sample(rng, 400))
        got = {c.id: c for c in evaluate_profile(Profile.from_frame(_sample(rng, 300, 0.5)), rules)}
        caught += not got["ks_distance:x"].passed and not got["linf_distance:k"].passed
        assert (
            "threshold" in got["ks_distance:x"].message
            and "300 values" in got["ks_distance:x"].message
        )
    assert caught >= 9
