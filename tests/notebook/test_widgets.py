"""beam_ml.notebook.widgets with real ipywidgets objects: toggles re-run steps."""

from __future__ import annotations

import pickle
from typing import Any

import beam_ml as bml
import ipywidgets
import pandas as pd
import pytest
from beam_ml.notebook.session import Progress, Session
from beam_ml.notebook.widgets import (
    WIDGET_MIME,
    FramePreview,
    InferenceView,
    ProfileView,
    ProgressView,
    ValidationView,
    histogram_svg,
    view_for,
)

FEATURES = ["bill_length_mm", "bill_depth_mm"]


@pytest.fixture(scope="module")
def penguins() -> str:
    return bml.datasets.load("penguins")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, penguins: str) -> str:
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_csv(penguins).dropna()
    path = tmp_path_factory.mktemp("models") / "species.pkl"
    path.write_bytes(
        pickle.dumps(LogisticRegression(max_iter=500).fit(frame[FEATURES], frame.species))
    )
    return f"sklearn:{path}"


@pytest.fixture(scope="module")
def torch_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny TorchScript model (2 features -> 3 scores): a model that can use a GPU."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    path = tmp_path_factory.mktemp("models") / "net.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    return f"torchscript:{path}"


def infer_session(penguins: str, model: str, cuda: bool) -> Session:
    s = Session(default_sample=60, device_probe=lambda: cuda)
    s.read("penguins", penguins)
    s.transform("clean", "penguins", "df = df.dropna()")
    s.infer("clean", model, features=FEATURES)
    return s


def test_device_toggle_reruns_the_step_on_the_gpu_branch(penguins: str, torch_model: str) -> None:
    # The injected probe says CUDA works: Beam's PyTorch handler is handed exactly
    # 'GPU'; on this CPU machine Beam then loads the model on cpu, and the
    # preview says so instead of hiding it in a log line.
    s = infer_session(penguins, torch_model, cuda=True)
    view = InferenceView(s, "clean_infer")
    box = view.widget
    assert isinstance(box, ipywidgets.VBox)
    assert isinstance(view.device_toggle, ipywidgets.ToggleButtons)
    assert [label for label, _ in view.device_toggle.options] == ["Auto", "CPU", "GPU"]
    gpu_branch = "CUDA reported available but Beam loaded the model on cpu"
    assert view.result.device_reason == f"asked auto; {gpu_branch}; ran on cpu"

    view.device_toggle.value = "cpu"  # what a click does
    assert s.get("clean_infer").device == "cpu"
    assert (view.result.device, view.result.device_reason) == ("cpu", "asked cpu; ran on cpu")
    assert "asked cpu; ran on cpu" in view.static_bundle()["text/html"]
    assert "device asked cpu" in view.status.value

    view.device_toggle.value = "gpu"
    assert s.get("clean_infer").device == "gpu"
    assert view.result.device_reason == f"asked gpu; {gpu_branch}; ran on cpu"
    assert gpu_branch in view.static_bundle()["text/html"]
    assert len(view.result.predictions) == len(s.result("clean"))
    assert [e.stage for e in view.progress.events][-2:] == ["started", "done"]


def test_when_gpu_absent_then_toggle_to_gpu_falls_back_to_cpu(
    penguins: str, torch_model: str
) -> None:
    s = infer_session(penguins, torch_model, cuda=False)
    view = InferenceView(s, "clean_infer")
    view.widget.children[0].children[0].value = "gpu"  # the device toggle, found as a user would
    assert view.result.device == "cpu"
    assert view.result.device_reason == "asked gpu; CUDA not available; ran on cpu"
    html = view.static_bundle()["text/html"]
    assert "CUDA not available" in html and html.count("Device: CPU") == 1  # one banner


def test_scikit_learn_says_it_runs_on_cpu_whatever_the_toggle(penguins: str, model: str) -> None:
    s = infer_session(penguins, model, cuda=True)
    view = InferenceView(s, "clean_infer")
    view.set_device("gpu")
    assert view.result.device_reason == "asked gpu; scikit-learn models run on cpu; ran on cpu"


def test_sample_control_reruns_on_that_many_rows(penguins: str, model: str) -> None:
    s = infer_session(penguins, model, cuda=False)
    view = InferenceView(s, "clean_infer")
    first = view.result
    view.widget  # noqa: B018  (build the controls)
    view.sample_box.value = 30
    expected = len(bml.sample(penguins, 30, seed=0).dropna())
    assert view.result is not first
    assert view.result.sample_rows == len(view.result.predictions) == expected
    assert s.result("penguins") is not None and len(s.result("penguins")) == 60  # read kept 60
    view.set_sample(60)
    assert view.result is first  # cached: back to the setting it ran with
    assert view.sample_box.value == 60


