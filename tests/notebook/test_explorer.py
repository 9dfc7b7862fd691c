"""The profile explorer and the inference view, rendered from real results and checked
against pandas: sort ranks, type filter, associations, missing values, A/B matrices."""

from __future__ import annotations

import re
from typing import Any

import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.inference.view import confusion, context
from beam_ml.profiling.view import profile_context, profile_html

FEATURES = ["bill_length_mm", "bill_depth_mm"]


@pytest.fixture(scope="module")
def penguins() -> tuple[pd.DataFrame, Any]:
    path = bml.datasets.load("penguins")
    return pd.read_csv(path), bml.profile(path)


def test_each_sort_ranks_the_columns_as_pandas_would(penguins: tuple[pd.DataFrame, Any]) -> None:
    frame, profile = penguins
    ctx = profile_context(profile.to_dict())
    rank = {c["name"]: c["order"] for c in ctx["columns"]}
    by = {sort: sorted(rank, key=lambda n, s=sort: rank[n][s]) for sort in rank["sex"]}
    assert by["table"] == list(frame.columns)
    assert by["name"] == sorted(frame.columns, key=str.lower)
    nulls = frame.isna().sum()
    assert [nulls[n] for n in by["missing"]] == sorted(nulls, reverse=True)
    distinct = frame.nunique()
    assert [distinct[n] for n in by["distinct"]] == sorted(distinct, reverse=True)
    # the card carries its ranks as the custom properties the CSS sorts by
    html = profile_html(profile.to_dict(), sort="missing")
    style = re.search(r'data-name="sex" style="([^"]+)"', html).group(1)
    assert f"--bml-o-missing:{by['missing'].index('sex')}" in style
    assert re.search(r'class="bml-radio bml-s-missing"[^>]*checked', html)


def test_type_filter_and_name_filter_keep_the_right_columns(
    penguins: tuple[pd.DataFrame, Any],
) -> None:
    _, profile = penguins
    html = profile_html(profile.to_dict(), type="categorical", name="S")
    cards = re.findall(r'<details class="bml-card" data-type="(\w+)" data-name="([^"]+)"', html)
    assert [n for _, n in cards] == ["species", "island", "body_mass_g", "sex"]
    assert re.search(r'class="bml-radio bml-t-categorical"[^>]*checked', html)
    assert "4 of 8 columns contain “s”" in html
    types = {n: c.type for n, c in profile.columns.items()}
    assert all(types[n] == t for t, n in cards)


def test_associations_show_pearson_and_cramers_v_to_4_digits(
    penguins: tuple[pd.DataFrame, Any],
) -> None:
    frame, profile = penguins
    html = profile.to_html()
    pearson = frame.select_dtypes("number").corr()
    r = pearson.loc["flipper_length_mm", "body_mass_g"]
    assert f">{r:.4g}</td>" in html and "Pearson r" in html
    cramers = profile.to_dict()["correlations"].get("cramers_v")
    if cramers:  # the profile gives Cramér's V of its categorical pairs
        assert "Cramér's V" in html and "bml-cramers" in html
        v = cramers["values"][0][1]
        assert f">{v:.4g}</td>" in html


def test_missing_values_show_shares_and_rows_missing_together(
    penguins: tuple[pd.DataFrame, Any],
) -> None:
    frame, profile = penguins
    ctx = profile_context(profile.to_dict())
    shares = {m["name"]: m["share"] for m in ctx["missing"]["columns"]}
    assert shares == {n: v / len(frame) for n, v in frame.isna().sum().items() if v}
    together = ctx["missing"]["together"]
    both = int((frame.sex.isna() & frame.bill_length_mm.isna()).sum())
    row = next(r for r in together["rows"] if r["name"] == "sex")
    cell = row["cells"][together["columns"].index("bill_length_mm")]
    assert cell["text"] == str(both)


def test_flights_report_is_small_and_says_title_source_rows_and_time(tmp_path) -> None:
    path = bml.datasets.load("flights")
    sample = bml.sample(path, 20_000, seed=0)
    profile = bml.Profile.from_frame(sample).with_source(path)
    out = tmp_path / "flights.html"
    page = profile.to_html(out)
    assert len(out.read_bytes()) < 200_000
    assert f"<title>beam-ml profile: {path}" in page
    assert "<b>20,000</b> rows · written 20" in page
    assert page.count('class="bml-card"') == len(sample.columns)
    # its one script is the name filter; the notebook view carries none
    assert page.count("<script") == 1 and "<script" not in profile.to_html()


def _comparison() -> bml.inference.ModelComparison:
    from beam_ml.inference import ModelComparison

    a = ["x", "y", "y", "x", "z"]
    b = ["x", "y", "x", "x", "y"]
    return ModelComparison(
        predictions=pd.DataFrame({"a_prediction": a, "b_prediction": b, "f": np.arange(5.0)}),
        device="cpu",
        device_reason="asked auto; CUDA not available; ran on cpu",
        metrics={},
        errors=pd.DataFrame(columns=["error"]),
        models={
            "a": {"kind": "sklearn", "path": "a.pkl"},
            "b": {"kind": "sklearn", "path": "b.pkl"},
        },
        sample_rows=5,
        kind="compare",
        device_requested="auto",
        agreement=0.6,
    )


def test_ab_view_marks_disagreements_and_shows_the_matrix_between_the_models() -> None:
    result = _comparison()
    data = result.to_dict()
    html = result.to_html()
    assert html.count('class="bml-disagree"') == 2 and html.count('class="bml-agree"') == 3
    assert "show disagreements only (2)" in html and 'class="bml-diff"' in html
    assert html.count('<div class="bml-device">') == 1  # one banner, neutral: auto chose cpu
    assert '<p class="bml-muted"><b>Device: CPU</b>' in html
    m = confusion(data["predictions"], "a_prediction", "b_prediction")
    expected = pd.crosstab(
        data_frame := result.predictions["a_prediction"], result.predictions["b_prediction"]
    ).reindex(index=m["labels"], columns=m["labels"], fill_value=0)
    assert [r["cells"] for r in m["rows"]] == expected.to_numpy().tolist()
    assert len(data_frame) == 5
    assert "Model a vs model b" in html


def test_label_metrics_show_when_the_run_had_a_label() -> None:
    data = _comparison().to_dict()
    data["evaluation"] = {
        "label": "species",
        "task": "classification",
        "models": {
            "a": {
                "accuracy": 0.8123456,
                "confusion_matrix": {"labels": ["x", "y"], "matrix": [[2, 0], [1, 2]]},
            },
            "b": {"accuracy": 0.6},
        },
    }
    view = context(data)
    assert [e["model"] for e in view["evaluations"]] == ["a", "b"]
    assert view["evaluations"][0]["matrix"]["rows"][1]["cells"] == [1, 2]
    from beam_ml.inference.view import render_html

    html = render_html(data)
    assert "Against the label <code>species</code>" in html and "0.8123" in html
    assert html.index("Predictions") < html.index("Against the label") < html.index("<details>")
