"""steps: step specs, the graph, and each step's real Beam transform on penguins."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from beam_ml import datasets
from beam_ml.errors import BeamMLError
from beam_ml.runner import run_and_collect
from beam_ml.steps import (
    CompareStep,
    InferStep,
    ProfileStep,
    ReadStep,
    Step,
    StepGraph,
    TransformStep,
    ValidateStep,
    check_step_name,
    compile_body,
)
from beam_ml.validation.rules import Range, RuleSet

BODY = "df = df[df.body_mass_g > 4000]\ndf['ratio'] = df.bill_length_mm / df.bill_depth_mm"
FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


@pytest.fixture(scope="module")
def penguins() -> str:
    return datasets.load("penguins")


@pytest.fixture(scope="module")
def frame(penguins: str) -> pd.DataFrame:
    return pd.read_csv(penguins)


@pytest.fixture(scope="module")
def models(tmp_path_factory, frame: pd.DataFrame) -> tuple[str, str]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    folder = tmp_path_factory.mktemp("models")
    clean = frame.dropna(subset=list(FEATURES))
    paths = []
    for name, model in (
        ("lr", LogisticRegression(max_iter=2000)),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ):
        model.fit(clean[list(FEATURES)].to_numpy(), clean["species"])
        path = folder / f"{name}.pkl"
        path.write_bytes(pickle.dumps(model))
        paths.append(str(path))
    return paths[0], paths[1]


def _rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames).sort_index()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal values; pyarrow's None and pandas' NaN both count as missing."""

    def norm(f: pd.DataFrame) -> pd.DataFrame:
        f = f.reset_index(drop=True)
        return f.astype(object).where(f.notna(), None)

    pd.testing.assert_frame_equal(norm(a), norm(b))


# ----------------------------------------------------------------- names and bodies


@pytest.mark.parametrize(
    "name",
    [
        "a'b",
        'x"); import os; ("',
        "two\nlines",
        "__import__",
        "print",
        "class",
        "1st",
        "",
        "é",
        None,
    ],
)
def test_when_step_name_is_not_a_plain_identifier_then_it_is_rejected(name):
    with pytest.raises(BeamMLError, match="plain Python identifier"):
        check_step_name(name)
    with pytest.raises(BeamMLError):
        ReadStep(name, "x.csv")


def test_when_input_name_is_hostile_then_the_step_is_rejected():
    with pytest.raises(BeamMLError, match="plain Python identifier"):
        ProfileStep("stats", "__import__('os')")


def test_compile_body_runs_pandas_code_that_rebinds_df():
    fn = compile_body("import math\ndf = df.assign(y=np.sqrt(df.x) + math.pi)")
    out = fn(pd.DataFrame({"x": [4.0, 9.0]}))
    assert out["y"].round(3).tolist() == [5.142, 6.142]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("df = df[", "valid Python"),
        ("return df", "rebinds df"),
        ("yield df", "rebinds df"),
        (42, "as text"),
    ],
)
def test_when_body_is_not_rebinding_code_then_it_is_rejected(body, message):
    with pytest.raises(BeamMLError, match=message):
        TransformStep("t", "src", body)


def test_when_body_defines_a_function_with_return_then_it_is_allowed():
    step = TransformStep("t", "src", "def f(x):\n    return x + 1\ndf = df.assign(y=f(df.x))")
    assert step.function()(pd.DataFrame({"x": [1]}))["y"].tolist() == [2]


# ----------------------------------------------------------------- serialisation


def _all_kinds(models: tuple[str, str] = ("a.pkl", "b.pkl")) -> list[Step]:
    return [
        ReadStep("penguins", "data/penguins.csv", format="csv"),
        TransformStep("heavy", "penguins", BODY),
        ProfileStep("stats", "penguins", top_k=20),
        ValidateStep("check", "heavy", reference="stats", rules="rules.yaml"),
        InferStep("pred", "heavy", f"sklearn:{models[0]}", features=FEATURES, device="cpu"),
        CompareStep("ab", "heavy", tuple(f"sklearn:{m}" for m in models), features=FEATURES),
    ]


def test_every_step_kind_round_trips_through_dict_json_and_code():
    import beam_ml.steps as steps_module

    graph = StepGraph(_all_kinds())
    again = StepGraph.from_json(graph.to_json())
    assert again.steps == graph.steps
    for step in graph.steps:
        assert Step.from_dict(step.to_dict()) == step
        assert eval(step.to_code(), vars(steps_module)) == step


