"""A/B: CompareModels in a pipeline, and bml.compare_models running it on a sample."""

import apache_beam as beam
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference import CompareModels, ModelComparison, run_sample
from beam_ml.inference.device import resolve_step_device
from beam_ml.inference.preview import SklearnModel, compare_models
from beam_ml.runner import run_and_collect

from .data import FEATURES


def test_compare_models_side_by_side_with_agreement(models):
    data = models["clean"].head(150)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    result = compare_models(data, lr, rf, sample=150, device="cpu")
    a, b = models["lr"].predict(data[FEATURES]), models["rf"].predict(data[FEATURES])
    assert list(result.predictions["a_prediction"]) == list(a)
    assert list(result.predictions["b_prediction"]) == list(b)
    assert result.agreement == round(float(np.mean(a == b)), 4)
    assert result.metrics["a"]["num_inferences"] == 150
    assert result.metrics["b"]["num_inferences"] == 150
    html = result._repr_mimebundle_()["text/html"]
    assert "Agreement A/B" in html and "Device: CPU" in html


def test_split_traffic_sends_each_row_to_exactly_one_model(models):
    data = models["clean"].head(200)
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES)
    result = compare_models(data, lr, rf, sample=200, split=0.3, device="cpu", seed=7, how="random")
    preds = result.predictions
    assert sorted(preds.index) == list(range(200))
    share_a = float((preds["model"] == "a").mean())
    assert 0.15 < share_a < 0.45  # binomial(200, 0.3): far outside 4 sigma otherwise
    for name, model in (("a", models["lr"]), ("b", models["rf"])):
        part = preds[preds["model"] == name]
        assert list(part["prediction"]) == list(model.predict(data.loc[part.index, FEATURES]))
    assert result.agreement is None
    assert result.metrics["a"]["num_inferences"] + result.metrics["b"]["num_inferences"] == 200
    with pytest.raises(BeamMLError, match="split between 0 and 1"):
        compare_models(data, lr, rf, split=1.5)


def test_rows_join_back_by_position_even_with_a_repeated_index_and_bisected_batches(models):
    data = models["clean"].head(48).copy()
    data["row"] = [f"r{i}" for i in range(48)]  # to check, not to join: it is no feature
    data.index = np.arange(48) % 5  # a repeated index: joining by label would multiply rows
    data.iloc[9, data.columns.get_loc("bill_depth_mm")] = np.nan  # fails in A (a forest copes)
    data.attrs["file"] = "penguins.csv"
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    rf = SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES, key="island")
    batches = [data.iloc[:16], data.iloc[16:32], data.iloc[32:]]
    out = run_and_collect(
        lambda p: p | beam.Create(batches, reshuffle=False) | CompareModels([lr, rf], "CPU")
    )
    rows = pd.concat(out["predictions"]).set_index("row", append=True)
    expected = data.drop(columns=[]).iloc[[i for i in range(48) if i != 9]]
    expected = expected.set_index("row", append=True).loc[rows.index]
    assert len(rows) == 47 and list(rows.columns) == [
        *expected.columns,
        "a_prediction",
        "b_prediction",
    ]
    assert list(rows["a_prediction"]) == list(models["lr"].predict(expected[FEATURES]))
    assert list(rows["b_prediction"]) == list(models["rf"].predict(expected[FEATURES]))
    assert all(f.attrs == {"file": "penguins.csv"} for f in out["predictions"])
    errors = pd.concat(out["errors"])
    assert list(errors["model"]) == ["a"] and list(errors.index) == [4]  # 9 % 5
    assert set(errors["row"]) == {"r9"}


def test_when_prefixes_are_wrong_or_split_has_three_models_then_refused():
    spec = SklearnModel(path="m.pkl")
    with pytest.raises(BeamMLError, match="2 distinct prefixes"):
        CompareModels([spec, spec], prefixes=["x_", "x_"])
    with pytest.raises(BeamMLError, match="two models to split traffic"):
        CompareModels([spec, spec, spec], split=0.5)
    assert CompareModels([spec, spec, spec]).namespaces == {
        "a": "BeamML_model_a", "b": "BeamML_model_b", "c": "BeamML_model_c",
    }  # fmt: skip


def test_a_step_running_comparemodels_itself_gets_the_same_comparison(models):
    data = models["clean"].head(60)
    specs = [
        SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES),
        SklearnModel(path=str(models["folder"] / "rf.joblib"), features=FEATURES),
    ]
    choice = resolve_step_device("cpu", specs)
    outputs, metrics, _ = run_sample(data, CompareModels(specs, choice.beam_device))
    built = ModelComparison.from_outputs(data, outputs, choice, specs, metrics=metrics)
    direct = compare_models(data, *specs, sample=60, device="cpu")
    pd.testing.assert_frame_equal(built.predictions, direct.predictions)
    assert built.agreement == direct.agreement and built.kind == "compare"
    assert built.metrics["b"]["num_inferences"] == 60


def test_when_a_model_column_is_already_an_input_column_then_the_comparison_refuses(models):
    data = models["clean"].head(10).assign(a_prediction="old")
    lr = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    with pytest.raises(BeamMLError, match=r"\['a_prediction'\] in both"):
        compare_models(data, lr, lr, sample=10, device="cpu")
