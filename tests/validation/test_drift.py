"""Drift from sketches: divergences, top-k lists with an other bucket, value mixes."""

from __future__ import annotations

import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.profiling import Profile
from beam_ml.validation import (
    evaluate_profile,
    infer_rules,
    js_divergence,
    psi,
)

from .data import (
    halves,
)


def test_divergences_are_zero_for_equal_distributions_and_grow_with_the_shift():
    assert js_divergence([0.2, 0.8], [0.2, 0.8]) == 0.0
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    assert psi([0.5, 0.5], [0.4, 0.6]) < psi([0.5, 0.5], [0.2, 0.8])


def test_when_the_reference_lists_only_its_top_values_then_drift_uses_an_other_bucket(
    flight_halves,
):
    from beam_ml.profiling.dataset import ProfileOptions

    ref, new = flight_halves
    options = ProfileOptions(top_k=5)
    rules = infer_rules(Profile.from_frame(ref, options))
    dest = next(r for r in rules if r.id == "linf_distance:dest")
    assert len(dest.reference) == 5  # type: ignore[attr-defined]
    assert not any(r.id == "allowed_values:dest" for r in rules)  # the list is incomplete
    # as in validate(): the new data's profile lists up to 1000 values
    listing = ProfileOptions(top_k=1000)
    clean = evaluate_profile(Profile.from_frame(new, listing), rules)
    assert [c.id for c in clean if not c.passed] == []
    shifted = new.copy()
    shifted.loc[shifted.sample(frac=0.3, random_state=0).index, "dest"] = "XXX"
    checks = evaluate_profile(Profile.from_frame(shifted, listing), rules)
    linf = next(c for c in checks if c.id == "linf_distance:dest")
    # "XXX" is not listed: its reference share was at most the smallest listed one
    floor = min(dest.reference.values())  # type: ignore[attr-defined]
    assert not linf.passed and linf.observed == pytest.approx(0.3 - floor, abs=0.02)


def test_when_a_few_whole_numbers_change_their_mix_then_the_value_drift_check_fails():
    df = pd.read_csv(bml.datasets.load("penguins"))
    ref, new = halves(df, seed=3)
    rules = infer_rules(Profile.from_frame(ref))
    assert any(r.id == "linf_distance:year" for r in rules)
    assert all(c.passed for c in evaluate_profile(Profile.from_frame(new), rules))
    later = new.assign(year=np.where(new["year"] == 2007, 2009, new["year"]))
    checks = {c.id: c for c in evaluate_profile(Profile.from_frame(later), rules)}
    assert not checks["linf_distance:year"].passed
    assert checks["linf_distance:year"].observed == pytest.approx(
        (new["year"] == 2007).mean(), abs=0.06
    )
