"""JupyterLab in a real browser: open each notebook, Run All Cells, check what renders.

The checks are data: ``CASES`` maps a notebook to the steps a user would see and
do, in order — ``Shows`` (an element inside the cell outputs matching a CSS
selector, displayed, whose text contains a string) and ``Click`` (click the
displayed element matching a selector whose text is exactly a label). To cover
a new tutorial notebook, add a row for it, made of the view groups it shows::

    "03_inference.ipynb": (*INFERENCE_HTML, *device_toggle("measured_infer", "cpu", "gpu")),

Notebooks named ``browser_*`` are
built here with nbformat into the served tmp folder; the tutorial notebooks are
copies of notebooks/.

Every notebook must also: run every code cell, raise no error (checked on the
notebook saved from the browser), and render every widget it outputs (no
"Loading widget...", no "Error displaying widget", no plain-text fallback).
Screenshots land in tests/browser/artifacts/.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import browser_lab
import nbformat
import pytest
from browser_lab import LabPage, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Shows:
    """A displayed element inside the cell outputs, matching ``selector``, containing ``text``
    (with ``within``: inside the one output whose text contains ``within``)."""

    what: str
    selector: str
    text: str = ""
    within: str = ""


@dataclass(frozen=True)
class Click:
    """Click the displayed element matching ``selector`` whose text is exactly ``label``
    (with ``within``: inside the one output whose text contains ``within``)."""

    what: str
    selector: str
    label: str
    within: str = ""


Step = Shows | Click

# ipywidgets 8 class names (what @jupyter-widgets/controls renders)
TOGGLE = ".widget-toggle-buttons button.widget-toggle-button"

# The views, as reusable groups of steps: a notebook's row lists the groups it shows.
# Static HTML (Python API results; also what nbconvert and GitHub show):
PROFILE_HTML: tuple[Step, ...] = (
    Shows("the profile view", ".bml-profile .bml-overview", " rows"),
    Shows("the profile's column cards", ".bml-profile .bml-columns .bml-card svg"),
)
VALIDATION_HTML: tuple[Step, ...] = (
    Shows("the validation report", ".bml-validation", "Validation"),
    Shows("the validation report's checks", ".bml-validation tr.bml-check"),
)
INFERENCE_HTML: tuple[Step, ...] = (
    Shows("the inference preview", ".bml-inference .bml-device", "Device:"),
    Shows("the preview's predictions", ".bml-inference", "Predictions"),
)
# What the %beam_ml magics show: controls (ipywidgets) above the static view of the step
PROFILE_WIDGET: tuple[Step, ...] = (
    Shows("the profile explorer's name filter", ".widget-text input"),
    Shows("the profile explorer's histogram", ".bml-profile .bml-card svg"),
)
VALIDATION_WIDGET: tuple[Step, ...] = (
    Shows("the validation view's filter", ".widget-toggle-buttons", "All checks"),
)
DEVICE_LABELS = {"auto": "Auto", "cpu": "CPU", "gpu": "GPU"}


BANNER = ".bml-inference .bml-device"


def device_toggle(step: str, start: str = "cpu", to: str = "gpu") -> tuple[Step, ...]:
    """The device toggle of inference step ``step``'s controls: flip it ``start`` -> ``to``
    -> ``start`` and see the cell's static view re-drawn each time (its one device banner
    says "asked DEVICE; ...")."""
    here = f"{step}: sample"  # the controls' status line; the cell holds the static view too
    return (
        Shows("the device toggle", ".widget-toggle-buttons", DEVICE_LABELS[to], here),
        Shows(f"the preview run for {start}", BANNER, f"asked {start};", here),
        Click(f"toggle the device to {to}", TOGGLE, DEVICE_LABELS[to], here),
        # Without CUDA a GPU request falls back to the CPU and says so; with it, it runs there.
        Shows(f"the preview re-run for {to}", BANNER, f"asked {to};", here),
        Click(f"toggle the device back to {start}", TOGGLE, DEVICE_LABELS[start], here),
        Shows(f"the preview re-run for {start}", BANNER, f"asked {start};", here),
    )


CASES: dict[str, tuple[Step, ...]] = {
    "01_quickstart.ipynb": (
        Shows("the penguins as a pandas table", "table.dataframe", "bill_length_mm"),
        Shows("the species", ".jp-OutputArea-output", "Adelie"),
        *PROFILE_WIDGET,
        *VALIDATION_WIDGET,
        Shows("the validation view's failed checks", ".bml-view .bml-checks", "FAIL"),
    ),
    # 03_inference.ipynb: test_views.py (toggle after set_device, then saved and reopened)
    "browser_views.ipynb": (
        *PROFILE_HTML,
        Shows("the profile of all the penguins", ".bml-profile .bml-overview", "344 rows"),
        *VALIDATION_HTML,
        Shows("the failed range check", ".bml-validation tr.bml-bad", "bill_length_mm"),
        *PROFILE_WIDGET,
        *VALIDATION_WIDGET,
        Shows("the validation view's failed checks", ".bml-view .bml-checks", "FAIL"),
        *INFERENCE_HTML,
        *device_toggle("clean_infer", "cpu", "gpu"),
    ),
}

# seconds: Run All Cells of one notebook, and one step's element to render after that
RUN_TIMEOUT = 180
STEP_TIMEOUT = 60


def views_notebook(penguins: str) -> nbformat.NotebookNode:
    """The profile, validation and inference views, as the Python API and the magics show them."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# The beam-ml views in JupyterLab (built by the browser test)"),
        v4.new_code_cell(
            "import pickle\n"
            "import pandas as pd\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "import beam_ml as bml\n"
            f"path = {penguins!r}\n"
            "features = ['bill_length_mm', 'bill_depth_mm']\n"
            "data = pd.read_csv(path)\n"
            "clean = data.dropna()\n"
            "model = LogisticRegression(max_iter=500).fit(clean[features], clean.species)\n"
            "with open('species.pkl', 'wb') as f:\n"
            "    pickle.dump(model, f)\n"
            "faulty = data.copy()\n"
            "faulty.loc[:9, 'bill_length_mm'] = -1.0  # ten impossible bills\n"
            "faulty.to_csv('faulty.csv', index=False)"
        ),
        v4.new_code_cell("profile = bml.profile(path)\nprofile"),
        v4.new_code_cell("bml.validate('faulty.csv', reference=profile)"),
        v4.new_code_cell("%load_ext beam_ml\n%config BeamML.default_sample = 200"),
        v4.new_code_cell(
            f"%beam_ml read penguins {shlex.quote(penguins)}\n%beam_ml read faulty faulty.csv"
        ),
        v4.new_code_cell("%%beam_ml transform clean --from penguins\ndf = df.dropna()"),
        v4.new_code_cell("%beam_ml profile penguins"),
        v4.new_code_cell("%beam_ml validate faulty --reference penguins_profile"),
        v4.new_code_cell(
            "%beam_ml infer clean --model sklearn:species.pkl "
            "--features bill_length_mm,bill_depth_mm --device cpu"
        ),
    ]
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return notebook


