"""Row rule kinds: each finds exactly its failing values, vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd
from beam_ml.validation import (
    AllowedValues,
    Length,
    NotNull,
    Range,
    Regex,
    TypeRule,
)


def test_when_values_are_null_then_not_null_fails_exactly_those_rows():
    s = pd.Series([1.0, np.nan, 3.0, None])
    assert NotNull("x").failures(s).tolist() == [False, True, False, True]


def test_when_text_hides_in_a_numeric_column_then_the_type_rule_fails_those_rows():
    s = pd.Series(["1", "2.5", "abc", None, "7"], dtype=object)
    assert TypeRule("x", "float").failures(s).tolist() == [False, False, True, False, False]
    assert TypeRule("x", "integer").failures(s).tolist() == [False, True, True, False, False]
    assert not TypeRule("x", "categorical").failures(s).any()


def test_when_dates_do_not_parse_then_the_datetime_type_rule_fails_them():
    s = pd.Series(["2013-01-01 05:00:00", "not a date", None])
    assert TypeRule("t", "datetime").failures(s).tolist() == [False, True, False]


def test_when_values_leave_the_range_then_only_those_rows_fail():
    s = pd.Series([0.0, 5.0, 10.0, 11.0, -1.0, np.nan])
    assert Range("x", min=0.0, max=10.0).failures(s).tolist() == [0, 0, 0, 1, 1, 0]
    assert Range("x", max=5.0).failures(pd.Series(["3", "9", "zz"])).tolist() == [0, 1, 0]


def test_when_a_value_is_not_allowed_then_it_fails_but_its_text_form_counts_as_allowed():
    s = pd.Series([2007, 2008.0, "2009", "2010", None], dtype=object)
    rule = AllowedValues("year", (2007, 2008, 2009))
    assert rule.failures(s).tolist() == [False, False, False, True, False]


def test_when_text_does_not_fully_match_the_pattern_then_the_regex_rule_fails_it():
    s = pd.Series(["N14228", "n1", "XN123", None])
    assert Regex("t", r"N\d+").failures(s).tolist() == [False, True, True, False]


def test_when_text_is_too_short_or_long_then_the_length_rule_fails_it():
    s = pd.Series(["ab", "abcd", "abcdefgh", None])
    assert Length("t", min=3, max=6).failures(s).tolist() == [True, False, True, False]
