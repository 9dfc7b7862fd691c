"""Profile options round-trip through the state and ignore keys they do not know."""

from __future__ import annotations

import pandas as pd
from beam_ml.profiling import Profile, ProfileOptions


def test_options_round_trip_and_drive_the_finished_profile():
    options = ProfileOptions(top_k=2, bins=5, thresholds={"missing": 0.5})
    assert ProfileOptions.from_dict({**options.to_dict(), "later": 1}) == options
    p = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0, None]}), options)
    assert len(p.columns["x"].histogram["counts"]) == 5
    assert not [a for a in p.alerts if a.kind == "missing"]  # 25 % < the 50 % threshold
    assert Profile.from_state(p.state).columns["x"].histogram == p.columns["x"].histogram
