"""The pandas sample a read or transform step binds: a caption and its first rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from beam_ml.notebook.session import Session
from beam_ml.notebook.view_base import (
    StepView,
    _styled,
)
from beam_ml.rendering import render_macro


class FramePreview(StepView):
    """The pandas sample a read or transform step binds: a caption and its first rows."""

    @classmethod
    def for_step(cls, session: Session, name: str, result: Any) -> FramePreview:
        sample = session.sample_for(name)
        view = cls(name, result, sample, bad_records=session.bad_records(name))
        view.session = session
        view.watch(session, name)  # an edited step re-runs: its earlier output follows
        return view

    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        sample: int,
        rows: int = 10,
        bad_records: list[Any] | None = None,
    ) -> None:
        super().__init__()
        self.name, self.frame, self.sample, self.rows = name, frame, sample, rows
        self.result = frame
        self.bad_records = list(bad_records or [])
        self.session: Session | None = None

    def _set_result(self, result: Any) -> None:
        self.result = self.frame = result
        if self.session is not None and self.name is not None:
            self.sample = self.session.sample_for(self.name)
            self.bad_records = self.session.bad_records(self.name)

    def caption(self) -> str:
        """What the preview is: its shape, how it was sampled, how the file was read."""
        from beam_ml.sources import describe_sample

        shape = f"{len(self.frame):,} rows x {len(self.frame.columns)} columns"
        attrs = self.frame.attrs
        how = (
            describe_sample(attrs)
            if attrs.get("beam_ml_sample")
            else f"preview of up to {self.sample:,} rows"
        )
        text = f"{self.name}: {shape} ({how}, bound to {self.name})"
        read = attrs.get("beam_ml_read") or {}
        for option in read.get("detected", ()):
            text += f"; read with {option} {read.get(option)!r} (detected)"
        if self.bad_records:
            first = self.bad_records[0]
            text += (
                f"; {len(self.bad_records)} line(s) could not be read, "
                f"first: line {first.line}: {first.reason}"
            )
        return text

    def static_bundle(self) -> dict[str, Any]:
        head = self.frame.head(self.rows)
        return {
            "text/plain": f"{self.caption()}\n{head!r}",
            "text/html": _styled(
                render_macro(
                    "notebook.html", "frame", self.caption(), head.to_html(border=0, escape=True)
                )
            ),
        }
