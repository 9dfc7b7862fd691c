"""Drift of a column from its reference, computed from sketches: JS, PSI, L∞ and KS.

Numeric columns compare the shares of values in the reference's quantile bins
(read from the two KLL sketches) or the two cdfs (Kolmogorov–Smirnov);
categorical columns compare value shares (possibly top-k lists). Each
threshold is what a clean re-sample of the two sizes stays under at a stated
false-alarm rate ``alpha``, plus what the sketches' rank error can add:

- KS: the two-sample Kolmogorov law, ``c(alpha) sqrt(1/n + 1/m)`` with
  ``c = sqrt(-ln(alpha / 2) / 2)``, plus both sketches' rank errors;
- PSI and JS over B bins: ``n m / (n + m)`` times PSI (or 8 ln 2 times JS in
  bits) is about chi-square with B - 1 degrees of freedom;
- L∞ over K values: the largest of K binomial differences (a Bonferroni bound).

>>> js_divergence([0.5, 0.5], [0.5, 0.5]), linf({"a": 1.0}, {"a": 0.75})
(0.0, 0.25)
>>> round(ks_threshold(1000, 1000, 0.01, 0.0), 4)
0.0728
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from beam_ml.validation.calibrate import chi2_quantile, pair_factor, z_quantile
from beam_ml.validation.display import sig
from beam_ml.validation.profile_view import ProfileView

# Reference cdf points a ks_distance rule keeps (at ranks 1/KS_POINTS ...).
KS_POINTS = 40


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


def ks_threshold(n: float, m: float, alpha: float, rank_error: float) -> float:
    """The KS distance two clean samples of ``n`` and ``m`` values exceed with chance ``alpha``.

    The two-sample Kolmogorov asymptotic, plus the rank error of both sketches
    (``rank_error`` each), which can move either cdf by that much.
    """
    c = math.sqrt(-math.log(alpha / 2.0) / 2.0)
    return c * pair_factor(n, m) + 2.0 * rank_error


def _rank_term(probs: Iterable[float], rank_error: float) -> float:
    """What a rank error of 2 ``rank_error`` per bin can add to a chi-square-like distance."""
    delta = 2.0 * rank_error
    return float(sum(delta * delta / max(p, delta) for p in probs))


def psi_threshold(
    probs: Iterable[float], n: float, m: float, alpha: float, rank_error: float = 0.0
) -> float:
    """A PSI threshold over the reference's bins ``probs`` for samples of ``n`` and ``m``."""
    probs = [p for p in probs]
    bins = sum(1 for p in probs if p > 0) or len(probs)
    stat = chi2_quantile(max(bins - 1, 1), 1.0 - alpha) * pair_factor(n, m) ** 2
    return stat + _rank_term(probs, rank_error)


def js_threshold(
    probs: Iterable[float], n: float, m: float, alpha: float, rank_error: float = 0.0
) -> float:
    """A JS threshold (bits) over the reference's bins ``probs``: PSI's, over 8 ln 2."""
    return psi_threshold(probs, n, m, alpha, rank_error) / (8.0 * math.log(2.0))


def linf_threshold(
    shares: Iterable[float], n: float, m: float, alpha: float, top_error: float = 0.0
) -> float:
    """An L∞ threshold over value shares: the largest of K binomial gaps at rate ``alpha``."""
    shares = [float(p) for p in shares]
    k = max(len(shares), 1)
    z = z_quantile(1.0 - alpha / (2.0 * k))
    smooth = [min(max(p, 1.0 / max(n, 1.0)), 0.5) for p in shares] or [0.5]
    spread = max(math.sqrt(p * (1.0 - p)) for p in smooth)
    return z * spread * pair_factor(n, m) + 1.0 / max(n, 1.0) + 2.0 * top_error


def ks_reference(
    view: ProfileView, name: str
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The reference's points (values at ranks i / KS_POINTS) of ``name`` and its cdf there."""
    c = view.columns.get(name) or {}
    if not c.get("count"):
        return None
    raw = view.quantiles(name, [i / KS_POINTS for i in range(1, KS_POINTS)])
    points = tuple(sorted({sig(v, 8) for v in raw if math.isfinite(v)}))
    if not points:
        return None
    return points, tuple(sig(v, 6) for v in view.cdf(name, list(points)))


def ks_distance(
    view: ProfileView, name: str, points: Iterable[float], cdf: Iterable[float]
) -> float:
    """Largest gap between the reference cdf at ``points`` and the checked data's sketch."""
    points = [float(p) for p in points]
    now = view.cdf(name, points)
    return max((abs(a - float(b)) for a, b in zip(now, cdf, strict=True)), default=0.0)


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
