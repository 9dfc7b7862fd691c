"""beam_ml.sources.transforms: ReadBatches, read_dataframe, SampleRows and the coder in Beam."""

from __future__ import annotations

import apache_beam as beam
import pandas as pd
import pytest
from apache_beam.dataframe.convert import to_pcollection
from beam_ml import sources
from beam_ml.errors import BeamMLError
from beam_ml.runner import run_and_collect

from .data import sorted_rows, write_all_formats


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_when_reading_each_format_in_a_pipeline_then_every_row_arrives(tmp_path, penguins, fmt):
    path = write_all_formats(penguins, tmp_path)[fmt]
    source = sources.Source(path, batch_rows=100)
    batches = run_and_collect(lambda p: sources.read_batches(p, source))
    assert len(batches) == 4  # 344 rows in batches of 100
    got = pd.concat(batches)
    pd.testing.assert_frame_equal(
        sorted_rows(got), sorted_rows(penguins), check_dtype=False, check_exact=False
    )


def test_when_reading_a_dataframe_in_a_pipeline_then_its_index_is_kept(penguins):
    frame = penguins.set_index(pd.RangeIndex(1000, 1000 + len(penguins)))
    batches = run_and_collect(lambda p: sources.read_batches(p, sources.Source(frame=frame)))
    got = pd.concat(batches).sort_index()
    pd.testing.assert_frame_equal(got, frame)


def test_when_reading_as_a_beam_dataframe_then_deferred_operations_run(tmp_path, penguins):
    path = write_all_formats(penguins, tmp_path)["csv"]

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


def test_when_the_glob_matches_nothing_then_the_error_names_it(tmp_path):
    with pytest.raises(BeamMLError, match=r"\*\.parquet"):
        run_and_collect(lambda p: sources.read_batches(p, str(tmp_path / "*.parquet")))


def test_when_a_csv_has_only_a_header_then_a_pipeline_fails_before_it_runs(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,c\n")
    with pytest.raises(BeamMLError, match=r"header\.csv"):
        run_and_collect(lambda p: sources.read_batches(p, str(path)))


def test_sample_in_a_pipeline_keeps_the_same_rows_as_in_process(tmp_path, penguins):
    path = write_all_formats(penguins, tmp_path)["csv"]
    source = sources.Source(path, batch_rows=40)
    expected = sources.sample(source, 30, seed=11)
    (got,) = run_and_collect(
        lambda p: sources.read_batches(p, source) | sources.SampleRows(30, seed=11)
    )
    assert sorted(got.index) == sorted(expected.index)
    assert got.attrs["beam_ml_sample"] == expected.attrs["beam_ml_sample"]


def test_read_batches_are_typed_as_dataframes_with_the_cheap_sizing_coder(penguins):
    def build(p):
        batches = sources.read_batches(p, sources.Source(frame=penguins, batch_rows=100))
        assert batches.element_type is pd.DataFrame
        assert isinstance(beam.coders.registry.get_coder(pd.DataFrame), sources.DataFrameCoder)
        return batches

    assert sum(len(b) for b in run_and_collect(build)) == len(penguins)


def _semicolon_latin1(tmp_path):
    path = tmp_path / "eu.csv"
    text = "name;price;city\nJosé;1,5;Málaga\nAnn;2,25;Paris\nLuc;3;Genève\n"
    path.write_bytes(text.encode("latin-1"))
    return str(path)


def test_when_options_are_given_then_read_batches_reads_what_pandas_reads(tmp_path):
    path = _semicolon_latin1(tmp_path)
    expected = pd.read_csv(path, sep=";", encoding="latin-1")
    source = sources.Source(path, encoding="latin-1")  # the delimiter is detected
    got = pd.concat(run_and_collect(lambda p: sources.read_batches(p, source))).sort_index()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    assert got.index.tolist() == [2, 3, 4]


def test_when_read_batches_detects_the_delimiter_then_the_transform_states_it(tmp_path):
    path = _semicolon_latin1(tmp_path)
    transform = sources.ReadBatches(sources.Source(path, encoding="latin-1"))
    assert transform.source.delimiter is None
    run_and_collect(lambda p: (p | transform).batches)
    assert transform.source.delimiter == ";"
    assert transform.source.note() == "read with delimiter ';' (detected), encoding latin-1"


def test_when_there_is_no_header_then_read_dataframe_names_columns_like_pandas(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1|x|2.5\n2|y|3.5\n3|z|\n")
    expected = pd.read_csv(path, sep="|", header=None)
    expected.columns = expected.columns.astype(str)

    def build(p):
        df = sources.read_dataframe(p, sources.Source(str(path), header=False))
        return to_pcollection(df[df["0"] > 1], yield_elements="pandas")

    got = pd.concat(run_and_collect(build)).sort_index()
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected[expected["0"] > 1].reset_index(drop=True)
    )
    assert got.index.tolist() == [2, 3]  # without a header, the first row is line 1


def test_proxy_widens_integers_and_carries_no_preview_attributes(penguins):
    empty = sources.proxy(penguins)
    assert len(empty) == 0 and list(empty.columns) == list(penguins.columns)
    assert "beam_ml_sample" not in empty.attrs and "beam_ml_read" not in empty.attrs


def test_when_the_workers_take_every_core_then_files_are_read_without_a_read_ahead(
    tmp_path, penguins
):
    import os

    path = write_all_formats(penguins, tmp_path)["csv"]
    workers = max(os.cpu_count() or 1, 2)
    flags = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    transforms = []

    def build(p):
        read = sources.ReadBatches(sources.Source(path, batch_rows=100))
        transforms.append(read)
        return (p | read).batches

    batches = run_and_collect(build, flags)  # real worker processes
    assert sum(len(b) for b in batches) == len(penguins)
    assert transforms[0].source.read_ahead is False
    run_and_collect(build)  # one process: the CSV is parsed ahead on a second thread
    assert transforms[1].source.read_ahead is True
