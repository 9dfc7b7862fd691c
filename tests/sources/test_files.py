"""beam_ml.sources.files: what a path names, and the content of compressed files."""

from __future__ import annotations

import gzip

import pytest
from beam_ml import sources
from beam_ml.errors import BeamMLError
from beam_ml.sources import files


def test_when_the_file_is_missing_then_the_error_names_it():
    with pytest.raises(BeamMLError, match=r"nope\.csv.*matches nothing"):
        sources.head("nope.csv", 5)


def test_a_glob_matches_files_sorted_with_their_sizes(tmp_path):
    for name in ("b.csv", "a.csv"):
        (tmp_path / name).write_text("x\n1\n")
    found = files.match(str(tmp_path / "*.csv"))
    assert [p.rsplit("/", 1)[1] for p, _ in found] == ["a.csv", "b.csv"]
    assert [size for _, size in found] == [4, 4]


def test_a_compressed_file_opens_as_its_content(tmp_path):
    path = tmp_path / "a.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"x\n1\n")
    with files.open_binary(str(path)) as handle:
        assert handle.read() == b"x\n1\n"
    assert files.suffix_of(str(path)) == ".csv" and files.is_compressed(str(path))
