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
    assert "asked cpu; ran on cpu" in view.status.value

    view.device_toggle.value = "gpu"
    assert s.get("clean_infer").device == "gpu"
    assert view.result.device_reason == f"asked gpu; {gpu_branch}; ran on cpu"
    assert gpu_branch in view.output.value
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
    assert "CUDA not available" in view.status.value


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
    assert {"text/plain", "text/html", WIDGET_MIME} <= set(bundle)
    assert "ran on cpu" in bundle["text/plain"]
    assert "prediction" in bundle["text/html"]


@pytest.fixture(scope="module")
def profile() -> Any:
    frame = pd.DataFrame(
        {
            "mass": [3000.0, 3500.0, 4000.0, 4500.0, None, 5000.0],
            "<script>x</script>": ["a", "b", "a", "a", "c", None],
        }
    )
    return bml.Profile.from_frame(frame)


def test_profile_view_picks_a_column_and_shows_its_histogram(profile: Any) -> None:
    view = ProfileView(profile)
    view.widget  # noqa: B018
    assert isinstance(view.picker, ipywidgets.Dropdown)
    assert list(view.picker.options) == ["mass", "<script>x</script>"]
    view.picker.value = "mass"
    html = view.detail.value
    assert html.count("<rect") == len(profile.columns["mass"].histogram["counts"])
    assert sum(profile.columns["mass"].histogram["counts"]) == 5  # the non-null values
    view.picker.value = "<script>x</script>"
    assert view.column == "<script>x</script>"
    assert "<script>x" not in view.detail.value and "&lt;script&gt;x" in view.detail.value
    assert view.detail.value.count("<rect") == 3  # a, b, c


def test_profile_view_refuses_an_unknown_column(profile: Any) -> None:
    with pytest.raises(bml.BeamMLError, match="a column of the profile"):
        ProfileView(profile).select("nope")


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
    assert view.table.value.count("FAIL") == 1 and "not_null" not in view.table.value
    heavy = int((s.result("penguins").body_mass_g > 4000).sum())
    assert view.summary() == (
        f"validation failed: 1 failed check(s); rows: 40 total, {40 - heavy} valid, {heavy} invalid"
    )
    assert "max: 4,000" in view.table.value  # the expected bounds, readable
    view.filter.value = "all"
    assert "not_null" in view.table.value and view.table.value.count("FAIL") == 1
    assert view.table.value.startswith('<div class="bml bml-view">')  # styled after a toggle
    assert isinstance(view.widget.children[-1], ipywidgets.Accordion)
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] and bundle["text/html"] and WIDGET_MIME in bundle


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
