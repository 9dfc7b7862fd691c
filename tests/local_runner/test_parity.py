"""The local runner runs what DirectRunner runs: each step kind's preview graph, collected on both.

Each test builds the same graph twice — once on :class:`LocalRunner`, once on
DirectRunner (the FnApiRunner) — and compares what was collected: rows as
multisets of canonical JSON lines (``steps.parity``), profiles within their
sketches' bounds, reports by their checks and counts, metrics by their values.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pandas as pd
import pytest
from apache_beam.metrics.metric import Metrics, MetricsFilter
from beam_ml import datasets
from beam_ml.local_runner import LocalRunner
from beam_ml.notebook.session import Session
from beam_ml.runner import RUNNER_ENV, pipeline_options, run_and_collect
from beam_ml.steps import ReadStep
from beam_ml.steps.outputs import frame_lines
from beam_ml.steps.parity import compare_profiles, compare_reports, compare_rows, row_multiset

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


@pytest.fixture(scope="module")
def penguins() -> str:
    return str(datasets.load("penguins"))


@pytest.fixture(scope="module")
def models(tmp_path_factory: Any, penguins: str) -> tuple[str, str]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.read_csv(penguins).dropna(subset=list(FEATURES))
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for name, model in (
        ("lr", LogisticRegression(max_iter=2000)),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ):
        model.fit(frame[list(FEATURES)].to_numpy(), frame["species"])
        path = folder / f"{name}.pkl"
        path.write_bytes(pickle.dumps(model))
        paths.append(f"sklearn:{path}")
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def session(penguins: str, models: tuple[str, str], tmp_path_factory: Any) -> Session:
    """Every step kind over penguins, previewed on 200 rows (with one bad copy)."""
    s = Session(default_sample=200)
    s.read("penguins", penguins)
    bad = pd.read_csv(penguins)
    bad.loc[:20, "body_mass_g"] = -1.0  # out of the reference's range
    bad_path = tmp_path_factory.mktemp("bad") / "bad.csv"
    bad.to_csv(bad_path, index=False)
    s.read("bad", str(bad_path))
    s.transform(
        "heavy",
        "penguins",
        "df = df[df.body_mass_g > 4000]\ndf['r'] = df.bill_length_mm / df.bill_depth_mm",
    )
    s.profile("penguins", name="stats")
    s.validate("penguins", reference="stats", name="checked")
    s.validate("bad", reference="stats", name="bad_checked")
    s.infer("penguins", models[0], features=FEATURES, name="predicted")
    s.compare("penguins", list(models), features=FEATURES, name="ab")
    s.cascade("penguins", models[0], models[1], features=FEATURES, name="chain")
    return s


def on_local(build: Callable[[Any], Any]) -> tuple[dict[str, list[Any]], Any]:
    """Run on LocalRunner itself (no fallback: an unsupported graph fails the test)."""
    runner = LocalRunner()
    pipeline = beam.Pipeline(runner=runner, options=pipeline_options())
    outputs = build(pipeline)
    for pcoll in outputs.values():
        runner.keep(pcoll)
    result = pipeline.run(test_runner_api=False)
    return {name: result.elements(p) for name, p in outputs.items()}, result


def on_direct(build: Callable[[Any], Any]) -> tuple[dict[str, list[Any]], Any]:
    finished: list[Any] = []
    old = os.environ.get(RUNNER_ENV)
    os.environ[RUNNER_ENV] = "direct"
    try:
        collected = run_and_collect(build, None, on_result=finished.append)
    finally:
        if old is None:
            os.environ.pop(RUNNER_ENV, None)
        else:
            os.environ[RUNNER_ENV] = old
    assert type(finished[0]).__name__ != "LocalResult"
    return collected, finished[0]


def step_graph(session: Session, name: str) -> Callable[[Any], Any]:
    step = session.get(name)
    inputs = {i: session.preview(i) for i in step.inputs()}
    context = session._context(session.sample_for(name))
    return lambda pipeline: context.build(pipeline, step, inputs)


def frame_of(values: list[Any]) -> pd.DataFrame:
    frames = [v for v in values if isinstance(v, pd.DataFrame)]
    return pd.concat(frames) if frames else pd.DataFrame()


def same_rows(local: list[Any], direct: list[Any]) -> None:
    ok, why = compare_rows(frame_lines(frame_of(direct)), frame_of(local))
    assert ok, why
    assert len(frame_of(local)) == len(frame_of(direct))


def same_items(local: list[Any], direct: list[Any]) -> None:
    """Non-frame elements (bad records, dead letters) as multisets of their JSON."""

    def lines(values: list[Any]) -> list[str]:
        return [json.dumps(v.to_dict() if hasattr(v, "to_dict") else repr(v)) for v in values]

    assert row_multiset(lines(local)) == row_multiset(lines(direct))


def same_outputs(local: dict[str, list[Any]], direct: dict[str, list[Any]]) -> None:
    assert sorted(local) == sorted(direct)
    for name in local:
        if any(isinstance(v, pd.DataFrame) for v in local[name] + direct[name]):
            same_rows(local[name], direct[name])
        else:
            same_items(local[name], direct[name])


# ------------------------------------------------------------------ step kinds


def test_read_step_graph_reads_the_same_batches_and_bad_records(penguins: str) -> None:
    step = ReadStep("penguins", penguins)

    def build(p: Any) -> dict[str, Any]:
        out = step.apply(p)
        return {"rows": out, **step.outputs(out)}

    local, _ = on_local(build)
    direct, _ = on_direct(build)
    same_outputs(local, direct)
    assert len(frame_of(local["rows"])) == len(pd.read_csv(penguins))


def test_transform_with_a_beam_dataframe_body_gives_the_same_rows(session: Session) -> None:
    local, _ = on_local(step_graph(session, "heavy"))
    direct, _ = on_direct(step_graph(session, "heavy"))
    same_outputs(local, direct)
    (rows,) = local.values()
    assert len(frame_of(rows)) == len(session.preview("heavy").rows) > 0


def test_transform_with_a_python_body_gives_the_same_rows(session: Session) -> None:
    sample = session.preview("penguins").rows

    def build(p: Any) -> dict[str, Any]:
        batches = p | beam.Create([sample.iloc[:100], sample.iloc[100:]], reshuffle=False)
        ratio = batches | beam.Map(lambda df: df.assign(r=df.bill_length_mm / df.bill_depth_mm))
        return {"rows": ratio | beam.Filter(lambda df: len(df) > 0)}

    local, _ = on_local(build)
    direct, _ = on_direct(build)
    same_outputs(local, direct)


def test_profile_preview_is_the_same_profile(session: Session) -> None:
    local, _ = on_local(step_graph(session, "stats"))
    direct, _ = on_direct(step_graph(session, "stats"))
    (mine,), (theirs,) = local["profile.json"], direct["profile.json"]
    ok, why = compare_profiles(json.loads(theirs.to_json()), mine)
    assert ok, why
    assert mine.rows == theirs.rows == len(session.preview("penguins").rows)


@pytest.mark.parametrize("name", ["checked", "bad_checked"])
def test_validate_preview_is_the_same_report_and_the_same_rows(session: Session, name: str) -> None:
    local, _ = on_local(step_graph(session, name))
    direct, _ = on_direct(step_graph(session, name))
    report_key = next(k for k in local if k.endswith(".json"))
    (mine,), (theirs,) = local[report_key], direct[report_key]
    ok, why = compare_reports(theirs.to_dict(), mine)
    assert ok, why
    assert mine.to_dict()["rows"] == theirs.to_dict()["rows"]
    for key in local:
        if key != report_key:
            same_outputs({key: local[key]}, {key: direct[key]})
    if name == "bad_checked":
        assert not mine.passed and mine.to_dict()["rows"]["invalid"] > 0


@pytest.mark.parametrize("name", ["predicted", "ab", "chain"])
def test_model_previews_give_the_same_predictions_errors_and_counts(
    session: Session, name: str
) -> None:
    local, local_result = on_local(step_graph(session, name))
    direct, direct_result = on_direct(step_graph(session, name))
    same_outputs(local, direct)
    ns = MetricsFilter().with_name("num_inferences")
    counted = [
        sum(r.committed for r in result.metrics().query(ns)["counters"])
        for result in (local_result, direct_result)
    ]
    assert counted[0] == counted[1] > 0


# ------------------------------------------------------------------ Beam features


class _Tagged(beam.DoFn):
    """Main and tagged outputs, a side input, a counter and a finish_bundle output."""

    def setup(self) -> None:
        self.seen = 0

    def process(self, x: int, limit: int, ts: Any = beam.DoFn.TimestampParam) -> Any:
        Metrics.counter("parity", "elements").inc()
        Metrics.distribution("parity", "values").update(x)
        self.seen += 1
        if x > limit:
            yield beam.pvalue.TaggedOutput("big", x)
        else:
            yield x

    def finish_bundle(self) -> Any:
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        yield WindowedValue(("seen", self.seen), GlobalWindow().max_timestamp(), [GlobalWindow()])


def _features_graph(p: Any) -> dict[str, Any]:
    xs = p | "xs" >> beam.Create(list(range(20)))
    limit = xs | "mean" >> beam.CombineGlobally(beam.combiners.MeanCombineFn())
    out = xs | beam.ParDo(_Tagged(), beam.pvalue.AsSingleton(limit)).with_outputs(
        "big", main="small"
    )
    keyed = xs | beam.Map(lambda x: (x % 3, x))
    pairs = p | "pairs" >> beam.Create([("a", 1), ("b", 2), ("a", 3)])
    lookup = beam.pvalue.AsDict(pairs | "last" >> beam.CombinePerKey(max))
    joined = keyed | "join" >> beam.Map(
        lambda kv, d, xs_list: (kv[0], kv[1] + d.get("a", 0), len(xs_list)),
        lookup,
        beam.pvalue.AsList(xs),
    )
    return {
        "small": out.small,
        "big": out.big,
        "grouped": keyed | beam.GroupByKey() | beam.MapTuple(lambda k, vs: (k, sorted(vs))),
        "sums": keyed | "sums" >> beam.CombinePerKey(sum),
        "counted": xs | beam.combiners.Count.Globally(),
        "empty": p | "none" >> beam.Create([]) | "sum0" >> beam.CombineGlobally(sum),
        "flat": (out.small, out.big) | beam.Flatten() | "reshuffle" >> beam.Reshuffle(),
        "joined": joined,
        "iter": xs | "n" >> beam.Map(lambda x, it: x + sum(it), beam.pvalue.AsIter(xs)),
    }


def test_tagged_outputs_side_inputs_combines_and_metrics_match_directrunner() -> None:
    local, local_result = on_local(_features_graph)
    direct, direct_result = on_direct(_features_graph)
    assert sorted(local) == sorted(direct)
    for name in local:
        assert sorted(map(repr, local[name])) == sorted(map(repr, direct[name])), name
    f = MetricsFilter().with_namespace("parity")
    for kind in ("counters", "distributions"):
        mine = sorted(
            (r.key.metric.name, r.committed) for r in local_result.metrics().query(f)[kind]
        )
        theirs = sorted(
            (r.key.metric.name, r.committed) for r in direct_result.metrics().query(f)[kind]
        )
        assert mine == theirs and mine, kind


def test_run_inference_with_exception_handling_routes_failures_like_directrunner() -> None:
    from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, RunInference

    class Model:
        pass

    class Halves(ModelHandler):
        def load_model(self) -> Any:
            return Model()

        def run_inference(self, batch: Any, model: Any, inference_args: Any = None) -> Any:
            if any(x == 0 for x in batch):
                raise ZeroDivisionError("zero")
            return [1 / x for x in batch]

    def build(p: Any) -> dict[str, Any]:
        keyed = p | beam.Create([("a", 1.0), ("b", 0.0), ("c", 4.0)])
        main, other = keyed | RunInference(KeyedModelHandler(Halves())).with_exception_handling()
        return {
            "good": main | beam.MapTuple(lambda k, r: (k, r)),
            "bad": other.failed_inferences | beam.Map(lambda e: repr(e)[:40]),
        }

    local, _ = on_local(build)
    direct, _ = on_direct(build)
    assert sorted(local["good"]) == sorted(direct["good"])
    assert len(local["bad"]) == len(direct["bad"])


def test_what_the_local_runner_cannot_run_falls_back_to_directrunner() -> None:
    from apache_beam.transforms import window

    def build(p: Any) -> Any:
        stamped = p | beam.Create([1, 2, 70]) | beam.Map(lambda x: window.TimestampedValue(x, x))
        fixed = stamped | beam.WindowInto(window.FixedWindows(60))
        return fixed | beam.CombineGlobally(sum).without_defaults()

    finished: list[Any] = []
    assert sorted(run_and_collect(build, None, on_result=finished.append)) == [3, 70]
    assert type(finished[0]).__name__ != "LocalResult"
