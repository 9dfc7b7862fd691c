"""beam_ml.notebook.session: previews on a sample, cached by fingerprint, recomputed downstream."""

from __future__ import annotations

import os
import pickle

import beam_ml as bml
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.notebook.session import Progress, Session

FEATURES = ["bill_length_mm", "bill_depth_mm"]


@pytest.fixture(scope="module")
def penguins() -> str:
    return bml.datasets.load("penguins")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory, penguins: str) -> str:
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_csv(penguins).dropna()
    model = LogisticRegression(max_iter=500).fit(frame[FEATURES], frame.species)
    path = tmp_path_factory.mktemp("models") / "species.pkl"
    path.write_bytes(pickle.dumps(model))
    return str(path)


@pytest.fixture(scope="module")
def explored(penguins: str) -> Session:
    """read -> transform -> profile, run once for the tests that only look."""
    s = Session(default_sample=150)
    s.read("penguins", penguins)
    s.transform("heavy", "penguins", "df = df[df.body_mass_g > 4000]")
    s.profile("heavy")
    return s


def test_read_previews_a_uniform_sample_of_the_whole_file_not_its_head(penguins: str) -> None:
    s = Session(default_sample=50)
    frame = s.read("penguins", penguins)
    whole = pd.read_csv(penguins)
    assert len(frame) == 50 and list(frame.columns) == list(whole.columns)
    # penguins.csv is sorted by species: the head holds only Adelie, a uniform sample all three
    assert set(whole.head(50).species) == {"Adelie"}
    assert set(frame.species) == set(whole.species)
    assert frame.index.max() > 50  # rows from all over the file (the index is the line)
    # the same seed picks the same rows again
    pd.testing.assert_frame_equal(Session(default_sample=50).read("penguins", penguins), frame)


def test_read_with_head_previews_the_first_rows_as_pandas(penguins: str) -> None:
    s = Session(default_sample=50)
    frame = s.read("penguins", penguins, head=True)
    expected = pd.read_csv(penguins).head(50)
    assert len(frame) == 50
    assert list(frame.columns) == list(expected.columns)
    pd.testing.assert_series_equal(
        frame.body_mass_g.reset_index(drop=True),
        expected.body_mass_g.astype(frame.body_mass_g.dtype),
    )


def test_transform_preview_equals_pandas_running_the_same_code(explored: Session) -> None:
    sample = explored.result("penguins")
    got = explored.result("heavy")
    expected = sample[sample.body_mass_g > 4000]
    pd.testing.assert_frame_equal(got, expected)
    assert 0 < len(got) < len(sample)


def test_when_body_sorts_then_transform_fails_at_once_with_one_line(penguins: str) -> None:
    s = Session(default_sample=20)
    s.read("penguins", penguins)
    with pytest.raises(BeamMLError) as info:
        s.transform("ordered", "penguins", "df = df.sort_values('body_mass_g')")
    message = str(info.value)
    assert "sort_values" in message and "\n" not in message
    assert "ordered" not in s.names()  # a failing step is not kept


def test_when_body_breaks_then_error_names_step_and_cause_on_one_line(penguins: str) -> None:
    s = Session(default_sample=20)
    s.read("penguins", penguins)
    with pytest.raises(BeamMLError, match=r"transform 'bad' failed: AttributeError: .*nope"):
        s.transform("bad", "penguins", "df = df[df.nope > 1]")
    s.transform("good", "penguins", "df = df.dropna()")
    with pytest.raises(BeamMLError):
        s.transform("good", "penguins", "df = df[df.nope > 1]")
    assert s.get("good").body == "df = df.dropna()"  # the edit that failed is rolled back


def test_profile_preview_is_a_real_profile_of_the_transformed_sample(explored: Session) -> None:
    heavy = explored.result("heavy")
    profile = explored.result("heavy_profile")
    assert isinstance(profile, bml.Profile)
    assert profile.rows == len(heavy)
    mean = profile.columns["body_mass_g"].mean
    assert mean == pytest.approx(heavy.body_mass_g.mean(), rel=1e-9)
    assert profile.columns["body_mass_g"].min > 4000


