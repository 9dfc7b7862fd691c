"""Exact, mergeable moments: one column's (n, mean, M2, M3, M4) and pairwise co-moments.

Moments merge with the Chan / Pébay formulas, so any split of the rows into
batches gives the same result as one pass. They are kept *scaled*: divided by a
power of two near the largest magnitude seen (:func:`moment_scale`), so
values such as ``1e308`` never overflow their squares or fourth powers (and
``1e-300`` never underflow). Ordinary magnitudes get the scale 1, and dividing by
a power of two is exact, so scaling changes no result of ordinary data.

>>> m, s = scaled_batch_moments(np.array([1e308, -1e308]))
>>> m[1] * s, math.sqrt(m[2] / (m[0] - 1)) * s
(0.0, 1.4142135623730951e+308)
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

Moments = tuple[float, float, float, float, float]
EMPTY_MOMENTS: Moments = (0, 0.0, 0.0, 0.0, 0.0)
_FAR = (-1074, 1023)  # the exponents of the smallest and largest powers of two
# magnitudes whose 4th powers (and sums of millions of them) stay normal floats: no scaling
_PLAIN = (2.0**-200, 2.0**200)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float, or None if it is missing, NaN or infinite.

    >>> finite_or_none(2), finite_or_none(float("inf")), finite_or_none(None)
    (2.0, None, None)
    """
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def merge_moments(a: Moments, b: Moments) -> Moments:
    """Merge (n, mean, M2, M3, M4) of two parts exactly (Chan et al., Pébay 2008).

    >>> merge_moments(batch_moments(np.array([1.0])), batch_moments(np.array([3.0])))[:3]
    (2, 2.0, 2.0)
    """
    na, ma, m2a, m3a, m4a = a
    nb, mb, m2b, m3b, m4b = b
    if nb == 0:
        return a
    if na == 0:
        return b
    n = na + nb
    d = mb - ma
    d_n = d / n
    mean = ma + d_n * nb
    m2 = m2a + m2b + d * d_n * na * nb
    m3 = m3a + m3b + d * d_n * d_n * na * nb * (na - nb) + 3.0 * d_n * (na * m2b - nb * m2a)
    m4 = (
        m4a
        + m4b
        + d * d_n**3 * na * nb * (na * na - na * nb + nb * nb)
        + 6.0 * d_n * d_n * (na * na * m2b + nb * nb * m2a)
        + 4.0 * d_n * (na * m3b - nb * m3a)
    )
    return (n, mean, m2, m3, m4)


def batch_moments(x: np.ndarray) -> Moments:
    """(n, mean, M2, M3, M4) of a finite float array, two-pass for accuracy.

    >>> batch_moments(np.array([1.0, 2.0, 3.0]))
    (3, 2.0, 2.0, 0.0, 2.0)
    """
    n = int(x.size)
    if n == 0:
        return EMPTY_MOMENTS
    mean = float(x.mean())
    d = x - mean
    d2 = d * d
    return (n, mean, float(d2.sum()), float((d2 * d).sum()), float((d2 * d2).sum()))


def power_of_two_scale(largest: Any) -> Any:
    """The power of two just above ``|largest|`` (elementwise).

    Zero gets the smallest power of two, so that merging a batch of zeros with
    any other batch keeps the other's scale; a non-finite value gets 1.

    >>> power_of_two_scale(3.0), power_of_two_scale(0.0), power_of_two_scale(1e308)
    (4.0, 5e-324, 8.98846567431158e+307)
    """
    a = np.abs(np.asarray(largest, dtype=np.float64))
    usable = np.isfinite(a) & (a > 0)
    exponent = np.frexp(np.where(usable, a, 1.0))[1]
    exponent = np.where(usable, exponent, np.where(a == 0, _FAR[0], 0))
    scale = np.ldexp(1.0, np.clip(exponent, *_FAR))
    return float(scale) if np.ndim(scale) == 0 else scale


