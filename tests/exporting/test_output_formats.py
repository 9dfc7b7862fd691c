"""Row outputs as Parquet: the column types of the data, the same rows as JSON Lines.

A generated table (integers, floats, strings and datetimes, nulls in all but the
integers) is read from Parquet and transformed by an exported module, which runs
twice for real: on DirectRunner writing JSON Lines, on Prism writing Parquet. The
Parquet rows, read back with pandas, keep their types, equal the JSON Lines rows and
equal pandas' own transform of the table; the parity check compares Parquet output.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from beam_ml.exporting import check, export
from beam_ml.steps import ProfileStep, ReadStep, StepGraph, TransformStep
from beam_ml.steps.outputs import frame_lines
from beam_ml.steps.parity import canonical

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines"))
import harness

pytestmark = pytest.mark.slow
BODY = "df['double'] = df.number * 2\ndf['label'] = df.word + '!'"


def _table(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "count": rng.integers(-5, 1_000_000, n),
            "number": rng.normal(10, 3, n),
            "word": rng.choice(["alpha", "beta", "délta", '"quoted"'], n).astype(object),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), "s"),
        }
    )
    frame.loc[frame.index % 7 == 1, "number"] = np.nan
    frame.loc[frame.index % 5 == 2, "word"] = None
    frame.loc[frame.index % 9 == 3, "when"] = pd.NaT
    return frame


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("formats")
    table = _table()
    table.to_parquet(folder / "table.parquet", index=False)
    graph = StepGraph(
        [
            ReadStep("table", "table.parquet"),
            TransformStep("shaped", "table", BODY),
            ProfileStep("shaped_profile", "shaped"),
        ]
    )
    module = folder / "pipeline.py"
    with contextlib.chdir(folder):  # exported from the data's folder, as a notebook there would
        export(graph, module)
    return module, table


def _run(module: Path, output: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, str(module), "--output", str(output), *args],
        cwd=module.parent.parent,  # another folder: the module finds its input by itself
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, harness.last_error(done.stderr) + done.stderr[-2000:]


def _multiset(lines: list[str]) -> Counter:
    return Counter(canonical(json.loads(line)) for line in lines)


def test_parquet_rows_on_prism_keep_the_data_types_and_equal_the_json_lines_rows(
    exported: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    prism = harness.engine("prism")
    if prism.path is None:
        pytest.skip(f"prism is not installed: {prism.missing}")
    module, table = exported
    _run(module, tmp_path / "jsonl")
    _run(
        module,
        tmp_path / "parquet",
        "--output_format=parquet",
        "--runner=PrismRunner",
        f"--prism_location={prism.path}",
    )
    shards = sorted((tmp_path / "parquet" / "shaped").glob("rows-*.parquet"))
    assert shards and not list((tmp_path / "parquet" / "shaped").glob("*.jsonl"))
    got = pd.concat([pd.read_parquet(f) for f in shards], ignore_index=True)

    assert got["count"].dtype == np.int64  # not widened to float64 like the proxy
    assert got["number"].dtype == np.float64 and got["double"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(got["when"])
    assert got["word"].map(type).isin([str, type(None)]).all()
    assert got["number"].isna().sum() == table["number"].isna().sum()
    assert got["word"].isna().sum() == table["word"].isna().sum()
    assert got["when"].isna().sum() == table["when"].isna().sum()

    jsonl = [
        line
        for file in sorted((tmp_path / "jsonl" / "shaped").glob("rows-*.jsonl"))
        for line in file.read_text(encoding="utf-8").splitlines()
        if line
    ]
    assert _multiset(frame_lines(got)) == _multiset(jsonl)

    want = table.assign(double=table.number * 2, label=table.word + "!")
    want["label"] = want["label"].astype(object).where(want["label"].notna(), None)
    order = ["count", "number", "word"]
    got_sorted = got[list(want.columns)].sort_values(order, ignore_index=True)
    want_sorted = want.sort_values(order, ignore_index=True)
    # the types were checked above; a datetime's unit (ns or us) may differ, not its instant
    pd.testing.assert_frame_equal(got_sorted, want_sorted, check_dtype=False)
    profile = json.loads((tmp_path / "parquet" / "shaped_profile" / "profile.json").read_text())
    assert profile["rows"] == len(table)  # profiles stay JSON in either format


def test_parity_check_compares_the_parquet_output_of_the_module(
    exported: tuple[Path, pd.DataFrame],
) -> None:
    module, _ = exported
    graph = StepGraph(
        [
            ReadStep("table", str(module.parent / "table.parquet")),
            TransformStep("shaped", "table", BODY),
        ]
    )
    report = check(graph, sample=200, output_format="parquet")
    assert report.passed, str(report)
    assert "same 200 rows" in next(s.detail for s in report.steps if s.step == "shaped")


def test_an_unknown_output_format_is_refused_in_one_line(tmp_path: Path) -> None:
    from beam_ml.errors import BeamMLError

    graph = StepGraph([ReadStep("t", "t.csv")])
    with pytest.raises(BeamMLError, match="output format among jsonl, parquet"):
        export(graph, tmp_path / "pipeline.py", output_format="csv")
