"""The bundled datasets come from installed packages, with their known shapes."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from beam_ml import datasets
from beam_ml.errors import BeamMLError


def test_names_lists_the_bundled_datasets():
    assert datasets.names() == ["flights", "penguins"]


def test_penguins_has_344_rows_with_nulls():
    frame = pd.read_csv(datasets.load("penguins"))
    assert frame.shape == (344, 8)
    assert frame.isna().any().any()


def test_flights_has_336776_rows_and_19_columns():
    frame = pd.read_csv(datasets.load("flights"), usecols=["dep_time", "carrier"])
    assert len(frame) == 336_776
    assert frame.dep_time.isna().sum() == 8_255
    with open(datasets.load("flights")) as handle:
        header = handle.readline().strip().split(",")
    assert len(header) == 19


def test_load_writes_once_into_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BEAM_ML_CACHE", str(tmp_path))
    path = datasets.load("penguins")
    assert path.startswith(str(tmp_path))
    written = os.stat(path).st_mtime_ns
    assert datasets.load("penguins") == path
    assert os.stat(path).st_mtime_ns == written


def test_an_unknown_dataset_gets_a_clear_error():
    with pytest.raises(
        BeamMLError, match=r"expected a dataset name among \['flights', 'penguins'\]"
    ):
        datasets.load("iris")