def test_when_dict_has_unknown_kind_or_field_then_from_dict_says_so():
    with pytest.raises(BeamMLError, match="step kind"):
        Step.from_dict({"kind": "teleport", "name": "x"})
    with pytest.raises(BeamMLError, match="unknown"):
        Step.from_dict({"kind": "read", "name": "x", "path": "a.csv", "evil": 1})


def test_features_given_as_comma_text_become_a_tuple():
    step = InferStep("pred", "src", "sklearn:m.pkl", features="a, b")
    assert step.features == ("a", "b")


def test_when_validate_has_neither_reference_nor_rules_then_it_is_rejected():
    with pytest.raises(BeamMLError, match="reference or rules"):
        ValidateStep("check", "src")


def test_when_reference_is_a_path_then_it_is_not_an_input_step():
    assert ValidateStep("check", "src", reference="ref/profile.json").inputs() == ("src",)


# ----------------------------------------------------------------- the graph


def test_graph_keeps_order_and_finds_downstream_steps():
    graph = StepGraph(_all_kinds())
    assert [s.name for s in graph] == ["penguins", "heavy", "stats", "check", "pred", "ab"]
    assert graph.downstream("stats") == ["stats", "check"]
    assert graph.downstream("heavy") == ["heavy", "check", "pred", "ab"]


def test_when_a_step_is_replaced_then_its_fingerprint_and_downstream_change_only():
    graph = StepGraph(_all_kinds())
    before = {s.name: graph.fingerprint(s.name) for s in graph}
    graph.replace(TransformStep("heavy", "penguins", "df = df[df.body_mass_g > 5000]"))
    after = {s.name: graph.fingerprint(s.name) for s in graph}
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == sorted(graph.downstream("heavy"))
    assert [s.name for s in graph][1] == "heavy"


def test_when_input_is_unknown_or_of_the_wrong_kind_then_add_is_rejected():
    graph = StepGraph([ReadStep("penguins", "p.csv"), ProfileStep("stats", "penguins")])
    with pytest.raises(BeamMLError, match="earlier step"):
        graph.add(ProfileStep("other", "nowhere"))
    with pytest.raises(BeamMLError, match="rows"):
        graph.add(TransformStep("t", "stats", "df = df"))
    with pytest.raises(BeamMLError, match="rows"):
        graph.add(ValidateStep("v", "stats", reference="penguins"))
    # a data step is a reference too: it is profiled in the graph
    graph.add(ValidateStep("v", "penguins", reference="penguins"))
    assert graph.get("v").inputs() == ("penguins", "penguins")
    with pytest.raises(BeamMLError, match="new step name"):
        graph.add(ReadStep("penguins", "q.csv"))


# ----------------------------------------------------------------- real pipelines


def test_read_transform_profile_validate_in_one_pipeline_match_pandas(
    penguins, frame, tmp_path, monkeypatch
):
    import beam_ml.steps.validate

    # The report keeps a few quarantined rows as examples; its counts stay exact.
    monkeypatch.setattr(beam_ml.steps.validate, "REPORT_INVALID_ROWS", 3)
    rules = tmp_path / "rules.yaml"
    RuleSet((Range("body_mass_g", min=4500),)).to_yaml(rules)
    graph = StepGraph(
        [
            ReadStep("penguins", penguins),
            TransformStep("heavy", "penguins", BODY),
            ProfileStep("stats", "heavy"),
            ValidateStep("check", "heavy", rules=str(rules)),
        ]
    )

    def build(p):
        out = graph.apply(p)
        return {
            "heavy": out["heavy"],
            "stats": out["stats"],
            "report": out["check"]["report"],
            "invalid": out["check"]["invalid"],
            "valid": out["check"]["valid"],
        }

    result = run_and_collect(build)
    expected = frame[frame.body_mass_g > 4000].copy()
    expected["ratio"] = expected.bill_length_mm / expected.bill_depth_mm
    heavy = _rows(result["heavy"])
    assert heavy.index.tolist() == (expected.index + 2).tolist()  # CSV line numbers
    _same(heavy, expected)
    (profile,) = result["stats"]
    assert profile.rows == len(expected)
    assert profile.columns["ratio"].mean == pytest.approx(expected["ratio"].mean())
    (report,) = result["report"]
    light = int((expected.body_mass_g < 4500).sum())
    assert report.rows == {"total": len(expected), "valid": len(expected) - light, "invalid": light}
    assert len(report.invalid_rows) == 3 < light
    (range_check,) = [c for c in report.checks if c.id == "range:body_mass_g"]
    assert range_check.observed == {"failing_rows": light}
    assert sum(len(f) for f in result["invalid"]) == light
    assert all(e == ["range:body_mass_g"] for f in result["invalid"] for e in f["_errors"])
    # A step after validate reads its valid rows.
    assert sum(len(f) for f in result["valid"]) == len(expected) - light


