"""The notebook views in JupyterLab: live controls, a saved notebook reopened, the explorer.

- ``03_inference.ipynb`` (a tutorial) runs; its later cell sets the device from code, so the
  earlier cell's toggle must show that device and still re-run when clicked; then the
  notebook is saved, its kernel shut down, and reopened: every output still shows, no
  "Error displaying widget"; nbconvert's HTML of the saved file shows the views too.
- The profile explorer: sorted and filtered by type with its CSS-only controls (as a saved
  notebook shows it), filtered by name with the live controls, and in the dark theme.

Screenshots land in tests/browser/artifacts/.
"""

from __future__ import annotations

import shlex
from typing import Any

import nbformat
import pandas as pd
import pytest
from browser_lab import LabPage, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
RUN_TIMEOUT = 180
STEP_TIMEOUT = 60
BANNER = ".bml-inference .bml-device"
TOGGLE = ".widget-toggle-buttons button.widget-toggle-button"


def _cells_with(page: LabPage, text: str) -> list[WebElement]:
    """The output areas (one per cell) whose text contains ``text``, in notebook order."""
    return list(
        page.driver.execute_script(
            "const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
            "return [...p.querySelectorAll('.jp-Cell .jp-OutputArea')]"
            ".filter(o => o.textContent.includes(arguments[0]));",
            text,
        )
    )


def _text(element: WebElement) -> str:
    return str(element.get_attribute("textContent") or "")


def _banner(cell: WebElement) -> str:
    banners = cell.find_elements(By.CSS_SELECTOR, BANNER)
    return _text(banners[0]) if banners else ""


def _active_toggle(cell: WebElement) -> str:
    for button in cell.find_elements(By.CSS_SELECTOR, TOGGLE):
        if "mod-active" in (button.get_attribute("class") or "").split():
            return button.text.strip()
    return ""


def _click_toggle(page: LabPage, cell: WebElement, label: str) -> None:
    (button,) = [b for b in cell.find_elements(By.CSS_SELECTOR, TOGGLE) if b.text == label]
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def _saved(page: LabPage, name: str) -> nbformat.NotebookNode:
    path = page.lab.root / name
    before = path.stat().st_mtime_ns
    page.save()
    wait_for(lambda: path.stat().st_mtime_ns != before, 30, f"{name} to be saved")

    def whole() -> nbformat.NotebookNode | None:
        try:  # the server may still be writing it
            return nbformat.read(path, as_version=4)
        except (nbformat.reader.NotJSONError, ValueError):
            return None

    return wait_for(whole, 30, f"{name} to be written in full")


