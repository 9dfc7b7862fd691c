"""beam_ml.sources.csv_reader: line numbers, bad lines, widened types, pandas' options."""

from __future__ import annotations

import pandas as pd
import pytest
from beam_ml import sources
from beam_ml.errors import BeamMLError
from beam_ml.runner import run_and_collect

from .data import sorted_rows


def test_csv_index_is_the_line_number_in_the_file(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("a,b\n1,x\n2,y\n\n3,z\n")
    frame = sources.head(str(path), 10)
    assert frame.index.tolist() == [2, 3, 5]
    assert frame.a.tolist() == [1, 2, 3]


def test_when_csv_rows_have_the_wrong_number_of_fields_then_they_are_reported_not_lost(
    tmp_path,
):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n\n13,14,15\n16,17,18,19\n")
    read = {}

    def build(p):
        result = p | sources.ReadBatches(str(path))
        read["handle"] = result
        return {"batches": result.batches, "bad": result.bad_records}

    out = run_and_collect(build)
    good = pd.concat(out["batches"]).sort_index()
    bad = sorted(out["bad"], key=lambda r: r.line)
    assert good.index.tolist() == [2, 5, 7]
    assert [(r.line, r.text) for r in bad] == [(3, "4,5"), (4, "6,7,8,9"), (8, "16,17,18,19")]
    assert bad[0].reason == "expected 3 fields, saw 2"
    # Every data line is accounted for: 3 good + 3 bad = 6 non-blank data lines.
    assert len(good) + len(bad) == 6


def test_when_a_later_block_needs_a_wider_type_then_the_column_widens_and_no_row_is_lost(
    tmp_path,
):
    # pyarrow infers types from the first block (512 KiB): make the
    # surprise arrive well after it.
    rows = 200_000
    lines = ["n,label"] + [f"{i},x" for i in range(rows)] + ["1.5,y", "oops,z"]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n")
    frames = list(sources.iter_batches(sources.Source(str(path), batch_rows=20_000)))
    total = pd.concat(frames)
    assert len(total) == rows + 2
    assert total.index.is_unique and total.index.min() == 2
    assert total.n.astype(str).iloc[-2:].tolist() == ["1.5", "oops"]


def test_when_a_csv_has_only_a_header_then_the_error_names_the_file(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,c\n")
    with pytest.raises(BeamMLError, match=r"data row in .*header\.csv"):
        sources.head(str(path), 5)


def test_when_a_csv_is_empty_then_the_error_asks_for_a_header(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(BeamMLError, match=r"header line in .*empty\.csv"):
        sources.head(str(path), 5)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_when_the_delimiter_is_left_out_then_it_is_detected_and_rows_match_pandas(
    tmp_path, penguins, delimiter
):
    path = tmp_path / "data.csv"
    penguins.to_csv(path, sep=delimiter, index=False)
    expected = pd.read_csv(path, sep=delimiter)
    for read in (
        lambda s: sources.head(s, 1000),
        lambda s: sources.sample(s, 1000),
        lambda s: pd.concat(run_and_collect(lambda p: sources.read_batches(p, s))),
    ):
        got = read(sources.Source(str(path))).sort_index()
        pd.testing.assert_frame_equal(sorted_rows(got), sorted_rows(expected))
    assert sources.Source(str(path)).resolved().delimiter == delimiter


def test_when_values_hold_other_candidate_delimiters_then_the_consistent_one_wins(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text('item;price;note\nA;1,5;"x|y"\nB;2,5;"a, b"\nC;3;z\n')
    frame = sources.head(str(path), 10)
    assert frame.columns.tolist() == ["item", "price", "note"]
    assert frame.note.tolist() == ["x|y", "a, b", "z"]
    assert frame.attrs["beam_ml_read"]["delimiter"] == ";"
    assert frame.attrs["beam_ml_read"]["detected"] == ["delimiter"]


def test_when_the_delimiter_is_given_then_it_is_used_not_detected(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a;b\n1;2\n")
    frame = sources.head(sources.Source(str(path), delimiter=","), 10)
    assert frame.columns.tolist() == ["a;b"]
    assert frame.attrs["beam_ml_read"]["detected"] == []


def test_when_there_is_no_header_then_columns_are_named_0_1_and_lines_start_at_1(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,x\n2,y\n\n3,z,9\n4,w\n")
    bad: list = []
    frame = sources.head(sources.Source(str(path), header=False), 10, bad_records=bad)
    expected = pd.read_csv(path, header=None, on_bad_lines="skip")
    assert frame.columns.tolist() == [str(c) for c in expected.columns] == ["0", "1"]
    assert frame["0"].tolist() == expected[0].tolist() == [1, 2, 4]
    assert frame.index.tolist() == [1, 2, 5]
    assert [(r.line, r.text) for r in bad] == [(4, "3,z,9")]


def test_when_a_tab_file_has_no_header_then_both_options_combine(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("a\t1\nb\t2\n")
    frame = sources.head(sources.Source(str(path), header=False), 10)
    assert frame.to_dict("list") == {"0": ["a", "b"], "1": [1, 2]}
    assert sources.Source(str(path)).format == "csv"


def test_when_a_csv_is_compressed_then_it_reads_as_the_plain_file(tmp_path, penguins):
    path = tmp_path / "data.csv.gz"
    penguins.to_csv(path, index=False, sep=";")
    frame = sources.head(str(path), 1000)
    assert len(frame) == len(penguins) and frame.columns.tolist() == penguins.columns.tolist()
