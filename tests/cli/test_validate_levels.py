"""beam-ml validate --fail-on: warnings exit 0 by default, 1 with --fail-on warn."""

from __future__ import annotations

import json

import pandas as pd
from beam_ml import cli
from beam_ml.validation import Mean, Range, RuleSet


def test_when_only_a_warning_fails_then_exit_0_unless_fail_on_warn(tmp_path, capsys):
    data = tmp_path / "data.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5}).to_csv(data, index=False)
    rules = RuleSet((Mean("x", min=50.0, level="warn"), Range("x", min=0.0)))
    path = rules.write(tmp_path / "rules.yaml")
    report = tmp_path / "report.json"
    code = cli.main(["validate", str(data), "--rules", str(path), "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASSED with 1 warning" in out and "WARN mean:x: mean 2.5 below the min 50 (warn)" in out
    d = json.loads(report.read_text())
    assert d["passed"] is True and d["warnings"] == 1
    assert [c["level"] for c in d["checks"] if c["id"] == "mean:x"] == ["warn"]
    strict = cli.main(["validate", str(data), "--rules", str(path), "--fail-on", "warn"])
    assert strict == 1, capsys.readouterr().out