def test_transform_preview_on_a_sample_equals_the_pipeline_on_that_sample(frame, tmp_path):
    sample = frame.head(100)
    path = tmp_path / "sample.csv"
    sample.to_csv(path, index=False)
    step = TransformStep("heavy", "penguins", BODY)
    preview = step.run_on(pd.read_csv(path))
    graph = StepGraph([ReadStep("penguins", str(path)), step])
    piped = _rows(run_and_collect(lambda p: graph.apply(p)["heavy"]))
    _same(piped, preview)


def test_when_body_uses_an_order_dependent_operation_then_preview_fails_at_once(frame):
    step = TransformStep("by_mass", "penguins", "df = df.sort_values('body_mass_g')")
    with pytest.raises(BeamMLError, match="Beam can run in a pipeline"):
        step.run_on(frame.head(10))


def test_when_body_does_not_leave_a_dataframe_then_the_error_says_so(frame):
    step = TransformStep("mass", "penguins", "df = df.body_mass_g")
    with pytest.raises(BeamMLError, match="leave a DataFrame"):
        step.run_on(frame.head(10))


def test_validate_against_a_reference_profile_step_infers_rules_in_the_pipeline(penguins):
    graph = StepGraph(
        [
            ReadStep("penguins", penguins),
            ProfileStep("stats", "penguins", top_k=50),
            ValidateStep("check", "penguins", reference="stats"),
        ]
    )
    (report,) = run_and_collect(lambda p: graph.apply(p)["check"]["report"])
    assert report.rows["total"] == 344
    assert report.passed, [c.to_dict() for c in report.failures]


def test_infer_and_compare_steps_run_real_runinference(penguins, frame, models):
    lr, tree = models
    graph = StepGraph(
        [
            ReadStep("penguins", penguins),
            TransformStep("clean", "penguins", "df = df.dropna(subset=['bill_length_mm'])"),
            InferStep("pred", "clean", f"sklearn:{lr}", features=FEATURES, device="cpu"),
            CompareStep("ab", "clean", (f"sklearn:{lr}", f"sklearn:{tree}"), features=FEATURES),
        ]
    )

    def build(p):
        out = graph.apply(p)
        return {
            "pred": out["pred"]["predictions"],
            "errors": out["pred"]["errors"],
            "ab": out["ab"]["predictions"],
        }

    result = run_and_collect(build)
    clean = frame.dropna(subset=["bill_length_mm"])
    with open(lr, "rb") as handle:
        expected = pickle.load(handle).predict(clean[list(FEATURES)].to_numpy())
    pred = _rows(result["pred"])
    assert len(pred) == len(clean) and not result["errors"]
    assert (pred["prediction"].to_numpy() == expected).all()
    assert set(clean.columns) <= set(pred.columns)
    ab = _rows(result["ab"])
    assert len(ab) == len(clean)
    assert (ab["a_prediction"].to_numpy() == expected).all()
    assert np.mean(ab["a_prediction"] == ab["b_prediction"]) > 0.8


def test_gpu_step_carries_an_accelerator_hint_and_cpu_does_not():
    gpu = InferStep("pred", "src", "torchscript:m.pt", device="gpu")
    assert "nvidia" in (gpu.resource_hint() or "")
    # scikit-learn runs on cpu: asking for a GPU worker for it would only cost money
    assert InferStep("pred", "src", "sklearn:m.pkl", device="gpu").resource_hint() is None
    assert InferStep("pred", "src", "sklearn:m.pkl", device="cpu").resource_hint() is None
    with pytest.raises(BeamMLError, match="device"):
        InferStep("pred", "src", "sklearn:m.pkl", device="tpu")
    with pytest.raises(BeamMLError, match="prefix the path with its kind"):
        InferStep("pred", "src", "m.pkl")
