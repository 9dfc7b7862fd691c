"""beam_ml.sources.lines: blank lines found and bytes checked wherever the reads split a file."""

from __future__ import annotations

import numpy as np
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.sources import lines as sources


@pytest.mark.parametrize("scan_bytes", [1, 2, 3, 5, 1 << 20])
def test_blank_lines_are_found_wherever_the_reads_split_the_file(tmp_path, monkeypatch, scan_bytes):
    monkeypatch.setattr(sources, "_BLANK_SCAN_BYTES", scan_bytes)
    rng = np.random.default_rng(scan_bytes)
    for trial in range(200):
        data = bytes(rng.choice(list(b"a\n\r"), size=int(rng.integers(0, 30)), p=[0.5, 0.35, 0.15]))
        path = tmp_path / f"t{trial}.csv"
        path.write_bytes(data)
        lines = data.split(b"\n")[:-1]  # the k-th newline ends line k
        expected = [k + 1 for k, line in enumerate(lines) if line in (b"", b"\r")]
        assert sources._blank_lines(str(path)).tolist() == expected, data


@pytest.mark.parametrize("scan_bytes", [1, 2, 3, 1 << 20])
def test_text_that_decodes_passes_even_when_a_read_splits_a_character(
    tmp_path, monkeypatch, scan_bytes
):
    monkeypatch.setattr(sources, "_BLANK_SCAN_BYTES", scan_bytes)
    path = tmp_path / "utf8.csv"
    path.write_text("name\nJosé\n\nMálaga €\n", encoding="utf-8")
    assert sources._blank_lines(str(path), "utf-8").tolist() == [3]


@pytest.mark.parametrize("scan_bytes", [1, 3, 1 << 20])
def test_bytes_that_do_not_decode_fail_with_their_line_and_an_excerpt(
    tmp_path, monkeypatch, scan_bytes
):
    monkeypatch.setattr(sources, "_BLANK_SCAN_BYTES", scan_bytes)
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"name\nok\nJos\xe9\n")
    with pytest.raises(BeamMLError, match=r"line 3 \(b'Jos\\xe9\\n'\)") as error:
        sources._blank_lines(str(path), "utf-8")
    assert "\xe9" not in str(error.value)


def test_a_truncated_character_at_the_end_of_the_file_is_caught(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes("a\nJosé".encode()[:-1])
    with pytest.raises(BeamMLError, match="line 2"):
        sources._blank_lines(str(path), "utf-8")


def test_line_numbers_skip_blank_and_bad_lines_with_or_without_a_header():
    blank = np.array([4])
    assert sources._csv_lines(0, 3, [3], blank).tolist() == [2, 5, 6]
    assert sources._csv_lines(0, 3, [3], blank, first_line=1).tolist() == [1, 2, 5]