def test_when_step_unchanged_then_rerun_returns_cached_object_at_once(explored: Session) -> None:
    before = list(explored.computed)
    first = explored.result("heavy_profile")
    again = explored.profile("heavy")
    assert again is first
    again_read = explored.read("penguins", explored.get("penguins").path)
    assert again_read is explored.result("penguins")
    assert explored.computed == before  # nothing recomputed


def test_when_step_edited_then_it_and_downstream_recompute_and_upstream_does_not(
    penguins: str,
) -> None:
    s = Session(default_sample=150)
    read = s.read("penguins", penguins)
    s.transform("heavy", "penguins", "df = df[df.body_mass_g > 4000]")
    old_profile = s.profile("heavy")
    s.transform("light", "penguins", "df = df[df.body_mass_g < 3500]")  # a sibling
    light = s.result("light")
    s.computed.clear()

    edited = s.transform("heavy", "penguins", "df = df[df.body_mass_g > 4500]")

    assert s.computed == ["heavy", "heavy_profile"]
    assert s.result("penguins") is read and s.result("light") is light
    new_profile = s.refreshed["heavy_profile"]
    assert new_profile is not old_profile
    assert new_profile.rows == len(edited) == int((read.body_mass_g > 4500).sum())
    assert s.names() == ["penguins", "heavy", "heavy_profile", "light"]  # place kept


def test_when_sample_changes_then_read_and_downstream_recompute(penguins: str) -> None:
    s = Session(default_sample=40)
    s.read("penguins", penguins)
    s.transform("clean", "penguins", "df = df.dropna()")
    s.computed.clear()
    frame = s.read("penguins", penguins, sample=80)
    assert len(frame) == 80
    assert s.computed == ["penguins", "clean"]
    assert len(s.result("clean")) == len(frame.dropna())