def test_toggle_follows_set_device_and_the_saved_notebook_reopens_without_widget_errors(
    page: LabPage,
) -> None:
    name = "03_inference.ipynb"
    try:
        page.open_notebook(name)
        page.run_all_cells()
        page.wait_until_executed(RUN_TIMEOUT)
        # cell "%beam_ml infer measured ... --device gpu", then a later one: set_device("cpu")
        earlier, later = _cells_with(page, "measured_infer: sample")[:2]
        wait_for(lambda: _active_toggle(earlier) == "CPU", STEP_TIMEOUT, "the toggle at CPU")
        assert "asked cpu;" in _banner(earlier)
        page.screenshot("views-01-toggle-follows-set-device", earlier)
        _click_toggle(page, earlier, "GPU")  # a click on the earlier toggle really re-runs
        wait_for(lambda: "asked gpu;" in _banner(earlier), STEP_TIMEOUT, "the GPU re-run")
        wait_for(lambda: "asked gpu;" in _banner(later), STEP_TIMEOUT, "the later view to follow")
        assert _active_toggle(later) == "GPU"
        page.screenshot("views-02-clicked-gpu", earlier)
        _click_toggle(page, earlier, "CPU")
        wait_for(lambda: "asked cpu;" in _banner(earlier), STEP_TIMEOUT, "the CPU re-run")
        # JupyterLab's own table style (right-aligned, fixed layout) does not win
        cell = page.driver.execute_script(
            "const td = arguments[0].querySelector('.bml-inference table.bml-frame td');"
            "const s = getComputedStyle(td); const t = getComputedStyle(td.closest('table'));"
            "return [s.textAlign, t.tableLayout];",
            earlier,
        )
        assert cell == ["left", "auto"], cell

        saved = _saved(page, name)
        state = saved.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        assert state, "the widget state was not saved with the notebook"
        widget_outputs = sum(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for c in saved.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        page.shut_down_kernel()
        page.open_notebook(name)  # reopened: a fresh kernel knows none of the old widgets
        wait_for(lambda: len(page.outputs(BANNER)) >= 2, STEP_TIMEOUT, "the saved inference views")
        wait_for(
            lambda: "Loading widget" not in page.output_text(),
            STEP_TIMEOUT,
            "the saved widgets to render",
        )
        text = page.output_text()
        assert "Error displaying widget" not in text
        assert "asked cpu;" in _banner(_cells_with(page, "measured_infer: sample")[0])
        rendered = page.driver.execute_script(
            "const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
            "return p.querySelectorAll('.jp-OutputArea-output .widget-toggle-buttons').length;"
        )
        assert widget_outputs and rendered >= 2  # the saved controls render, not an error
        page.screenshot("views-03-reopened-without-the-old-kernel", page.outputs(BANNER)[0])

        from nbconvert import HTMLExporter

        html, _ = HTMLExporter().from_notebook_node(saved)
        assert html.count('class="bml bml-inference"') >= 3 and "bml-device" in html
        assert "Error displaying widget" not in html
        export = page.artifacts / "views-04-nbconvert.html"
        export.write_text(html, encoding="utf-8")
        page.driver.get(export.as_uri())
        page.screenshot("views-04-nbconvert-html")
    except BaseException:
        page.screenshot("views-failure-reopen")
        raise


def explorer_notebook(penguins: str) -> nbformat.NotebookNode:
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell(f"import beam_ml as bml\nbml.profile({penguins!r})"),
            v4.new_code_cell(
                "%load_ext beam_ml\n"
                f"%beam_ml read penguins {shlex.quote(penguins)}\n"
                "%beam_ml profile penguins"
            ),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return notebook


_CARDS_JS = """
const cards = [...arguments[0].querySelectorAll('.bml-card')]
    .filter(c => getComputedStyle(c).display !== 'none')
    .map(c => [Number(getComputedStyle(c).order), c.dataset.type,
               c.querySelector('.bml-name').textContent]);
cards.sort((a, b) => a[0] - b[0]);
return cards.map(c => [c[2], c[1]]);
"""


def _cards(page: LabPage, explorer: WebElement) -> list[list[str]]:
    """The explorer's visible column cards, in the order shown: [name, type]."""
    return list(page.driver.execute_script(_CARDS_JS, explorer))


def _click_label(page: LabPage, explorer: WebElement, css_class: str) -> None:
    label = explorer.find_element(By.CSS_SELECTOR, f"label.{css_class}")
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
    label.click()


def _luminance(rgb: str) -> float:
    parts = [float(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    return (0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]) / 255


@pytest.fixture(scope="module")
def penguins() -> str:
    import beam_ml as bml

    return bml.datasets.load("penguins")


def test_profile_explorer_sorts_filters_and_follows_the_dark_theme(
    page: LabPage, penguins: str
) -> None:
    name = "browser_explorer.ipynb"
    nbformat.write(explorer_notebook(penguins), page.lab.root / name)
    frame = pd.read_csv(penguins)
    try:
        page.open_notebook(name)
        page.run_all_cells()
        page.wait_until_executed(RUN_TIMEOUT)
        static, live = (cell.find_element(By.CSS_SELECTOR, ".bml-profile") for cell in
                        _cells_with(page, "duplicate rows"))  # fmt: skip
        assert [n for n, _ in _cards(page, static)] == list(frame.columns)
        # sort by missing: the CSS radio of the static explorer (it works in a saved notebook)
        _click_label(page, static, "bml-l-s-missing")
        missing = frame.isna().sum()
        shown = [n for n, _ in _cards(page, static)]
        assert [missing[n] for n in shown] == sorted(missing, reverse=True), shown
        assert shown[0] == "sex"
        _click_label(page, static, "bml-l-t-categorical")
        types: dict[str, Any] = dict(_cards(page, static))
        assert set(types.values()) == {"categorical"}
        assert set(types) == {"species", "island", "sex"}  # the profile's categorical columns
        page.screenshot("views-05-explorer-sorted-by-missing-categorical", static)
        # the live name filter re-renders the cell's explorer
        area = page.driver.execute_script("return arguments[0].closest('.jp-OutputArea');", live)
        (box,) = area.find_elements(By.CSS_SELECTOR, ".widget-text input")
        box.send_keys("bill")

        def filtered() -> list[list[str]] | None:
            # the cell's static output is re-drawn: find its explorer again
            cards = _cards(page, area.find_element(By.CSS_SELECTOR, ".bml-profile"))
            return cards if [n for n, _ in cards] == ["bill_length_mm", "bill_depth_mm"] else None

        wait_for(filtered, STEP_TIMEOUT, "the name filter to keep the bill columns")
        page.screenshot("views-06-explorer-name-filter", box)
        # the dark theme: JupyterLab's variables reach the views
        page.submenu_command("Settings", "Theme", "JupyterLab Dark")
        wait_for(
            lambda: (
                page.driver.execute_script("return document.body.dataset.jpThemeLight") == "false"
            ),
            STEP_TIMEOUT,
            "the dark theme",
        )
        static = _cells_with(page, "duplicate rows")[0].find_element(
            By.CSS_SELECTOR, ".bml-profile"
        )
        colour = page.driver.execute_script("return getComputedStyle(arguments[0]).color;", static)
        background = page.driver.execute_script(
            "return getComputedStyle(document.querySelector('.jp-Notebook')).backgroundColor;"
        )
        assert _luminance(colour) > 0.6 > 0.3 > _luminance(background), (colour, background)
        page.screenshot("views-07-explorer-dark-theme", static)
    except BaseException:
        page.screenshot("views-failure-explorer")
        raise
    finally:
        if page.driver.execute_script("return document.body.dataset.jpThemeLight") == "false":
            page.submenu_command("Settings", "Theme", "JupyterLab Light")
