"""Transform bodies: pandas-style code that reads and rebinds ``df``, parsed and compiled once.

The notebook preview and the exported module run the same function: the module
writes the body verbatim as ``def transform_<step>(df)`` and this module's
:func:`compile_body` builds the same function in the notebook.

>>> compile_body("df = df.assign(y=df.x + 1)")(pd.DataFrame({"x": [1]}))["y"].tolist()
[2]
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError

# Names a transform body may use without importing them (the exported module
# imports the same two, so a body runs identically in both places).
BODY_GLOBALS = ("pd", "np")


def parse_body(body: Any) -> ast.Module:
    """Parse a transform body; a syntax error or a ``return``/``yield`` is a BeamMLError."""
    if not isinstance(body, str):
        raise BeamMLError.expected("a transform body as text", type(body).__name__)
    try:
        tree = ast.parse(body, filename="<transform body>", mode="exec")
    except SyntaxError as error:
        where = f"line {error.lineno}: " if error.lineno else ""
        raise BeamMLError.expected(
            "a transform body that is valid Python",
            f"{where}{error.msg}",
            "fix the body: pandas-style code that reads and rebinds df",
        ) from None
    for node in _top_scope(tree):
        if isinstance(node, ast.Return | ast.Yield | ast.YieldFrom | ast.Global | ast.Nonlocal):
            raise BeamMLError.expected(
                "a transform body that rebinds df",
                f"a {type(node).__name__.lower()} statement on line {node.lineno}",
                "assign the result to df instead, e.g. df = df[df.x > 0]",
            )
    return tree


def _top_scope(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``tree`` outside nested functions, lambdas and classes."""
    scoped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, scoped):
            stack.extend(ast.iter_child_nodes(node))


def body_function_ast(body: str, name: str = "transform") -> ast.Module:
    """``def NAME(df): <body>; return df`` as an AST (the body's statements unchanged)."""
    tree = parse_body(body)
    fn = ast.FunctionDef(
        name=name,
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg="df")],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        ),
        body=[*tree.body, ast.Return(value=ast.Name(id="df", ctx=ast.Load()))],
        decorator_list=[],
        returns=None,
    )
    module = ast.Module(body=[fn], type_ignores=[])
    return ast.fix_missing_locations(module)


def body_globals() -> dict[str, Any]:
    """The names a transform body sees: builtins, ``pd`` (pandas) and ``np`` (numpy)."""
    import numpy as np

    return {"__builtins__": builtins, "pd": pd, "np": np}


def compile_body(body: str) -> Callable[[Any], Any]:
    """Turn a transform body into a function ``df -> df``.

    The body is pandas-style code that reads and rebinds ``df``; it runs as a
    function body, with ``pd`` and ``np`` available. The notebook preview and
    :meth:`TransformStep.apply` both call the function this returns.

    >>> fn = compile_body("df = df.assign(y=df.x * 2)")
    >>> fn(pd.DataFrame({"x": [1, 2]}))["y"].tolist()
    [2, 4]
    """
    module = body_function_ast(body)
    code = compile(module, "<transform body>", "exec")
    namespace = body_globals()
    exec(code, namespace)  # the user's own code, exactly as the exported module runs it
    fn: Callable[[Any], Any] = namespace["transform"]
    return fn
