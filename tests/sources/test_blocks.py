"""beam_ml.sources.blocks: inputs over the scan limit sampled by random blocks, bias stated."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from beam_ml import sources

ROWS = 200_000


@pytest.fixture(scope="module")
def sorted_csv(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("blocks") / "sorted.csv"
    pd.DataFrame({"x": np.arange(ROWS), "label": np.where(np.arange(ROWS) % 3, "a", "bb")}).to_csv(
        path, index=False
    )
    return str(path)


def test_a_large_csv_is_sampled_by_byte_ranges_that_span_the_file(sorted_csv):
    frame = sources.sample(sorted_csv, 1000, seed=0, scan_limit=100_000)
    info = frame.attrs["beam_ml_sample"]
    assert info["method"] == "blocks" and info["unit"] == "byte ranges"
    assert info["rows"] == len(frame) == 1000 and info["index"] == "byte offset"
    assert info["population_estimated"] and abs(info["population"] - ROWS) < 0.1 * ROWS
    # 64 uniform offsets miss the lowest (highest) 32% of the bytes with probability
    # 0.68 ** 64 < 1e-10: the sample reaches both ends of a sorted file.
    assert frame.x.min() < 0.32 * ROWS and frame.x.max() > 0.68 * ROWS
    assert "neighbouring lines come together" in sources.describe_sample(frame)


def test_a_byte_range_sample_indexes_each_row_by_the_offset_of_its_line(sorted_csv):
    frame = sources.sample(sorted_csv, 200, seed=1, scan_limit=100_000)
    with open(sorted_csv, "rb") as handle:
        for offset, x in zip(frame.index[:50], frame.x[:50], strict=True):
            handle.seek(offset)
            assert handle.readline().split(b",")[0] == str(x).encode()


def test_the_same_seed_picks_the_same_blocks_and_rows_twice(sorted_csv):
    a = sources.sample(sorted_csv, 500, seed=3, scan_limit=100_000)
    b = sources.sample(sorted_csv, 500, seed=3, scan_limit=100_000)
    c = sources.sample(sorted_csv, 500, seed=4, scan_limit=100_000)
    pd.testing.assert_frame_equal(a, b)
    assert a.index.tolist() != c.index.tolist()


def test_under_the_scan_limit_the_sample_is_uniform_over_every_row(sorted_csv):
    frame = sources.sample(sorted_csv, 100, seed=0)
    assert frame.attrs["beam_ml_sample"]["method"] == "uniform"


def test_a_large_parquet_input_is_sampled_by_row_groups_with_an_exact_population(tmp_path):
    path = tmp_path / "sorted.parquet"
    pd.DataFrame({"x": np.arange(50_000)}).to_parquet(path, row_group_size=1000)
    frame = sources.sample(str(path), 500, seed=0, scan_limit=0)
    info = frame.attrs["beam_ml_sample"]
    assert info["unit"] == "Parquet row groups" and info["of_blocks"] == 50
    assert info["blocks"] >= 8 and info["population"] == 50_000
    assert not info["population_estimated"]
    assert (frame.index == frame.x).all()  # the index is the row number, as in a full read
    described = sources.describe_sample(frame)
    assert described.startswith(f"sample of 500 rows from {info['blocks']} random Parquet")


def test_a_large_json_lines_input_is_sampled_by_line_aligned_ranges(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"x": i, "s": "é" * (i % 5)}) + "\n" for i in range(30_000)))
    frame = sources.sample(str(path), 300, seed=0, scan_limit=0)
    assert frame.attrs["beam_ml_sample"]["unit"] == "byte ranges"
    assert len(frame) == 300 and (frame.s.str.len() == frame.x % 5).all()


def test_bad_lines_in_a_range_are_reported_with_their_offset(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" if i % 7 else f"{i}\n" for i in range(20_000)))
    bad: list = []
    frame = sources.sample(str(path), 200, seed=0, bad_records=bad, scan_limit=0)
    assert len(frame) == 200 and (frame.a % 7 != 0).all()
    assert bad and all("at byte" in r.reason and r.line is None for r in bad)


def test_a_compressed_input_is_always_scanned_whole(tmp_path):
    path = tmp_path / "rows.csv.gz"
    pd.DataFrame({"x": np.arange(5000)}).to_csv(path, index=False)
    frame = sources.sample(str(path), 100, seed=0, scan_limit=0)
    assert frame.attrs["beam_ml_sample"]["method"] == "uniform"
