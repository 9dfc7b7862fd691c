"""Run a pipeline and bring its results back into this process; report its progress.

On DirectRunner options (or none) a pipeline runs on :class:`beam_ml.local_runner.LocalRunner`:
the same DoFns and CombineFns in this process, without the FnApiRunner's fixed
cost (a 1,000-row preview in milliseconds, not a second). A pipeline it does not
run (a stateful DoFn, windows, a ``Read``...) runs on DirectRunner instead, as does
every run when ``BEAM_ML_RUNNER=direct`` is set.

On other runners results travel through files in a temporary folder, not through
process memory, so the same code works on DirectRunner with
``--direct_running_mode=multi_processing`` and on any runner that can write to
the folder (pass ``temp_location`` for a remote one).

Progress: the read transforms call :func:`count_rows`, a Beam counter
(``beam_ml/rows_read``) that also feeds a live tally for the runners in this
process; :func:`watch_progress` listeners get :class:`RunProgress` while a run
lasts (the CLI's progress bar and the notebook's progress line use it).
Ctrl-C during a run raises :class:`Interrupted`, a ``KeyboardInterrupt`` that says
how far the run got.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.options.pipeline_options import (
    DirectOptions,
    GoogleCloudOptions,
    PipelineOptions,
    StandardOptions,
)
from apache_beam.runners.runner import PipelineState

from beam_ml.errors import BeamMLError, one_line

_LOG = logging.getLogger(__name__)
# BEAM_ML_RUNNER=direct: every run on DirectRunner (never the local runner)
RUNNER_ENV = "BEAM_ML_RUNNER"
ROWS_NAMESPACE = "beam_ml"
ROWS_READ = "rows_read"
_ROWS = Metrics.counter(ROWS_NAMESPACE, ROWS_READ)


class FastOptions(PipelineOptions):
    """``PipelineOptions`` whose views are made once per class, then reused.

    Beam builds a new view (an argparse parser over hundreds of flags) each time
    it calls ``options.view_as(...)`` — a few hundred times while a validation
    graph is built: most of its construction time. Views share one store of
    values, so handing back the same view is the same thing, only faster.

    >>> FastOptions([]).view_as(StandardOptions) is FastOptions([]).view_as(StandardOptions)
    False
    """

    def view_as(self, cls: Any) -> Any:
        views = self.__dict__.setdefault("_views", {})
        view = views.get(cls)
        if view is None:
            view = views[cls] = super().view_as(cls)
        return view

    def __getstate__(self) -> Any:
        state = dict(super().__getstate__())
        state.pop("_views", None)  # rebuilt on use; a copy must not share the views
        return state


def pipeline_options(options: Any = None) -> Any:
    """Make ``PipelineOptions`` from None (DirectRunner), a list of flags, a dict or options.

    >>> pipeline_options(["--runner=DirectRunner"]).view_as(StandardOptions).runner
    'DirectRunner'
    """
    if options is None:
        return FastOptions(["--runner=DirectRunner"])
    if isinstance(options, PipelineOptions):
        return options
    if isinstance(options, dict):
        return FastOptions(**options)
    if isinstance(options, Sequence) and not isinstance(options, str):
        return FastOptions(list(options))
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
    On DirectRunner options (or None) it runs on the local runner when it can
    (see the module doc); ``build`` is called again if DirectRunner must run it.

    >>> import apache_beam as beam
    >>> sorted(run_and_collect(lambda p: p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * 2)))
    [2, 4, 6]
    """
    opts = pipeline_options(options)
    with tracking() as live:
        if uses_local_runner(opts):
            from beam_ml.local_runner import Unsupported

            try:
                return _run_local(build, opts, on_result)
            except Unsupported as why:
                _LOG.debug("local runner: %s; running on DirectRunner", why)
                live.reset()
        return _run_beam(build, opts, on_result, live)


def uses_local_runner(options: Any) -> bool:
    """Whether runs with ``options`` go to the local runner (DirectRunner, in memory, batch).

    >>> uses_local_runner(pipeline_options(None))
    True
    >>> uses_local_runner(pipeline_options(["--runner=PrismRunner"]))
    False
    """
    if os.environ.get(RUNNER_ENV, "").lower() in ("direct", "directrunner"):
        return False
    standard = options.view_as(StandardOptions)
    runner = standard.runner
    name = runner if isinstance(runner, str) or runner is None else type(runner).__name__
    if name not in (None, "DirectRunner", "direct", "SwitchingDirectRunner", "LocalRunner"):
        return False
    direct = options.view_as(DirectOptions)
    workers = direct.direct_num_workers
    return (
        not standard.streaming
        and direct.direct_running_mode in (None, "in_memory")
        and workers in (None, 0, 1)
    )


def _collected(outputs: Any, read: Callable[[str, Any], list[Any]]) -> Any:
    named = outputs if isinstance(outputs, dict) else {"result": outputs}
    collected = {name: read(name, pcoll) for name, pcoll in named.items()}
    return collected if isinstance(outputs, dict) else collected["result"]


def _run_local(build: Callable[[Any], Any], opts: Any, on_result: Any) -> Any:
    from beam_ml.local_runner import LocalRunner, Unsupported

    runner = LocalRunner()
    pipeline = beam.Pipeline(runner=runner, options=opts)
    outputs = build(pipeline)
    for pcoll in (outputs if isinstance(outputs, dict) else {"r": outputs}).values():
        runner.keep(pcoll)
    try:
        with quiet_beam_logs():
            result = pipeline.run(test_runner_api=False)
    except Unsupported:
        raise
    except BaseException as error:
        raise _failure(error) from error
    if on_result is not None:
        on_result(result)
    return _collected(outputs, lambda name, pcoll: result.elements(pcoll))  # type: ignore[attr-defined]