def moment_scale(largest: Any) -> Any:
    """The scale for moments of values up to ``|largest|``: 1 for ordinary magnitudes
    (no division at all), else :func:`power_of_two_scale` (elementwise).

    >>> moment_scale(6300.0), moment_scale(1e308), moment_scale(0.0)
    (1.0, 8.98846567431158e+307, 5e-324)
    """
    a = np.abs(np.asarray(largest, dtype=np.float64))
    scale = np.where((a >= _PLAIN[0]) & (a < _PLAIN[1]), 1.0, power_of_two_scale(a))
    return float(scale) if np.ndim(scale) == 0 else scale


def scaled_batch_moments(x: np.ndarray) -> tuple[Moments, float]:
    """``batch_moments(x / scale)`` and ``scale``: moments that cannot overflow.

    >>> scaled_batch_moments(np.array([1.0, 3.0]))
    ((2, 2.0, 2.0, 0.0, 2.0), 1.0)
    >>> scaled_batch_moments(np.array([1e300, 3e300]))[1]
    5.357543035931337e+300
    """
    if not x.size:
        return EMPTY_MOMENTS, 1.0
    scale = moment_scale(np.abs(x).max())
    return batch_moments(x / scale if scale != 1.0 else x), scale


def rescale_moments(m: Moments, ratio: float) -> Moments:
    """Moments in units ``ratio`` times larger (``ratio`` a power of two: exact).

    >>> rescale_moments((2, 0.5, 0.125, 0.0, 0.0078125), 4.0)
    (2, 2.0, 2.0, 0.0, 2.0)
    """
    if ratio == 1.0:
        return m
    n, mean, m2, m3, m4 = m
    return (n, mean * ratio, m2 * ratio**2, m3 * ratio**3, m4 * ratio**4)


def merge_scaled_moments(a: Moments, sa: float, b: Moments, sb: float) -> tuple[Moments, float]:
    """Merge two scaled moments on the larger of their scales.

    >>> m, s = merge_scaled_moments(*scaled_batch_moments(np.array([1.0])),
    ...                             *scaled_batch_moments(np.array([3.0])))
    >>> m[1] * s, m[2] * s * s
    (2.0, 2.0)
    """
    if not b[0]:
        return a, sa
    if not a[0]:
        return b, sb
    scale = max(sa, sb)
    return merge_moments(rescale_moments(a, sa / scale), rescale_moments(b, sb / scale)), scale


class _SharedBlasLimit:
    """One BLAS limit for every thread inside :func:`one_blas_thread`.

    DirectRunner's worker threads profile batches at once: the first to enter sets the
    limit, the last to leave restores it (a limit per thread would restore out of order
    and could leave the user's process on one BLAS thread).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.controller: Any = None  # threadpoolctl's, made on first use
        self.loaded = False
        self.inside = 0  # threads inside one_blas_thread
        self.limit: Any = None  # the active limit while inside > 0

    def enter(self) -> None:
        with self.lock:
            if not self.loaded:
                self.loaded = True
                try:
                    from threadpoolctl import ThreadpoolController

                    self.controller = ThreadpoolController()
                except ImportError:  # optional: without it, products use BLAS's defaults
                    pass
            if self.controller is not None and self.inside == 0:
                self.limit = self.controller.limit(limits=1, user_api="blas")
            self.inside += 1

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1
            if self.inside == 0 and self.limit is not None:
                self.limit.restore_original_limits()
                self.limit = None


_BLAS = _SharedBlasLimit()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Small matrix products on one BLAS thread.

    With several processes on few cores, OpenBLAS's spinning threads make a
    20 x 50,000 product take seconds instead of a millisecond.

    >>> with one_blas_thread():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """
    _BLAS.enter()
    try:
        yield
    finally:
        _BLAS.leave()


def count_dtype(rows: int) -> type:
    """Float type for 0/1 matrix products that count rows: float32 (half the memory)
    while its sums stay exact, i.e. below 2**24 rows; float64 above.

    >>> count_dtype(1000).__name__, count_dtype(2**24).__name__
    ('float32', 'float64')
    """
    return np.float32 if rows < 2**24 else np.float64
