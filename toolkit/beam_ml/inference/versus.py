"""Champion / challenger: 95 % intervals, paired and unpaired differences, a verdict.

Model ``a`` is the champion and ``b`` the challenger; every difference is
challenger minus champion. Classifiers are compared on accuracy, regressors on
MAE (lower is better).

- same rows through both (paired): McNemar's exact test on the discordant rows
  decides, and the difference's interval is Agresti–Min's (Wald on the table
  with 0.5 added to each cell); for MAE a normal interval on the per-row
  difference of absolute errors.
- traffic split between them (unpaired): Newcombe's hybrid score interval for
  two accuracies, Welch's normal interval for two MAEs; significant when the
  interval excludes 0.

>>> wilson_interval(45, 50)  # doctest: +ELLIPSIS
(0.78..., 0.95...)
>>> verdict(0.02, 0.08, True, 400)
'challenger better'
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "Z95",
    "mcnemar_p",
    "mean_interval",
    "paired_accuracy",
    "paired_mae",
    "unpaired",
    "verdict",
    "wilson_interval",
]

Z95 = 1.959963984540054  # the 97.5 % point of the standard normal


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson's score interval for a proportion ``k / n`` (None, None when n is 0)."""
    if n <= 0:
        return None, None
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def mean_interval(
    mean: float, variance: float, n: int, z: float = Z95
) -> tuple[float | None, float | None]:
    """The normal interval ``mean ± z·sqrt(variance / n)``.

    >>> mean_interval(1.0, 4.0, 100)  # doctest: +ELLIPSIS
    (0.608..., 1.39...)
    """
    if n <= 1 or not math.isfinite(variance):
        return None, None
    half = z * math.sqrt(variance / n)
    return _finite(mean - half), _finite(mean + half)


def _normal_p(diff: float, se: float) -> float | None:
    if not se > 0:
        return None if diff == 0 else 0.0
    return math.erfc(abs(diff / se) / math.sqrt(2))


def mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: ``b`` and ``c`` are the two discordant counts.

    >>> round(mcnemar_p(2, 12), 4)
    0.0129
    """
    n = b + c
    if not n:
        return 1.0
    from scipy.stats import binom

    return float(min(1.0, 2 * binom.cdf(min(b, c), n, 0.5)))


def verdict(
    low: float | None,
    high: float | None,
    higher_is_better: bool,
    rows: int,
    significant: bool | None = None,
) -> str:
    """'challenger better', 'champion better' or 'no significant difference on N rows'.

    ``low``/``high`` bound challenger − champion; ``significant`` overrides the
    "interval excludes 0" rule (McNemar decides paired accuracy).
    """
    if low is None or high is None:
        return f"no significant difference on {rows} rows"
    if significant is None:
        significant = low > 0 or high < 0
    if not significant:
        return f"no significant difference on {rows} rows"
    challenger_higher = (low + high) / 2 > 0
    return "challenger better" if challenger_higher == higher_is_better else "champion better"


def paired_accuracy(rows: int, champion_only: int, challenger_only: int) -> dict[str, Any]:
    """Paired accuracy difference: rows only the champion / only the challenger got right.

    >>> paired_accuracy(200, 5, 20)["verdict"]
    'challenger better'
    """
    b, c, n = champion_only, challenger_only, rows
    difference = (c - b) / n if n else None
    low = high = None
    if n:
        # Agresti–Min: the Wald interval of the table with 0.5 added to each cell
        b2, c2, n2 = b + 0.5, c + 0.5, n + 2
        d2 = (c2 - b2) / n2
        se = math.sqrt(max(b2 + c2 - (c2 - b2) ** 2 / n2, 0.0)) / n2
        low, high = max(-1.0, d2 - Z95 * se), min(1.0, d2 + Z95 * se)
    p = mcnemar_p(b, c)
    return {
        "metric": "accuracy",
        "paired": True,
        "rows": n,
        "test": "mcnemar",
        "p_value": p,
        "difference": difference,
        "difference_ci": [low, high],
        "discordant": {"champion_only": b, "challenger_only": c},
        "verdict": verdict(low, high, True, n, significant=bool(n) and p < 0.05),
    }


def paired_mae(rows: int, mean_diff: float, var_diff: float) -> dict[str, Any]:
    """Paired MAE difference from the per-row ``|e_challenger| - |e_champion|`` moments."""
    low, high = mean_interval(mean_diff, var_diff, rows)
    se = math.sqrt(var_diff / rows) if rows > 1 and math.isfinite(var_diff) else math.nan
    return {
        "metric": "mae",
        "paired": True,
        "rows": rows,
        "test": "normal",
        "p_value": _normal_p(mean_diff, se) if rows > 1 else None,
        "difference": mean_diff if rows else None,
        "difference_ci": [low, high],
        "verdict": verdict(low, high, False, rows),
    }


def unpaired(
    champion: dict[str, Any],
    challenger: dict[str, Any],
    champion_var: float = math.nan,
    challenger_var: float = math.nan,
) -> dict[str, Any]:
    """Two models on different rows (a traffic split): Newcombe (accuracy) or Welch (MAE).

    ``champion`` / ``challenger`` are their metric dicts; ``*_var`` the variance
    of each one's absolute errors (regression only).
    """
    n1, n2 = champion["rows"], challenger["rows"]
    rows = n1 + n2
    if champion["task"] == "classification":
        p1, p2 = champion.get("accuracy"), challenger.get("accuracy")
        out: dict[str, Any] = {
            "metric": "accuracy",
            "paired": False,
            "rows": rows,
            "test": "newcombe",
            "p_value": None,
        }
        if p1 is None or p2 is None:
            return {
                **out,
                "difference": None,
                "difference_ci": [None, None],
                "verdict": verdict(None, None, True, rows),
            }
        l1, u1 = wilson_interval(round(p1 * n1), n1)
        l2, u2 = wilson_interval(round(p2 * n2), n2)
        d = p2 - p1
        low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
        high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
        se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        out.update(
            difference=d,
            difference_ci=[low, high],
            p_value=_normal_p(d, se),
            verdict=verdict(low, high, True, rows),
        )
        return out
    m1, m2 = champion.get("mae"), challenger.get("mae")
    out = {"metric": "mae", "paired": False, "rows": rows, "test": "welch", "p_value": None}
    if m1 is None or m2 is None or n1 < 2 or n2 < 2:
        return {
            **out,
            "difference": None,
            "difference_ci": [None, None],
            "verdict": verdict(None, None, False, rows),
        }
    d = m2 - m1
    se = math.sqrt(champion_var / n1 + challenger_var / n2)
    low, high = (_finite(d - Z95 * se), _finite(d + Z95 * se))
    out.update(
        difference=d,
        difference_ci=[low, high],
        p_value=_normal_p(d, se),
        verdict=verdict(low, high, False, rows),
    )
    return out
