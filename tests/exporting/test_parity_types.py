"""Parity over every column type: the check compares, never crashes, and finds equality.

A generated table holds floats, integers, booleans, strings, categories, naive
and tz-aware datetimes, lists and nulls in every column; it goes through read,
transform, profile and validate, and ``check`` runs the exported module on the
sample and compares each step with its preview.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from beam_ml.exporting import check, export
from beam_ml.steps import ProfileStep, ReadStep, StepGraph, TransformStep, ValidateStep


def _every_type(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "number": rng.normal(10, 3, n),
            "count": rng.integers(0, 50, n),
            "flag": rng.random(n) > 0.5,
            "word": rng.choice(["alpha", "beta", "<b>gamma</b>", "délta"], n),
            "level": pd.Categorical(rng.choice(["low", "mid", "high"], n)),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "when_utc": pd.Timestamp("2024-06-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "tags": [list(rng.choice(["x", "y", "z"], rng.integers(0, 3))) for _ in range(n)],
        }
    )
    for i, column in enumerate(frame.columns):  # nulls everywhere, in a different place each
        frame[column] = frame[column].astype(object).where(np.arange(n) % 11 != i, None)
        if column in ("number", "count"):
            frame[column] = pd.to_numeric(frame[column])
    frame["when"] = pd.to_datetime(frame["when"])
    frame["when_utc"] = pd.to_datetime(frame["when_utc"], utc=True)
    frame["flag"] = frame["flag"].astype("boolean")
    frame["level"] = frame["level"].astype("category")
    return frame


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> StepGraph:
    folder = tmp_path_factory.mktemp("types")
    path = folder / "every_type.parquet"
    _every_type().to_parquet(path, index=False)
    return StepGraph(
        [
            ReadStep("table", str(path)),
            TransformStep("shifted", "table", "df['double'] = df.number * 2"),
            ProfileStep("shifted_profile", "shifted"),
            ValidateStep("shifted_validate", "shifted", reference="shifted_profile"),
        ]
    )


@pytest.mark.slow
def test_check_compares_every_column_type_on_a_generated_table(graph: StepGraph) -> None:
    report = check(graph, sample=300)
    assert report.passed, str(report)
    assert [s.kind for s in report.steps] == ["read", "transform", "profile", "validate"]


def test_the_module_documents_its_options_with_the_notebook_defaults(
    graph: StepGraph, tmp_path: Path
) -> None:
    export(graph, tmp_path / "pipeline.py")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "pipeline.py"), "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "--table_path" in done.stdout and "every_type.parquet" in done.stdout
    assert "--output" in done.stdout and "(default: output)" in done.stdout
