"""Fixtures of the browser test: one JupyterLab server and one headless Chromium per run.

Both always stop at the end, on failure too. The browser comes from Debian
(``tests/browser/setup.sh``); without it the test skips on a developer machine
and fails when ``CI=true``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_lab import JupyterLab, LabPage, chromium, require_browser

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
NOTEBOOKS = HERE.parents[1] / "notebooks"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_available() -> None:
    require_browser()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and the JupyterLab log of this run (gitignored); cleared at the start."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder JupyterLab serves: a copy of the tutorial notebooks (tests add their own)."""
    root = tmp_path_factory.mktemp("lab-root")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        shutil.copy2(path, root / path.name)
    return root


@pytest.fixture(scope="session")
def lab(
    browser_available: None,
    lab_root: Path,
    artifacts: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JupyterLab]:
    server = JupyterLab(lab_root, tmp_path_factory.mktemp("lab-home"), artifacts / "jupyterlab.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def page(
    lab: JupyterLab, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabPage]:
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield LabPage(driver, lab, artifacts)
    finally:
        try:
            driver.quit()
        finally:
            process = driver.service.process
            if process is not None and process.poll() is None:
                process.kill()
