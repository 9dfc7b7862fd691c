"""Pairwise-complete co-moments of numeric columns, merged exactly, for Pearson correlations.

Like a column's moments, a column of extreme magnitudes is divided by a power of
two near its largest (exact), so columns holding ``1e308`` do not overflow.

>>> x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, np.nan]])
>>> CoMoments.from_batch(["a", "b"], x).pearson().tolist()
[[1.0, 1.0], [1.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from beam_ml.profiling.moments import count_dtype, moment_scale, one_blas_thread

_MATRICES = ("n", "mx", "my", "mxx", "myy", "cxy")


class CoMoments:
    """Pairwise-complete co-moments of numeric columns, for Pearson correlations.

    For each pair (i, j), over the rows where both are finite: the count, both
    means, both sums of squared deviations and the co-deviation; merged exactly.
    Column i's values are in units of ``scale[i]`` (a power of two).
    """

    def __init__(self, names: list[str] | None = None) -> None:
        self.names: list[str] = list(names or [])
        p = len(self.names)
        self.scale = np.ones(p)
        self.n = np.zeros((p, p))
        self.mx = np.zeros((p, p))
        self.my = np.zeros((p, p))
        self.mxx = np.zeros((p, p))
        self.myy = np.zeros((p, p))
        self.cxy = np.zeros((p, p))

    @classmethod
    def from_batch(cls, names: list[str], x: np.ndarray, overwrite: bool = False) -> CoMoments:
        """``x``: rows x columns floats, NaN where a value is missing or not finite.

        ``overwrite=True`` lets it centre ``x`` in place (a float64 array the
        caller owns): one batch-sized temporary less at the profiler's peak.
        Columns in Fortran order (``np.stack(columns).T``) are the fastest.
        """
        out = cls(names)
        rows, p = x.shape
        x0 = x if overwrite and x.dtype == np.float64 else np.array(x, dtype=np.float64)
        invalid = np.isnan(x0)
        counts = rows - np.count_nonzero(invalid, axis=0)
        holes = np.flatnonzero(counts < rows)
        for j in holes:  # only the columns with holes are masked (column by column)
            x0[invalid[:, j], j] = 0.0
        if rows:
            out.scale = moment_scale(np.maximum(x0.max(axis=0), -x0.min(axis=0)))
            if (out.scale != 1.0).any():
                x0 /= out.scale
        # centre on each column's batch mean first: keeps the sums well conditioned
        sums = x0.sum(axis=0)
        centre = np.divide(sums, counts, out=np.zeros(p), where=counts > 0)
        x0 -= centre
        for j in holes:
            x0[invalid[:, j], j] = 0.0
        with one_blas_thread():
            sxy = x0.T @ x0
        # pairs whose second column has no hole in this batch: column sums suffice
        n = np.repeat(counts[:, None].astype(np.float64), p, axis=1)
        sx = np.repeat(x0.sum(axis=0)[:, None], p, axis=1)  # sum x_i where i, j valid
        sxx = np.repeat(np.diag(sxy)[:, None], p, axis=1)
        if holes.size:
            # float masks (a bool operand makes matmul skip BLAS), the hole columns in Fortran order
            valid = np.logical_not(invalid).astype(count_dtype(rows))
            mh = np.asfortranarray(valid[:, holes])
            mh64 = mh.astype(np.float64)
            with one_blas_thread():
                n[:, holes] = valid.T @ mh
                sx[:, holes] = x0.T @ mh64
                np.multiply(x0, x0, out=x0)  # x0 is not needed after this
                sxx[:, holes] = x0.T @ mh64
        sy = sx.T
        syy = sxx.T
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(n > 0, n, 1.0)
            out.n = n
            out.mx = sx / safe + centre[:, None]
            out.my = sy / safe + centre[None, :]
            out.mxx = sxx - sx * sx / safe
            out.myy = syy - sy * sy / safe
            out.cxy = sxy - sx * sy / safe
        return out

    def _aligned(self, names: list[str], scale: np.ndarray) -> CoMoments:
        """These co-moments over ``names`` (zeros for new pairs), in units of ``scale``."""
        out = CoMoments(names)
        out.scale = scale
        pos = {name: i for i, name in enumerate(names)}
        idx = np.array([pos[name] for name in self.names], dtype=np.intp)
        # a power-of-two ratio <= 1: rescaling is exact but for negligible underflow
        r = self.scale / scale[idx]
        rx, ry = r[:, None], r[None, :]
        factors = {"n": 1.0, "mx": rx, "my": ry, "mxx": rx * rx, "myy": ry * ry, "cxy": rx * ry}
        for attr in _MATRICES:
            getattr(out, attr)[np.ix_(idx, idx)] = getattr(self, attr) * factors[attr]
        return out

    def merge(self, other: CoMoments) -> CoMoments:
        """The co-moments of both parts (a new object; neither side changes)."""
        names = self.names + [c for c in other.names if c not in set(self.names)]
        pos = {name: i for i, name in enumerate(names)}
        scale = np.zeros(len(names))
        for part in (self, other):
            idx = np.array([pos[c] for c in part.names], dtype=np.intp)
            scale[idx] = np.maximum(scale[idx], part.scale)
        a, b = self._aligned(names, scale), other._aligned(names, scale)
        out = CoMoments(names)
        out.scale = scale
        n = a.n + b.n
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(n > 0, n, 1.0)
            dx = b.mx - a.mx
            dy = b.my - a.my
            w = a.n * b.n / safe
            out.n = n
            out.mx = a.mx + dx * b.n / safe
            out.my = a.my + dy * b.n / safe
            out.mxx = a.mxx + b.mxx + dx * dx * w
            out.myy = a.myy + b.myy + dy * dy * w
            out.cxy = a.cxy + b.cxy + dx * dy * w
        return out

    def pearson(self) -> np.ndarray:
        """Pearson's r of every pair (NaN where fewer than 2 rows or no variance)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = self.cxy / np.sqrt(self.mxx * self.myy)
        r[(self.n < 2) | ~np.isfinite(r)] = np.nan
        r = np.clip(r, -1.0, 1.0)
        np.fill_diagonal(r, np.where(np.diag(self.n) >= 2, 1.0, np.nan))
        return r

    def to_state(self) -> dict[str, Any]:
        """Plain JSON types."""
        state: dict[str, Any] = {"names": self.names, "scale": self.scale.tolist()}
        for attr in _MATRICES:
            state[attr] = getattr(self, attr).tolist()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CoMoments:
        """The co-moments of ``to_state()``'s output."""
        out = cls(state["names"])
        p = len(out.names)
        # states written before the scale existed are in plain units
        out.scale = np.asarray(state.get("scale", [1.0] * p), dtype=np.float64).reshape(p)
        for attr in _MATRICES:
            setattr(out, attr, np.asarray(state[attr], dtype=np.float64).reshape(p, p))
        return out
