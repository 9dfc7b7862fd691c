"""Fixtures of the sources tests: the bundled penguins table, read by pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from beam_ml import datasets


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(datasets.load("penguins"))
