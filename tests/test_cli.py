"""The beam-ml command line: usage errors and the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from beam_ml import cli

BEAM_ML = str(Path(sys.executable).parent / "beam-ml")


def test_without_a_command_it_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_demo_reads_every_bundled_dataset(tmp_path):
    result = subprocess.run(
        [BEAM_ML, "demo", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "336,776 rows x 19 columns" in result.stdout
    assert "344 rows x 8 columns" in result.stdout
