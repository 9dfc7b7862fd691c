"""Each tutorial notebook's steps, exported and run, match the notebook's previews.

A copy of the notebook is executed (nbclient) with one more cell that calls
``beam_ml.exporting.check`` on the notebook's live session: the exported module
runs on the sample and every step is compared with its preview. Slow (the
notebooks run for real), so it lives apart from test_export.py and xdist can
run it beside the rest.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MAGIC_NOTEBOOKS = sorted(
    p for p in NOTEBOOKS.glob("*.ipynb") if "%beam_ml read" in p.read_text(encoding="utf-8")
)


def test_there_are_tutorial_notebooks_with_steps_to_export():
    assert MAGIC_NOTEBOOKS


PARITY_CELL = """
from beam_ml.exporting import check
from beam_ml.notebook.magics import session
parity = check(session())
assert parity.passed, str(parity)
print(parity)
"""


@pytest.mark.slow
@pytest.mark.parametrize("notebook", MAGIC_NOTEBOOKS, ids=lambda p: p.name)
def test_each_tutorial_notebook_exports_with_parity(notebook, tmp_path):
    """Execute a copy of the tutorial, then check its live session: module vs previews."""
    import nbclient

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PARITY_CELL))
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "parity: yes" in printed, printed
