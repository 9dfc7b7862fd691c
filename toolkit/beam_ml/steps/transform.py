"""The transform step: pandas-style code, run with Beam DataFrame semantics.

In the module the body runs through Beam's DataFrame API (``to_dataframe`` →
body → ``to_pcollection``). In the notebook the SAME deferred body is evaluated
on the pandas sample by Beam's expression ``Session`` — no runner, pandas speed —
so an operation a pipeline refuses (``sort_values``) fails in the preview too.

>>> TransformStep("heavy", "penguins", "df = df[df.body_mass_g > 4000]").inputs()
('penguins',)
"""

from __future__ import annotations

import argparse
import ast
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from beam_ml.errors import BeamMLError, one_line
from beam_ml.steps.base import (
    PreviewContext,
    Step,
    StepPreview,
    attach,
    batches_of,
    check_step_name,
    proxy_of,
)
from beam_ml.steps.body import BODY_GLOBALS, body_function_ast, compile_body, parse_body


@dataclass(frozen=True)
class TransformStep(Step):
    """Run a pandas-style ``body`` (it reads and rebinds ``df``) with Beam DataFrame semantics.

    >>> TransformStep("heavy", "penguins", "df = df[df.body_mass_g > 4000]").inputs()
    ('penguins',)
    """

    input: str = ""
    body: str = ""
    binds_name: ClassVar[bool] = True
    takes_body: ClassVar[bool] = True
    previews_with_beam: ClassVar[bool] = False
    kind: ClassVar[str] = "transform"
    position: ClassVar[int] = 1
    files: ClassVar[tuple[str, ...]] = ("rows-*.jsonl",)
    view: ClassVar[str] = "beam_ml.notebook.widgets:FramePreview"
    usage: ClassVar[str] = (
        "%%beam_ml transform NAME --from INPUT  (then the body, reading and rebinding df)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        parse_body(self.body)

    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def function(self) -> Callable[[Any], Any]:
        """The body as a function ``df -> df`` (or the function given to :meth:`using`)."""
        given = self.__dict__.get("_function")
        return given if given is not None else compile_body(self.body)

    def using(self, function: Callable[[Any], Any]) -> TransformStep:
        """This step, applying ``function`` (``df -> df``) instead of compiling ``body``.

        An exported module defines each body verbatim as ``def transform_NAME(df)``
        and applies it with ``TransformStep(name=..., input=...).using(transform_NAME)``.
        """
        if not callable(function):
            raise BeamMLError.expected("a function df -> df", type(function).__name__)
        step = TransformStep(name=self.name, input=self.input, body=self.body)
        object.__setattr__(step, "_function", function)
        return step

    # ------------------------------------------------------------------ graph
    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from apache_beam.dataframe.convert import to_dataframe, to_pcollection

        batches = batches_of(inputs[self.input])
        proxy = proxy_of(batches)
        if proxy is None:
            raise BeamMLError.expected(
                f"an input whose columns are known for transform {self.name!r}",
                f"step {self.input!r}",
                "transform the output of a read, transform or validate step",
            )
        deferred = to_dataframe(batches, proxy=proxy, label="ToDataFrame")
        result = self._run_body(deferred)
        out = to_pcollection(result, yield_elements="pandas", label="ToBatches")
        return attach(out, proxy=result._expr.proxy().iloc[:0])

    def outputs(self, result: Any) -> dict[str, Any]:
        return {"rows": result}

    def _run_body(self, deferred: Any) -> Any:
        from apache_beam.dataframe.frame_base import DeferredFrame, WontImplementError

        try:
            result = self.function()(deferred)
        except WontImplementError as error:
            raise _wont_implement(self.name, str(error)) from None
        if not isinstance(result, DeferredFrame) or not hasattr(result, "columns"):
            raise BeamMLError.expected(
                f"the body of step {self.name!r} to leave a DataFrame in df",
                type(result).__name__,
                "end with df = <a DataFrame>",
            )
        return result

    # ------------------------------------------------------------------ preview
    def run_on(self, sample: pd.DataFrame) -> pd.DataFrame:
        """Run the body on a pandas sample with Beam DataFrame semantics (no runner).

        An operation a pipeline cannot run (``sort_values``...) fails here too.
        """
        import apache_beam.dataframe.frames  # noqa: F401  (registers the deferred types)
        from apache_beam.dataframe import expressions, frame_base

        placeholder = expressions.PlaceholderExpression(sample.iloc[:0])
        result = self._run_body(frame_base.DeferredFrame.wrap(placeholder))
        out: pd.DataFrame = expressions.Session({placeholder: sample}).evaluate(result._expr)
        return out

    def preview(self, inputs: dict[str, StepPreview], context: PreviewContext) -> StepPreview:
        frame = inputs[self.input].rows
        if frame is None:
            raise BeamMLError.expected(
                f"a table as the input of transform {self.name!r}",
                f"a {type(inputs[self.input].result).__name__} from step {self.input!r}",
                "transform a read, transform or validate step",
            )
        try:
            out = self.run_on(frame)
        except Exception as error:
            raise _body_error(self.name, error) from None
        return StepPreview(out, rows=out)

    def parity(self, folder: Path, preview: StepPreview) -> tuple[bool, str]:
        from beam_ml.steps.parity import compare_rows, read_lines

        return compare_rows(read_lines(folder, "rows"), preview.rows)

    # ------------------------------------------------------------------ export
    def module_source(self) -> tuple[str, str]:
        """``def transform_<name>(df):`` + the body verbatim + ``return df``.

        The body is indented as text when that keeps its meaning exactly (checked on
        the AST: multi-line strings or tabs could change); otherwise it is written
        back from its AST. Either way the body cannot leave its function.
        """
        name = f"transform_{self.name}"
        wanted = ast.dump(body_function_ast(self.body, name))
        text = f"def {name}(df):\n"
        body = self.body.strip("\n")
        if body.strip():
            text += textwrap.indent(body, "    ", lambda line: True) + "\n"
        text += "    return df\n"
        try:
            if ast.dump(ast.parse(text)) != wanted:
                text = ast.unparse(body_function_ast(self.body, name)) + "\n"
        except SyntaxError:
            text = ast.unparse(body_function_ast(self.body, name)) + "\n"
        return text, f".using({name})"

    def module_args(self, option: Any) -> dict[str, str | None]:
        # the body is the function module_source writes, not an argument
        return {"body": None}

    def body_globals_used(self) -> set[str]:
        """Which of ``pd`` / ``np`` the body uses (the module imports those)."""
        return {
            node.id
            for node in ast.walk(parse_body(self.body))
            if isinstance(node, ast.Name) and node.id in BODY_GLOBALS
        }

    # ------------------------------------------------------------------ form
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--from", dest="input", required=True)

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        if body is None:
            raise BeamMLError.expected("a cell body for transform", "a line magic", cls.usage)
        return cls(name=options.name, input=options.input, body=body), None


def _wont_implement(name: str, message: str) -> BeamMLError:
    return BeamMLError.expected(
        f"a transform Beam can run in a pipeline (step {name!r})",
        one_line(message.split("\n", 1)[0], 200),
        "use an order-independent operation (no sort_values, head, iloc...)",
    )


def _body_error(name: str, error: BaseException) -> BeamMLError:
    if isinstance(error, BeamMLError):
        return BeamMLError(one_line(str(error)))
    if isinstance(error, NotImplementedError):  # Beam's WontImplementError / NotImplementedError
        return _wont_implement(name, str(error))
    message = one_line(str(error).split("\n", 1)[0], 200)
    return BeamMLError(one_line(f"transform {name!r} failed: {type(error).__name__}: {message}"))
