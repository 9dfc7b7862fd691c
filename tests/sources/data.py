"""Shared helpers of the sources tests: one table in every format, rows compared as sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_all_formats(frame: pd.DataFrame, folder: Path) -> dict[str, str]:
    paths = {
        "csv": str(folder / "data.csv"),
        "parquet": str(folder / "data.parquet"),
        "json": str(folder / "data.jsonl"),
    }
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    frame.to_json(paths["json"], orient="records", lines=True)
    return paths


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    # Readers differ in how an empty string cell is null (None or NaN): compare nulls as None.
    frame = frame.reset_index(drop=True).astype(object)
    frame = frame.where(frame.notna(), None)
    return frame.sort_values(list(frame.columns), key=lambda c: c.astype(str)).reset_index(
        drop=True
    )
