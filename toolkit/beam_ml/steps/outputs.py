"""The files an exported module writes: one folder per step, row shards or one JSON.

Rows are JSON Lines shards written by Beam's ``WriteToText`` (any runner, any
file system Beam knows: local, gs://, s3://, hdfs://), one text element per
batch, or with ``output_format="parquet"`` Parquet shards written by Beam's
file sink (:mod:`beam_ml.steps.parquet_output`: the column types of the data).
Both write each shard under a temporary name and rename it when the write is
complete. A profile or a report is one JSON file, written under a temporary name
and renamed (:func:`beam_ml.writing.write_beam_file`). Bad records stay JSON
Lines in both formats: they are the lines that could not be read, not rows.
Which PCollections a step writes is the step's own
:meth:`~beam_ml.steps.base.Step.outputs`.

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

__all__ = [
    "OUTPUT_FORMATS",
    "check_output_format",
    "frame_lines",
    "frame_text",
    "output_layout",
    "write_outputs",
]

# formats of row outputs; the first is the default
OUTPUT_FORMATS = ("jsonl", "parquet")


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
    from beam_ml.writing import write_beam_file

    # a killed run leaves a hidden .tmp file, never a half-written report.json
    write_beam_file(path, text.encode("utf-8"))


def _report_json(report: Any) -> str:
    return str(report.to_json(indent=2))


def _metrics_json(metrics: Any) -> str:
    return json.dumps(metrics, indent=2, sort_keys=True)


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


# file stem -> how its PCollection becomes text, and its shape: one file, row shards
# (DataFrame batches: JSON Lines or Parquet) or record shards (always JSON Lines)
_WRITERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "bad_records": (_bad_record_lines, "records"),
    "rows": (frame_text, "rows"),
    "invalid": (frame_text, "rows"),
    "predictions": (frame_text, "rows"),
    "errors": (frame_text, "rows"),
    "profile.json": (_profile_json, "one"),
    "report.json": (_report_json, "one"),
    "metrics.json": (_metrics_json, "one"),
}


def check_output_format(output_format: str) -> str:
    """``output_format`` if it is one of :data:`OUTPUT_FORMATS`, else one clear error."""
    if output_format not in OUTPUT_FORMATS:
        from beam_ml.errors import BeamMLError

        raise BeamMLError.expected(
            f"an output format among {', '.join(OUTPUT_FORMATS)}",
            repr(output_format),
            "e.g. --output_format parquet",
        )
    return output_format


class _WriteOutputs(beam.PTransform):
    """``{stem: PCollection}`` -> files under ``folder`` (row shards or one JSON)."""

    def __init__(self, folder: str, output_format: str = "jsonl") -> None:
        super().__init__()
        self.folder = folder
        self.output_format = check_output_format(output_format)

    def expand(self, outputs: dict[str, Any]) -> Any:
        from beam_ml.steps.base import proxy_of
        from beam_ml.steps.parquet_output import WriteParquetShards

        written = {}
        for stem, pcoll in outputs.items():
            to_text, shape = _WRITERS[stem]
            path = _join(self.folder, stem)
            if shape == "one":
                written[stem] = (
                    pcoll
                    | f"{stem}/Json" >> beam.Map(to_text)
                    | f"{stem}/Write" >> beam.Map(_write_text, path)
                )
            elif shape == "rows" and self.output_format == "parquet":
                written[stem] = pcoll | f"{stem}/Parquet" >> WriteParquetShards(
                    path, proxy_of(pcoll)
                )
            else:
                lines = pcoll | f"{stem}/Lines" >> beam.FlatMap(to_text)
                written[stem] = lines | f"{stem}/Write" >> beam.io.WriteToText(
                    path, file_name_suffix=".jsonl"
                )
        return written


def write_outputs(step: Step, result: Any, output: str, output_format: str = "jsonl") -> Any:
    """Write a step's outputs under ``output/<step name>/`` (see :func:`output_layout`).

    ``output_format`` is ``"jsonl"`` or ``"parquet"`` for row outputs (shards
    ``<stem>-*.jsonl`` or ``<stem>-*.parquet``); profiles and reports are JSON
    either way. One composite labelled ``Write[<step>]``.
    """
    outputs = step.outputs(result)
    if not outputs:
        return None
    folder = _join(output, step.name)
    return outputs | f"Write[{step.name}]" >> _WriteOutputs(folder, output_format)
