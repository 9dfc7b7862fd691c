"""Shared data of the inference tests: penguins, and small real models trained on it."""

from __future__ import annotations

import pickle
import sys

import beam_ml as bml
import joblib
import pandas as pd
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from .data import FEATURES, MODULE


@pytest.fixture(scope="session")
def penguins():
    path = bml.datasets.load("penguins")
    return path, pd.read_csv(path)


@pytest.fixture(scope="session")
def models(penguins, tmp_path_factory):
    """Small real models saved the ways users save them, plus an importable module."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "bml_test_models.py").write_text(MODULE)
    sys.path.insert(0, str(folder))
    import bml_test_models

    _, frame = penguins
    clean = frame.dropna(subset=[*FEATURES, "species"])
    lr = LogisticRegression(max_iter=5000).fit(clean[FEATURES], clean["species"])
    rf = RandomForestClassifier(n_estimators=20, random_state=0).fit(
        clean[FEATURES], clean["species"]
    )
    reg = LinearRegression().fit(clean[["bill_length_mm"]], clean["body_mass_g"])
    with open(folder / "lr.pkl", "wb") as handle:
        pickle.dump(lr, handle)
    joblib.dump(rf, folder / "rf.joblib")
    with open(folder / "reg.pkl", "wb") as handle:
        pickle.dump(reg, handle)
    torch.manual_seed(0)
    mlp = bml_test_models.MLP(4, 16, 3).eval()
    torch.save(mlp.state_dict(), folder / "mlp.pt")
    torch.jit.save(torch.jit.script(mlp), folder / "mlp_script.pt")
    yield {
        "folder": folder,
        "lr": lr,
        "rf": rf,
        "reg": reg,
        "mlp": mlp,
        "clean": clean.reset_index(drop=True),
    }
    sys.path.remove(str(folder))
