"""beam-ml validate: exit codes 0 / 1 / 2, rules, JSON, HTML and invalid-row outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml import cli
from beam_ml.profiling.dataset import profile
from beam_ml.validation.rules import RuleSet

BEAM_ML = str(Path(sys.executable).parent / "beam-ml")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_validate")
    df = pd.read_csv(bml.datasets.load("penguins"))
    order = np.random.default_rng(5).permutation(len(df))
    ref = df.iloc[np.sort(order[:172])]
    new = df.iloc[np.sort(order[172:])]
    bad = new.copy()
    bad.loc[bad.index[:4], "body_mass_g"] = -100
    paths = {"folder": folder}
    for name, frame in (("ref", ref), ("new", new), ("bad", bad)):
        paths[name] = str(folder / f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    return paths


def test_when_clean_data_is_checked_against_a_reference_then_exit_0_and_files_are_written(
    data, capsys
):
    out = data["folder"]
    code = cli.main(
        [
            "validate",
            data["new"],
            "--reference",
            data["ref"],
            "--write-rules",
            str(out / "rules.yaml"),
            "--json",
            str(out / "report.json"),
            "--html",
            str(out / "report.html"),
            "--invalid-rows",
            str(out / "invalid.jsonl"),
        ]
    )
    assert code == 0, capsys.readouterr()
    assert "PASSED" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] is True and report["rows"]["total"] == 172
    assert len(RuleSet.read(out / "rules.yaml")) > 10
    assert "<table>" in (out / "report.html").read_text()
    assert (out / "invalid.jsonl").read_text() == ""


def test_when_a_check_fails_then_exit_1_and_invalid_rows_are_json_lines(data, capsys):
    out = data["folder"]
    assert (
        cli.main(
            [
                "validate",
                data["new"],
                "--reference",
                data["ref"],
                "--write-rules",
                str(out / "rules2.yaml"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    invalid = out / "bad.jsonl"
    code = cli.main(
        [
            "validate",
            data["bad"],
            "--rules",
            str(out / "rules2.yaml"),
            "--invalid-rows",
            str(invalid),
        ]
    )
    assert code == 1
    printed = capsys.readouterr().out
    assert "FAIL range:body_mass_g" in printed and "ok  " not in printed
    records = [json.loads(line) for line in invalid.read_text().splitlines()]
    assert len(records) == 4
    assert all(r["_errors"] == ["range:body_mass_g"] and r["body_mass_g"] == -100 for r in records)
    assert [r["_line"] for r in records] == [2, 3, 4, 5]


def test_when_the_reference_is_a_profile_json_then_rules_are_inferred_from_it(data, tmp_path):
    ref_json = tmp_path / "ref-profile.json"
    ref_json.write_text(profile(data["ref"]).to_json())
    assert cli.main(["validate", data["new"], "--reference", str(ref_json)]) == 0


def test_when_neither_rules_nor_reference_are_given_then_exit_2(data, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["validate", data["new"]])
    assert info.value.code == 2
    assert "one of the arguments --reference --rules is required" in capsys.readouterr().err


def test_when_the_rules_file_is_malformed_then_exit_2_with_its_line(data, tmp_path, capsys):
    rules = tmp_path / "bad.yaml"
    rules.write_text("rules:\n- kind: range\n  column: x\n  min: lots\n")
    assert cli.main(["validate", data["new"], "--rules", str(rules)]) == 2
    err = capsys.readouterr().err
    assert f"{rules} line 4: expected a number or null for 'min'" in err
    assert err.count("\n") == 1


def test_when_the_data_is_missing_then_exit_2(data, tmp_path, capsys):
    rules = tmp_path / "r.yaml"
    rules.write_text("rules: [{kind: not_null, column: species}]\n")
    assert cli.main(["validate", str(tmp_path / "nope.csv"), "--rules", str(rules)]) == 2
    assert "an existing file" in capsys.readouterr().err


def test_the_installed_command_returns_1_on_failure(data, tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text("rules: [{kind: range, column: body_mass_g, min: 0}]\n")
    result = subprocess.run(
        [BEAM_ML, "validate", data["bad"], "--rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "FAILED" in result.stdout
