"""The layout's promises, read from the source: import direction, no cycles, no kind switches."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "toolkit" / "beam_ml"
ENGINE = ("sources", "profiling", "validation", "inference", "steps", "exporting", "streaming")
NOTEBOOK_ONLY = ("IPython", "ipywidgets", "matplotlib", "traitlets")
STEP_KINDS = ("read", "transform", "profile", "validate", "infer", "compare", "cascade")
STEP_CLASSES = tuple(f"{k.capitalize()}Step" for k in STEP_KINDS)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in ROOT.rglob("*.py")}


def _imports(tree: ast.AST, top_level_only: bool) -> list[tuple[str, int]]:
    """(imported module, line) of each import; top level = not inside a function."""
    found = []
    nodes = ast.iter_child_nodes(tree) if top_level_only else ast.walk(tree)
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import submodule` depends on the submodule; the caller
            # decides (see _module_level_edges) which names are modules
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{a.name}", node.lineno) for a in node.names]
        elif top_level_only and isinstance(node, ast.If) and _type_checking(node):
            continue  # imports only a type checker runs
        elif top_level_only and isinstance(node, ast.If | ast.Try | ast.With):
            stack.extend(ast.iter_child_nodes(node))  # still module level
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_engine(module: str) -> bool:
    return any(module == f"beam_ml.{p}" or module.startswith(f"beam_ml.{p}.") for p in ENGINE)


def test_engine_packages_never_import_the_notebook_layer_or_the_cli():
    bad = []
    for module, tree in _modules().items():
        if not _is_engine(module):
            continue
        for name, line in _imports(tree, top_level_only=False):
            if name.startswith(("beam_ml.notebook", "beam_ml.cli")):
                bad.append(f"{module}:{line} imports {name}")
    assert bad == []


def test_engine_packages_import_no_notebook_library_at_import_time():
    bad = []
    for module, tree in _modules().items():
        if not _is_engine(module):
            continue
        for name, line in _imports(tree, top_level_only=True):
            if name.split(".")[0] in NOTEBOOK_ONLY:
                bad.append(f"{module}:{line} imports {name}")
    assert bad == []


def test_module_level_imports_inside_beam_ml_have_no_cycle():
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, tree in modules.items():
        for node in ast.iter_child_nodes(tree):
            if isinstance(node, ast.ImportFrom) and node.module in modules and not node.level:
                # `from beam_ml.x import y`: beam_ml.x.y if that is a module, else beam_ml.x
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges[module].add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                edges[module].update(a.name for a in node.names if a.name in modules)
        edges[module].discard(module)
    # a package's __init__ importing its own submodules is how packages work; a
    # submodule importing its own package's __init__ back is the cycle to refuse
    seen: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(edges[node]):
            if seen.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for start in sorted(modules):
        if start not in seen:
            visit(start, [start])
    assert cycles == []


def _kind_switches(tree: ast.AST) -> list[int]:
    """Lines comparing something's ``kind`` with a step kind, or isinstance on step classes."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            names = [node.left, *node.comparators]
            kinds = [n for n in names if isinstance(n, ast.Constant) and n.value in STEP_KINDS]
            kinds += [
                e
                for n in names
                if isinstance(n, ast.Tuple | ast.List | ast.Set)
                for e in n.elts
                if isinstance(e, ast.Constant) and e.value in STEP_KINDS
            ]
            about_kind = any(
                (isinstance(n, ast.Attribute) and n.attr in ("kind", "form"))
                or (isinstance(n, ast.Name) and n.id in ("kind", "form"))
                for n in names
            )
            if kinds and about_kind:
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and any(
                isinstance(n, ast.Name) and n.id in STEP_CLASSES for n in ast.walk(node.args[1])
            )
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_step_kinds_switches_on_a_step_kind():
    found = []
    for module, tree in _modules().items():
        for line in _kind_switches(tree):
            found.append(f"{module}:{line}")
    assert found == []


@pytest.mark.parametrize("limit", [500])
def test_no_module_is_far_over_400_lines_without_saying_why(limit):
    long = []
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > limit and "longer than" not in (
            ast.get_docstring(ast.parse(text)) or ""
        ):
            long.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert long == []


def test_every_transform_is_a_plain_ptransform_class():
    """No CapWords function returning a PTransform built in a closure."""
    bad = []
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name[:1].isupper():
                inner = [n for n in ast.walk(node) if isinstance(n, ast.ClassDef)]
                if inner:
                    bad.append(f"{module}.{node.name}")
    assert bad == []


def test_no_html_is_assembled_in_python_strings():
    """Views come from the autoescaped templates in widgets/, never from f-strings."""
    import re

    tag = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*[\s>/]")
    found = []
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value
                    for v in node.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                )
                if tag.search(text):
                    found.append(f"{module}:{node.lineno}")
    assert found == []
