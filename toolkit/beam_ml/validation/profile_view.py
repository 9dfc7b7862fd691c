"""What the checks and the inference read from a Profile: its dict, cdf and quantiles.

>>> view = as_view(bml.profile(df))           # doctest: +SKIP
>>> view.null_share("x"), view.quantile("x", 0.5)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from beam_ml.errors import BeamMLError


class ProfileView:
    """The parts of a Profile the checks read: its dict, plus cdf/quantile."""

    def __init__(self, profile: Any) -> None:
        self.profile = profile
        self.data = profile.to_dict()
        self.rows = int(self.data["rows"])
        self.columns: dict[str, dict[str, Any]] = self.data["columns"]

    def col(self, name: str) -> dict[str, Any] | None:
        return self.columns.get(name)

    def null_share(self, name: str) -> float:
        c = self.columns[name]
        return nulls(c) / self.rows if self.rows else 0.0

    def cdf(self, name: str, points: list[float]) -> list[float]:
        return [float(v) for v in self.profile.cdf(name, [float(p) for p in points])]

    def quantile(self, name: str, q: float) -> float:
        return self.quantiles(name, [q])[0]

    def quantiles(self, name: str, qs: list[float]) -> list[float]:
        return [float(v) for v in self.profile.quantiles(name, qs)]

    def values(self, name: str) -> list[tuple[Any, int]] | None:
        """Every distinct value with its count, if the profile has them all."""
        c = self.columns[name]
        listed = c.get("values") or c.get("top") or []
        pairs = [(v, int(n)) for v, n in listed]
        count = int(c.get("count") or 0)
        exact = int(c.get("top_error") or 0) == 0
        if c.get("values") is not None or (pairs and exact and sum(n for _, n in pairs) == count):
            return pairs
        return None

    def shares(self, name: str) -> dict[Any, float]:
        c = self.columns[name]
        listed = c.get("values") or c.get("top") or []
        count = int(c.get("count") or 0) or 1
        return {value_key(v): n / count for v, n in listed}

    @property
    def kll_error(self) -> float:
        return float((self.data.get("error_bounds") or {}).get("kll_rank") or 0.02)


def nulls(c: dict[str, Any]) -> int:
    """The null count of one column's profile dict."""
    return int(c.get("nulls") or 0)


def distinct(c: dict[str, Any]) -> int:
    """The (estimated) distinct count of one column's profile dict."""
    return int(c.get("distinct") or 0)


def value_key(value: Any) -> Any:
    """Value as a dict key that matches across CSV reads (2007 == 2007.0 == '2007')."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_view(profile: Any) -> ProfileView:
    """``profile`` (a Profile, or a view of one) as a `ProfileView`; else a clear error."""
    if isinstance(profile, ProfileView):
        return profile
    if not (hasattr(profile, "to_dict") and hasattr(profile, "cdf")):
        raise BeamMLError.expected(
            "a Profile",
            type(profile).__name__,
            "pass bml.profile(data), or validate(data, reference=path) to profile it for you",
        )
    return ProfileView(profile)


def outlier_share(
    view: ProfileView, name: str, method: str, fence: float, mean: float, std: float
) -> float | None:
    """Share of values beyond the z-score or IQR fences, read from the sketch's cdf."""
    if method == "zscore":
        if not std > 0:
            return 0.0
        lo, hi = mean - fence * std, mean + fence * std
    else:
        q1, q3 = view.quantile(name, 0.25), view.quantile(name, 0.75)
        iqr = q3 - q1
        lo, hi = q1 - fence * iqr, q3 + fence * iqr
    below, upto = view.cdf(name, [lo, hi])
    return max(0.0, min(1.0, below + (1.0 - upto)))
