"""A saved notebook's ``%beam_ml`` cells as a step graph, read without running anything.

One parser (:mod:`beam_ml.steps.forms`) for the live magics and the saved
file, so a form means the same thing in both places.

>>> graph = steps_from_notebook("explore.ipynb")          # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from typing import Any

from beam_ml.errors import BeamMLError, one_line
from beam_ml.steps import StepGraph
from beam_ml.steps.forms import CELL_MAGIC, MAGIC, Form, parse_form


def _cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _magics(source: str) -> list[tuple[str, str | None]]:
    """The (line, body) of each %beam_ml magic in one code cell's source."""
    if source.startswith(CELL_MAGIC):
        line, _, body = source.partition("\n")
        return [(line, body)]
    found: list[tuple[str, str | None]] = []
    for line in source.splitlines():
        if line.startswith(MAGIC + " ") or line.rstrip() == MAGIC:
            found.append((line, None))
    return found


def read_notebook_forms(path: str | os.PathLike[str]) -> list[tuple[int, Form]]:
    """Every ``%beam_ml`` form of a saved notebook, with its cell number (1-based)."""
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except OSError as error:
        raise BeamMLError.expected(
            "a readable .ipynb file", f"{os.fspath(path)!r} ({error.strerror})"
        ) from None
    except ValueError as error:
        raise BeamMLError.expected("a notebook (.ipynb JSON)", one_line(str(error))) from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise BeamMLError.expected("a notebook with cells", f"{os.fspath(path)!r}")
    forms = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        for line, body in _magics(_cell_source(cell)):
            try:
                forms.append((number, parse_form(line, body)))
            except BeamMLError as error:
                raise BeamMLError(f"cell {number}: {error}") from None
    return forms


def steps_from_notebook(path: str | os.PathLike[str]) -> Any:
    """The StepGraph recorded by a saved notebook's magics; nothing is run.

    A later form for an existing step name replaces it, in place, as
    re-running an edited cell does in the notebook.

    >>> graph = steps_from_notebook("explore.ipynb")          # doctest: +SKIP
    """
    return notebook_graph(path)[0]


def notebook_graph(path: str | os.PathLike[str]) -> tuple[Any, dict[str, int]]:
    """The StepGraph of a saved notebook and the preview sample each step set."""
    graph = StepGraph()
    samples: dict[str, int] = {}
    for number, form in read_notebook_forms(path):
        if form.step is None:
            continue
        try:
            graph.replace(form.step)
        except BeamMLError as error:
            raise BeamMLError(f"cell {number}: {error}") from None
        if form.sample is not None:
            samples[form.step.name] = form.sample
    return graph, samples
