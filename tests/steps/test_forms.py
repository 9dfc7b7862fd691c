"""magic_syntax: the %beam_ml forms parsed without IPython, and a saved notebook's steps."""

from __future__ import annotations

import nbformat
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.exporting import steps_from_notebook
from beam_ml.steps import CompareStep, InferStep, ProfileStep, ReadStep, TransformStep
from beam_ml.steps.forms import parse_form, parse_line


def test_quotes_and_double_spaces_in_option_values_are_kept_exactly():
    form, args = parse_line("%beam_ml read p 'my  data.csv' --format csv")
    assert (form, args) == ("read", ["p", "my  data.csv", "--format", "csv"])
    step = parse_form('%beam_ml infer p --model "sklearn:a  b.pkl" --device cpu').step
    assert step.model == "sklearn:a  b.pkl"


def test_options_inside_a_cell_body_are_body_text():
    body = "df = df[df.x -v > 1]  # --from other -o x\ndf['s'] = 'two  spaces'\n"
    step = parse_form("%%beam_ml transform t --from p", body).step
    assert step == TransformStep("t", "p", body)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%beam_ml teleport x", "subcommand"),
        ("%beam_ml profil x", "did you mean 'profile'"),
        ("%beam_ml read p 'unclosed", "close the quote"),
        ("%beam_ml read p", "required"),
        ("%beam_ml infer p --model sklearn:m.pkl --device tpu", "invalid choice"),
        ("%beam_ml validate p", "reference or rules"),
        ("%beam_ml read __import__ x.csv", "plain Python identifier"),
        ("%beam_ml", "subcommand"),
    ],
)
def test_when_a_form_is_wrong_then_the_error_is_one_line(line, message):
    with pytest.raises(BeamMLError, match=message) as error:
        parse_form(line)
    assert "\n" not in str(error.value)


def test_steps_from_a_saved_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("%beam_ml read ignored x.csv"),
        nbformat.v4.new_code_cell("%load_ext beam_ml\nimport pandas as pd"),
        nbformat.v4.new_code_cell("%beam_ml read penguins 'data/pen guins.csv' --sample 50"),
        nbformat.v4.new_code_cell("%%beam_ml transform heavy --from penguins\ndf = df[df.x > 1]"),
        nbformat.v4.new_code_cell("x = 1\n%beam_ml profile heavy -o stats\n%beam_ml steps"),
        nbformat.v4.new_code_cell(
            "%beam_ml infer heavy --model sklearn:m.pkl --features a,b --device gpu"
        ),
        nbformat.v4.new_code_cell(
            "%beam_ml compare heavy --model sklearn:a.pkl --model sklearn:b.pkl"
        ),
        nbformat.v4.new_code_cell("%%beam_ml transform heavy --from penguins\ndf = df[df.x > 2]"),
        nbformat.v4.new_code_cell("%beam_ml export pipeline.py"),
    ]
    path = tmp_path / "explore.ipynb"
    nbformat.write(nb, path)
    graph = steps_from_notebook(path)
    assert graph.steps == [
        ReadStep("penguins", "data/pen guins.csv"),
        TransformStep("heavy", "penguins", "df = df[df.x > 2]"),
        ProfileStep("heavy_profile", "heavy"),
        InferStep("heavy_infer", "heavy", "sklearn:m.pkl", features=("a", "b"), device="gpu"),
        CompareStep("heavy_compare", "heavy", ("sklearn:a.pkl", "sklearn:b.pkl")),
    ]


def test_when_a_notebook_cell_is_wrong_then_the_error_names_the_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%beam_ml read p p.csv"),
        nbformat.v4.new_code_cell("%beam_ml profile nowhere"),
    ]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(BeamMLError, match=r"cell 2: .*'nowhere'"):
        steps_from_notebook(path)
    with pytest.raises(BeamMLError, match="readable"):
        steps_from_notebook(tmp_path / "missing.ipynb")
