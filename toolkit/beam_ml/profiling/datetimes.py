"""Adding a batch of datetimes to a column (``DatetimeColumn``).

Instants are kept as int64 nanoseconds in UTC: exact min / max, and a KLL
sketch over float nanoseconds for the quantiles (exact to ~0.2 µs today,
reported rounded to the microsecond). A column with a time zone is reported in UTC.

>>> from beam_ml.profiling import ColumnAccumulator, ProfileOptions
>>> acc = ColumnAccumulator(ProfileOptions())
>>> _ = acc.add(pd.Series(pd.to_datetime(["2024-01-02", "2024-01-01"])))
>>> pd.Timestamp(acc.dt_min).isoformat(), acc.kinds
('2024-01-01T00:00:00', {'datetime': 2})
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from beam_ml.profiling.column_state import ColumnState
from beam_ml.profiling.sketches import kll_update_sorted


class DatetimeColumn(ColumnState):
    """A column's accumulator, with the ways to add datetimes."""

    def _add_datetime(self, values: pd.Series) -> np.ndarray:
        """Non-null datetimes (naive or with a zone); returns their hashes."""
        if getattr(values.dt, "tz", None) is not None:
            self.dt_utc = True
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
        return self._add_instants(ns)

    def _add_instants(self, ns: np.ndarray) -> np.ndarray:
        """Datetimes as int64 UTC nanoseconds, one per row; returns their hashes."""
        # one sort gives the distinct instants and their counts (faster than a hash table)
        sorted_ns = np.sort(ns)
        first = np.empty(len(ns), dtype=bool)
        first[:1] = True
        np.not_equal(sorted_ns[1:], sorted_ns[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        self._add_datetime_counts(sorted_ns[starts], np.diff(np.append(starts, len(ns))))
        return pd.util.hash_array(ns)

    def _add_datetime_counts(self, ns: np.ndarray, counts: np.ndarray) -> None:
        """Datetimes (int64 nanoseconds, unique) with their counts."""
        total = int(counts.sum())
        self.count += total
        self._kind("datetime", total)
        lo, hi = int(ns.min()), int(ns.max())
        self.dt_min = lo if self.dt_min is None else min(self.dt_min, lo)
        self.dt_max = hi if self.dt_max is None else max(self.dt_max, hi)
        # quantiles of instants: KLL over float nanoseconds (sorted: see kll_update_sorted)
        values = np.repeat(ns.astype(np.float64), counts)
        if len(values) > 1 and (values[1:] < values[:-1]).any():
            values.sort()
        kll_update_sorted(self.kll, values)
        zone = "UTC" if self.dt_utc else None

        def keys(idx: np.ndarray) -> list[str]:
            chosen = ns[idx]
            if not (chosen % 1_000_000_000).any():
                # whole seconds: numpy writes what Timestamp.isoformat() does, 20 times faster
                text = np.datetime_as_string(
                    (chosen // 1_000_000_000).astype("datetime64[s]")
                ).tolist()
                return [t + "+00:00" for t in text] if zone else text
            return [t.isoformat() for t in pd.DatetimeIndex(chosen, tz=zone)]

        self._feed(pd.util.hash_array(ns), counts, keys)
