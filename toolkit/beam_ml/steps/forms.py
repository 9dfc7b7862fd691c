"""The syntax of the ``%beam_ml`` / ``%%beam_ml`` forms, without IPython.

This engine module is shared: the notebook magics (``beam_ml.notebook.magics``) can
import :func:`parse_line`, :func:`parse_form` and :func:`step_for`, and
``beam-ml export NOTEBOOK.ipynb`` uses :func:`steps_from_notebook` to read a
saved notebook's cells into a :class:`beam_ml.steps.core.StepGraph` without running
anything. One parser for both, so a form means the same thing in both places.

Rules (the defects of Beam's ``%%beam_sql`` that must not exist here):

- the line is split with :mod:`shlex`: quotes group words and the spaces
  inside quotes are kept exactly (``'my  file.csv'`` keeps both spaces);
- only the line is parsed for options: a cell body is code, so ``-v`` or
  ``--from`` inside a transform body stays body text.

>>> parse_line("read penguins 'my  data.csv' --sample 10")
('read', ['penguins', 'my  data.csv', '--sample', '10'])
>>> form = parse_form("%%beam_ml transform heavy --from penguins", "df = df[df.x -v > 1]")
>>> form.step.body
'df = df[df.x -v > 1]'
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from dataclasses import dataclass
from typing import Any, NoReturn

from beam_ml.errors import BeamMLError, one_line

__all__ = [
    "FORMS",
    "Form",
    "parse_args",
    "parse_form",
    "parse_line",
    "step_for",
    "steps_from_notebook",
]

FORMS = {
    "read": "%beam_ml read NAME PATH [--format csv|parquet|json] [--sample N]",
    "transform": "%%beam_ml transform NAME --from INPUT  (then the body, reading and rebinding df)",
    "profile": "%beam_ml profile NAME [--sample N] [-o VAR]",
    "validate": "%beam_ml validate NAME (--reference NAME | --rules FILE) [-o VAR]",
    "infer": (
        "%beam_ml infer NAME --model KIND:PATH [--features A,B] [--key COL] "
        "[--device auto|cpu|gpu] [--sample N] [-o VAR]"
    ),
    "compare": "%beam_ml compare NAME --model KIND:PATH --model KIND:PATH [...] [-o VAR]",
    "steps": "%beam_ml steps",
    "export": "%beam_ml export PATH",
}
# Forms that record a step (the others only show or export).
STEP_FORMS = ("read", "transform", "profile", "validate", "infer", "compare")
DEVICES = ("auto", "cpu", "gpu")
MAGIC = "%beam_ml"
CELL_MAGIC = "%%beam_ml"


def parse_line(line: str) -> tuple[str, list[str]]:
    """Split a magic line (without ``%beam_ml``) into its subcommand and arguments.

    >>> parse_line('infer heavy --model "sklearn:my model.pkl"')
    ('infer', ['heavy', '--model', 'sklearn:my model.pkl'])
    """
    text = line.strip()
    for prefix in (CELL_MAGIC, MAGIC):
        if text.startswith(prefix + " ") or text == prefix:
            text = text[len(prefix) :]
            break
    try:
        words = shlex.split(text, posix=True)
    except ValueError as error:  # an unclosed quote
        raise BeamMLError.expected(
            "a %beam_ml line with balanced quotes", f"{error}", "close the quote"
        ) from None
    if not words:
        raise BeamMLError.expected("a subcommand after %beam_ml", "nothing", ", ".join(FORMS))
    form, args = words[0], words[1:]
    if form not in FORMS:
        import difflib

        close = difflib.get_close_matches(form, list(FORMS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise BeamMLError.expected(
            "a %beam_ml subcommand", repr(form), f"{hint}use one of {', '.join(FORMS)}"
        )
    return form, args


class _Parser(argparse.ArgumentParser):
    """argparse that raises a one-line BeamMLError instead of printing and exiting."""

    def __init__(self, form: str) -> None:
        super().__init__(prog=f"%beam_ml {form}", add_help=False, allow_abbrev=False)
        self.form = form

    def error(self, message: str) -> NoReturn:
        raise BeamMLError(one_line(f"{self.prog}: {message} (usage: {FORMS[self.form]})"))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise BeamMLError(one_line(f"{self.prog}: {message or 'bad arguments'}"))


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {value!r}")
    return number


def _parsers() -> dict[str, _Parser]:
    parsers = {form: _Parser(form) for form in FORMS}
    p = parsers["read"]
    p.add_argument("name")
    p.add_argument("path")
    p.add_argument("--format", choices=("csv", "parquet", "json"))
    p.add_argument("--sample", type=_positive)
    p = parsers["transform"]
    p.add_argument("name")
    p.add_argument("--from", dest="input", required=True)
    p = parsers["profile"]
    p.add_argument("name")
    p.add_argument("--sample", type=_positive)
    p.add_argument("-o", dest="out")
    p = parsers["validate"]
    p.add_argument("name")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--reference")
    group.add_argument("--rules")
    p.add_argument("-o", dest="out")
    for form in ("infer", "compare"):
        p = parsers[form]
        p.add_argument("name")
        p.add_argument("--model", action="append", required=True)
        p.add_argument("--features")
        p.add_argument("--device", choices=DEVICES)
        p.add_argument("--sample", type=_positive)
        p.add_argument("-o", dest="out")
    parsers["infer"].add_argument("--key")
    parsers["export"].add_argument("path")
    return parsers


_PARSERS = _parsers()


def parse_args(form: str, args: list[str]) -> argparse.Namespace:
    """Parse the arguments of one form; a mistake is a one-line BeamMLError.

    >>> parse_args("read", ["p", "p.csv", "--sample", "5"]).sample
    5
    """
    if form not in _PARSERS:
        parse_line(form)  # raises the unknown-subcommand error
    return _PARSERS[form].parse_args(args)


@dataclass(frozen=True)
class Form:
    """One parsed magic: its subcommand, options, and the step it records (if any)."""

    form: str
    options: argparse.Namespace
    step: Any = None  # a beam_ml.steps.core.Step
    sample: int | None = None


def step_for(
    form: str, options: argparse.Namespace, body: str | None = None, default_device: str = "auto"
) -> tuple[Any, int | None]:
    """The step a form records and its own preview sample size (None: inherited).

    Step names follow the session: ``profile X`` records ``X_profile``,
    ``validate X`` ``X_validate``, ``infer X`` ``X_infer``, ``compare X`` ``X_compare``.
    """
    from beam_ml.steps import core as steps

    o = options
    if form == "read":
        return steps.ReadStep(name=o.name, path=o.path, format=o.format), o.sample
    if form == "transform":
        if body is None:
            raise BeamMLError.expected(
                "a cell body for transform", "a line magic", FORMS["transform"]
            )
        return steps.TransformStep(name=o.name, input=o.input, body=body), None
    if form == "profile":
        return steps.ProfileStep(name=f"{o.name}_profile", input=o.name), o.sample
    if form == "validate":
        validate = steps.ValidateStep(
            name=f"{o.name}_validate", input=o.name, reference=o.reference, rules=o.rules
        )
        return validate, None
    if form not in ("infer", "compare"):
        return None, None
    device = o.device or default_device
    step: Any
    if form == "infer":
        if len(o.model) != 1:
            raise BeamMLError.expected("one --model for infer", len(o.model), "use compare")
        step = steps.InferStep(
            name=f"{o.name}_infer",
            input=o.name,
            model=o.model[0],
            features=o.features,
            key=o.key,
            device=device,
        )
    else:
        step = steps.CompareStep(
            name=f"{o.name}_compare",
            input=o.name,
            models=tuple(o.model),
            features=o.features,
            device=device,
        )
    return step, o.sample


def parse_form(line: str, cell: str | None = None, default_device: str = "auto") -> Form:
    """Parse one magic (its line, and the cell body of a ``%%beam_ml`` cell).

    >>> parse_form("%beam_ml profile penguins -o stats").step.name
    'penguins_profile'
    """
    form, args = parse_line(line)
    if form != "transform" and cell is not None and cell.strip():
        raise BeamMLError.expected(
            f"no cell body for {form}", "a %%beam_ml cell", f"use the line magic {FORMS[form]}"
        )
    if form == "transform" and cell is None:
        raise BeamMLError.expected("a %%beam_ml cell for transform", "a line magic")
    options = parse_args(form, args)
    step, sample = step_for(form, options, cell, default_device)
    return Form(form, options, step, sample)


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
    from beam_ml.steps.core import StepGraph

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
