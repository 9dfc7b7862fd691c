"""beam_ml.sources.arrow: Arrow-backed strings hold the same rows and values as Python ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from beam_ml import sources
from beam_ml.errors import BeamMLError

from .data import write_all_formats


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_arrow_strings_hold_the_same_rows_and_values_as_python_strings(tmp_path, penguins, fmt):
    path = write_all_formats(penguins, tmp_path)[fmt]
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
