"""The progress line in JupyterLab: in the cell that runs the step, gone when it is done.

A custom model handler sleeps 3 s per batch, so the infer cell runs long
enough to be seen running; the cells before it (a read, a profile) must not
get its line, and no line ("running" or "waiting") may stay once it is done.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import nbformat
from beam_ml import datasets
from browser_lab import LabPage, wait_for

NAME = "browser_progress.ipynb"
SLOW_MODEL = '''
import time
from apache_beam.ml.inference.base import ModelHandler


class Model:
    pass


class Slow(ModelHandler):
    """Three seconds per batch: a step slow enough to watch."""

    def load_model(self):
        return Model()

    def run_inference(self, batch, model, inference_args=None):
        time.sleep(3.0)
        return [0.0 for _ in batch]
'''
# (cell index, progress lines in it, its output text) of each output with a progress line
_PROGRESS_CELLS_JS = (
    "const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
    "if (!panel) { return []; }"
    "return [...panel.querySelectorAll('.jp-Cell')].map((cell, i) => {"
    "  const lines = cell.querySelectorAll('.jp-OutputArea .bml-progress');"
    "  return [i, lines.length, [...lines].map(l => l.textContent).join(' | ')];"
    "}).filter(found => found[1] > 0);"
)


def _notebook(penguins: str) -> Any:
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("%load_ext beam_ml"),
            v4.new_code_cell(f"%beam_ml read penguins {shlex.quote(penguins)}"),
            v4.new_code_cell("%beam_ml profile penguins"),
            v4.new_code_cell(
                "%beam_ml infer penguins --model custom:slow_model:Slow "
                "--features bill_length_mm,bill_depth_mm --device cpu"
            ),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return notebook


def test_progress_line_shows_in_the_running_cell_and_is_gone_when_done(
    page: LabPage, lab_root: Path
) -> None:
    (lab_root / "slow_model.py").write_text(SLOW_MODEL, encoding="utf-8")
    nbformat.write(_notebook(str(datasets.load("penguins"))), lab_root / NAME)
    page.open_notebook(NAME)
    page.run_all_cells()

    def progress_cells() -> Any:
        found = page.driver.execute_script(_PROGRESS_CELLS_JS)
        running = [f for f in found or [] if "infer" in f[2]]
        return found if running else None

    found = wait_for(progress_cells, 240, "the infer cell's progress line", interval=0.2)
    lines = page.outputs(".bml-progress")
    page.screenshot("progress-01-while-running", lines[0] if lines else None)
    assert [cell for cell, _, _ in found] == [3], found  # the infer cell, and only it
    assert "running" in found[0][2] and "penguins_infer" in found[0][2]

    prompts = page.wait_until_executed(240)
    assert all(p.strip("[]: ").isdigit() for p in prompts), prompts
    page.screenshot("progress-02-done")
    assert page.driver.execute_script(_PROGRESS_CELLS_JS) == []  # no stale line anywhere
    # what a user sees (innerText: hidden elements left out)
    text = page.driver.execute_script(
        "const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
        "return [...p.querySelectorAll('.jp-OutputArea')].map(e => e.innerText).join('\\n');"
    )
    assert "waiting" not in text and "running" not in text
    assert "344 rows" in text  # the rows that exist, not the 1,000 a preview asks for
