"""Readable text for values in views: numbers to 4 significant digits, shares in %.

Views (the report's and the rule set's HTML, the plain-text report) show what
was observed and expected in words a person reads; JSON keeps full precision.

>>> readable({"duplicates": 3, "share": 0.0123456})
'duplicates 3, share 1.23 %'
>>> readable([0.123456, "a"]), readable(None)
('[0.1235, a]', '–')
"""

from __future__ import annotations

import math
from typing import Any

from beam_ml.rendering import clip, fmt, pct

# A value under a key with one of these words is a share of rows: shown in %.
SHARE_WORDS = ("share",)


def readable(value: Any, limit: int = 120, share: bool = False, words: bool = True) -> str:
    """``value`` as short readable text.

    ``share``: a bare number is a share of rows; ``words``: keys with spaces
    (``failing rows``), not as the YAML spells them (``failing_rows``).
    """
    return clip(_text(value, share, words), limit)


def _text(value: Any, share: bool = False, words: bool = True) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return pct(value) if share else fmt(value)
    if isinstance(value, dict):
        return ", ".join(
            f"{str(k).replace('_', ' ') if words else k} {_text(v, _is_share(k), words)}"
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v, False, words) for v in value) + "]"
    return str(value)


def _is_share(key: Any) -> bool:
    return any(word in str(key) for word in SHARE_WORDS)


# ---------------------------------------------------------------- numbers in the YAML


def sig(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits so the YAML stays readable.

    >>> sig(3.14159265), sig(0.000123456, 2)
    (3.142, 0.00012)
    """
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def floor_sig(x: float, margin: float | None = None) -> float:
    """Round ``x`` down, to a step a tenth of ``margin``'s order (4 digits without one)."""
    step = _step(x, margin)
    if not math.isfinite(x / step):  # an infinite bound, or one past what a float can step
        return float(x)
    return float(sig(math.floor(x / step) * step, 12))


def ceil_sig(x: float, margin: float | None = None) -> float:
    """Round ``x`` up, to a step a tenth of ``margin``'s order (4 digits without one).

    >>> ceil_sig(0.012345), ceil_sig(10.03, margin=2.0), ceil_sig(float("inf"))
    (0.01235, 10.1, inf)
    """
    step = _step(x, margin)
    if not math.isfinite(x / step):
        return float(x)
    return float(sig(math.ceil(x / step) * step, 12))


def _step(x: float, margin: float | None) -> float:
    scale = abs(margin) if margin else abs(x)
    if scale == 0 or not math.isfinite(scale):
        return 1e-6
    digits = 1 if margin else 3
    return float(10.0 ** (math.floor(math.log10(scale)) - digits))
