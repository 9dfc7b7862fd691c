"""``LocalRunner``: a Beam ``PipelineRunner`` that runs small batch pipelines in this process.

A preview on a 1,000-row sample spends almost all of its time in Beam's fixed
costs, not in our DoFns: on DirectRunner (the FnApiRunner) a pipeline is turned
into protos, fused into stages and run bundle by bundle through the Fn API,
and every ``CombineGlobally`` is first expanded into eight ParDos whose
construction alone (signatures, pickling checks) costs milliseconds each.

This runner builds the same pipeline from the same transforms and runs the
same DoFns and CombineFns, without those costs:

- ``Create``, ``CombineGlobally``, ``CombinePerKey`` and ``Reshuffle`` are
  evaluated directly instead of being expanded (Beam lets a runner do so in
  ``apply``); their CombineFns run as a lifted combine runs them;
- every other leaf — ``Impulse``, ``ParDo`` (through Beam's ``DoFnRunner``),
  ``GroupByKey``, ``Flatten`` — runs as a node of :mod:`beam_ml.local_runner.nodes`.

It runs bounded, globally windowed pipelines. Before anything runs it checks
the whole graph and raises :class:`Unsupported` (naming the transform) for
anything else — a stateful or splittable DoFn, a batched DoFn, another window,
an unbounded source, a ``Read`` or a cross-language transform — so that
:func:`beam_ml.runner.run_and_collect` can fall back to DirectRunner.

>>> import apache_beam as beam
>>> p = beam.Pipeline(runner=LocalRunner())
>>> doubled = p | beam.Create([1, 2, 3]) | beam.Map(lambda x: 2 * x)
>>> sorted(p.run().elements(doubled))
[2, 4, 6]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apache_beam import pvalue
from apache_beam.metrics.metric import MetricResults
from apache_beam.pipeline import PipelineVisitor
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState
from apache_beam.runners.worker import statesampler
from apache_beam.transforms import core
from apache_beam.transforms.util import Reshuffle
from apache_beam.utils import counters

from beam_ml.local_runner import nodes


class Unsupported(Exception):
    """The pipeline uses something the local runner does not run (the message says what)."""


def _has_side_inputs(args: Iterable[Any], kwargs: dict[str, Any]) -> bool:
    return any(isinstance(a, pvalue.AsSideInput) for a in [*args, *kwargs.values()])


class LocalRunner(PipelineRunner):
    """Run a bounded, globally windowed pipeline in this process; see the module doc."""

    def __init__(self) -> None:
        super().__init__()
        self._created: dict[int, tuple[Any, list[bytes]]] = {}
        self._keep: set[int] = set()

    def keep(self, pcoll: Any) -> None:
        """Keep ``pcoll``'s elements for ``result.elements`` (unread outputs are kept anyway)."""
        self._keep.add(id(pcoll))

    def apply(self, transform: Any, input: Any, options: Any) -> Any:
        """Leave the composites this runner evaluates itself unexpanded; expand the rest."""
        kind = type(transform)
        if kind is core.Create and isinstance(input, pvalue.PBegin):
            # encoded now, as Create.expand does: later changes to the values are not seen
            encoded = [transform._coder.encode(v) for v in transform.values]
            self._created[id(transform)] = (transform, encoded)
            return pvalue.PCollection(input.pipeline, is_bounded=True)
        if isinstance(input, pvalue.PCollection):
            combine_globally = (
                kind is core.CombineGlobally
                and not transform.as_view
                and not _has_side_inputs(transform.args, transform.kwargs)
            )
            per_key = kind is core.CombinePerKey and not transform.side_inputs
            if combine_globally or per_key or kind is Reshuffle:
                return pvalue.PCollection.from_(input)
        return transform.expand(input)

    def run_pipeline(self, pipeline: Any, options: Any) -> LocalResult:
        """Check every transform, then run them all; raises :class:`Unsupported` first."""
        leaves = _Leaves()
        pipeline.visit(leaves)
        plan = _Plan(self, leaves.applied)
        return plan.run()


