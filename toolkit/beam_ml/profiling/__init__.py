"""The Beam-native profiler: per-column accumulators, sketches, Profile, ProfileDataset."""

from __future__ import annotations

from beam_ml.profiling.accumulators import (
    Added,
    ColumnAccumulator,
    CoMoments,
    DatasetAccumulator,
    HllRegisters,
    ProfileOptions,
    as_frame,
    batch_moments,
    finite_or_none,
    merge_moments,
    one_blas_thread,
    safe_text,
    unique_names,
)
from beam_ml.profiling.dataset import (
    Alert,
    ColumnProfile,
    Profile,
    ProfileDataset,
    profile,
    profile_dataframe,
)

__all__ = [
    "Added",
    "Alert",
    "CoMoments",
    "ColumnAccumulator",
    "ColumnProfile",
    "DatasetAccumulator",
    "HllRegisters",
    "Profile",
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
