"""Row-level split: every row valid or quarantined, never both, never lost."""

from __future__ import annotations

import apache_beam as beam
import numpy as np
import pandas as pd
from beam_ml.runner import run_and_collect
from beam_ml.validation import (
    INVALID,
    VALID,
    AllowedValues,
    Length,
    NotNull,
    Range,
    Regex,
    RuleSet,
    ValidateRows,
    split_batch,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes


def test_validate_rows_puts_every_row_in_exactly_one_output():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"x": rng.normal(size=1000), "s": rng.choice(["a", "b", "c", None], size=1000)}
    )
    batches = [frame.iloc[i : i + 128] for i in range(0, 1000, 128)]
    rules = RuleSet((Range("x", min=-1.0, max=1.0), AllowedValues("s", ("a", "b")), NotNull("s")))

    def build(p):
        out = p | beam.Create(batches, reshuffle=False) | ValidateRows(rules)
        return {"valid": out[VALID], "invalid": out[INVALID]}

    result = run_and_collect(build)
    valid = pd.concat(result["valid"])
    invalid = pd.concat(result["invalid"])
    assert len(valid) + len(invalid) == 1000
    assert sorted([*valid.index, *invalid["_line"]]) == list(range(1000))
    expected_bad = (frame["x"].abs() > 1) | ~frame["s"].isin(["a", "b"])
    assert set(invalid["_line"]) == set(frame.index[expected_bad])
    both = invalid[invalid["_errors"].map(len) == 2]
    assert all(set(e) == {"allowed_values:s", "not_null:s"} for e in both["_errors"]) or all(
        "range:x" in e for e in both["_errors"]
    )


def test_when_cells_hold_lists_then_row_rules_judge_their_text_and_do_not_crash():
    frame = pd.DataFrame({"tags": [["a"], ["b", "c"], None, "a"]})
    valid, invalid = split_batch(frame, [AllowedValues("tags", ("a", "['a']"))])
    assert len(valid) + len(invalid) == 4
    assert [e for e in invalid["_errors"]] == [["allowed_values:tags"]]


@settings(max_examples=60, deadline=None)
@given(
    frame=data_frames(
        [
            column("x", elements=st.floats(allow_nan=True, allow_infinity=True)),
            column("s", elements=st.one_of(st.none(), st.text(max_size=4))),
        ],
        index=range_indexes(max_size=40),
    ),
    low=st.floats(-10, 0),
)
def test_every_row_lands_in_exactly_one_output_whatever_the_values(frame, low):
    rules = [
        NotNull("x"),
        Range("x", min=low, max=10.0),
        AllowedValues("s", ("a", "b", "")),
        Regex("s", r"[a-z]*"),
        Length("s", max=2),
    ]
    valid, invalid = split_batch(frame, rules)
    assert len(valid) + len(invalid) == len(frame)
    assert sorted([*valid.index, *invalid["_line"]]) == list(frame.index)
    assert all(errors for errors in invalid["_errors"])