class _Leaves(PipelineVisitor):
    def __init__(self) -> None:
        self.applied: list[Any] = []

    def visit_transform(self, applied: Any) -> None:
        self.applied.append(applied)


def _pcollections(values: Iterable[Any]) -> list[Any]:
    return [v for v in values if isinstance(v, pvalue.PCollection)]


class _Plan:
    """The nodes of a pipeline, their consumers, and the push of elements between them."""

    def __init__(self, runner: LocalRunner, leaves: list[Any]) -> None:
        self.runner = runner
        self.applied = leaves
        self.kept: dict[int, list[Any]] = {}  # pcollection id -> its elements
        self.consumers: dict[int, list[nodes.Node]] = {}
        self.side_consumers: dict[int, list[nodes.Node]] = {}
        self.waiting_main: dict[nodes.Node, int] = {}
        self.waiting_side: dict[nodes.Node, int] = {}
        self.held: dict[nodes.Node, list[Any]] = {}  # main input waiting for side inputs
        self.finished: set[nodes.Node] = set()
        self.sampler = statesampler.StateSampler("", counters.CounterFactory())
        self.nodes = [self._node(a) for a in leaves]
        for node in self.nodes:
            for pcoll in node.outputs.values():
                if id(pcoll) in runner._keep or id(pcoll) not in self.consumers:
                    self.kept.setdefault(id(pcoll), [])

    # ------------------------------------------------------------------ building
    def _node(self, applied: Any) -> nodes.Node:
        t = applied.transform
        label = applied.full_label or type(t).__name__
        for pcoll in [*_pcollections(applied.inputs), *applied.outputs.values()]:
            if isinstance(pcoll, pvalue.PCollection) and not pcoll.is_bounded:
                raise Unsupported(f"unbounded PCollection at {label!r}")
            if isinstance(pcoll, pvalue.PCollection) and not nodes.windowed_in_global(pcoll):
                raise Unsupported(f"a window other than the global window at {label!r}")
        node = self._make(applied, t, label)
        mains = _pcollections(applied.inputs)
        for pcoll in mains:
            self.consumers.setdefault(id(pcoll), []).append(node)
        sides = {id(si.pvalue): si.pvalue for si in getattr(applied, "side_inputs", ())}
        for key in sides:
            self.side_consumers.setdefault(key, []).append(node)
            self.kept.setdefault(key, [])
        self.waiting_main[node] = len(mains)
        self.waiting_side[node] = len(sides)
        return node

    def _make(self, applied: Any, t: Any, label: str) -> nodes.Node:
        emit, sampler = self.emit, self.sampler
        kind = type(t)
        if isinstance(t, core.Impulse):
            return nodes.ImpulseNode(applied, emit, sampler)
        if kind is core.Create:
            created = self.runner._created.get(id(t))
            if created is None or created[0] is not t:
                raise Unsupported(f"a Create this runner did not apply at {label!r}")
            return nodes.CreateNode(applied, emit, sampler, created[1])
        if isinstance(t, core.Flatten) or kind is Reshuffle:
            return nodes.PassNode(applied, emit, sampler)
        if isinstance(t, core.GroupByKey):
            return nodes.GroupByKeyNode(applied, emit, sampler)
        if kind is core.CombinePerKey:
            return nodes.CombinePerKeyNode(applied, emit, sampler)
        if kind is core.CombineGlobally:
            return nodes.CombineGloballyNode(applied, emit, sampler)
        if isinstance(t, core.ParDo):
            signature = t._signature
            if signature.is_stateful_dofn():
                raise Unsupported(f"a stateful DoFn at {label!r}")
            if signature.is_splittable_dofn():
                raise Unsupported(f"a splittable DoFn at {label!r}")
            if t.fn._process_batch_defined:
                raise Unsupported(f"a batched DoFn (process_batch) at {label!r}")
            return nodes.ParDoNode(applied, emit, sampler, self.elements)
        raise Unsupported(f"{type(t).__name__} at {label!r}")

    # ------------------------------------------------------------------ running
    def elements(self, pcoll: Any) -> list[Any]:
        return self.kept[id(pcoll)]

    def emit(self, pcoll: Any, value: Any) -> None:
        key = id(pcoll)
        if key in self.kept:
            self.kept[key].append(value)
        for node in self.consumers.get(key, ()):
            if self.waiting_side[node]:
                self.held.setdefault(node, []).append(value)
            else:
                node.receive(value)

    def _complete(self, pcoll: Any) -> None:
        key = id(pcoll)
        for node in self.side_consumers.get(key, ()):
            self.waiting_side[node] -= 1
            if not self.waiting_side[node]:
                for value in self.held.pop(node, []):
                    node.receive(value)
                self._maybe_finish(node)
        for node in self.consumers.get(key, ()):
            self.waiting_main[node] -= 1
            self._maybe_finish(node)

    def _maybe_finish(self, node: nodes.Node) -> None:
        if node in self.finished or self.waiting_main[node] or self.waiting_side[node]:
            return
        self.finished.add(node)
        node.finish_all()
        for pcoll in node.outputs.values():
            self._complete(pcoll)

    def run(self) -> LocalResult:
        previous = statesampler.get_current_tracker()
        statesampler.set_current_tracker(self.sampler)
        try:
            for node in self.nodes:
                self._maybe_finish(node)  # the roots (no inputs) emit everything here
            unfinished = [n.label for n in self.nodes if n not in self.finished]
            if unfinished:
                raise Unsupported(f"transforms that never got their inputs: {unfinished[:3]}")
        except BaseException:
            for node in self.nodes:
                if node not in self.finished:
                    node.abort()
            raise
        finally:
            statesampler.set_current_tracker(previous)
        return LocalResult(self)