def test_a_failing_rerun_shows_its_error_and_keeps_the_last_result(
    penguins: str, model: str
) -> None:
    s = infer_session(penguins, model, cuda=False)
    view = InferenceView(s, "clean_infer")
    before = view.result
    view.widget  # noqa: B018
    view.set_device("tpu")
    assert view.result is before
    assert view.error is not None and "'tpu'" in view.error
    assert "bml-bad" in view.status.value and view.device_toggle.value == "auto"


def test_inference_view_renders_static_html_and_text_for_saved_notebooks(
    penguins: str, model: str
) -> None:
    s = infer_session(penguins, model, cuda=False)
    view = view_for(s, "clean_infer", s.result("clean_infer"))
    assert isinstance(view, InferenceView)
    bundle = view._repr_mimebundle_()
    # the static view never needs a widget model; the controls are an output of their own
    assert set(bundle) == {"text/plain", "text/html"}
    assert "ran on cpu" in bundle["text/plain"]
    assert "prediction" in bundle["text/html"]
    controls = view.controls_bundle()
    assert controls is not None and set(controls) == {"text/plain", WIDGET_MIME}
    assert "clean_infer" in controls["text/plain"] and "kernel" in controls["text/plain"]


@pytest.fixture(scope="module")
def profile() -> Any:
    frame = pd.DataFrame(
        {
            "mass": [3000.5, 3500.25, 4000.0, 4500.75, None, 5000.5],
            "<script>x</script>": ["a", "b", "a", "a", "c", None],
        }
    )
    frame["count"] = [1, 2, 2, 3, 3, 3]
    return bml.Profile.from_frame(frame)


def test_profile_view_sorts_and_filters_columns_by_type_and_name(profile: Any) -> None:
    view = ProfileView(profile)
    view.widget  # noqa: B018
    assert isinstance(view.name_box, ipywidgets.Text)
    assert view.shown() == ["mass", "<script>x</script>", "count"]
    view.explore(sort="name")
    assert view.shown() == sorted(profile.columns, key=str.lower)
    view.explore(sort="missing")
    missing = {n: c.nulls for n, c in profile.columns.items()}
    assert [missing[n] for n in view.shown()] == sorted(missing.values(), reverse=True)
    view.explore(type="float")
    assert view.shown() == [n for n, c in profile.columns.items() if c.type == "float"]
    view.explore(type="all")
    view.name_box.value = "MAS"  # what typing in the box does; case does not matter
    assert view.shown() == ["mass"]
    html = view.html()
    assert html.count('class="bml-card"') == 1 and "1 of 3 columns" in html
    assert 'id="bml-sort-' in html and "checked" in html
    with pytest.raises(bml.BeamMLError, match="a sort"):
        view.explore(sort="size")
    with pytest.raises(bml.BeamMLError, match="a column type of the profile"):
        view.explore(type="datetime")


def test_profile_explorer_escapes_names_and_shows_each_chart(profile: Any) -> None:
    html = ProfileView(profile).html()
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert html.count("<svg") == len(profile.columns)
    # the histogram's bars hold the non-null values; the categories show counts and shares
    assert sum(profile.columns["mass"].histogram["counts"]) == 5
    assert "a: 3 (60 %)" in html  # 3 of the 5 non-null values


def test_histogram_svg_scales_bars_to_the_peak() -> None:
    svg = histogram_svg("x", {"histogram": {"edges": [0.0, 1.0, 2.0], "counts": [2, 4]}})
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[2:]]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert "no values" in histogram_svg("x", {"histogram": None, "top": []})


def test_validation_view_filters_failures_and_all_checks(penguins: str, tmp_path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {kind: range, column: body_mass_g, min: 0, max: 4000}\n"
        "  - {kind: not_null, column: species}\n"
    )
    s = Session(default_sample=40)
    s.read("penguins", penguins)
    report = s.validate("penguins", rules=str(rules))
    view = view_for(s, "penguins_validate", report)
    assert isinstance(view, ValidationView)
    view.widget  # noqa: B018
    table = view.checks_html()
    assert table.count("FAIL") == 1 and "not_null" not in table
    heavy = int((s.result("penguins").body_mass_g > 4000).sum())
    assert view.summary() == (
        f"validation failed: 1 failed check(s); rows: 40 total, {40 - heavy} valid, {heavy} invalid"
    )
    assert "max 4,000" in table  # the expected bounds, readable
    view.filter.value = "all"
    html = view.static_bundle()["text/html"]
    assert "not_null" in view.checks_html() and view.checks_html().count("FAIL") == 1
    assert html.startswith('<div class="bml bml-view">') and "All checks" in html
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] and bundle["text/html"] and WIDGET_MIME not in bundle


