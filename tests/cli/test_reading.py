"""Every command that reads data reads what pandas reads: encodings, delimiters, no header.

Bad files end in one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

BEAM_ML = str(Path(sys.executable).parent / "beam-ml")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BEAM_ML, *args], capture_output=True, text=True, check=False)


def _clean(stderr: str) -> list[str]:
    # Beam's two import-time notices about optional GCP clients are not ours
    noise = ("Failed to import GCSFileSystem", "WARNING:root:apitools")
    return [line for line in stderr.splitlines() if line and not line.startswith(noise)]


def test_a_semicolon_file_is_read_by_columns_and_the_detection_is_said(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b;c\n1;x;2.5\n2;y;3.5\n3;z;4.5\n", encoding="utf-8")
    done = _run("profile", str(path), "--json", str(tmp_path / "p.json"))
    assert done.returncode == 0, done.stderr
    assert "read with delimiter ';' (detected)" in done.stderr
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert list(data["columns"]) == ["a", "b", "c"] and data["rows"] == 3


def test_a_latin1_file_is_refused_with_the_flag_to_pass_and_read_with_it(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nJosé,Zürich\nAnna,Köln\n".encode("latin-1"))
    refused = _run("profile", str(path))
    assert refused.returncode == 2
    assert _clean(refused.stderr) == [_clean(refused.stderr)[0]]  # one line
    assert "--encoding latin-1" in refused.stderr and "Traceback" not in refused.stderr
    done = _run("profile", str(path), "--encoding", "latin-1", "--json", str(tmp_path / "p.json"))
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    top = dict(map(tuple, data["columns"]["city"]["top"]))
    assert set(top) == {"Zürich", "Köln"}


def test_no_header_names_the_columns_as_pandas_does(tmp_path: Path) -> None:
    path = tmp_path / "bare.csv"
    path.write_text("1,2\n3,4\n5,6\n", encoding="utf-8")
    done = _run("profile", str(path), "--no-header", "--json", str(tmp_path / "p.json"))
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert data["rows"] == 3
    assert list(data["columns"]) == [str(c) for c in pd.read_csv(path, header=None).columns]


@pytest.mark.parametrize("command", ["profile", "validate"])
def test_a_binary_file_is_one_line_with_no_raw_bytes_and_no_traceback(
    tmp_path: Path, command: str
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(Path(sys.executable).read_bytes()[:4096])
    args = [command, str(path)] + (["--reference", str(path)] if command == "validate" else [])
    done = _run(*args)
    lines = _clean(done.stderr)
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "binary" in lines[0] and lines[0].isascii() and "\x00" not in lines[0]
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_read_options_are_part_of_the_read_step_and_its_exported_module(tmp_path: Path) -> None:
    from beam_ml.exporting import check
    from beam_ml.steps import ProfileStep, ReadStep, StepGraph

    path = tmp_path / "semi.csv"
    frame = pd.DataFrame({"a": range(50), "b": [f"é{i}" for i in range(50)]})
    frame.to_csv(path, sep=";", index=False, encoding="latin-1")
    read = ReadStep("t", str(path), encoding="latin-1", delimiter=";")
    report = check(StepGraph([read, ProfileStep("t_profile", "t")]), sample=20)
    assert report.passed, str(report)
