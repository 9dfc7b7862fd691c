"""Label metrics: the Beam combiner's numbers equal scikit-learn's on the same rows."""

import pickle

import apache_beam as beam
import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference import SklearnModel, compare_models, preview_inference
from beam_ml.inference.evaluate import EvaluateFn, Target
from beam_ml.inference.label_metrics import ClassificationStats, RegressionStats
from beam_ml.inference.preview import cascade
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression

from .data import FEATURES

FLIGHT_FEATURES = ["dep_delay", "distance", "hour"]


def check_classification(found, y, pred, proba=None, classes=None):
    """Every classification metric against scikit-learn on the same rows."""
    labels = sorted(set(y) | set(pred))
    assert found["rows"] == len(y)
    assert found["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert found["balanced_accuracy"] == pytest.approx(
        skm.balanced_accuracy_score(y, pred), abs=1e-12
    )
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    for i, name in enumerate(labels):
        got = found["per_class"][str(name)]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p[i], r[i], f[i]))
        assert got["support"] == s[i]
    for avg in ("precision", "recall", "f1"):
        assert found[f"{avg}_macro"] == pytest.approx(
            getattr(skm, f"{avg}_score")(y, pred, average="macro", zero_division=0), abs=1e-12
        )
    assert found["confusion_matrix"]["labels"] == [str(c) for c in labels]
    assert (
        found["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, pred, labels=labels).tolist()
    )
    lo, hi = found["accuracy_ci"]
    assert lo < found["accuracy"] < hi or found["accuracy"] in (0.0, 1.0)
    if proba is not None:
        auc = skm.roc_auc_score(y, proba if len(classes) > 2 else proba[:, 1], multi_class="ovr")
        assert abs(found["roc_auc"] - auc) <= found["roc_auc_max_error"] + 1e-12
        assert found["roc_auc_max_error"] < 0.01
        assert found["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=classes), rel=1e-9)
    else:
        assert found["roc_auc"] is None and found["log_loss"] is None


def check_regression(found, y, pred):
    assert found["rows"] == len(y)
    assert found["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-9)
    assert found["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), rel=1e-9)
    assert found["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-9)
    assert found["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred), rel=1e-9)


@pytest.fixture(scope="module")
def flights(tmp_path_factory):
    """A small flights sample with arr_delay, and a linear model of it on other rows."""
    frame = pd.read_csv(bml.datasets.load("flights"), nrows=6000)
    frame = frame[[*FLIGHT_FEATURES, "arr_delay", "carrier"]].dropna(subset=FLIGHT_FEATURES)
    train, test = frame.iloc[:3000], frame.iloc[3000:3600].reset_index(drop=True)
    known = train.dropna(subset=["arr_delay"])
    model = LinearRegression().fit(known[FLIGHT_FEATURES].to_numpy(), known["arr_delay"])
    path = tmp_path_factory.mktemp("flights") / "delay.pkl"
    path.write_bytes(pickle.dumps(model))
    return test, model, str(path)


def test_penguin_classification_metrics_in_the_preview_equal_sklearn(models):
    data = models["clean"].head(300)
    spec = SklearnModel(
        path=str(models["folder"] / "lr.pkl"), features=FEATURES, method="predict_proba"
    )
    result = preview_inference(data, spec, sample=300, device="cpu", label="species", batch_rows=64)
    evaluation = result.to_dict()["evaluation"]
    assert evaluation["label"] == "species" and evaluation["task"] == "classification"
    lr = models["lr"]
    proba = lr.predict_proba(data[FEATURES])
    check_classification(
        evaluation["metrics"],
        list(data["species"]),
        list(lr.predict(data[FEATURES])),
        proba,
        list(lr.classes_),
    )


def test_flights_regression_metrics_skip_unlabelled_rows_and_equal_sklearn(flights):
    test, model, path = flights
    result = preview_inference(
        test,
        f"sklearn:{path}",
        sample=len(test),
        device="cpu",
        features=FLIGHT_FEATURES,
        label="arr_delay",
        batch_rows=128,
    )
    found = result.evaluation["metrics"]
    known = test["arr_delay"].notna()
    assert known.sum() < len(test)  # cancelled flights have no arr_delay: they are counted
    assert found["task"] == "regression" and found["unlabelled_rows"] == int((~known).sum())
    y = test.loc[known, "arr_delay"].to_numpy()
    check_regression(found, y, model.predict(test.loc[known, FLIGHT_FEATURES].to_numpy()))


def test_a_numeric_label_is_never_a_default_feature(flights):
    test, model, path = flights
    numeric = test[[*FLIGHT_FEATURES, "arr_delay"]].dropna()
    # no features=: the numeric columns are the features, except the label
    result = preview_inference(
        numeric, f"sklearn:{path}", sample=100, device="cpu", label="arr_delay"
    )
    head = numeric.head(100)
    expected = model.predict(head[FLIGHT_FEATURES].to_numpy())
    assert np.allclose(result.predictions["prediction"].to_numpy(), expected)
    assert result.evaluation["metrics"]["rows"] == 100


def test_compare_with_a_label_evaluates_both_models_and_the_pair(models):
    data = models["clean"].head(200)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    result = compare_models(data, lr, rf, sample=200, device="cpu", label="species", batch_rows=50)
    evaluation = result.to_dict()["evaluation"]
    y = list(data["species"])
    pred = {"a": models["lr"].predict(data[FEATURES]), "b": models["rf"].predict(data[FEATURES])}
    for name in ("a", "b"):
        check_classification(evaluation["models"][name], y, list(pred[name]))
    versus = evaluation["versus"]
    right_a, right_b = pred["a"] == np.array(y), pred["b"] == np.array(y)
    assert versus["discordant"] == {
        "champion_only": int((right_a & ~right_b).sum()),
        "challenger_only": int((right_b & ~right_a).sum()),
    }
    assert versus["champion"] == "a" and versus["rows"] == 200
    assert versus["difference"] == pytest.approx(right_b.mean() - right_a.mean())


def test_split_with_a_label_evaluates_each_arm_on_its_own_rows(models):
    data = models["clean"].head(200)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    result = compare_models(data, lr, rf, sample=200, device="cpu", label="species", split=0.5)
    preds = result.predictions
    for name in ("a", "b"):
        part = preds[preds["model"] == name]
        check_classification(
            result.evaluation["models"][name], list(part["species"]), list(part["prediction"])
        )
    versus = result.evaluation["versus"]
    assert versus["paired"] is False and versus["test"] == "newcombe" and versus["rows"] == 200


def test_cascade_label_is_the_second_models_truth(models):
    data = models["clean"].sample(120, random_state=1)
    species = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    mass = SklearnModel(path=str(models["folder"] / "reg.pkl"), features=["bill_length_mm"])
    result = cascade(data, species, mass, sample=120, device="cpu", label="a=species,b=body_mass_g")
    found = result.to_dict()["evaluation"]["models"]
    check_classification(
        found["a"], list(data["species"]), list(models["lr"].predict(data[FEATURES]))
    )
    check_regression(
        found["b"], data["body_mass_g"].to_numpy(), models["reg"].predict(data[["bill_length_mm"]])
    )


def test_a_missing_label_column_or_a_label_feature_is_one_line_error(models):
    data = models["clean"].head(20)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    with pytest.raises(BeamMLError, match="label column 'Species' in the data"):
        preview_inference(data, lr, sample=20, device="cpu", label="Species")
    with pytest.raises(BeamMLError, match="not among the features"):
        preview_inference(data, lr, sample=20, device="cpu", label="body_mass_g")


def test_accumulators_merge_in_any_order_to_the_same_metrics():
    rng = np.random.default_rng(3)
    y = rng.choice(["x", "y", "z"], 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.choice(["x", "y", "z"], 500))
    proba = rng.dirichlet([1, 1, 1], 500)
    fn = EvaluateFn([Target("model", "", "y")])
    frame = pd.DataFrame(
        {
            "y": y,
            "prediction": pred,
            "proba_x": proba[:, 0],
            "proba_y": proba[:, 1],
            "proba_z": proba[:, 2],
        }
    )
    parts = [
        fn.add_input(fn.create_accumulator(), frame.iloc[i : i + 70]) for i in range(0, 500, 70)
    ]
    merged = fn.extract_output(fn.merge_accumulators(parts[::-1]))
    whole = fn.extract_output(fn.add_input(fn.create_accumulator(), frame))
    assert merged["metrics"]["confusion_matrix"] == whole["metrics"]["confusion_matrix"]
    assert merged["metrics"]["log_loss"] == pytest.approx(whole["metrics"]["log_loss"])
    check_classification(merged["metrics"], list(y), list(pred), proba, ["x", "y", "z"])
    reg = RegressionStats()
    values = rng.normal(size=300)
    for i in range(0, 300, 40):
        part = RegressionStats()
        part.add(values[i : i + 40], values[i : i + 40] * 0.8 + 0.1)
        reg.merge(part)
    check_regression(reg.result(), values, values * 0.8 + 0.1)
    assert ClassificationStats().result()["accuracy"] is None


def test_exported_pipeline_writes_metrics_json_equal_to_the_preview(models, tmp_path):
    data = models["clean"].head(150)
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    from beam_ml.inference import InferModel, sample_batches

    with beam.Pipeline() as p:
        out = (
            p
            | beam.Create(sample_batches(data, 40), reshuffle=False)
            | InferModel(spec, label="species")
        )
        _ = out["metrics"] | beam.Map(lambda m: (tmp_path / "m.pkl").write_bytes(pickle.dumps(m)))
    written = pickle.loads((tmp_path / "m.pkl").read_bytes())
    preview = preview_inference(data, spec, sample=150, device="cpu", label="species")
    assert written == preview.evaluation
