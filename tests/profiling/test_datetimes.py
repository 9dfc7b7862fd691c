"""Datetime columns: exact min / max, quantiles to the microsecond, zones reported in UTC."""

from __future__ import annotations

import pandas as pd
from beam_ml.profiling import Profile


def test_zoned_datetimes_are_reported_in_utc():
    times = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-06-01 12:30"]).tz_localize("CET"))
    c = Profile.from_frame(pd.DataFrame({"t": times})).columns["t"]
    assert c.type == "datetime"
    assert c.min == "2024-01-01T09:00:00+00:00" and c.max == "2024-06-01T10:30:00+00:00"
    assert c.quantiles["0.5"].endswith("+00:00")


def test_datetime_quantiles_are_rounded_to_the_microsecond():
    text = ["2024-01-01 00:00:00.0000004", "2024-01-01 00:00:01.0000000"]
    times = pd.Series(pd.to_datetime(text))
    c = Profile.from_frame(pd.DataFrame({"t": times})).columns["t"]
    assert c.quantiles["0.01"] == "2024-01-01T00:00:00"
    assert c.count == 2 and c.distinct == 2
