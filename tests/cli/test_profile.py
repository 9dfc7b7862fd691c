"""beam-ml profile: summary, --json, --html, --sample, Beam options passed through."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import beam_ml as bml
import pandas as pd
from beam_ml import cli
from beam_ml.profiling.dataset import Profile, _Progress

BEAM_ML = str(Path(sys.executable).parent / "beam-ml")


def test_when_profiling_a_csv_then_summary_json_and_html_are_written(tmp_path, capsys):
    path = bml.datasets.load("penguins")
    out_json, out_html = tmp_path / "p.json", tmp_path / "p.html"
    code = cli.main(["profile", path, "--json", str(out_json), "--html", str(out_html)])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("Profile: 344 rows × 8 columns") and "profiled 344 rows" in printed
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["rows"] == 344 and data["columns"]["species"]["type"] == "categorical"
    assert set(data["columns"]["body_mass_g"]["quantiles"]) >= {"0.01", "0.5", "0.99"}
    assert Profile.from_json(out_json.read_text(encoding="utf-8")).rows == 344
    page = out_html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 8


def test_when_sample_and_beam_options_are_given_then_they_are_used(tmp_path, capsys):
    path = bml.datasets.load("penguins")
    out_json = tmp_path / "p.json"
    code = cli.main(
        ["profile", path, "--sample", "50", "--json", str(out_json), "--runner=DirectRunner"]
    )
    assert code == 0, capsys.readouterr()
    assert json.loads(out_json.read_text())["rows"] == 50


def test_when_the_path_is_missing_then_exit_2_with_one_line(tmp_path, capsys):
    code = cli.main(["profile", str(tmp_path / "nope.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("beam-ml profile: error: ") and err.count("\n") == 1


def test_when_sample_is_not_positive_then_exit_2(capsys):
    code = cli.main(["profile", bml.datasets.load("penguins"), "--sample", "0"])
    assert code == 2 and "sample" in capsys.readouterr().err


def test_progress_shows_rows_read_and_time_elapsed():
    stream = io.StringIO()
    progress = _Progress(stream=stream, every=0.0)
    batch = pd.DataFrame({"a": range(1000)})
    for _ in range(3):
        assert next(iter(progress.process(batch))) is batch
    text = stream.getvalue()
    assert "3,000 rows read" in text and text.rstrip().endswith("s")


def test_the_installed_command_profiles_a_parquet_file(tmp_path):
    path = tmp_path / "data.parquet"
    pd.DataFrame({"x": [1.5, 2.5, None], "s": ["a", "b", "a"]}).to_parquet(path)
    done = subprocess.run(
        [BEAM_ML, "profile", str(path), "--quiet", "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "o.json").read_text())
    assert data["columns"]["x"]["nulls"] == 1 and data["columns"]["s"]["top"][0] == ["a", 2]


def test_the_help_s_two_worker_threads_profile_a_glob_of_files(tmp_path, capsys):
    """The flags `beam-ml profile --help` suggests, on penguins split in two CSVs."""
    df = pd.read_csv(bml.datasets.load("penguins"))
    df.iloc[:200].to_csv(tmp_path / "part-0.csv", index=False)
    df.iloc[200:].to_csv(tmp_path / "part-1.csv", index=False)
    out_json = tmp_path / "p.json"
    flags = ["--direct_running_mode=multi_threading", "--direct_num_workers=2"]
    code = cli.main(["profile", str(tmp_path / "part-*.csv"), "--json", str(out_json), *flags])
    assert code == 0, capsys.readouterr()
    data = json.loads(out_json.read_text())
    assert data["rows"] == 344
    assert data["columns"]["body_mass_g"]["nulls"] == int(df["body_mass_g"].isna().sum())
    assert (
        dict(map(tuple, data["columns"]["species"]["top"]))
        == df["species"].value_counts().to_dict()
    )
