"""Drift of a column from its reference, computed from sketches: JS, PSI and L∞.

Numeric columns compare the shares of values in the reference's quantile bins
(read from the two KLL sketches); categorical columns compare value shares
(possibly top-k lists). The thresholds inference writes are here too.

>>> js_divergence([0.5, 0.5], [0.5, 0.5]), linf({"a": 1.0}, {"a": 0.75})
(0.0, 0.25)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from beam_ml.validation.display import sig
from beam_ml.validation.profile_view import ProfileView


def numeric_reference(
    view: ProfileView, name: str
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The reference's quantile-bin edges of ``name`` and the share of values per bin."""
    c = view.columns.get(name) or {}
    qh = c.get("quantile_histogram") or {}
    raw = [float(e) for e in (qh.get("edges") or []) if e is not None]
    edges = tuple(sorted({sig(e, 8) for e in raw if math.isfinite(e)}))
    if len(edges) < 2:
        return None
    probs = bin_probs(view, name, edges)
    return edges, tuple(sig(p, 6) for p in probs)


def bin_probs(view: ProfileView, name: str, edges: tuple[float, ...]) -> list[float]:
    """Share of values per bin: (-inf, e1], (e1, e2], ..., (e_{B-1}, +inf)."""
    inner = list(edges[1:-1])
    cdf = view.cdf(name, inner) if inner else []
    points = [0.0, *[min(max(v, 0.0), 1.0) for v in cdf], 1.0]
    probs = [max(points[i + 1] - points[i], 0.0) for i in range(len(points) - 1)]
    total = sum(probs) or 1.0
    return [p / total for p in probs]


def js_divergence(p: Iterable[float], q: Iterable[float]) -> float:
    """Jensen-Shannon divergence in bits (0 = same, 1 = disjoint).

    >>> js_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    """
    a, b = np.asarray(list(p), dtype=float), np.asarray(list(q), dtype=float)
    a, b = a / (a.sum() or 1.0), b / (b.sum() or 1.0)
    m = 0.5 * (a + b)

    def kl(x: np.ndarray) -> float:
        keep = x > 0
        return float(np.sum(x[keep] * np.log2(x[keep] / m[keep])))

    return max(0.0, 0.5 * kl(a) + 0.5 * kl(b))


def psi(expected: Iterable[float], actual: Iterable[float], eps: float = 1e-4) -> float:
    """Population stability index of two distributions over the same bins.

    >>> round(psi([0.5, 0.5], [0.5, 0.5]), 6)
    0.0
    """
    e = np.clip(np.asarray(list(expected), dtype=float), eps, None)
    a = np.clip(np.asarray(list(actual), dtype=float), eps, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def js_threshold(bins: int, n: int, kll_error: float) -> float:
    """A JS threshold a clean re-sample of ``n`` values over ``bins`` bins stays under."""
    # JS between two samples of about n values each is ~ chi2(B-1) / (4 n) nats:
    # its mean is (B-1)/(4 n ln 2) bits. Allow 3.5 times that (a chi2 tail of ~1e-3
    # for 10 bins), the sketches' rank error, and a small floor.
    return 0.02 + 3.5 * (bins - 1) / (4.0 * n * math.log(2)) + kll_error


def linf_threshold(n: int) -> float:
    """An L∞ threshold a clean re-sample of ``n`` values stays under (a 4-sigma margin)."""
    return 0.05 + 4.0 * math.sqrt(0.25 * 2.0 / max(n, 1))


def _unlisted(shares: dict[Any, float]) -> float:
    """The most an unlisted value can hold: 0 for a complete list, else the smallest listed."""
    if not shares or 1.0 - sum(shares.values()) <= 1e-6:
        return 0.0
    return min(shares.values())


def linf(expected: dict[Any, float], actual: dict[Any, float]) -> float:
    """L-infinity distance of two value-share maps, either possibly a top-k list.

    A value one side does not list holds at most that side's smallest listed
    share, so the result is a lower bound of the true distance (exact when both
    lists are complete).

    >>> linf({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.3, "c": 0.2})
    0.2
    """
    floor_e, floor_a = _unlisted(expected), _unlisted(actual)
    gaps = [0.0]
    for key in set(expected) | set(actual):
        if key in expected and key in actual:
            gaps.append(abs(expected[key] - actual[key]))
        elif key in expected:
            gaps.append(expected[key] - floor_a)
        else:
            gaps.append(actual[key] - floor_e)
    return max(0.0, round(max(gaps), 12))


def psi_categorical(expected: dict[Any, float], actual: dict[Any, float]) -> float:
    """PSI over the values both sides list, plus one bucket for all the rest."""
    common = sorted(set(expected) & set(actual), key=str)
    a = [expected[k] for k in common]
    b = [actual[k] for k in common]
    a.append(max(0.0, 1.0 - sum(a)))
    b.append(max(0.0, 1.0 - sum(b)))
    return psi(a, b)
