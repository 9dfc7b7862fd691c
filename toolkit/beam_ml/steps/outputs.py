"""The files an exported module writes: one folder per step, JSON Lines shards or one JSON.

Rows are JSON Lines shards written by Beam's ``WriteToText`` (any runner, any
file system Beam knows: local, gs://, s3://, hdfs://), one text element per
batch; a profile or a report is one JSON file. Which PCollections a step writes
is the step's own :meth:`~beam_ml.steps.base.Step.outputs`.

>>> frame_lines(pd.DataFrame({"a": [1, None]}))
['{"a":1.0}', '{"a":null}']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pandas as pd

from beam_ml.steps.base import KINDS, Step

__all__ = ["frame_lines", "frame_text", "output_layout", "write_outputs"]


def output_layout() -> dict[str, list[str]]:
    """Step kind -> the files it writes under ``<output>/<step>/``."""
    return {kind: list(cls.files) for kind, cls in KINDS.items()}


def _json_text(frame: pd.DataFrame) -> str:
    """The rows of a DataFrame as JSON lines (NaN/None -> null, dates in ISO 8601)."""
    flat = frame.reset_index(drop=True)
    flat.columns = [str(c) for c in flat.columns]
    text = flat.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
    return str(text).rstrip("\n")


def frame_lines(frame: pd.DataFrame) -> list[str]:
    """The rows of a DataFrame as JSON lines, one string per row."""
    if not len(frame):
        return []
    # JSON escapes a newline inside a value, so a line is a row
    return _json_text(frame).split("\n")


def frame_text(frame: pd.DataFrame) -> list[str]:
    """A batch's JSON lines as one text element ([] for an empty batch).

    WriteToText ends each element with a newline, so the file is the same as
    with one element per row, but Beam's per-element cost is paid per batch:
    one element per row made writing most of an exported pipeline's run time.
    """
    return [_json_text(frame)] if len(frame) else []


def _write_text(text: str, path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(path) as handle:
        handle.write(text.encode("utf-8"))


def _report_json(report: Any) -> str:
    return str(report.to_json(indent=2))


def _profile_json(profile: Any) -> str:
    return str(profile.to_json(indent=2))


def _join(base: str, name: str) -> str:
    """``base/name`` on any file system, even one whose client is not installed here
    (the launcher of a Dataflow job may lack gcsfs; its workers do not)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        return str(FileSystems.join(base, name))
    except ValueError:
        return base.rstrip("/") + "/" + name


def _bad_record_lines(record: Any) -> list[str]:
    return [json.dumps(record.to_dict())]


# file stem -> how its PCollection becomes text, and whether it is one file or shards
_WRITERS: dict[str, tuple[Callable[[Any], Any], bool]] = {
    "bad_records": (_bad_record_lines, False),
    "rows": (frame_text, False),
    "invalid": (frame_text, False),
    "predictions": (frame_text, False),
    "errors": (frame_text, False),
    "profile.json": (_profile_json, True),
    "report.json": (_report_json, True),
}


class _WriteOutputs(beam.PTransform):
    """``{stem: PCollection}`` -> files under ``folder`` (JSON Lines shards or one JSON)."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def expand(self, outputs: dict[str, Any]) -> Any:
        written = {}
        for stem, pcoll in outputs.items():
            to_text, single = _WRITERS[stem]
            path = _join(self.folder, stem)
            if single:
                written[stem] = (
                    pcoll
                    | f"{stem}/Json" >> beam.Map(to_text)
                    | f"{stem}/Write" >> beam.Map(_write_text, path)
                )
            else:
                lines = pcoll | f"{stem}/Lines" >> beam.FlatMap(to_text)
                written[stem] = lines | f"{stem}/Write" >> beam.io.WriteToText(
                    path, file_name_suffix=".jsonl"
                )
        return written


def write_outputs(step: Step, result: Any, output: str) -> Any:
    """Write a step's outputs under ``output/<step name>/`` (see :func:`output_layout`).

    One composite labelled ``Write[<step>]``.
    """
    outputs = step.outputs(result)
    if not outputs:
        return None
    return outputs | f"Write[{step.name}]" >> _WriteOutputs(_join(output, step.name))
