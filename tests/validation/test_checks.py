"""Dataset-level checks on a profile, against exact pandas within the sketch bounds."""

from __future__ import annotations

import beam_ml as bml
import pandas as pd
import pytest
from beam_ml.profiling import Profile
from beam_ml.validation import (
    Completeness,
    Mean,
    Outliers,
    Quantile,
    RuleSet,
    evaluate_profile,
    infer_rules,
)

from .data import (
    halves,
)


def test_dataset_checks_match_exact_pandas_within_the_sketch_bounds(flight_halves):
    _, new = flight_halves
    p = Profile.from_frame(new)
    rules = RuleSet(
        (
            Completeness("dep_delay", max_null_share=1.0),
            Mean("dep_delay", min=-100.0, max=100.0),
            Outliers("dep_delay", max_share=1.0, method="zscore", fence=3.0),
            Outliers("dep_delay", max_share=1.0, method="iqr", fence=1.5),
            Quantile("air_time", q=0.9, min=0.0, max=1000.0),
        )
    )
    checks = {c.id: c for c in evaluate_profile(p, rules)}
    x = new["dep_delay"].dropna()
    eps = p.error_bounds["kll_rank"]
    assert checks["completeness:dep_delay"].observed == pytest.approx(
        new["dep_delay"].isna().mean()
    )
    assert checks["mean:dep_delay"].observed == pytest.approx(x.mean(), rel=1e-9)
    z = ((x - x.mean()) / x.std()).abs() > 3
    assert checks["outliers:dep_delay:zscore"].observed == pytest.approx(z.mean(), abs=2 * eps)
    q1, q3 = x.quantile(0.25), x.quantile(0.75)
    iqr = (x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))
    assert checks["outliers:dep_delay:iqr"].observed == pytest.approx(iqr.mean(), abs=4 * eps)
    rank = (new["air_time"].dropna() <= checks["quantile:air_time@0.9"].observed).mean()
    assert rank == pytest.approx(0.9, abs=eps + 0.01)


def test_when_a_class_disappears_then_class_balance_fails_and_a_new_rare_one_is_ignored():
    df = pd.read_csv(bml.datasets.load("penguins"))
    ref, new = halves(df, seed=2)
    rules = infer_rules(Profile.from_frame(ref))
    balance = next(r for r in rules if r.id == "class_balance:species")
    assert set(balance.classes) == {"Adelie", "Gentoo", "Chinstrap"}  # type: ignore[attr-defined]
    gone = evaluate_profile(Profile.from_frame(new[new["species"] != "Chinstrap"]), rules)
    check = next(c for c in gone if c.id == "class_balance:species")
    assert not check.passed and check.observed["min_share"] == 0.0
    one_more = new.copy()
    one_more.loc[one_more.index[0], "species"] = "Emperor"
    checks = evaluate_profile(Profile.from_frame(one_more), rules)
    assert next(c for c in checks if c.id == "class_balance:species").passed
