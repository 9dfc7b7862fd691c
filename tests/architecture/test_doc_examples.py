"""Every example in a docstring of ``beam_ml`` runs as written (doctest), so the docs stay true.

Examples that need a kernel, a cluster or a file are marked ``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import beam_ml
import pytest

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(beam_ml.__path__, "beam_ml.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_in_each_module_run_as_written(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    for test in finder.find(module, name, globs=dict(vars(module))):
        outcome = runner.run(test, out=failures.append)
        assert outcome.failed == 0, f"{test.name}:\n{''.join(failures)[-3000:]}"
