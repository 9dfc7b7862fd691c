"""The read step: a file or glob (CSV, Parquet, JSON Lines) as pandas batches.

Its preview is a uniform random sample of the whole input (a seeded bottom-k
over a hash of each row's position, memory bounded by the sample), so the
notebook sees every part of a sorted file; ``head=True`` keeps the first rows.

>>> ReadStep("penguins", "penguins.csv").inputs()
()
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from beam_ml.errors import check_choice
from beam_ml.steps.base import PreviewContext, Step, StepPreview, attach, check_str
from beam_ml.steps.forms_common import add_read_options, positive_int, read_options
from beam_ml.steps.forms_stream import add_stream_options, check_stream_fields, stream_options


@dataclass(frozen=True)
class ReadStep(Step):
    """Read ``path`` (a file or glob; csv, parquet or json lines) as pandas batches.

    ``head`` only changes the preview: the first rows instead of a uniform sample.

    >>> ReadStep("penguins", "penguins.csv").to_dict()["kind"]
    'read'
    """

    path: str = ""
    format: str | None = None
    head: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    header: bool = True
    # streaming: watch the pattern for new files, in windows of ``window``; rows
    # take their time from ``event_time`` (else the time their file was found);
    # ``schema`` ({column: dtype} as JSON) is what the export saw, as a folder may start empty
    watch: bool = False
    window: str | None = None
    event_time: str | None = None
    schema: str | None = None
    binds_name: ClassVar[bool] = True
    previews_with_beam: ClassVar[bool] = False
    kind: ClassVar[str] = "read"
    position: ClassVar[int] = 0
    files: ClassVar[tuple[str, ...]] = ("bad_records-*.jsonl",)
    view: ClassVar[str] = "beam_ml.notebook.widgets:FramePreview"
    usage: ClassVar[str] = (
        "%beam_ml read NAME PATH [--format csv|parquet|json] [--sample N] [--head] "
        "[--encoding E] [--delimiter D] [--no-header] [--watch [--window 60s] [--event-time COL]]"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.path, os.PathLike):
            object.__setattr__(self, "path", os.fspath(self.path))
        check_str("path", self.path)
        if self.format is not None:
            from beam_ml.sources import FORMATS

            check_choice("format", self.format, FORMATS)
        for flag in ("head", "header"):
            if not isinstance(getattr(self, flag), bool):
                object.__setattr__(self, flag, bool(getattr(self, flag)))
        check_str("encoding", self.encoding, optional=True)
        check_str("delimiter", self.delimiter, optional=True)
        check_stream_fields(self)
        self.source()  # an unknown encoding or an option the format refuses fails now

    def source(self, path: str | None = None) -> Any:
        """The :class:`~beam_ml.sources.Source` this step reads, with its read options."""
        from beam_ml.sources import Source

        options = {"encoding": self.encoding, "delimiter": self.delimiter}
        given: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if not self.header:
            given["header"] = False
        return Source(path=path or self.path, format=self.format, **given)

    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.sources import ReadBatches, proxy

        source = self.source()
        read = pipeline | "Read" >> ReadBatches(source)
        return attach(read.batches, proxy=proxy(source), bad_records=read.bad_records)

    def apply_streaming(self, pipeline: Any, settings: Any) -> Any:
        """The files that land in the pattern, read as they land, windowed (see streaming)."""
        from beam_ml.streaming import WatchFiles

        event_time = settings.event_time.get(self.name, self.event_time)
        read = pipeline | self.name >> WatchFiles(self.source(), settings, event_time)
        return attach(read["batches"], proxy=self.proxy(), bad_records=read["bad_records"])

    def proxy(self) -> Any:
        """The empty frame of the columns: the recorded ``schema``, else the first file's."""
        import json

        import pandas as pd

        if self.schema is None:
            from beam_ml.sources import proxy

            return proxy(self.source())
        types = json.loads(self.schema)
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in types.items()})

    def outputs(self, result: Any) -> dict[str, Any]:
        from beam_ml.steps.base import bad_records_of

        bad = bad_records_of(result)
        return {} if bad is None else {"bad_records": bad}

    def preview(self, inputs: dict[str, StepPreview], context: PreviewContext) -> StepPreview:
        """A bounded sample read upstream (never the whole file into memory)."""
        from beam_ml import sources
        from beam_ml.runner import tracking

        bad: list[Any] = []
        if self.head:
            frame = sources.head(self.source(), context.sample, bad_records=bad)
        else:
            with tracking():  # the whole file is scanned: its rows show while it reads
                frame = sources.sample(
                    self.source(), context.sample, seed=context.seed, bad_records=bad
                )
        if self.watch:
            from beam_ml.steps.forms_stream import note_windows

            note_windows(self, frame)
        return StepPreview(frame, rows=frame, extra={"bad_records": bad})

    def module_args(self, option: Any) -> dict[str, str | None]:
        fmt = f" ({self.format})" if self.format else ""
        return {"path": option("path", self.path, f"input of step {self.name}{fmt}", input=True)}

    def watched_files(self) -> list[str]:
        import glob

        # a glob: the files it matches now (one added or removed re-runs the read)
        return sorted(glob.glob(self.path)) if glob.has_magic(self.path) else [self.path]

    def module_inputs(self, preview: StepPreview, folder: Path) -> dict[str, str]:
        """Write the preview sample in the step's own format, for the module to read."""
        frame = preview.rows
        fmt = self.source().format
        suffix = {"csv": "csv", "parquet": "parquet", "json": "jsonl"}[fmt]
        path = folder / f"{self.name}.{suffix}"
        if frame is None:
            return {}
        if fmt == "csv":  # in the step's own dialect: the module reads it with the step's options
            sep = {"tab": "\t"}.get(self.delimiter or ",", self.delimiter or ",")
            frame.to_csv(
                path, index=False, sep=sep, encoding=self.encoding or "utf-8", header=self.header
            )
        elif fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_json(path, orient="records", lines=True, date_format="iso")
        return {f"{self.name}_path": str(path)}

    def parity(self, folder: Path, preview: StepPreview) -> tuple[bool, str]:
        rows = 0 if preview.rows is None else len(preview.rows)
        return True, f"input: the module read the {rows}-row sample"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", choices=("csv", "parquet", "json"))
        parser.add_argument("--sample", type=positive_int)
        parser.add_argument("--head", action="store_true")
        add_read_options(parser, format=False)
        add_stream_options(parser)

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        o = options
        step = cls(name=o.name, path=o.path, head=o.head, **read_options(o), **stream_options(o))
        return step, o.sample
