"""Per-window outputs: ``<output>/<step>/window=<start>/<stem>`` written as each window closes.

A step's outputs (:meth:`~beam_ml.steps.base.Step.outputs`, the same stems a
batch module writes) are grouped per window — Beam emits a window's group when
the watermark passes its end — and each group becomes one file, written under a
temporary name and renamed, so a reader never sees half a file. Rows are JSON
Lines (``rows.jsonl``, ``invalid.jsonl``, ``predictions.jsonl``...), a profile
or report one JSON file. Data that arrives late (within the allowed lateness)
closes the window again: its file is ``<stem>-pane<N>``.

>>> output_name("report.json", 0), output_name("rows", 2)
('report.json', 'rows-pane2.jsonl')
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
import pandas as pd

from beam_ml.steps import frame_text
from beam_ml.streaming.windows import window_name


def output_name(stem: str, pane: int) -> str:
    """The file name of ``stem`` in a window's folder, for the window's ``pane``-th firing."""
    single = stem.endswith(".json")
    base = stem[: -len(".json")] if single else stem
    suffix = ".json" if single else ".jsonl"
    return f"{base}{suffix}" if pane == 0 else f"{base}-pane{pane}{suffix}"


def text_of(value: Any) -> list[str]:
    """An output element as text: a batch as JSON lines, a report or profile as JSON."""
    if isinstance(value, pd.DataFrame):
        return frame_text(value)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return [str(to_json(indent=2))]
    to_dict = getattr(value, "to_dict", None)
    return [json.dumps(to_dict() if callable(to_dict) else value, default=str)]


def _join(base: str, *names: str) -> str:
    from apache_beam.io.filesystems import FileSystems

    return str(FileSystems.join(base, *names))


class _WriteWindow(beam.DoFn):
    """``(stem, texts)`` of one window pane -> one file in the window's folder."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def process(
        self,
        element: tuple[str, Any],
        window: Any = beam.DoFn.WindowParam,
        pane: Any = beam.DoFn.PaneInfoParam,
    ) -> Iterator[str]:
        from apache_beam.io.filesystems import FileSystems

        stem, texts = element
        parts = [t for t in texts if t]
        if not parts:
            return
        start = float(window.start.micros) / 1e6
        folder = _join(self.folder, window_name(start))
        index = int(getattr(pane, "index", 0) or 0)
        if stem.endswith(".json") and len(parts) > 1:  # one report per pane is expected
            names = [output_name(f"{stem[:-5]}-{i}.json", index) for i in range(len(parts))]
        else:
            names = [output_name(stem, index)]
            parts = ["\n".join(parts)]
        for name, text in zip(names, parts, strict=True):
            final = _join(folder, name)
            temp = _join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
            with FileSystems.create(temp) as handle:
                handle.write((text.rstrip("\n") + "\n").encode("utf-8"))
            FileSystems.rename([temp], [final])
            yield final


class WriteWindows(beam.PTransform):
    """``{stem: windowed PCollection}`` -> a file per stem per window under ``folder``."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def expand(self, outputs: dict[str, Any]) -> Any:
        written = []
        for stem, pcoll in outputs.items():
            written.append(
                pcoll
                | f"{stem}/Text" >> beam.FlatMap(lambda v, s=stem: [(s, t) for t in text_of(v)])
                | f"{stem}/PerWindow" >> beam.GroupByKey()
                | f"{stem}/Write" >> beam.ParDo(_WriteWindow(self.folder))
            )
        return tuple(written) | "Written" >> beam.Flatten() if written else None


def write_windows(step: Any, result: Any, output: str) -> Any:
    """Write a step's outputs per window under ``output/<step name>/window=<start>/``."""
    outputs = step.outputs(result)
    if not outputs:
        return None
    return outputs | f"Write[{step.name}]" >> WriteWindows(_join(output, step.name))
