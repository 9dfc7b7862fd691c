"""Packaging promises: one dependency list, a wheel with the widget assets, a light import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pyproject_requirements() -> set[str]:
    """What `pip install -e .[all,dev]` (the Makefile's install) asks for."""
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    (everything,) = extras["all"]
    names = [*everything.split("[", 1)[1].rstrip("]").split(","), "dev"]
    found = set(project["dependencies"])
    for name in names:
        found |= set(extras[name])
    return found


def _environment_requirements() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {r for r in pip if not r.startswith("-e")}


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    assert _environment_requirements() == _pyproject_requirements()


def test_the_engine_needs_neither_jupyter_widgets_nor_matplotlib():
    engine = " ".join(_pyproject()["project"]["dependencies"]).lower()
    for notebook_only in ("jupyterlab", "ipywidgets", "matplotlib", "ipython", "torch"):
        assert notebook_only not in engine


def test_importing_beam_ml_stays_light():
    code = (
        "import sys, json, beam_ml; beam_ml.datasets; beam_ml.errors;"
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    modules = set(json.loads(out))
    heavy = {"torch", "IPython", "ipywidgets", "matplotlib", "apache_beam", "sklearn"}
    assert not heavy & {m.split(".")[0] for m in modules}


@pytest.mark.slow
def test_the_wheel_installs_beam_ml_with_its_widget_assets_and_console_script(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("beam_ml_toolkit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    shipped_assets = {n.split("/")[-1] for n in names if n.startswith("beam_ml/assets/")}
    widget_files = {p.name for p in (ROOT / "widgets").iterdir() if p.suffix in {".css", ".js"}}
    assert widget_files and widget_files <= shipped_assets
    assert "beam_ml/__init__.py" in names and "beam_ml/sources/source.py" in names
    assert "beam-ml = beam_ml.cli:main" in scripts

    # A plain (non-editable) install into a fresh target folder imports and finds its assets.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import importlib.resources as r, beam_ml;"
        "print(beam_ml.__file__);"
        "print(sorted(p.name for p in r.files('beam_ml.assets').iterdir()))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert str(target) in out.splitlines()[0]
    assert "base.css" in out


def test_every_subpackage_of_beam_ml_ships_in_the_wheel():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        "beam_ml"
        + "".join(
            f".{part}" for part in init.parent.relative_to(ROOT / "toolkit" / "beam_ml").parts
        )
        for init in (ROOT / "toolkit" / "beam_ml").rglob("__init__.py")
    }
    assert found - listed == set()