def test_progress_view_shows_stage_rows_and_elapsed_time() -> None:
    view = ProgressView()
    label = view.widget
    view.update(Progress("p_profile", "profile", "started", 344, 0.0))
    assert "running" in label.value and "344" in label.value
    view.update(Progress("p_profile", "profile", "done", 344, 1.25))
    assert "done" in label.value and "1.2 s" in label.value
    assert view._repr_mimebundle_()["text/plain"] == "profile p_profile: done, 344 rows, 1.2 s"


def test_frame_preview_is_static_and_escaped() -> None:
    frame = pd.DataFrame({"<b>col</b>": ["<i>v</i>"]})
    bundle = FramePreview("t", frame, 1000)._repr_mimebundle_()
    assert WIDGET_MIME not in bundle
    assert "<b>col" not in bundle["text/html"] and "&lt;i&gt;v" in bundle["text/html"]
    assert bundle["text/plain"].startswith("t: 1 rows x 1 columns")


def test_progress_view_counts_elapsed_time_up_while_a_stage_runs() -> None:
    import time

    view = ProgressView(tick=0.01)
    label = view.widget
    view.update(Progress("p_profile", "profile", "started", 344, 0.0))
    time.sleep(0.25)
    live = float(label.value.rsplit("·", 1)[1].split()[0])
    assert live >= 0.1 and view._ticker is not None and view._ticker.is_alive()
    view.update(Progress("p_profile", "profile", "done", 344, 0.3))
    assert view._ticker is None and "0.3 s" in label.value


def test_rerun_button_picks_up_a_retrained_model(penguins: str, model: str, tmp_path) -> None:
    import os
    import shutil

    from sklearn.dummy import DummyClassifier

    path = tmp_path / "model.pkl"
    shutil.copyfile(model.split(":", 1)[1], path)
    s = infer_session(penguins, f"sklearn:{path}", cuda=False)
    view = InferenceView(s, "clean_infer")
    view.widget  # noqa: B018
    before = view.result
    view.rerun_button.click()
    assert view.result is before  # unchanged: the cached preview
    frame = s.result("clean")
    retrained = DummyClassifier(strategy="constant", constant="retrained")
    retrained.fit(frame[FEATURES], ["retrained"] * len(frame))
    path.write_bytes(pickle.dumps(retrained))
    os.utime(path, ns=(1, 1))
    view.rerun_button.click()
    assert set(view.result.predictions["prediction"]) == {"retrained"}


def test_model_box_switches_the_model_and_a_bad_one_is_shown_not_raised(
    penguins: str, model: str, torch_model: str
) -> None:
    s = infer_session(penguins, model, cuda=False)
    view = InferenceView(s, "clean_infer")
    view.widget  # noqa: B018
    assert view.model_box.value == model
    view.model_box.value = torch_model
    assert s.get("clean_infer").model == torch_model
    assert "output_0" in view.result.predictions.columns  # the torch model's raw scores
    before = view.result
    view.model_box.value = "sklearn:/no/such/model.pkl"
    assert view.result is before and "does not exist" in (view.error or "")
    assert s.get("clean_infer").model == torch_model  # the failing edit was not kept
    assert view.model_box.value == torch_model


def test_when_device_is_set_from_code_then_an_earlier_views_toggle_follows_and_still_reruns(
    penguins: str, torch_model: str
) -> None:
    s = infer_session(penguins, torch_model, cuda=False)
    s.set_device("clean_infer", "gpu")
    earlier = InferenceView(s, "clean_infer")  # the view of a cell run before
    earlier.widget  # noqa: B018
    assert earlier.device_toggle.value == "gpu"
    later = InferenceView(s, "clean_infer")
    later.set_device("cpu")  # from code, in a later cell
    assert earlier.device_toggle.value == "cpu" and earlier.result is later.result
    assert "device asked cpu" in earlier.status.value
    assert "asked cpu; ran on cpu" in earlier.static_bundle()["text/html"]
    earlier.device_toggle.value = "gpu"  # a click on the earlier toggle really runs
    assert s.get("clean_infer").device == "gpu"
    assert earlier.result.device_reason == "asked gpu; CUDA not available; ran on cpu"
    assert later.result is earlier.result  # and the later view follows in turn
    s.set_sample("clean_infer", 30)
    assert earlier.sample_box.value == 30 and earlier.result.sample_rows <= 30


def test_a_view_nobody_holds_is_not_kept_alive_by_the_session(penguins: str, model: str) -> None:
    import gc
    import weakref

    s = infer_session(penguins, model, cuda=False)
    view = InferenceView(s, "clean_infer")
    ref = weakref.ref(view)
    del view
    gc.collect()
    assert ref() is None
    s.set_sample("clean_infer", 20)  # the dead view's listener is dropped, nothing fails
    assert not [w for w in s._watchers if w() is None]
