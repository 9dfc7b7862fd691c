"""beam_ml.sources.reading: every file of a glob read in order, with the first file's options."""

from __future__ import annotations

import pandas as pd
from beam_ml import sources


def test_every_file_is_read_with_the_delimiter_detected_in_the_first(tmp_path):
    (tmp_path / "a.csv").write_text("x;y\n1;2\n")
    (tmp_path / "b.csv").write_text("x;y\n3;4,5\n")  # alone, b would look comma-separated
    frame = pd.concat(sources.iter_batches(str(tmp_path / "*.csv")))
    assert frame.columns.tolist() == ["x", "y"]
    assert frame.x.tolist() == [1, 3]


def test_a_dataframe_is_read_in_batches_that_name_it(penguins):
    batches = list(sources.iter_batches(sources.Source(frame=penguins, batch_rows=100)))
    assert [len(b) for b in batches] == [100, 100, 100, 44]
    assert {b.attrs["file"] for b in batches} == {"<dataframe>"}
