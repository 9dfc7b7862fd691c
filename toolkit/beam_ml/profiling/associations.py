"""Mergeable contingency counts of categorical column pairs, for Cramér's V (``CategoryPairs``).

Each tracked column keeps the exact set of its values' 64-bit hashes (the same
hashes the column accumulators make, so Python and Arrow strings agree) up to
``max_categories``; a column with more distinct values stops being tracked, in
every accumulator it is merged with, so the decision does not depend on how the
rows were split. Each pair of tracked columns keeps its exact counts (rows where
both are present), so memory is at most ``pairs x max_categories²`` counts.

At the end each column's ``top_k`` most frequent categories are kept and the rest
lumped together as "other" before Cramér's V is computed.

>>> pairs = CategoryPairs(10, 50)
>>> h = np.array([7, 9, 7, 9], dtype=np.uint64)  # the values' hashes
>>> pairs.add(["x", "y"], [h, h], [np.zeros(4, bool)] * 2, ["x", "y"])
>>> pairs.cramers_v(["x", "y"], 10)["values"]
[[1.0, 1.0], [1.0, 1.0]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from beam_ml.profiling.sketches import b64, unb64


class _Categories:
    """One column's distinct value hashes, each with a stable code (insertion order)."""

    def __init__(self, hashes: np.ndarray | None = None) -> None:
        self.hashes = np.zeros(0, dtype=np.uint64) if hashes is None else hashes
        self._sort()

    def _sort(self) -> None:
        self.order = np.argsort(self.hashes, kind="stable")
        self.sorted = self.hashes[self.order]

    def codes(self, hashes: np.ndarray) -> np.ndarray:
        """The code of each hash (all of them must be known)."""
        return self.order[np.searchsorted(self.sorted, hashes)]

    def extend(self, hashes: np.ndarray) -> None:
        """Give codes to the hashes not seen before (in sorted order)."""
        if len(self.sorted):
            pos = np.minimum(np.searchsorted(self.sorted, hashes), len(self.sorted) - 1)
            hashes = hashes[self.sorted[pos] != hashes]
        if not len(hashes):
            return
        new = np.sort(hashes)  # a sort: numpy 2's hash-based np.unique is slower here
        new = new[np.append(True, new[1:] != new[:-1])]
        self.hashes = np.concatenate([self.hashes, new])
        self._sort()


