"""beam_ml.sources.text: binary and mis-encoded files end in one clean line; delimiters detected."""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
import pytest
from beam_ml import sources
from beam_ml.errors import BeamMLError
from beam_ml.runner import run_and_collect
from beam_ml.sources import text

_EXCERPT = re.compile(r"it starts (b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\")")


def _binary_files(folder) -> dict[str, str]:
    rng = np.random.default_rng(0)
    paths = {
        "random": folder / "random.csv",
        "png": folder / "image.csv",
        "parquet": folder / "table.csv",
        "json": folder / "random.jsonl",
    }
    paths["random"].write_bytes(bytes(rng.integers(0, 256, 5000, dtype=np.uint8)))
    paths["png"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    pd.DataFrame({"a": range(50)}).to_parquet(paths["parquet"])
    paths["json"].write_bytes(bytes(rng.integers(0, 256, 5000, dtype=np.uint8)))
    return {k: str(v) for k, v in paths.items()}


def _clean_one_line(message: str) -> None:
    assert "\n" not in message and message.isascii() and message.isprintable(), message


@pytest.mark.parametrize("kind", ["random", "png", "parquet", "json"])
def test_when_a_file_is_binary_then_one_clean_line_says_so_and_nothing_else_prints(
    tmp_path, capfd, kind
):
    path = _binary_files(tmp_path)[kind]
    for read in (
        lambda: sources.head(path, 5),
        lambda: sources.sample(path, 5),
        lambda: run_and_collect(lambda p: sources.read_batches(p, path)),
    ):
        with pytest.raises(BeamMLError, match="binary data") as error:
            read()
        _clean_one_line(str(error.value))
        quoted = _EXCERPT.search(str(error.value))
        assert quoted and len(ast.literal_eval(quoted.group(1))) <= 20  # short and escaped
    assert "Exception ignored" not in capfd.readouterr().err


def test_when_a_parquet_file_is_named_csv_then_the_error_says_pass_parquet(tmp_path):
    path = _binary_files(tmp_path)["parquet"]
    with pytest.raises(BeamMLError, match="format='parquet'"):
        sources.head(path, 5)


def test_when_a_ragged_line_holds_bad_bytes_then_no_traceback_prints(tmp_path, capfd):
    # The case that made pyarrow's bad-row handler fail to decode the line and print.
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"a,b\n1,2\n3,\xf0\x28,4\n5,6\n")
    with pytest.raises(BeamMLError, match=r"line 3 .*encoding='latin-1'") as error:
        sources.head(str(path), 5)
    _clean_one_line(str(error.value))
    assert "Exception ignored" not in capfd.readouterr().err
    fixed = sources.head(sources.Source(str(path), encoding="latin-1"), 5, bad_records=[])
    assert fixed.index.tolist() == [2, 4]


def test_when_a_csv_is_not_utf8_then_the_error_names_file_and_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nAnn,Paris\nJosé,Málaga\n".encode("latin-1"))
    with pytest.raises(BeamMLError, match=r"latin\.csv.*line 3.*encoding='latin-1'"):
        sources.head(str(path), 5)
    fixed = sources.head(sources.Source(str(path), encoding="latin-1"), 5)
    assert fixed.name.tolist() == ["Ann", "José"]


def test_the_encoding_error_names_the_command_line_flag_and_shows_no_raw_bytes(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name\nMálaga\n".encode("latin-1"))
    with pytest.raises(BeamMLError) as error:
        sources.head(str(path), 5)
    message = str(error.value)
    assert "--encoding latin-1 on the command line" in message
    assert r"b'M\xe1laga\n'" in message
    _clean_one_line(message)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b,c\n1,2,3\n", ","),
        (b"a;b;c\n1;2;3\n", ";"),
        (b"a\tb\n1\t2\n", "\t"),
        (b"a|b\n1|2\n", "|"),
        (b"a;b\n1,5;2,5\n3,25;4\n", ";"),  # decimal commas
        (b'name,notes\nx,"a;b;c"\ny,"d;e;f"\n', ","),  # semicolons inside quotes
        (b"only\n1\n2\n", ","),  # one column
        (b"", ","),
    ],
)
def test_the_delimiter_is_the_one_that_splits_records_consistently(data, expected):
    assert text.detect_delimiter(data, "utf-8") == expected


def test_an_excerpt_is_short_escaped_and_marked_when_cut():
    assert text.excerpt(b"\x00" * 30) == repr(b"\x00" * 20) + "..."
    assert text.excerpt("é") == "'\\xe9'"
    assert text.printable("a\x1bb\nc") == "a\\x1bb c"


def test_an_unknown_encoding_is_refused_with_an_example():
    with pytest.raises(BeamMLError, match=r"an encoding Python knows.*latin-1"):
        sources.Source("data.csv", encoding="klingon")
