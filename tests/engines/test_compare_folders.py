"""The folder comparison the engine tests use finds each kind of difference (no runner here).

Two real DirectRunner outputs are made once (a profile, a validation with quarantined
rows, rows); then one thing is changed at a time in a copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import harness
import pytest


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import beam_ml as bml
    import numpy as np
    import pandas as pd

    root = tmp_path_factory.mktemp("compare")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=3000), "k": rng.integers(0, 50, 3000)})
    frame.to_csv(root / "data.csv", index=False)
    profile = bml.profile(str(root / "data.csv"))
    out = root / "ref"
    (out / "stats").mkdir(parents=True)
    (out / "stats" / "profile.json").write_text(profile.to_json(), encoding="utf-8")
    (out / "check").mkdir()
    report = {"passed": False, "rows": {"total": 3, "valid": 2, "invalid": 1},
              "checks": [{"id": "schema", "passed": True, "observed": 0},
                         {"id": "range:x", "passed": False, "observed": 1}]}  # fmt: skip
    (out / "check" / "report.json").write_text(json.dumps(report), encoding="utf-8")
    rows = ['{"x": 0.1, "k": 1}', '{"x": 0.2, "k": 2}', '{"x": 0.1, "k": 1}']
    (out / "check" / "rows-00000-of-00001.jsonl").write_text("\n".join(rows) + "\n")
    (out / "check" / "invalid-00000-of-00001.jsonl").write_text(
        '{"x": 9.0, "k": 3, "_errors": ["range:x"], "_line": 4}\n'
    )
    return out


def _copy(reference: Path, tmp_path: Path) -> Path:
    shutil.copytree(reference, tmp_path / "got")
    return tmp_path / "got"


def test_when_outputs_are_the_same_in_another_order_and_sharding_then_ok(reference, tmp_path):
    got = _copy(reference, tmp_path)
    rows = got / "check" / "rows-00000-of-00001.jsonl"
    lines = rows.read_text().splitlines()
    rows.unlink()
    (got / "check" / "rows-00000-of-00002.jsonl").write_text(lines[2] + "\n" + lines[1] + "\n")
    (got / "check" / "rows-00001-of-00002.jsonl").write_text(lines[0] + "\n")
    assert harness.summary(harness.compare_folders(reference, got)) == "ok"


def test_when_a_repeated_row_is_lost_then_the_multiset_differs(reference, tmp_path):
    got = _copy(reference, tmp_path)
    rows = got / "check" / "rows-00000-of-00001.jsonl"
    rows.write_text("\n".join(rows.read_text().splitlines()[:2]) + "\n")
    found = harness.compare_folders(reference, got)["check"]
    assert found and "rows: 2 rows vs 3" in found[0]


def test_when_a_quarantined_row_or_an_output_folder_is_missing_then_it_is_reported(
    reference, tmp_path
):
    got = _copy(reference, tmp_path)
    (got / "check" / "invalid-00000-of-00001.jsonl").unlink()
    shutil.rmtree(got / "stats")
    found = harness.compare_folders(reference, got)
    assert found["stats"] == ["no output folder"]
    assert any(p.startswith("invalid: 0 rows vs 1") for p in found["check"])


def test_when_a_verdict_or_count_differs_then_the_report_differs(reference, tmp_path):
    got = _copy(reference, tmp_path)
    report = json.loads((got / "check" / "report.json").read_text())
    report["checks"][1]["passed"] = True
    report["rows"]["valid"] = 3
    (got / "check" / "report.json").write_text(json.dumps(report))
    found = " ".join(harness.compare_folders(reference, got)["check"])
    assert "verdicts differ: range:x: True vs False" in found and "rows" in found


def test_profiles_compare_counts_exactly_moments_closely_and_quantiles_by_rank(reference, tmp_path):
    got = _copy(reference, tmp_path)
    path = got / "stats" / "profile.json"
    profile = json.loads(path.read_text())
    x = profile["columns"]["x"]
    x["mean"] *= 1 + 1e-12  # within 1e-9: the order of a merge
    assert harness.compare_profiles(json.loads((reference / "stats" / "profile.json").read_text()),
                                    profile) == []  # fmt: skip
    x["nulls"] += 1
    x["std"] *= 1 + 1e-6
    x["quantiles"]["0.5"] = x["quantiles"]["0.99"]
    path.write_text(json.dumps(profile))
    found = " ".join(harness.compare_folders(reference, got)["stats"])
    assert "x.nulls" in found and "x.std" in found and "x quantile 0.5" in found
