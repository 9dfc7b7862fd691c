"""runner: which runner a run goes to, its fallback, its metrics, and Ctrl-C as one error."""

from __future__ import annotations

import threading
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import StandardOptions
from beam_ml.errors import BeamMLError
from beam_ml.local_runner import LocalRunner, Unsupported
from beam_ml.runner import (
    ROWS_READ,
    RUNNER_ENV,
    FastOptions,
    Interrupted,
    RunProgress,
    count_rows,
    pipeline_options,
    run_and_collect,
    uses_local_runner,
    watch_progress,
)


def _runner_of(build: Any, options: Any = None) -> str:
    finished: list[Any] = []
    run_and_collect(build, options, on_result=finished.append)
    return type(finished[0]).__name__


def test_previews_on_directrunner_options_run_on_the_local_runner(monkeypatch) -> None:
    monkeypatch.delenv(RUNNER_ENV, raising=False)
    build = lambda p: p | beam.Create([1, 2]) | beam.Map(str)  # noqa: E731
    assert _runner_of(build) == "LocalResult"
    assert _runner_of(build, ["--runner=DirectRunner"]) == "LocalResult"
    assert sorted(run_and_collect(build)) == ["1", "2"]


@pytest.mark.parametrize(
    "flags",
    [["--direct_running_mode=multi_processing", "--direct_num_workers=2"], ["--streaming"]],
)
def test_options_that_ask_for_directrunner_features_are_not_sent_to_the_local_runner(flags):
    assert not uses_local_runner(pipeline_options(["--runner=DirectRunner", *flags]))


def test_the_environment_variable_forces_directrunner(monkeypatch) -> None:
    monkeypatch.setenv(RUNNER_ENV, "direct")
    assert _runner_of(lambda p: p | beam.Create([1])) != "LocalResult"


def test_an_unsupported_graph_is_refused_before_anything_runs() -> None:
    ran: list[int] = []

    class Stateful(beam.DoFn):
        from apache_beam.transforms.userstate import CombiningValueStateSpec

        STATE = CombiningValueStateSpec("n", sum)

        def process(self, kv: Any, state: Any = beam.DoFn.StateParam(STATE)) -> Any:  # noqa: B008
            ran.append(1)
            yield kv

    p = beam.Pipeline(runner=LocalRunner())
    _ = (
        p
        | beam.Create([("a", 1)])
        | beam.Map(lambda kv: ran.append(0) or kv)
        | beam.ParDo(Stateful())
    )
    with pytest.raises(Unsupported, match="stateful DoFn"):
        p.run(test_runner_api=False)
    assert ran == []


def test_a_stateful_dofn_falls_back_to_directrunner_with_the_same_result() -> None:
    from apache_beam.transforms.userstate import CombiningValueStateSpec

    class Running(beam.DoFn):
        TOTAL = CombiningValueStateSpec("total", sum)

        def process(self, kv: Any, total: Any = beam.DoFn.StateParam(TOTAL)) -> Any:  # noqa: B008
            total.add(kv[1])
            yield kv[0], total.read()

    def build(p: Any) -> Any:
        return p | beam.Create([("a", 1), ("a", 2), ("b", 5)]) | beam.ParDo(Running())

    finished: list[Any] = []
    got = run_and_collect(build, None, on_result=finished.append)
    assert type(finished[0]).__name__ != "LocalResult"
    assert sorted(got) in ([("a", 1), ("a", 3), ("b", 5)], [("a", 2), ("a", 3), ("b", 5)])


def test_a_beam_ml_error_inside_a_dofn_comes_back_as_its_one_line() -> None:
    def fail(x: Any) -> Any:
        raise BeamMLError("expected a positive number, got -1")

    with pytest.raises(BeamMLError) as info:
        run_and_collect(lambda p: p | beam.Create([-1]) | beam.Map(fail))
    assert str(info.value) == "expected a positive number, got -1"


def test_ctrl_c_inside_a_dofn_becomes_interrupted_with_the_rows_read() -> None:
    def stop(batch: Any) -> Any:
        count_rows(7)
        raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run_and_collect(lambda p: p | beam.Create([1]) | beam.Map(stop))
    assert isinstance(info.value, KeyboardInterrupt)
    assert str(info.value).startswith("interrupted after 7 rows read")


def test_rows_read_are_a_beam_counter_and_reach_the_listeners() -> None:
    seen: list[RunProgress] = []
    lock = threading.Lock()

    def listen(progress: RunProgress) -> None:
        with lock:
            seen.append(progress)

    def build(p: Any) -> Any:
        return p | beam.Create([3, 4]) | beam.Map(lambda n: count_rows(n) or n)

    finished: list[Any] = []
    stop = watch_progress(listen)
    try:
        run_and_collect(build, None, on_result=finished.append)
    finally:
        stop()
    found = finished[0].metrics().query(MetricsFilter().with_name(ROWS_READ))["counters"]
    assert sum(r.committed for r in found) == 7
    assert seen and seen[-1].done and seen[-1].rows == 7


def test_fast_options_reuse_their_views_and_still_share_their_values() -> None:
    options = FastOptions(["--runner=DirectRunner"])
    view = options.view_as(StandardOptions)
    assert options.view_as(StandardOptions) is view
    view.runner = "PrismRunner"
    assert options.get_all_options()["runner"] == "PrismRunner"
    import copy

    copied = copy.deepcopy(options)
    assert copied.view_as(StandardOptions).runner == "PrismRunner"
    assert copied.view_as(StandardOptions) is not view
