"""beam_ml.sources.source: the Source spec, its options, what it resolves to, and as_source."""

from __future__ import annotations

import pandas as pd
import pytest
from beam_ml import sources
from beam_ml.errors import BeamMLError


def test_when_the_suffix_is_unknown_then_the_error_says_how_to_pass_the_format(tmp_path):
    with pytest.raises(BeamMLError, match="format='csv'"):
        sources.Source(str(tmp_path / "data.xlsx"))


def test_as_source_rejects_what_it_cannot_read():
    with pytest.raises(BeamMLError, match="a path, a glob, a pandas DataFrame"):
        sources.as_source(42)


def test_as_source_passes_reading_options_to_paths_and_sources():
    source = sources.as_source("data.txt", delimiter="|", header=False)
    assert (source.format, source.delimiter, source.header) == ("csv", "|", False)
    assert sources.as_source(source, encoding="latin-1").encoding == "latin-1"
    assert sources.as_source(pd.DataFrame({"a": [1]}), format="csv").frame is not None


@pytest.mark.parametrize(("given", "used"), [(";", ";"), ("\\t", "\t"), ("tab", "\t")])
def test_a_delimiter_is_one_character_or_a_spelled_tab(given, used):
    assert sources.Source("a.csv", delimiter=given).delimiter == used


@pytest.mark.parametrize("bad", ["", ";;", "\n", '"', 3])
def test_a_delimiter_that_cannot_split_fields_is_refused(bad):
    with pytest.raises(BeamMLError, match="delimiter to be one character"):
        sources.Source("a.csv", delimiter=bad)


def test_options_a_format_does_not_have_are_refused_with_the_option_named():
    with pytest.raises(BeamMLError, match=r"delimiter=';' for parquet"):
        sources.Source("a.parquet", delimiter=";")
    with pytest.raises(BeamMLError, match=r"header=False for json"):
        sources.Source("a.jsonl", header=False)
    assert sources.Source("a.jsonl", encoding="latin-1").encoding == "latin-1"
    with pytest.raises(BeamMLError, match="header to be True or False"):
        sources.Source("a.csv", header="no")


def test_resolved_fixes_the_detected_delimiter_and_says_it_was_detected(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("a;b\n1;2\n")
    source = sources.Source(str(path))
    assert source.note() is None and source.read_options()["delimiter"] is None
    resolved = source.resolved()
    assert resolved.delimiter == ";" and resolved.detected == ("delimiter",)
    assert resolved.read_options() == {
        "format": "csv",
        "delimiter": ";",
        "header": True,
        "encoding": "utf-8",
        "detected": ["delimiter"],
    }
    assert resolved.note() == "read with delimiter ';' (detected)"
    assert resolved.resolved() is resolved
    assert resolved == sources.Source(str(path), delimiter=";")  # `detected` is not compared


def test_a_comma_or_a_given_delimiter_needs_no_detection(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n")
    assert sources.Source(str(path)).resolved().note() is None
    given = sources.Source(str(path), delimiter="|", header=False)
    assert given.resolved() is given
    assert given.note() == "read with delimiter '|', no header (columns named 0, 1, ...)"
    frame = sources.Source(frame=pd.DataFrame({"a": [1]}))
    assert frame.resolved() is frame and frame.read_options()["format"] == "dataframe"
