"""Bounds that hold for a fresh sample of the size being checked, from reference statistics.

Inference writes a rule's ``calibration`` (the reference's size and the
statistics its bounds come from); at check time the bounds are recomputed for
the checked data's size ``m``: a statistic of two independent samples of sizes
``n`` and ``m`` differs by about ``sd * sqrt(1/n + 1/m)``, so a small batch gets
wider bounds than a month of data. Without a calibration the written bounds hold.

>>> [round(b, 4) for b in mean_bounds({"rows": 100, "center": 10.0, "sd": 2.0, "z": 4.0,
...                                    "slack": 0.0}, 100)]
[8.8686, 11.1314]
>>> round(z_quantile(0.99), 3), round(chi2_quantile(9, 0.99), 1)
(2.326, 21.7)
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

# Standard errors of width the inferred error-level bounds allow (two-sided ~6e-5
# under a normal law: tens of rules per table, a false alarm on few tables).
Z_ERROR = 4.0
# ... and the distribution-level (warn) bounds: mean, std, quantiles.
Z_WARN = 4.0
# The false-alarm rate each inferred drift threshold is set for.
DRIFT_ALPHA = 0.01


def z_quantile(q: float) -> float:
    """The standard normal ``q`` quantile."""
    return float(NormalDist().inv_cdf(q))


def chi2_quantile(k: int, q: float) -> float:
    """The ``q`` quantile of a chi-square law with ``k`` degrees of freedom (Wilson–Hilferty).

    >>> round(chi2_quantile(1, 0.95), 2)
    3.84
    """
    if k <= 0:
        return 0.0
    if k == 1:  # exact: the square of a normal
        return z_quantile(0.5 + q / 2.0) ** 2
    z = z_quantile(q)
    a = 2.0 / (9.0 * k)
    return float(k * (1.0 - a + z * math.sqrt(a)) ** 3)


def pair_factor(n: float, m: float) -> float:
    """``sqrt(1/n + 1/m)``: how a difference of two sample statistics scales."""
    return math.sqrt(1.0 / max(n, 1.0) + 1.0 / max(m, 1.0))


def mean_bounds(cal: dict[str, Any], m: float) -> tuple[float, float]:
    """Mean bounds for ``m`` values: center ± (z sd sqrt(1/n + 1/m) + slack)."""
    half = float(cal["z"]) * float(cal["sd"]) * pair_factor(cal["rows"], m) + float(cal["slack"])
    return float(cal["center"]) - half, float(cal["center"]) + half


def std_bounds(cal: dict[str, Any], m: float) -> tuple[float, float]:
    """Std bounds for ``m`` values, on the log scale: log sd has sd ``spread * sqrt(1/n+1/m)``.

    ``spread`` is sqrt((kurtosis - 1) / 4), the large-sample sd of log s (inflated
    by inference for heavy tails, whose kurtosis a sample underestimates).
    """
    half = float(cal["z"]) * float(cal["spread"]) * pair_factor(cal["rows"], m) + float(
        cal["slack"]
    )
    center = math.log(float(cal["center"]))
    return _exp(center - half), _exp(center + half)


def _exp(x: float) -> float:
    """``exp(x)``, infinite past the largest float (a std near 1e308 has no upper bound)."""
    return math.exp(x) if x < 709.0 else math.inf


def share_limit(cal: dict[str, Any], m: float) -> float:
    """The most a share (nulls, duplicates) may reach in ``m`` rows: a binomial bound.

    ``share`` p was seen in ``rows`` n; p~ = (k + 1) / (n + 2) keeps a zero share
    from giving a zero margin.
    """
    n = float(cal["rows"])
    p = float(cal["share"])
    smooth = (p * n + 1.0) / (n + 2.0)
    sd = math.sqrt(smooth * (1.0 - smooth)) * pair_factor(n, m)
    return min(1.0, p + float(cal["z"]) * sd + float(cal["slack"]))


def bounded(cal: dict[str, Any] | None, m: int, fn: Any, written: Any) -> Any:
    """``fn(cal, m)`` when the rule carries a calibration and a size is known, else ``written``."""
    if cal is None or not m:
        return written
    return fn(cal, m)
