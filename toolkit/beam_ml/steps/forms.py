"""The syntax of the ``%beam_ml`` / ``%%beam_ml`` forms, without IPython.

This engine module is shared: the notebook magics (``beam_ml.notebook.magics``) can
import :func:`parse_line`, :func:`parse_form` and :func:`step_for`, and
``beam-ml export NOTEBOOK.ipynb`` reads a saved notebook's cells with the same
parser (:mod:`beam_ml.exporting.notebook_file`) without running anything. One
parser for both, so a form means the same thing in both places. Each step kind
declares its own options (``Step.add_arguments``) and builds its step
(``Step.from_args``).

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
import shlex
from dataclasses import dataclass
from typing import Any, NoReturn

from beam_ml.errors import BeamMLError, one_line
from beam_ml.steps import KINDS

__all__ = ["FORMS", "Form", "parse_args", "parse_form", "parse_line", "step_for"]

# Forms that only show or export; every other form records a step of its kind.
_OTHER_FORMS = {"steps": "%beam_ml steps", "export": "%beam_ml export PATH [--streaming]"}
_ORDERED = sorted(KINDS.values(), key=lambda cls: cls.position)
FORMS = {**{cls.kind: cls.usage for cls in _ORDERED}, **_OTHER_FORMS}
STEP_FORMS = tuple(KINDS)
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


def _parsers() -> dict[str, _Parser]:
    parsers = {form: _Parser(form) for form in FORMS}
    for kind, cls in KINDS.items():
        parsers[kind].add_argument("name")
        cls.add_arguments(parsers[kind])
        if not cls.binds_name:
            parsers[kind].add_argument("-o", dest="out")
    parsers["export"].add_argument("path")
    parsers["export"].add_argument("--streaming", action="store_true")
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
    step: Any = None  # a beam_ml.steps.Step
    sample: int | None = None


def step_for(
    form: str, options: argparse.Namespace, body: str | None = None, default_device: str = "auto"
) -> tuple[Any, int | None]:
    """The step a form records and its own preview sample size (None: inherited).

    Step names follow the session: ``profile X`` records ``X_profile``,
    ``validate X`` ``X_validate``, ``infer X`` ``X_infer``, ``compare X`` ``X_compare``,
    ``cascade X`` ``X_cascade``.
    """
    if form not in KINDS:
        return None, None
    return KINDS[form].from_args(options, body, default_device)


def parse_form(line: str, cell: str | None = None, default_device: str = "auto") -> Form:
    """Parse one magic (its line, and the cell body of a ``%%beam_ml`` cell).

    >>> parse_form("%beam_ml profile penguins -o stats").step.name
    'penguins_profile'
    """
    form, args = parse_line(line)
    takes_body = form in KINDS and KINDS[form].takes_body
    if not takes_body and cell is not None and cell.strip():
        raise BeamMLError.expected(
            f"no cell body for {form}", "a %%beam_ml cell", f"use the line magic {FORMS[form]}"
        )
    if takes_body and cell is None:
        raise BeamMLError.expected(f"a %%beam_ml cell for {form}", "a line magic")
    options = parse_args(form, args)
    step, sample = step_for(form, options, cell, default_device)
    return Form(form, options, step, sample)
