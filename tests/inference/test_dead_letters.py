"""Per-row dead letters: a failed batch is bisected down to its bad rows."""

import numpy as np
from beam_ml.inference.dead_letters import error_rows, error_text
from beam_ml.inference.preview import SklearnModel, preview_inference

from .data import FEATURES


def test_when_one_row_is_poisoned_then_only_that_row_fails(models):
    data = models["clean"].head(200).copy()
    data.loc[137, "bill_depth_mm"] = np.nan
    spec = SklearnModel(path=str(models["folder"] / "lr.pkl"), features=FEATURES)
    preview = preview_inference(data, spec, sample=200, device="cpu", batch_rows=100)
    assert list(preview.errors.index) == [137]
    assert len(preview.predictions) == 199
    assert 137 not in preview.predictions.index
    assert preview.metrics["num_inferences"] == 199
    # the healthy batch ran whole; the bad one was bisected down to the bad row
    assert preview.metrics["batch_size_max"] == 100
    assert preview.metrics["retried_rows"] == 100
    assert preview.metrics["failed_batches"] == 1


def test_error_text_keeps_the_message_of_the_last_traceback_line():
    info = (ValueError, "ValueError('bad')", ["Traceback ...", "builtins.ValueError: bad row"])
    assert error_text(info) == ("ValueError", "bad row")


def test_error_rows_keep_the_rows_index_and_attrs(models):
    frame = models["clean"].head(3).set_axis([10, 11, 12])
    frame.attrs["file"] = "f.csv"
    rows = error_rows(frame, (KeyError, "KeyError('x')", []), "postprocess")
    assert list(rows.index) == [10, 11, 12] and rows.attrs == {"file": "f.csv"}
    assert set(rows["stage"]) == {"postprocess"} and set(rows["error_type"]) == {"KeyError"}