def test_when_rules_file_changes_then_validate_recomputes(penguins: str, tmp_path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {kind: range, column: body_mass_g, min: 0, max: 10000}\n")
    s = Session(default_sample=60)
    s.read("penguins", penguins)
    report = s.validate("penguins", rules=str(rules))
    assert report.passed and report.rows["total"] == 60
    assert s.validate("penguins", rules=str(rules)) is report
    rules.write_text("rules:\n  - {kind: range, column: body_mass_g, min: 0, max: 3000}\n")
    os.utime(rules, ns=(1, 1))  # a different mtime even on a coarse clock
    changed = s.validate("penguins", rules=str(rules))
    assert not changed.passed
    assert changed.rows["invalid"] == int((s.result("penguins").body_mass_g > 3000).sum())


def test_validate_against_a_reference_profile_step(explored: Session) -> None:
    explored.profile("penguins")
    report = explored.validate("heavy", reference="penguins_profile")
    assert report.rows["total"] == len(explored.result("heavy"))
    assert {"checks", "rows"} <= set(report.to_dict())


def test_when_input_unknown_then_error_suggests_the_closest(explored: Session) -> None:
    with pytest.raises(BeamMLError, match="did you mean 'heavy'"):
        explored.profile("heavyy")
    with pytest.raises(BeamMLError, match="a reference or rules"):
        explored.validate("heavy")


def test_infer_runs_real_runinference_and_reports_the_device(
    penguins: str, model_path: str
) -> None:
    s = Session(default_sample=60, default_device="cpu", device_probe=lambda: True)
    s.read("penguins", penguins)
    s.transform("clean", "penguins", "df = df.dropna()")
    preview = s.infer("clean", f"sklearn:{model_path}", features=",".join(FEATURES))
    assert preview.device == "cpu"  # the session default
    assert len(preview.predictions) == len(s.result("clean"))
    assert preview.predictions["prediction"].isin(["Adelie", "Chinstrap", "Gentoo"]).all()
    on_gpu = s.set_device("clean_infer", "gpu")  # the injected probe says CUDA is usable
    assert s.get("clean_infer").device == "gpu" and on_gpu is not preview
    assert on_gpu.device_reason == "asked gpu; scikit-learn models run on cpu; ran on cpu"
    assert s.set_device("clean_infer", "cpu") is preview  # back to a cached setting


def test_progress_reports_stage_rows_and_elapsed_time(penguins: str) -> None:
    ticks = iter(range(100))
    s = Session(default_sample=30, clock=lambda: float(next(ticks)))
    events: list[Progress] = []
    unsubscribe = s.on_progress(events.append)
    s.read("penguins", penguins)
    s.transform("clean", "penguins", "df = df.dropna()")
    unsubscribe()
    s.transform("clean2", "penguins", "df = df.dropna()")
    assert [(e.step, e.stage) for e in events] == [
        ("penguins", "started"),
        ("penguins", "done"),
        ("clean", "started"),
        ("clean", "done"),
    ]
    assert events[1].rows == 30 and events[1].elapsed == 1.0
    assert events[2].rows == 30 and events[3].rows == len(s.result("clean"))
    assert events[3].text().startswith("transform clean: done")


def test_defaults_are_checked_and_shown_in_the_steps_table(explored: Session) -> None:
    with pytest.raises(BeamMLError, match="default_sample"):
        Session(default_sample=0)
    with pytest.raises(BeamMLError, match="default_device"):
        Session(default_device="tpu")
    bundle = explored._repr_mimebundle_()
    assert "heavy_profile" in bundle["text/plain"]
    assert "&lt;" not in bundle["text/plain"] and "<table" in bundle["text/html"]


def test_steps_table_escapes_bodies_and_keeps_their_spaces(penguins: str) -> None:
    s = Session(default_sample=10)
    s.read("penguins", penguins)
    s.transform("x", "penguins", "df = df[df.species != '<b>a  b</b>']")
    bundle = s._repr_mimebundle_()
    assert "a  b" in bundle["text/plain"]
    assert "<b>" not in bundle["text/html"] and "&lt;b&gt;" in bundle["text/html"]


def test_infer_preview_predicts_what_the_step_transform_does(
    penguins: str, model_path: str
) -> None:
    import apache_beam as beam
    from beam_ml.runner import run_and_collect

    s = Session(default_sample=50)
    s.read("penguins", penguins)
    s.transform("clean", "penguins", "df = df.dropna()")
    preview = s.infer("clean", f"sklearn:{model_path}", features=FEATURES, device="cpu")
    step = s.get("clean_infer")
    sample = s.result("clean")
    out = run_and_collect(
        lambda p: step.apply(p, {"clean": p | beam.Create([sample], reshuffle=False)})[
            "predictions"
        ]
    )
    applied = pd.concat(out).sort_index()
    pd.testing.assert_series_equal(
        preview.predictions["prediction"].sort_index(), applied["prediction"], check_names=False
    )


def test_engine_modules_do_not_import_ipython_or_widgets() -> None:
    import subprocess
    import sys

    code = (
        "import sys, beam_ml.notebook.session, beam_ml.notebook.widgets\n"
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'torch') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_when_a_glob_matches_a_new_file_then_read_recomputes(penguins: str, tmp_path) -> None:
    frame = pd.read_csv(penguins).head(6)
    frame.head(3).to_csv(tmp_path / "part-1.csv", index=False)
    s = Session(default_sample=100)
    first = s.read("parts", str(tmp_path / "part-*.csv"))
    assert len(first) == 3
    assert s.read("parts", str(tmp_path / "part-*.csv")) is first
    frame.tail(3).to_csv(tmp_path / "part-2.csv", index=False)
    assert len(s.read("parts", str(tmp_path / "part-*.csv"))) == 6
