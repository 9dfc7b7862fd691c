"""Cascade: A's output, post-processed by `between`, feeds B."""

import apache_beam as beam
import numpy as np
import pandas as pd
from beam_ml.inference import CascadeModels
from beam_ml.inference.preview import SklearnModel, cascade
from beam_ml.runner import run_and_collect

from .data import FEATURES


def test_cascade_feeds_a_post_processed_output_of_a_into_b(models):
    data = models["clean"].head(344)
    a = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    b = SklearnModel(path=str(models["folder"] / "reg.pkl"), features=["bill_length_mm"])
    result = cascade(data, a, b, between="bml_test_models:gentoo_only", sample=400, device="cpu")
    species = models["lr"].predict(data[FEATURES])
    gentoo = data[species == "Gentoo"]
    assert len(gentoo) > 10
    assert list(result.predictions.index) == list(gentoo.index)
    assert (result.predictions["a_prediction"] == "Gentoo").all()
    np.testing.assert_allclose(
        result.predictions["b_prediction"], models["reg"].predict(gentoo[["bill_length_mm"]])
    )
    assert result.metrics["a"]["num_inferences"] == len(data)
    assert result.metrics["b"]["num_inferences"] == len(gentoo)
    assert result.kind == "cascade"


def test_cascade_errors_are_tagged_with_where_they_failed(models):
    data = models["clean"].head(30).copy()
    data.loc[2, "bill_depth_mm"] = np.nan  # fails in A
    a = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    b = SklearnModel(path=str(models["folder"] / "reg.pkl"), features=["bill_length_mm"])

    def drop_mass(batch: pd.DataFrame) -> pd.DataFrame:
        if len(batch) == 1 and batch.index[0] == 5:
            raise ValueError("no mass for row 5")
        return batch

    result = cascade(data, a, b, between=drop_mass, sample=30, device="cpu", batch_rows=1)
    assert dict(zip(result.errors.index, result.errors["model"], strict=True)) == {
        2: "a", 5: "between",
    }  # fmt: skip
    assert list(result.errors.columns[:1]) == ["model"]
    assert len(result.predictions) == 28
    assert {"a_prediction", "b_prediction", "species"} <= set(result.predictions.columns)


def test_cascademodels_in_a_pipeline_gives_both_models_columns(models):
    data = models["clean"].head(20)
    a = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    b = SklearnModel(path=str(models["folder"] / "reg.pkl"), features=["bill_length_mm"])
    out = run_and_collect(
        lambda p: p | beam.Create([data], reshuffle=False) | CascadeModels(a, b, device="CPU")
    )
    (rows,) = out["predictions"]
    assert list(rows.index) == list(data.index) and out["errors"] == []
    np.testing.assert_allclose(
        rows["b_prediction"], models["reg"].predict(data[["bill_length_mm"]])
    )