def _run_beam(build: Callable[[Any], Any], opts: Any, on_result: Any, live: _Live) -> Any:
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
                _follow(result, live)
                result.wait_until_finish()
        except BaseException as error:
            raise _failure(error) from error
        if on_result is not None:
            on_result(result)
        return _collected(outputs, lambda name, pcoll: _read_folder(os.path.join(root, name)))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _follow(result: Any, live: _Live) -> None:
    """While a runner that returns at once runs, poll its ``rows_read`` counter."""
    state = getattr(result, "state", PipelineState.DONE)
    while not PipelineState.is_terminal(state):
        try:
            result.wait_until_finish(duration=500)
            found = result.metrics().query(MetricsFilter().with_name(ROWS_READ))["counters"]
            live.rows = max(live.rows, sum(int(r.attempted or 0) for r in found))
        except Exception:  # a runner that cannot wait for a while or be queried: just wait
            return
        state = result.state


# --------------------------------------------------------------------------- progress


def count_rows(rows: int) -> None:
    """Count ``rows`` read: the ``beam_ml/rows_read`` counter, and the live tally of this process.

    The read DoFns call it for each batch; the counter is what every runner
    reports, the tally is what runners in this process show while they run.

    >>> count_rows(0)
    """
    _ROWS.inc(rows)
    tally = _CURRENT[-1] if _CURRENT else None
    if tally is not None:
        tally.add(rows)


@dataclass(frozen=True)
class RunProgress:
    """How far the running pipeline is: rows read so far and seconds elapsed.

    >>> RunProgress(1234, 2.5).text()
    '1,234 rows read, 2.5 s'
    """

    rows: int
    elapsed: float
    done: bool = False

    def text(self) -> str:
        return f"{self.rows:,} rows read, {self.elapsed:.1f} s"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or the notebook's interrupt) stopped a run; the message says how far it got."""

    def __init__(self, progress: RunProgress) -> None:
        super().__init__(f"interrupted after {progress.text()}; nothing was written")
        self.progress = progress

    def __str__(self) -> str:
        return str(self.args[0])


class _Live:
    """The rows read by the run in progress, counted as the read DoFns report them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows = 0
        self.started = time.perf_counter()

    def add(self, rows: int) -> None:
        with self.lock:
            self.rows += int(rows)

    def reset(self) -> None:
        with self.lock:
            self.rows = 0

    def progress(self, done: bool = False) -> RunProgress:
        return RunProgress(self.rows, time.perf_counter() - self.started, done)


_CURRENT: list[_Live] = []  # the runs in progress in this process (innermost last)
_LISTENERS: list[Callable[[RunProgress], None]] = []
PROGRESS_INTERVAL = 0.25  # seconds between two reports to the listeners


def watch_progress(listener: Callable[[RunProgress], None]) -> Callable[[], None]:
    """Call ``listener(RunProgress)`` every 0.25 s while a run lasts, and once at its end.

    Calls come from a background thread; returns an unsubscribe.

    >>> stop = watch_progress(print); stop()
    """
    _LISTENERS.append(listener)
    return lambda: _LISTENERS.remove(listener) if listener in _LISTENERS else None


def current_progress() -> RunProgress | None:
    """The progress of the run in progress in this process, if any."""
    return _CURRENT[-1].progress() if _CURRENT else None


def _tell(progress: RunProgress) -> None:
    for listener in list(_LISTENERS):
        try:
            listener(progress)
        except Exception as error:  # a progress display must never fail the run
            _LOG.debug("progress listener failed: %s", error)


@contextlib.contextmanager
def tracking() -> Iterator[_Live]:
    """Count the rows read inside the block (``count_rows``) and tell the listeners.

    Every :func:`run_and_collect` runs inside one; code that reads without Beam
    (a preview's sampling) can use it too, so its rows show while it reads.

    >>> with tracking() as live:
    ...     count_rows(5)
    >>> live.rows
    5
    """
    live = _Live()
    _CURRENT.append(live)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(PROGRESS_INTERVAL):
            _tell(live.progress())

    ticker = threading.Thread(target=tick, name="beam-ml-progress", daemon=True)
    if _LISTENERS:
        ticker.start()
    try:
        yield live
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join()
        _CURRENT.remove(live)
        if _LISTENERS:
            _tell(live.progress(done=True))


def _failure(error: BaseException) -> BaseException:
    """The exception to raise for a failed run: Ctrl-C as :class:`Interrupted`, else unwrapped."""
    if isinstance(error, Interrupted):
        return error
    if _interrupted(error):
        live = _CURRENT[-1] if _CURRENT else _Live()
        return Interrupted(live.progress(done=True))
    return unwrap_error(error)


def _interrupted(error: BaseException) -> bool:
    # Beam's DoFnRunner turns a KeyboardInterrupt inside a DoFn into a RuntimeError
    # whose message starts with its name, the KeyboardInterrupt as its context.
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt):
            return True
        if str(current).startswith("KeyboardInterrupt"):
            return True
        current = current.__cause__ or current.__context__
    return False


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
