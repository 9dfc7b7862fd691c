"""Fixtures of the validation tests: penguins and flights halves, their reference rules."""

from __future__ import annotations

import beam_ml as bml
import pandas as pd
import pytest
from beam_ml.validation import RuleSet, infer_rules, profile_reference

from .data import halves, write_csv


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    folder = tmp_path_factory.mktemp("penguins")
    df = pd.read_csv(bml.datasets.load("penguins"))
    ref, new = halves(df, seed=7)
    reference = profile_reference(write_csv(ref, folder / "ref.csv"))
    return {"folder": folder, "ref": ref, "new": new, "profile": reference}


@pytest.fixture(scope="module")
def penguin_rules(penguins) -> RuleSet:
    return infer_rules(penguins["profile"])


@pytest.fixture(scope="module")
def flights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flights")
    df = pd.read_csv(bml.datasets.load("flights"))
    two_months = df[df["month"] <= 2].reset_index(drop=True)
    ref, new = halves(two_months, seed=1)
    reference = profile_reference(write_csv(ref, folder / "ref.csv"))
    return {"folder": folder, "new": new, "rules": infer_rules(reference)}


@pytest.fixture(scope="module")
def flight_halves():
    df = pd.read_csv(bml.datasets.load("flights"))
    return halves(df[df["month"] <= 2].reset_index(drop=True), seed=4)
