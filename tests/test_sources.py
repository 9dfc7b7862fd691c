"""beam_ml.sources.readers: every format, in real Beam pipelines, and every bad input."""

from __future__ import annotations

import json
import tracemalloc

import apache_beam as beam
import numpy as np
import pandas as pd
import pytest
from apache_beam.dataframe.convert import to_pcollection
from beam_ml import datasets
from beam_ml.errors import BeamMLError
from beam_ml.runner import run_and_collect
from beam_ml.sources import readers as sources
from scipy import stats


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(datasets.load("penguins"))


def _write_all_formats(frame: pd.DataFrame, folder) -> dict[str, str]:
    paths = {
        "csv": str(folder / "data.csv"),
        "parquet": str(folder / "data.parquet"),
        "json": str(folder / "data.jsonl"),
    }
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    frame.to_json(paths["json"], orient="records", lines=True)
    return paths


def _sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    # Readers differ in how an empty string cell is null (None or NaN): compare nulls as None.
    frame = frame.reset_index(drop=True).astype(object)
    frame = frame.where(frame.notna(), None)
    return frame.sort_values(list(frame.columns), key=lambda c: c.astype(str)).reset_index(
        drop=True
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_when_reading_each_format_in_a_pipeline_then_every_row_arrives(tmp_path, penguins, fmt):
    path = _write_all_formats(penguins, tmp_path)[fmt]
    source = sources.Source(path, batch_rows=100)
    batches = run_and_collect(lambda p: sources.read_batches(p, source))
    assert len(batches) == 4  # 344 rows in batches of 100
    got = pd.concat(batches)
    pd.testing.assert_frame_equal(
        _sorted_rows(got), _sorted_rows(penguins), check_dtype=False, check_exact=False
    )


def test_when_reading_a_dataframe_in_a_pipeline_then_its_index_is_kept(penguins):
    frame = penguins.set_index(pd.RangeIndex(1000, 1000 + len(penguins)))
    batches = run_and_collect(lambda p: sources.read_batches(p, sources.Source(frame=frame)))
    got = pd.concat(batches).sort_index()
    pd.testing.assert_frame_equal(got, frame)


def test_when_reading_as_a_beam_dataframe_then_deferred_operations_run(tmp_path, penguins):
    path = _write_all_formats(penguins, tmp_path)["csv"]

    def build(p):
        df = sources.read_dataframe(p, path)
        heavy = df[df.body_mass_g > 4000]
        return to_pcollection(heavy, yield_elements="pandas")

    got = pd.concat(run_and_collect(build))
    assert len(got) == int((penguins.body_mass_g > 4000).sum())


def test_when_a_glob_names_many_files_then_all_are_read_with_their_names(tmp_path, penguins):
    for i, start in enumerate(range(0, len(penguins), 120)):
        part = penguins.iloc[start : start + 120]
        part.to_csv(tmp_path / f"part-{i}.csv", index=False)
    batches = run_and_collect(lambda p: sources.read_batches(p, str(tmp_path / "part-*.csv")))
    assert sum(len(b) for b in batches) == len(penguins)
    assert {b.attrs["file"].rsplit("/", 1)[1] for b in batches} == {
        "part-0.csv",
        "part-1.csv",
        "part-2.csv",
    }


def test_csv_index_is_the_line_number_in_the_file(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("a,b\n1,x\n2,y\n\n3,z\n")
    frame = sources.head(str(path), 10)
    assert frame.index.tolist() == [2, 3, 5]
    assert frame.a.tolist() == [1, 2, 3]


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


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_arrow_strings_hold_the_same_rows_and_values_as_python_strings(tmp_path, penguins, fmt):
    path = _write_all_formats(penguins, tmp_path)[fmt]
    as_object = list(sources.iter_batches(sources.Source(path, batch_rows=90)))
    as_arrow = list(sources.iter_batches(sources.Source(path, batch_rows=90, strings="arrow")))
    assert [len(b) for b in as_arrow] == [len(b) for b in as_object] == [90, 90, 90, 74]
    for a, o in zip(as_arrow, as_object, strict=True):
        assert a.index.tolist() == o.index.tolist()  # CSV: the same line numbers
        assert str(a["species"].dtype) == "string" and a["species"].dtype.storage == "pyarrow"
        assert a["bill_length_mm"].dtype == o["bill_length_mm"].dtype == np.float64
        pd.testing.assert_frame_equal(a.astype(object), o.astype(object), check_dtype=False)
    with pytest.raises(BeamMLError, match="strings"):
        sources.Source(path, strings="utf8")


def test_when_the_file_is_missing_then_the_error_names_it():
    with pytest.raises(BeamMLError, match=r"nope\.csv.*matches nothing"):
        sources.head("nope.csv", 5)


def test_when_the_glob_matches_nothing_then_the_error_names_it(tmp_path):
    with pytest.raises(BeamMLError, match=r"\*\.parquet"):
        run_and_collect(lambda p: sources.read_batches(p, str(tmp_path / "*.parquet")))


def test_when_the_suffix_is_unknown_then_the_error_says_how_to_pass_the_format(tmp_path):
    with pytest.raises(BeamMLError, match="format='csv'"):
        sources.Source(str(tmp_path / "data.xlsx"))


def test_when_a_csv_is_called_parquet_then_the_error_names_the_file(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(BeamMLError, match=r"a Parquet file at .*fake\.parquet"):
        sources.head(str(path), 5)


def test_when_a_csv_has_only_a_header_then_the_error_names_the_file(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,c\n")
    with pytest.raises(BeamMLError, match=r"data row in .*header\.csv"):
        sources.head(str(path), 5)
    with pytest.raises(BeamMLError, match=r"header\.csv"):
        run_and_collect(lambda p: sources.read_batches(p, str(path)))


def test_when_a_csv_is_empty_then_the_error_asks_for_a_header(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(BeamMLError, match=r"header line in .*empty\.csv"):
        sources.head(str(path), 5)


def test_when_a_csv_is_not_utf8_then_the_error_names_file_and_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nAnn,Paris\nJosé,Málaga\n".encode("latin-1"))
    with pytest.raises(BeamMLError, match=r"latin\.csv.*line 3.*encoding='latin-1'"):
        sources.head(str(path), 5)
    fixed = sources.head(sources.Source(str(path), encoding="latin-1"), 5)
    assert fixed.name.tolist() == ["Ann", "José"]


def test_when_a_json_line_is_malformed_then_the_error_names_the_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    rows = [json.dumps({"a": i}) for i in range(3)] + ["{not json", json.dumps({"a": 9})]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(BeamMLError, match=r"broken\.jsonl.*line 4"):
        list(sources.iter_batches(str(path)))


def test_head_reads_the_first_rows_only(tmp_path, penguins):
    path = _write_all_formats(penguins, tmp_path)["parquet"]
    first = sources.head(sources.Source(path, batch_rows=50), 120)
    assert first.index.tolist() == list(range(120))
    pd.testing.assert_frame_equal(_sorted_rows(first), _sorted_rows(penguins.head(120)))


def test_sample_is_reproducible_and_independent_of_batching(tmp_path, penguins):
    path = _write_all_formats(penguins, tmp_path)["csv"]
    a = sources.sample(sources.Source(path, batch_rows=7), 50, seed=3)
    b = sources.sample(sources.Source(path, batch_rows=1000), 50, seed=3)
    c = sources.sample(sources.Source(path, batch_rows=1000), 50, seed=4)
    assert len(a) == 50
    assert a.index.tolist() == b.index.tolist()
    assert a.index.tolist() != c.index.tolist()


def test_sample_in_a_pipeline_keeps_the_same_rows_as_in_process(tmp_path, penguins):
    path = _write_all_formats(penguins, tmp_path)["csv"]
    source = sources.Source(path, batch_rows=40)
    expected = sources.sample(source, 30, seed=11)
    (got,) = run_and_collect(
        lambda p: sources.read_batches(p, source) | sources.SampleRows(30, seed=11)
    )
    assert sorted(got.index) == sorted(expected.index)


def test_sample_is_uniform_over_the_rows():
    # Kolmogorov-Smirnov test of the sampled positions against a uniform
    # distribution, over many seeds: a biased sampler (say, favouring the first
    # batches) fails it by orders of magnitude.
    frame = pd.DataFrame({"i": np.arange(20_000)})
    positions = np.concatenate(
        [
            sources.sample(sources.Source(frame=frame, batch_rows=1500), 200, seed=s).i
            for s in range(20)
        ]
    )
    result = stats.kstest(positions / len(frame), "uniform")
    assert result.pvalue > 0.001
    assert len(np.unique(positions)) > 3500  # seeds give different samples


def test_sample_memory_is_bounded_by_the_sample_not_the_data():
    def peak_for(rows: int) -> int:
        def batches():
            for start in range(0, rows, 10_000):
                yield pd.DataFrame({"x": np.arange(start, start + 10_000, dtype="float64")})

        bottom = sources._BottomK(1000, seed=0)
        tracemalloc.start()
        accumulator = bottom.create_accumulator()
        for batch in batches():
            accumulator = bottom.add_input(accumulator, batch)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(bottom.extract_output(accumulator)) == 1000
        return peak

    small, large = peak_for(50_000), peak_for(1_000_000)
    assert large < 1.5 * small  # 20x the rows, about the same memory


def test_as_source_rejects_what_it_cannot_read():
    with pytest.raises(BeamMLError, match="a path, a glob, a pandas DataFrame"):
        sources.as_source(42)


def test_read_batches_are_typed_as_dataframes_with_the_cheap_sizing_coder(penguins):
    def build(p):
        batches = sources.read_batches(p, sources.Source(frame=penguins, batch_rows=100))
        assert batches.element_type is pd.DataFrame
        assert isinstance(beam.coders.registry.get_coder(pd.DataFrame), sources.DataFrameCoder)
        return batches

    assert sum(len(b) for b in run_and_collect(build)) == len(penguins)