class CategoryPairs:
    """Exact contingency counts of the pairs of (few-valued) non-numeric columns."""

    def __init__(self, max_columns: int, max_categories: int) -> None:
        self.max_columns = max_columns
        self.max_categories = max_categories
        self.categories: dict[str, _Categories] = {}  # tracked columns, in first-seen order
        self.dropped: set[str] = set()  # too many categories, or counts incomplete
        self.counts: dict[tuple[str, str], np.ndarray] = {}
        self.complete = True  # False: some rows were never counted (an old saved state)

    def _track(self, name: str) -> bool:
        if name in self.categories:
            return True
        if name in self.dropped or len(self.categories) >= self.max_columns:
            # never tracked later either: its counts would miss these rows
            self.dropped.add(name)
            return False
        for other in self.categories:
            self.counts[(other, name)] = np.zeros((0, 0), dtype=np.int64)
        self.categories[name] = _Categories()
        return True

    def drop(self, name: str) -> None:
        """Stop tracking ``name`` (for good: merges drop it too)."""
        self.dropped.add(name)
        self.categories.pop(name, None)
        self.counts = {k: v for k, v in self.counts.items() if name not in k}

    def add(
        self,
        names: list[str],
        hashes: list[np.ndarray],
        isna: list[np.ndarray],
        present: list[str],
    ) -> None:
        """One batch: each non-numeric column's hash per row and null mask.

        ``present``: every column of the batch; a tracked column that came as
        numbers this time is dropped (its counts would miss these rows).
        """
        for name in set(self.categories) & (set(present) - set(names)):
            self.drop(name)
        codes: dict[str, np.ndarray] = {}
        for name, h, na in zip(names, hashes, isna, strict=True):
            if not self._track(name):
                continue
            cats = self.categories[name]
            known = h[~na] if na.any() else h
            cats.extend(known)
            if len(cats.hashes) > self.max_categories:
                self.drop(name)
                continue
            code = np.full(len(h), -1, dtype=np.int64)
            code[~na] = cats.codes(known)
            codes[name] = code
        for (a, b), table in list(self.counts.items()):
            if a in codes and b in codes:
                self.counts[(a, b)] = self._grown(table, a, b)
                ka, kb = len(self.categories[a].hashes), len(self.categories[b].hashes)
                both = (codes[a] >= 0) & (codes[b] >= 0)
                cells = codes[a][both] * kb + codes[b][both]
                self.counts[(a, b)] += np.bincount(cells, minlength=ka * kb).reshape(ka, kb)

    def _grown(self, table: np.ndarray, a: str, b: str) -> np.ndarray:
        ka, kb = len(self.categories[a].hashes), len(self.categories[b].hashes)
        if table.shape == (ka, kb):
            return table
        out = np.zeros((ka, kb), dtype=np.int64)
        out[: table.shape[0], : table.shape[1]] = table
        return out

    def merge(self, other: CategoryPairs, seen: set[str], other_seen: set[str]) -> None:
        """Merge ``other`` into this (in place); ``seen``: the columns each side has seen."""
        self.complete = self.complete and other.complete
        for name in other.dropped:
            self.drop(name)
        # a column one side saw but did not track (it came as numbers there): counts missing
        for name in set(self.categories) & other_seen - set(other.categories):
            self.drop(name)
        maps: dict[str, np.ndarray] = {}
        for name, cats in other.categories.items():
            if name in seen and name not in self.categories:
                self.drop(name)
                continue
            if not self._track(name):
                continue
            mine = self.categories[name]
            mine.extend(cats.hashes)
            if len(mine.hashes) > self.max_categories:
                self.drop(name)
                continue
            maps[name] = mine.codes(cats.hashes)
        for (a, b), table in other.counts.items():
            key = (a, b) if (a, b) in self.counts else (b, a)
            if key not in self.counts or a not in maps or b not in maps:
                continue
            grown = self._grown(self.counts[key], *key)
            table = other._grown(table, a, b)  # its tables grow only when a pair is counted
            if key == (a, b):
                grown[np.ix_(maps[a], maps[b])] += table
            else:
                grown[np.ix_(maps[b], maps[a])] += table.T
            self.counts[key] = grown

    def cramers_v(self, columns: list[str], top_k: int) -> dict[str, Any]:
        """Cramér's V of every pair of ``columns`` (None where it cannot be told)."""
        names = [c for c in columns if c in self.categories] if self.complete else []
        values: list[list[float | None]] = [[None] * len(names) for _ in names]
        for i, a in enumerate(names):
            values[i][i] = 1.0
            for j in range(i + 1, len(names)):
                b = names[j]
                table = self.counts.get((a, b))
                if table is None:
                    table = self.counts.get((b, a))
                    table = None if table is None else table.T
                v = None if table is None else cramers_v(self._grown(table, a, b), top_k)
                values[i][j] = values[j][i] = v
        return {"columns": names, "values": values}

    def to_state(self) -> dict[str, Any]:
        """Plain JSON types (hashes as base64, counts as nested lists)."""
        return {
            "max_columns": self.max_columns,
            "max_categories": self.max_categories,
            "categories": {
                name: b64(c.hashes.astype("<u8").tobytes()) for name, c in self.categories.items()
            },
            "dropped": sorted(self.dropped),
            "counts": [[a, b, t.tolist()] for (a, b), t in self.counts.items()],
            "complete": self.complete,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any] | None, max_columns: int, max_categories: int) -> Any:
        """The pairs of ``to_state()``'s output; None (a state from before pairs): incomplete."""
        if state is None:
            out = cls(max_columns, max_categories)
            out.complete = False
            return out
        out = cls(int(state["max_columns"]), int(state["max_categories"]))
        for name, text in state["categories"].items():
            hashes = np.frombuffer(unb64(text), dtype="<u8").astype(np.uint64)
            out.categories[name] = _Categories(hashes)
        out.dropped = set(state["dropped"])
        for a, b, table in state["counts"]:
            t = np.asarray(table, dtype=np.int64)
            out.counts[(a, b)] = t if t.ndim == 2 else np.zeros((0, 0), dtype=np.int64)
        out.complete = bool(state["complete"])
        return out


def cramers_v(table: np.ndarray, top_k: int) -> float | None:
    """Cramér's V of a contingency table, each side cut to its ``top_k`` categories + "other".

    >>> cramers_v(np.array([[10, 0], [0, 10]]), 10), cramers_v(np.array([[5, 5], [5, 5]]), 10)
    (1.0, 0.0)
    """
    t = _top(_top(np.asarray(table, dtype=np.float64), top_k).T, top_k).T
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n = float(t.sum())
    k = min(t.shape)
    if k < 2 or n <= 0:
        return None
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    chi2 = float(((t - expected) ** 2 / expected).sum())
    v = math.sqrt(max(chi2, 0.0) / (n * (k - 1)))
    return min(v, 1.0)


def _top(t: np.ndarray, top_k: int) -> np.ndarray:
    """Rows of ``t`` cut to the ``top_k`` largest totals, the others summed as one row."""
    if t.shape[0] <= top_k + 1:
        return t
    order = np.argsort(-t.sum(axis=1), kind="stable")
    return np.vstack([t[order[:top_k]], t[order[top_k:]].sum(axis=0, keepdims=True)])


__all__ = ["CategoryPairs", "cramers_v"]
