"""The Beam-native profiler: per-column accumulators, sketches, Profile, ProfileDataset.

>>> import pandas as pd
>>> from beam_ml.profiling import Profile
>>> Profile.from_frame(pd.DataFrame({"x": [1, 2, 3]})).columns["x"].max
3
"""

from __future__ import annotations

from beam_ml.profiling.accumulator import DatasetAccumulator, as_frame, unique_names
from beam_ml.profiling.alerts import ALERT_KINDS, Alert
from beam_ml.profiling.column import Added, ColumnAccumulator
from beam_ml.profiling.column_profile import QUANTILES, ColumnProfile
from beam_ml.profiling.comoments import CoMoments
from beam_ml.profiling.dataset import ProfileCombineFn, ProfileDataset, profile, profile_dataframe
from beam_ml.profiling.moments import batch_moments, finite_or_none, merge_moments, one_blas_thread
from beam_ml.profiling.options import ProfileOptions
from beam_ml.profiling.result import Profile
from beam_ml.profiling.sketches import FI_FEED, HllRegisters, safe_text

__all__ = [
    "ALERT_KINDS",
    "FI_FEED",
    "QUANTILES",
    "Added",
    "Alert",
    "CoMoments",
    "ColumnAccumulator",
    "ColumnProfile",
    "DatasetAccumulator",
    "HllRegisters",
    "Profile",
    "ProfileCombineFn",
    "ProfileDataset",
    "ProfileOptions",
    "as_frame",
    "batch_moments",
    "finite_or_none",
    "merge_moments",
    "one_blas_thread",
    "profile",
    "profile_dataframe",
    "safe_text",
    "unique_names",
]
