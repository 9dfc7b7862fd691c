"""Champion / challenger intervals: ~95 % coverage by seeded simulation of known models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from beam_ml.inference.evaluate import EvaluateFn, Target
from beam_ml.inference.versus import (
    mcnemar_p,
    mean_interval,
    paired_accuracy,
    paired_mae,
    unpaired,
    wilson_interval,
)
from scipy.stats import binomtest

REPS = 1000
# 1000 replicates: a true 95 % coverage lands in [0.93, 0.97] with probability > 99.8 %.
LOW, HIGH = 0.93, 0.97


def _paired_rows(rng, n, p_a, p_b, rho=0.5):
    """Correctness of two correlated classifiers of known accuracy (a Gaussian copula)."""
    from scipy.stats import norm

    z1 = rng.standard_normal((REPS, n))
    z2 = rho * z1 + math.sqrt(1 - rho * rho) * rng.standard_normal((REPS, n))
    return z1 < norm.ppf(p_a), z2 < norm.ppf(p_b)


def test_paired_accuracy_interval_covers_the_true_difference_95_percent():
    rng = np.random.default_rng(17)
    right_a, right_b = _paired_rows(rng, 300, 0.80, 0.86)
    b = (right_a & ~right_b).sum(axis=1)
    c = (right_b & ~right_a).sum(axis=1)
    covered = 0
    for bi, ci in zip(b, c, strict=True):
        low, high = paired_accuracy(300, int(bi), int(ci))["difference_ci"]
        covered += low <= 0.06 <= high
    assert LOW <= covered / REPS <= HIGH


def test_wilson_interval_of_each_model_covers_its_accuracy_95_percent():
    rng = np.random.default_rng(5)
    k = rng.binomial(250, 0.83, REPS)
    covered = sum(lo <= 0.83 <= hi for lo, hi in (wilson_interval(int(x), 250) for x in k))
    assert LOW <= covered / REPS <= HIGH


def test_unpaired_newcombe_interval_of_a_split_covers_95_percent():
    rng = np.random.default_rng(11)
    n1, n2 = 240, 260
    k1, k2 = rng.binomial(n1, 0.72, REPS), rng.binomial(n2, 0.78, REPS)
    covered = 0
    for x1, x2 in zip(k1, k2, strict=True):
        first = {"task": "classification", "rows": n1, "accuracy": x1 / n1}
        second = {"task": "classification", "rows": n2, "accuracy": x2 / n2}
        low, high = unpaired(first, second)["difference_ci"]
        covered += low <= 0.06 <= high
    assert LOW <= covered / REPS <= HIGH


def test_paired_mae_interval_covers_the_true_difference_95_percent():
    rng = np.random.default_rng(23)
    n = 200
    e_a = rng.standard_normal((REPS, n))
    e_b = 0.8 * e_a + 0.5 * rng.standard_normal((REPS, n))  # sd sqrt(0.89), correlated
    true = (math.sqrt(0.89) - 1) * math.sqrt(2 / math.pi)  # E|N(0,s)| = s*sqrt(2/pi)
    d = np.abs(e_b) - np.abs(e_a)
    covered = 0
    for row in d:
        low, high = paired_mae(n, float(row.mean()), float(row.var(ddof=1)))["difference_ci"]
        covered += low <= true <= high
    assert LOW <= covered / REPS <= HIGH
    lo, hi = mean_interval(float(d[0].mean()), float(d[0].var(ddof=1)), n)
    assert lo < d[0].mean() < hi


def test_equal_models_are_called_no_significant_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(3)
    right_a, right_b = _paired_rows(rng, 400, 0.8, 0.8)
    b = (right_a & ~right_b).sum(axis=1)
    c = (right_b & ~right_a).sum(axis=1)
    verdicts = [paired_accuracy(400, int(x), int(y))["verdict"] for x, y in zip(b, c, strict=True)]
    calm = sum(v == "no significant difference on 400 rows" for v in verdicts) / REPS
    assert 0.93 <= calm <= 0.99  # exact McNemar is a little conservative


def test_a_clearly_better_challenger_or_champion_is_named():
    assert paired_accuracy(1000, 10, 60)["verdict"] == "challenger better"
    assert paired_accuracy(1000, 60, 10)["verdict"] == "champion better"
    assert paired_mae(500, -0.3, 1.0)["verdict"] == "challenger better"  # lower error
    assert paired_mae(500, 0.0, 1.0)["verdict"] == "no significant difference on 500 rows"


def test_mcnemar_p_is_the_exact_binomial_test():
    for b, c in ((2, 12), (30, 41), (0, 5), (7, 7)):
        assert mcnemar_p(b, c) == pytest.approx(binomtest(b, b + c, 0.5).pvalue)


def test_the_combiners_versus_uses_the_paired_rows():
    rng = np.random.default_rng(9)
    import pandas as pd

    y = rng.choice(["p", "q"], 600)
    a = np.where(rng.random(600) < 0.75, y, np.where(y == "p", "q", "p"))
    b = np.where(rng.random(600) < 0.9, y, np.where(y == "p", "q", "p"))
    frame = pd.DataFrame({"y": y, "a_prediction": a, "b_prediction": b})
    fn = EvaluateFn([Target("a", "a_", "y"), Target("b", "b_", "y")])
    versus = fn.extract_output(fn.add_input(fn.create_accumulator(), frame))["versus"]
    assert versus["verdict"] == "challenger better" and versus["test"] == "mcnemar"
    assert versus["champion_value"] == pytest.approx((a == y).mean())
    assert versus["challenger_ci"][0] < (b == y).mean() < versus["challenger_ci"][1]
