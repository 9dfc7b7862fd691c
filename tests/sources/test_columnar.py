"""beam_ml.sources.columnar: Parquet and JSON Lines files, and their bad inputs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from beam_ml import sources
from beam_ml.errors import BeamMLError


def test_when_a_csv_is_called_parquet_then_the_error_names_the_file(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(BeamMLError, match=r"a Parquet file at .*fake\.parquet"):
        sources.head(str(path), 5)


def test_when_a_json_line_is_malformed_then_the_error_names_the_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    rows = [json.dumps({"a": i}) for i in range(3)] + ["{not json", json.dumps({"a": 9})]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(BeamMLError, match=r"broken\.jsonl.*line 4"):
        list(sources.iter_batches(str(path)))


def test_json_lines_index_is_the_line_number_and_the_encoding_is_honoured(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"city": "Málaga"}\n{"city": "Genève"}\n'.encode("latin-1"))
    with pytest.raises(BeamMLError, match=r"line 1 .*encoding='latin-1'"):
        sources.head(str(path), 5)
    frame = sources.head(sources.Source(str(path), encoding="latin-1"), 5)
    assert frame.city.tolist() == ["Málaga", "Genève"] and frame.index.tolist() == [1, 2]


def test_parquet_index_is_the_row_number_across_batches(tmp_path):
    path = tmp_path / "rows.parquet"
    pd.DataFrame({"a": range(25)}).to_parquet(path)
    batches = list(sources.iter_batches(sources.Source(str(path), batch_rows=10)))
    assert [b.index.tolist()[0] for b in batches] == [0, 10, 20]
