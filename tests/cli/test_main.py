"""The beam-ml command line: usage errors and the end-to-end demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from beam_ml import cli

BEAM_ML = str(Path(sys.executable).parent / "beam-ml")


def test_without_a_command_it_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_a_stray_argument_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "extra"])
    assert exit_info.value.code == 2
    assert "unexpected argument 'extra'" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_tells_the_whole_story_and_writes_a_report_per_step(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [BEAM_ML, "demo", "--out", str(out)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for chapter in ("1. Quickstart", "2. Flights", "3. Inference", "4. Production"):
        assert chapter in result.stdout
    assert "profiled 336,776 flights" in result.stdout
    assert "ran on cpu" in result.stdout
    assert "parity with the preview: yes" in result.stdout
    reports = {p.name for p in out.glob("*.html")}
    assert {
        "01_penguins_profile.html",
        "01_penguins_validation.html",
        "02_flights_profile.html",
        "02_flights_july_vs_january.html",
        "03_inference_sklearn.html",
        "03_inference_ab.html",
        "04_parity.html",
    } <= reports
    assert (out / "pipeline.py").is_file() and (out / "requirements.txt").is_file()
    assert str(out / "pipeline.py") in result.stdout  # it prints where things are
    invalid = (out / "01_penguins_invalid_rows.jsonl").read_text().splitlines()
    assert len(invalid) == 20  # 10 out-of-range masses + 10 unknown species
