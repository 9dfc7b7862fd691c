"""Model steps with a label: the form, the preview and the module's metrics.json."""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from beam_ml import datasets
from beam_ml.errors import BeamMLError
from beam_ml.exporting import export
from beam_ml.steps import CascadeStep, CompareStep, InferStep, ReadStep, StepGraph
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
FLIGHT_FEATURES = ["dep_delay", "distance", "hour"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Clean penguins and a flights sample as CSVs, and sklearn models of each."""
    folder = tmp_path_factory.mktemp("labels")
    penguins = pd.read_csv(datasets.load("penguins")).dropna(subset=[*FEATURES, "species"])
    penguins.to_csv(folder / "penguins.csv", index=False)
    flights = pd.read_csv(datasets.load("flights"), nrows=1500)
    flights = flights[[*FLIGHT_FEATURES, "arr_delay"]].dropna(subset=FLIGHT_FEATURES)
    flights.to_csv(folder / "flights.csv", index=False)
    lr = LogisticRegression(max_iter=5000).fit(penguins[FEATURES].to_numpy(), penguins.species)
    rf = RandomForestClassifier(n_estimators=10, random_state=0, max_depth=2).fit(
        penguins[FEATURES].to_numpy(), penguins.species
    )
    known = flights.dropna()
    reg = LinearRegression().fit(known[FLIGHT_FEATURES].to_numpy(), known.arr_delay)
    for name, model in (("lr", lr), ("rf", rf), ("reg", reg)):
        (folder / f"{name}.pkl").write_bytes(pickle.dumps(model))
    return {
        "folder": folder,
        "penguins": penguins,
        "flights": flights,
        "lr": lr,
        "rf": rf,
        "reg": reg,
    }


def _parse(cls, line: str):
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    cls.add_arguments(parser)
    options = parser.parse_args(line.split())
    return cls.from_args(options, None, "cpu")[0]


def test_label_and_task_come_from_the_beam_ml_form():
    step = _parse(InferStep, "p --model sklearn:m.pkl --label species --task classification")
    assert (step.label, step.task) == ("species", "classification")
    assert "label='species'" in step.to_code()
    cascade = _parse(CascadeStep, "p --model sklearn:a.pkl --then sklearn:b.pkl --label a=x,b=y")
    assert cascade.labels(["a", "b"]) == {"a": "x", "b": "y"}
    plain = CascadeStep("c", "p", "sklearn:a.pkl", "sklearn:b.pkl", label="mass")
    assert plain.labels(["a", "b"]) == {"b": "mass"}
    with pytest.raises(BeamMLError, match="task"):
        InferStep("i", "p", "sklearn:m.pkl", task="ranking")


def test_exported_module_writes_metrics_json_that_equals_sklearn_on_the_full_input(work, tmp_path):
    folder = work["folder"]
    lr, rf, reg = (f"sklearn:{folder / n}.pkl" for n in ("lr", "rf", "reg"))
    graph = StepGraph(
        [
            ReadStep("penguins", str(folder / "penguins.csv")),
            ReadStep("flights", str(folder / "flights.csv")),
            InferStep(
                "species",
                "penguins",
                lr,
                features=FEATURES,
                method="predict_proba",
                label="species",
                device="cpu",
            ),
            CompareStep(
                "ab", "penguins", (lr, rf), features=FEATURES, label="species", device="cpu"
            ),
            InferStep(
                "delay", "flights", reg, features=FLIGHT_FEATURES, label="arr_delay", device="cpu"
            ),
        ]
    )
    module = export(graph, tmp_path / "pipeline.py")
    done = subprocess.run(
        [sys.executable, module.path, "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = Path(tmp_path / "out")

    penguins = work["penguins"]
    x, y = penguins[FEATURES].to_numpy(), penguins.species.to_numpy()
    species = json.loads((out / "species" / "metrics.json").read_text())
    found = species["metrics"]
    assert found["rows"] == len(penguins)
    assert found["accuracy"] == pytest.approx(skm.accuracy_score(y, work["lr"].predict(x)))
    assert found["f1_macro"] == pytest.approx(
        skm.f1_score(y, work["lr"].predict(x), average="macro")
    )
    proba = work["lr"].predict_proba(x)
    assert found["log_loss"] == pytest.approx(skm.log_loss(y, proba), rel=1e-9)
    assert abs(found["roc_auc"] - skm.roc_auc_score(y, proba, multi_class="ovr")) <= (
        found["roc_auc_max_error"] + 1e-12
    )

    ab = json.loads((out / "ab" / "metrics.json").read_text())
    right_a = work["lr"].predict(x) == y
    right_b = work["rf"].predict(x) == y
    assert ab["models"]["b"]["accuracy"] == pytest.approx(right_b.mean())
    assert ab["versus"]["discordant"]["challenger_only"] == int((right_b & ~right_a).sum())
    assert ab["versus"]["verdict"] in ("champion better", "challenger better") or (
        ab["versus"]["verdict"].startswith("no significant difference on")
    )

    flights = work["flights"].dropna()
    delay = json.loads((out / "delay" / "metrics.json").read_text())["metrics"]
    pred = work["reg"].predict(flights[FLIGHT_FEATURES].to_numpy())
    assert delay["rows"] == len(flights)
    assert delay["unlabelled_rows"] == int(work["flights"].arr_delay.isna().sum())
    assert delay["mae"] == pytest.approx(skm.mean_absolute_error(flights.arr_delay, pred))
    assert delay["r2"] == pytest.approx(skm.r2_score(flights.arr_delay, pred))


def test_step_preview_carries_the_evaluation_and_the_metrics_output(work):
    from beam_ml.steps.base import PreviewContext, StepPreview

    folder = work["folder"]
    penguins = work["penguins"].head(100).reset_index(drop=True)
    step = InferStep(
        "species",
        "penguins",
        f"sklearn:{folder / 'lr.pkl'}",
        features=FEATURES,
        label="species",
        device="cpu",
    )
    preview = step.preview({"penguins": StepPreview(penguins, rows=penguins)}, PreviewContext())
    evaluation = preview.result.to_dict()["evaluation"]
    y, pred = penguins.species, work["lr"].predict(penguins[FEATURES].to_numpy())
    assert evaluation["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    bad = InferStep(
        "s",
        "penguins",
        f"sklearn:{folder / 'lr.pkl'}",
        features=FEATURES,
        label="Species",
        device="cpu",
    )
    with pytest.raises(BeamMLError, match="label column 'Species'"):
        bad.preview({"penguins": StepPreview(penguins, rows=penguins)}, PreviewContext())
