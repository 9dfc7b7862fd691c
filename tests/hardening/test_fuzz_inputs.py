"""Fuzzing the readers, bml.profile, bml.validate and the CLI with dirty CSV and JSON Lines bytes.

Every input ends in a result whose row counts add up (rows + bad records = the
records in the file) or in one BeamMLError line with no raw bytes and no
traceback (issue #18, item 3). Most examples go through the in-process readers
(each costs milliseconds); fewer through the Beam pipelines (each costs about a
second); the CLI gets a handful of fixed files. ``benchmarks/fuzz_bench.py``
runs many more examples and prints a table by input class.
"""

from __future__ import annotations

import codecs
import json
import tempfile

import beam_ml as bml
import pytest
from beam_ml import cli
from beam_ml.errors import BeamMLError
from beam_ml.sources import Source, iter_batches
from hypothesis import HealthCheck, given, settings

from .fuzzing import (
    ALL_CASES,
    Case,
    captured_stderr,
    check_message,
    check_outcome,
    csv_cases,
    json_cases,
    read_outcome,
    source_of,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(ALL_CASES)
def test_every_dirty_file_reads_to_rows_that_add_up_or_one_error_line(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_outcome(case, read_outcome(case, folder))


def _pipelines(case: Case, folder: str) -> None:
    """bml.profile and bml.validate agree with the readers, or fail with the same one line."""
    read = read_outcome(case, folder)
    source = source_of(case, case.write(folder))
    with captured_stderr() as err:
        try:
            profile = bml.profile(source)
            report = bml.validate(source, reference=profile)
        except BeamMLError as error:
            check_message(str(error))
            assert read.error is not None, f"the pipeline refused what the readers read: {error}"
            return
    assert "Traceback" not in err.getvalue() and "Exception ignored" not in err.getvalue()
    assert read.error is None, f"the pipeline read what the readers refused: {read.error}"
    assert profile.rows == read.rows
    unreadable = [a.detail for a in profile.alerts if a.kind == "unreadable_lines"]
    if read.bad:  # the profile says how many lines it skipped
        assert len(unreadable) == 1 and unreadable[0].startswith(f"{len(read.bad):,} line")
    else:
        assert not unreadable
    rows = report.rows
    assert rows["valid"] + rows["invalid"] == rows["total"] == read.rows + len(read.bad)
    assert len(report.invalid_rows) == rows["invalid"]


@SLOW
@given(csv_cases())
def test_profile_and_validate_of_dirty_csv_count_every_record(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _pipelines(case, folder)


@SLOW
@given(json_cases())
def test_profile_and_validate_of_dirty_json_lines_count_every_record(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _pipelines(case, folder)


# ------------------------------------------------ regressions the fuzzer found
def _read(tmp_path, data: bytes, name: str = "x.csv", **options) -> tuple[list, list]:
    path = tmp_path / name
    path.write_bytes(data)
    bad: list = []
    return list(iter_batches(Source(str(path), **options), bad)), bad


def test_duplicate_and_empty_header_names_are_made_unique_as_pandas_does(tmp_path) -> None:
    import io

    import pandas as pd

    data = b"a,a,,a.1\n1,2,3,4\n"
    batches, _ = _read(tmp_path, data)
    expected = pd.read_csv(io.BytesIO(data)).columns.tolist()
    assert batches[0].columns.tolist() == expected == ["a", "a.2", "Unnamed: 2", "a.1"]
    # ... and validate no longer crashes on them (it raised a raw pandas ValueError)
    path = str(tmp_path / "x.csv")
    report = bml.validate(path, reference=bml.profile(path))
    assert report.rows == {"total": 1, "valid": 1, "invalid": 0}


def test_profile_says_how_many_lines_it_could_not_read(tmp_path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"a,b\n1,2\n3\n4,5,6\n7,8\n")
    profile = bml.profile(str(path))
    # it said "2 rows" and nothing else: two lines lost without a word
    assert profile.rows == 2
    [alert] = [a for a in profile.alerts if a.kind == "unreadable_lines"]
    assert alert.detail.startswith("2 lines could not be read as rows")
    assert "unreadable_lines: 2 lines" in str(profile)
    clean = tmp_path / "clean.csv"
    clean.write_bytes(b"a,b\n1,2\n")
    assert not [a for a in bml.profile(str(clean)).alerts if a.kind == "unreadable_lines"]


def test_renamed_header_keeps_physical_line_numbers(tmp_path) -> None:
    batches, bad = _read(tmp_path, b"\n\na,a\n1,2\n\n3\n4,5\n")
    assert [b.index.tolist() for b in batches] == [[4, 7]]
    assert [(r.line, r.text) for r in bad] == [(6, "3")]  # reported once, at its own line


def test_a_first_record_longer_than_the_sniffed_block_names_every_column(tmp_path) -> None:
    long = "x" * 70_000
    batches, bad = _read(tmp_path, f"{long},1\ny,2\n".encode(), header=False)
    assert batches[0].columns.tolist() == ["0", "1"] and not bad
    assert batches[0]["1"].tolist() == [1, 2]


def test_when_every_line_is_ragged_the_error_says_so_not_that_the_file_is_empty(tmp_path):
    with pytest.raises(BeamMLError, match=r"no line that could be read as a row \(line 2: "):
        _read(tmp_path, b"a,b\n1,2,3\n4\n")


@pytest.mark.parametrize(
    ("line", "what"),
    [("3", "a number"), ("[1, 2]", "an array"), ("null", "null"), ('"x"', "a string")],
)
def test_a_json_line_that_is_not_an_object_fails_with_its_number(tmp_path, line, what) -> None:
    # pandas made it a column named 0 (or raised AttributeError): a silent wrong answer
    data = f'{{"a": 1}}\n{line}\n'.encode()
    with pytest.raises(BeamMLError, match=rf"line 2: {what} \(JSON\), not an object"):
        _read(tmp_path, data, "x.jsonl")


def test_json_lines_blank_lines_keep_numbering_and_late_keys_become_columns(tmp_path) -> None:
    data = b'{"a": 1}\n\n   \n{"b": 2}\n'
    batches, _ = _read(tmp_path, data, "x.jsonl", batch_rows=1)
    assert [b.index.tolist() for b in batches] == [[1], [4]]
    assert batches[1].columns.tolist() == ["a", "b"]


def test_json_keys_that_look_like_one_number_stay_two_text_columns(tmp_path) -> None:
    # pandas turned both into the label 0: two columns with one name, then a crash
    batches, _ = _read(tmp_path, b'{"0": null, "0.0": 1}\n{"1": 2}\n', "x.jsonl", batch_rows=1)
    assert [b.columns.tolist() for b in batches] == [["0", "0.0"], ["0", "0.0", "1"]]


def test_a_utf8_bom_before_json_lines_is_dropped(tmp_path) -> None:
    batches, _ = _read(tmp_path, codecs.BOM_UTF8 + b'{"a": 1}\n', "x.jsonl")
    assert batches[0].columns.tolist() == ["a"]


def test_gzipped_json_lines_and_a_gzipped_csv_with_duplicate_names_read(tmp_path) -> None:
    import gzip

    # the new line-by-line readers open Beam's decompressing file objects as text
    batches, _ = _read(tmp_path, gzip.compress(b'{"a": 1}\n\n{"a": 2}\n'), "x.jsonl.gz")
    assert [b.index.tolist() for b in batches] == [[1, 3]]
    batches, _ = _read(tmp_path, gzip.compress(b"a,a\n1,2\n"), "x.csv.gz")
    assert batches[0].columns.tolist() == ["a", "a.1"]


def test_a_json_file_of_blank_lines_is_refused_without_mentioning_a_header(tmp_path) -> None:
    with pytest.raises(BeamMLError, match="no JSON object in the file"):
        _read(tmp_path, b"\n\n", "x.jsonl")


# ---------------------------------------------------------------------- the CLI
CLI_FILES = {
    "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "latin1.csv": "name,n\nJos\xe9,1\n".encode("latin-1"),
    "empty.csv": b"",
    "ragged.csv": b'a,b\n1,2\n3\n"x\ny",4\n5,6,7\n',
    "dupes.csv": codecs.BOM_UTF8 + b"a,a,\n1,2,3\n4,5,6\n",
    "notobject.jsonl": b'{"a": 1}\n[1]\n',
}


@pytest.mark.parametrize("name", sorted(CLI_FILES))
def test_cli_prints_a_result_or_one_error_line_for_each_dirty_file(tmp_path, capfd, name):
    path = tmp_path / name
    path.write_bytes(CLI_FILES[name])
    for command in (["profile", str(path)], ["validate", str(path), "--reference", str(path)]):
        code = cli.main(command)
        out, err = capfd.readouterr()
        assert "Traceback" not in out + err and "Exception ignored" not in err
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"beam-ml {command[0]}: error: ")
            check_message(lines[0])
            assert not out.strip()
        else:
            assert code in (0, 1) and out.strip(), (code, err)
    if name in ("ragged.csv", "dupes.csv"):
        assert code in (0, 1)  # readable: a report, not an error
    else:
        assert code == 2


def test_cli_json_report_counts_the_ragged_lines(tmp_path, capfd) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(CLI_FILES["ragged.csv"])
    report = tmp_path / "report.json"
    cli.main(["validate", str(path), "--reference", str(path), "--json", str(report)])
    capfd.readouterr()
    rows = json.loads(report.read_text())["rows"]
    # 4 records: "1,2", "3" (ragged), the quoted two-line one, "5,6,7" (ragged)
    assert rows == {"total": 4, "valid": 2, "invalid": 2}