def raising_notebook(penguins: str) -> nbformat.NotebookNode:
    """A cell that raises, between two that do not: the checks must name it."""
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("rows = 344"),
            v4.new_code_cell("rows / 0"),
            v4.new_code_cell("rows"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return notebook


BUILT = {"browser_views.ipynb": views_notebook, "browser_raises.ipynb": raising_notebook}


@pytest.fixture(scope="module")
def built_notebooks(lab_root: Path) -> None:
    import beam_ml as bml

    penguins = bml.datasets.load("penguins")
    for name, build in BUILT.items():
        nbformat.write(build(penguins), lab_root / name)


def _stem(name: str) -> str:
    return Path(name).stem


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# After a Click, the steps with the same ``within`` look only inside the cell whose control
# was clicked: the change must show in that very cell, not in another view of the step.
Pinned = dict[str, WebElement]


def _candidates(page: LabPage, selector: str, within: str, pinned: Pinned) -> list[WebElement]:
    if within and within in pinned:
        return list(pinned[within].find_elements(By.CSS_SELECTOR, selector))
    return page.outputs(selector, within)


def _find(page: LabPage, step: Shows, pinned: Pinned) -> WebElement | None:
    for element in _candidates(page, step.selector, step.within, pinned):
        if element.is_displayed() and step.text in (element.get_attribute("textContent") or ""):
            return element
    return None


def _click(page: LabPage, step: Click, pinned: Pinned) -> None:
    """Click a control that is not already on (clicking an active toggle changes nothing)."""

    def target() -> WebElement | None:
        for element in _candidates(page, step.selector, step.within, pinned):
            active = "mod-active" in (element.get_attribute("class") or "").split()
            if element.is_displayed() and element.text.strip() == step.label and not active:
                return element
        return None

    what = f"{step.what}: {step.selector!r} labelled {step.label!r}, not yet active"
    element = wait_for(target, STEP_TIMEOUT, what)
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()
    if step.within:
        pinned[step.within] = page.driver.execute_script(
            "return arguments[0].closest('.jp-OutputArea');", element
        )


# A widget output is rendered by the widget manager (no data-mime-type attribute, an
# ipywidgets "widget-*" element inside); its text fallbacks would carry a data-mime-type.
_WIDGET_OUTPUTS_JS = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
return [...panel.querySelectorAll('.jp-OutputArea-output:not([data-mime-type])')]
    .filter(e => e.firstElementChild
        && [...e.firstElementChild.classList].some(c => c.startsWith('widget-')))
    .length;
"""


def _check_widgets_rendered(page: LabPage, name: str, expected: int) -> None:
    """All ``expected`` widgets render: none left loading, broken or shown as plain text."""

    def rendered() -> bool:
        return int(page.driver.execute_script(_WIDGET_OUTPUTS_JS)) == expected

    try:
        wait_for(rendered, STEP_TIMEOUT, f"{expected} widgets to render")
    except TimeoutError:
        count = page.driver.execute_script(_WIDGET_OUTPUTS_JS)
        raise AssertionError(f"{name}: {expected} widget outputs, {count} rendered") from None
    text = page.output_text()
    assert "Loading widget" not in text, f"{name}: a widget never loaded"
    assert "Error displaying widget" not in text, f"{name}: a widget failed to display"


def _check_saved_notebook(page: LabPage, name: str) -> int:
    """Save from the browser and read the file back: every code cell ran, none failed.

    Returns how many outputs carry a widget (the browser must have rendered each).
    """
    path = page.lab.root / name
    before = path.stat().st_mtime_ns
    page.save()
    wait_for(lambda: path.stat().st_mtime_ns != before, 30, f"{name} to be saved")
    notebook = nbformat.read(path, as_version=4)
    widgets = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{name} cell {index}: {errors[0].ename}: {errors[0].evalue}"
        assert cell.execution_count is not None, f"{name} cell {index} did not run"
        widgets += sum(WIDGET_MIME in o.get("data", {}) for o in cell.outputs)
    return widgets


@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_runs_in_jupyterlab_and_its_views_render(
    page: LabPage, built_notebooks: None, name: str
) -> None:
    stem = _stem(name)
    try:
        page.open_notebook(name)
        page.run_all_cells()
        prompts = page.wait_until_executed(RUN_TIMEOUT)
        page.screenshot(f"{stem}-00-after-run-all")
        # The saved file says which cell failed and why, before the prompts say that one did.
        widgets = _check_saved_notebook(page, name)
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), (
            f"{name}: not every code cell ran: {prompts}"
        )
        _check_widgets_rendered(page, name, widgets)
        pinned: Pinned = {}
        for number, step in enumerate(CASES[name], start=1):
            if isinstance(step, Click):
                _click(page, step, pinned)
                continue
            element = wait_for(
                partial(_find, page, step, pinned),
                STEP_TIMEOUT,
                f"{step.what}: {step.selector!r} containing {step.text!r} in {name}",
            )
            page.screenshot(f"{stem}-{number:02d}-{_slug(step.what)}", element)
    except BaseException:
        page.screenshot(f"{stem}-failure")
        raise


def test_when_a_cell_raises_then_the_check_names_the_cell_and_the_error(
    page: LabPage, built_notebooks: None
) -> None:
    name = "browser_raises.ipynb"
    page.open_notebook(name)
    page.run_all_cells()
    prompts = page.wait_until_executed(RUN_TIMEOUT)
    page.screenshot(f"{_stem(name)}-00-after-run-all")
    # Run All stops at the error: the cell after it never runs.
    assert re.fullmatch(r"\[\d+\]:", prompts[1]) and not re.fullmatch(r"\[\d+\]:", prompts[2])
    with pytest.raises(AssertionError, match=r"cell 1: ZeroDivisionError: division by zero"):
        _check_saved_notebook(page, name)


def test_setup_script_is_a_quick_no_op_once_chromium_is_installed(browser_available: None) -> None:
    script = Path(__file__).with_name("setup.sh")
    started = time.monotonic()
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # nothing installed, nothing to say
    assert time.monotonic() - started < 5


def test_without_chromium_the_test_skips_locally_but_fails_when_ci_is_true(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(browser_lab, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and /nonexistent/chromium"):
        browser_lab.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"setup\.sh"):
        browser_lab.require_browser()
