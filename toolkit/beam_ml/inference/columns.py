"""Feature columns in, prediction columns out: the frame <-> array edges of a model.

A batch's features become one C-ordered 2-D array (:func:`feature_array`); a
model's output for the batch becomes named columns (:func:`inference_columns`).

>>> list(inference_columns(np.array([1.0, 2.0]), 2))
['prediction']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError


def as_numpy(value: Any) -> np.ndarray:
    """A numpy array from an array, a list or a torch tensor (possibly on a GPU)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def inference_columns(
    values: Any, n_rows: int, classes: Sequence[Any] | None = None, proba: bool = False
) -> dict[str, Any]:
    """Flatten a batch's inference (one entry per row) into named columns.

    A 1-D result is ``prediction``; a 2-D one is ``proba_<class>`` (predict_proba)
    or ``output_<i>`` plus ``prediction`` = the argmax (mapped to ``classes``).
    A list of dicts becomes one column per key.

    >>> list(inference_columns(np.array([[0.2, 0.8]]), 1, ["no", "yes"], proba=True))
    ['proba_no', 'proba_yes', 'prediction']
    """
    if isinstance(values, list) and values and isinstance(values[0], dict):
        frame = pd.DataFrame(values)
        return {str(c): frame[c].to_numpy() for c in frame.columns}
    array = as_numpy(values)
    if array.ndim == 0 or array.shape[0] != n_rows:
        raise BeamMLError.expected(
            f"one inference per input row ({n_rows})",
            f"an output of shape {array.shape}",
            "make the model return one result per row of the batch",
        )
    if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1 and not proba):
        return {"prediction": array.reshape(n_rows)}
    if array.ndim > 2:
        array = array.reshape(n_rows, -1)
    labels = list(classes) if classes is not None else list(range(array.shape[1]))
    if len(labels) != array.shape[1]:
        raise BeamMLError.expected(
            f"{len(labels)} classes", f"{array.shape[1]} outputs per row", "fix classes="
        )
    columns: dict[str, Any] = {}
    stem = "proba" if proba else "output"
    for i, label in enumerate(labels):
        columns[f"{stem}_{label}"] = array[:, i]
    best = array.argmax(axis=1)
    if classes is None:
        columns["prediction"] = best  # the index of the largest output
    else:
        lookup = np.asarray(labels)
        columns["prediction"] = (
            lookup[best] if lookup.dtype.kind in "biuf" else lookup.astype(object)[best]
        )
    return columns


_INDEXERS: dict[tuple[tuple[Any, ...], tuple[str, ...]], np.ndarray] = {}


def feature_array(
    batch: pd.DataFrame, features: Sequence[str], dtype: Any = None, writeable: bool = False
) -> np.ndarray:
    """The feature columns as one C-ordered 2-D array (5-15x cheaper than batch[features]).

    ``writeable`` copies a read-only view of the frame (torch wants to own its input).

    >>> feature_array(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), ["b"]).tolist()
    [[3], [4]]
    """
    blocks: Sequence[Any] = getattr(getattr(batch, "_mgr", None), "blocks", ())
    if len(blocks) == 1 and blocks[0].dtype.kind in "biuf":
        # One numeric block (what a reader of numeric files yields): to_numpy() is
        # a view, and taking the feature columns from it is one numpy call.
        key = (tuple(batch.columns), tuple(features))
        indexer = _INDEXERS.get(key)
        if indexer is None:
            indexer = _INDEXERS[key] = batch.columns.get_indexer(list(features))
            if len(_INDEXERS) > 256:
                _INDEXERS.clear()
        whole = batch.to_numpy()
        if len(indexer) == whole.shape[1] and (indexer == np.arange(len(indexer))).all():
            array = whole  # every column, in order: one copy below, not two
        else:
            array = whole[:, indexer]
    else:
        array = np.column_stack([batch[c].to_numpy() for c in features])
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    array = np.ascontiguousarray(array)
    return array.copy() if writeable and not array.flags.writeable else array


def shape_error(features: Sequence[str], wanted: int | None, detail: str = "") -> BeamMLError:
    """The error for features that do not fit the model's input."""
    want = f"{wanted} input features" if wanted is not None else "input of the model's shape"
    got_text = f"{len(features)} features {list(features)!r}"
    if detail:
        got_text += f" ({detail})"
    return BeamMLError.expected(
        want + " (wrong input shape)",
        got_text,
        "pass the feature columns the model was trained on, in order (features=[...])",
    )


def missing_columns(missing: list[str], columns: Sequence[Any]) -> BeamMLError:
    """The error for feature (or key) columns that the data lacks."""
    return BeamMLError.expected(
        f"feature columns {missing!r} in the data",
        f"columns {[str(c) for c in columns][:20]!r}",
        "fix features=[...] or the data (names are case-sensitive)",
    )


def column_names(value: Any) -> tuple[str, ...] | None:
    """``'a, b'`` or ``['a', 'b']`` as ``('a', 'b')`` (None stays None).

    >>> column_names("a, b")
    ('a', 'b')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)
