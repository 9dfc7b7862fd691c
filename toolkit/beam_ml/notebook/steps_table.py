"""What ``%beam_ml steps`` shows: each step, its kind, its spec, sample and cache state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from beam_ml.rendering import HtmlRepr, render

HEAD = ("step", "kind", "spec", "sample", "cached")


@dataclass(frozen=True)
class StepsTable(HtmlRepr):
    """The session's steps as a table (``Session.to_dict()``), as text and HTML."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(json.dumps(self.data, default=str))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        rows = []
        for s in self.data["steps"]:
            detail = {k: v for k, v in s.items() if k not in ("kind", "name", "sample", "cached")}
            rows.append(
                (
                    str(s.get("name")),
                    str(s.get("kind")),
                    _truncate(json.dumps(detail, default=str), 120),
                    str(s.get("sample")),
                    "yes" if s.get("cached") else "no",
                )
            )
        return rows

    def _text(self) -> str:
        rows = self.rows()
        if not rows:
            return "no steps yet: %beam_ml read NAME PATH"
        widths = [max(len(r[i]) for r in [HEAD, *rows]) for i in range(len(HEAD))]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [HEAD, *rows]
        )

    def to_html(self) -> str:
        return render("steps.html", head=HEAD, rows=self.rows(), empty=self._text())


def _truncate(text: str, limit: int) -> str:
    # Not one_line(): that folds spaces, and a body's spaces are the user's data.
    return text if len(text) <= limit else text[: limit - 1] + "…"
