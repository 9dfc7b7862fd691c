"""``beam-ml infer`` end to end: a real model file, a real CSV, real RunInference."""

import json
import pickle

import beam_ml as bml
import pandas as pd
import pytest
from beam_ml.cli.infer import main
from sklearn.linear_model import LogisticRegression

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    frame = pd.read_csv(bml.datasets.load("penguins")).dropna(subset=[*FEATURES, "species"])
    model = LogisticRegression(max_iter=5000).fit(frame[FEATURES], frame["species"])
    path = tmp_path_factory.mktemp("cli") / "lr.pkl"
    with open(path, "wb") as handle:
        pickle.dump(model, handle)
    return str(path)


def test_infer_prints_device_and_writes_predictions(model_path, tmp_path, capsys):
    out_csv, out_json, out_html = tmp_path / "p.csv", tmp_path / "p.json", tmp_path / "p.html"
    code = main(
        [
            "infer", bml.datasets.load("penguins"), "--model", f"sklearn:{model_path}",
            "--features", ",".join(FEATURES), "--method", "predict_proba", "--device", "gpu",
            "--sample", "50", "--csv", str(out_csv), "--json", str(out_json),
            "--html", str(out_html),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "DEVICE: CPU — asked gpu; CUDA not available; ran on cpu" in printed
    predictions = pd.read_csv(out_csv)
    assert {"proba_Adelie", "proba_Gentoo", "prediction"} <= set(predictions.columns)
    data = json.loads(out_json.read_text())
    assert data["sample_rows"] == 50
    assert len(data["predictions"]["data"]) + len(data["errors"]["data"]) == 50
    assert "Device: CPU" in out_html.read_text()


def test_infer_usage_errors_are_one_line(model_path, capsys):
    path = bml.datasets.load("penguins")
    assert main(["infer", path, "--model", "sklearn:missing.pkl", "--features", "a"]) == 2
    assert "expected an existing model file" in capsys.readouterr().err
    code = main(["infer", path, "--model", f"sklearn:{model_path}", "--features", "nope"])
    assert code == 2
    assert "feature columns ['nope'] in the data" in capsys.readouterr().err
    assert main(["infer", path, "--model", f"sklearn:{model_path}", "--split", "0.5"]) == 2
    assert "--model-b" in capsys.readouterr().err


def test_infer_with_a_repeated_key_keeps_every_row(model_path, tmp_path, capsys):
    # island repeats: the key rides along and rows join back by position (issue 13)
    out_csv = tmp_path / "keyed.csv"
    code = main(
        [
            "infer", bml.datasets.load("penguins"), "--model", f"sklearn:{model_path}",
            "--features", ",".join(FEATURES), "--key", "island", "--sample", "60",
            "--csv", str(out_csv), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0 and capsys.readouterr().out == ""
    frame = pd.read_csv(bml.datasets.load("penguins")).head(60)
    predictions = pd.read_csv(out_csv, index_col=0)
    assert predictions["island"].duplicated().any()
    assert list(predictions["island"]) == list(
        frame.loc[frame[FEATURES].notna().all(axis=1), "island"]
    )


def test_infer_with_a_label_prints_and_writes_metrics_and_the_ab_verdict(
    model_path, tmp_path, capsys
):
    path = bml.datasets.load("penguins")
    out_json = tmp_path / "ab.json"
    code = main(
        [
            "infer", path, "--model", f"sklearn:{model_path}", "--model-b", f"sklearn:{model_path}",
            "--features", ",".join(FEATURES), "--label", "species", "--sample", "120",
            "--json", str(out_json),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "metrics against species: a: " in printed
    # the same model twice: no discordant rows, so no difference to find
    assert "no significant difference on" in printed
    evaluation = json.loads(out_json.read_text())["evaluation"]
    frame = pd.read_csv(path).head(120)
    answered = frame.dropna(subset=FEATURES)
    with open(model_path, "rb") as handle:
        model = pickle.load(handle)
    accuracy = (model.predict(answered[FEATURES]) == answered["species"]).mean()
    assert evaluation["models"]["a"]["accuracy"] == pytest.approx(accuracy)
    assert evaluation["versus"]["discordant"] == {"champion_only": 0, "challenger_only": 0}
    assert main(["infer", path, "--model", f"sklearn:{model_path}", "--label", "nope"]) == 2
    assert "label column 'nope'" in capsys.readouterr().err