class LocalMetrics(MetricResults):
    """The user metrics of a local run, queried like any runner's ``metrics()``."""

    def __init__(self, containers: list[Any]) -> None:
        self._results: dict[str, dict[Any, Any]] = {
            self.COUNTERS: {},
            self.DISTRIBUTIONS: {},
            self.GAUGES: {},
            self.STRINGSETS: {},
            self.BOUNDED_TRIES: {},
        }
        from apache_beam.metrics.cells import DistributionResult, GaugeResult

        for container in containers:
            updates = container.get_cumulative()
            self._results[self.COUNTERS].update(updates.counters)
            # results as the FnApiRunner gives them (its DistributionResult has a mean)
            for key, data in updates.distributions.items():
                self._results[self.DISTRIBUTIONS][key] = DistributionResult(data)
            for key, data in updates.gauges.items():
                self._results[self.GAUGES][key] = GaugeResult(data)
            self._results[self.STRINGSETS].update(updates.string_sets)
            self._results[self.BOUNDED_TRIES].update(updates.bounded_tries)

    def query(self, filter: Any = None) -> dict[str, list[Any]]:
        from apache_beam.metrics.execution import MetricResult

        return {
            kind: [MetricResult(k, v, v) for k, v in found.items() if self.matches(filter, k)]
            for kind, found in self._results.items()
        }


class LocalResult(PipelineResult):
    """A finished local run: its state, its metrics, and the elements it kept."""

    def __init__(self, plan: _Plan) -> None:
        super().__init__(PipelineState.DONE)
        self._plan = plan
        self._metrics = LocalMetrics([n.container for n in plan.nodes])

    def wait_until_finish(self, duration: Any = None) -> Any:
        return self._state

    def cancel(self) -> Any:
        return self._state

    def metrics(self) -> LocalMetrics:
        return self._metrics

    def elements(self, pcoll: Any) -> list[Any]:
        """The elements of ``pcoll`` (any PCollection of the pipeline), values only."""
        key = id(pcoll)
        if key in self._plan.kept:
            return [wv.value for wv in self._plan.kept[key]]
        raise KeyError(f"{pcoll} was not kept: call runner.keep(pcoll) before running the pipeline")
