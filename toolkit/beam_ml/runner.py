"""Run a pipeline and bring its results back into this process.

Results travel through files in a temporary folder, not through process memory,
so the same code works on the in-process DirectRunner, on DirectRunner with
``--direct_running_mode=multi_processing``, and on any runner that can write to
the folder (pass ``temp_location`` for a remote one).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions

from beam_ml.errors import BeamMLError, one_line


def pipeline_options(options: Any = None) -> Any:
    """Make ``PipelineOptions`` from None (DirectRunner), a list of flags, a dict or options.

    >>> pipeline_options(["--runner=DirectRunner"]).view_as(object)  # doctest: +SKIP
    """
    if options is None:
        return PipelineOptions(["--runner=DirectRunner"])
    if isinstance(options, PipelineOptions):
        return options
    if isinstance(options, dict):
        return PipelineOptions(**options)
    if isinstance(options, Sequence) and not isinstance(options, str):
        return PipelineOptions(list(options))
    raise BeamMLError.expected(
        "pipeline options as None, a list of flags, a dict or PipelineOptions",
        type(options).__name__,
    )


class _WritePickles(beam.DoFn):
    """Write each element of one output into its own pickle file."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder

    def process(self, element: Any) -> Iterator[None]:
        name = FileSystems.join(self.folder, f"{uuid.uuid4().hex}.pkl")
        with FileSystems.create(name) as handle:
            handle.write(pickle.dumps(element, protocol=pickle.HIGHEST_PROTOCOL))
        yield from ()


def run_and_collect(
    build: Callable[[Any], Any],
    options: Any = None,
    on_result: Callable[[Any], None] | None = None,
) -> Any:
    """Build a pipeline with ``build(p)``, run it, and return what it produced.

    ``build`` returns one PCollection (you get a list of its elements, in no
    particular order) or a dict of them (you get a dict of lists).
    ``on_result`` receives the finished ``PipelineResult`` (e.g. for its metrics).

    >>> import apache_beam as beam
    >>> run_and_collect(lambda p: p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 2))
    ... # doctest: +SKIP
    [2, 4, 6]
    """
    opts = pipeline_options(options)
    temp_root = _temp_root(opts)
    root = tempfile.mkdtemp(prefix="beam-ml-", dir=temp_root)
    try:
        pipeline = beam.Pipeline(options=opts)
        outputs = build(pipeline)
        named = outputs if isinstance(outputs, dict) else {"result": outputs}
        for name, pcoll in named.items():
            folder = os.path.join(root, name)
            os.makedirs(folder)
            _ = pcoll | f"Collect {name}" >> beam.ParDo(_WritePickles(folder))
        try:
            with quiet_beam_logs():
                result = pipeline.run()
                result.wait_until_finish()
        except Exception as error:
            raise unwrap_error(error) from error
        if on_result is not None:
            on_result(result)
        collected = {name: _read_folder(os.path.join(root, name)) for name in named}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return collected if isinstance(outputs, dict) else collected["result"]


@contextlib.contextmanager
def quiet_beam_logs(level: int = logging.CRITICAL) -> Iterator[None]:
    """Silence Beam's own log lines while a pipeline runs.

    A failing DoFn makes Beam log the whole traceback before it raises; the
    user gets our one-line error instead. Set BEAM_ML_VERBOSE=1 to see them.
    """
    if os.environ.get("BEAM_ML_VERBOSE"):
        yield
        return
    logger = logging.getLogger("apache_beam")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _temp_root(options: Any) -> str | None:
    location = options.view_as(GoogleCloudOptions).temp_location
    return location if location and os.path.isdir(location) else None


def _read_folder(folder: str) -> list[Any]:
    items = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            items.append(pickle.load(handle))
    return items


_MARKER = "BeamMLError: "


def unwrap_error(error: BaseException) -> BaseException:
    """Turn a pipeline failure caused by a BeamMLError back into that one-line error.

    Runners wrap a DoFn's exception in their own, with a long traceback in the
    message; the user should see the sentence we wrote for them.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BeamMLError):
            return BeamMLError(_strip_step(str(current)))
        current = current.__cause__ or current.__context__
    text = str(error)
    if _MARKER in text:
        message = text.split(_MARKER, 1)[1].splitlines()[0]
        return BeamMLError(_strip_step(message))
    return error


def _strip_step(message: str) -> str:
    # Beam appends " [while running 'Step']" to a DoFn's exception message.
    return one_line(message.split(" [while running", 1)[0])
