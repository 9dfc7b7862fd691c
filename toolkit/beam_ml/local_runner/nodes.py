"""What each transform of a pipeline does on the local runner: one node per leaf.

Elements are pushed from node to node as ``WindowedValue``s, the way a fused
stage of Beam's FnApiRunner passes them: a ParDo hands each output straight to
its consumers, so memory stays bounded by what the barriers hold (a GroupByKey's
groups, a combine's accumulators, a main input waiting for its side inputs).

A ParDo runs through Beam's own ``DoFnRunner`` (the class every Python SDK
worker uses): setup / start_bundle / process / finish_bundle / teardown,
``TaggedOutput``, side inputs through Beam's ``SideInputMap`` views, timestamps
and the DoFn parameters. Each transform gets its own ``MetricsContainer``, so
``Metrics.counter(...)`` in a DoFn counts as on any runner.

>>> # built by LocalRunner.run_pipeline; see beam_ml.local_runner.runner
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apache_beam.coders import registry as coders_registry
from apache_beam.internal import pickler
from apache_beam.metrics.execution import MetricsContainer
from apache_beam.runners.common import DoFnRunner, DoFnState, NameContext, Receiver
from apache_beam.transforms import core
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.typehints import Any as AnyHint
from apache_beam.utils import counters
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

# where a GroupByKey or combine output lands in the global window (end of window)
_END_OF_GLOBAL = GlobalWindow().max_timestamp()
Emit = Callable[[Any, WindowedValue], None]  # (pcollection, element) -> None


def _global(value: Any, timestamp: Any = MIN_TIMESTAMP) -> WindowedValue:
    return WindowedValue(value, timestamp, (GlobalWindow(),))


class Node:
    """One leaf transform: it receives elements, then finishes (flushing what it holds)."""

    def __init__(self, applied: Any, emit: Emit, sampler: Any) -> None:
        self.applied = applied
        self.label = applied.full_label
        self.emit = emit
        self.outputs = dict(applied.outputs)
        self.container = MetricsContainer(self.label)
        name = NameContext(self.label)
        self._state = sampler.scoped_state(name, "process", metrics_container=self.container)

    def receive(self, value: WindowedValue) -> None:
        with self._state:
            self.process(value)

    def finish_all(self) -> None:
        with self._state:
            self.finish()

    def process(self, value: WindowedValue) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Called once, when every input is complete."""

    def abort(self) -> None:
        """Called when the run fails: release what the node holds (a DoFn's teardown)."""

    def main_output(self) -> Any:
        return next(iter(self.outputs.values()))


class ImpulseNode(Node):
    def finish(self) -> None:
        self.emit(self.main_output(), _global(b""))


class CreateNode(Node):
    """``beam.Create``: its values decoded from the bytes encoded when it was applied."""

    def __init__(self, applied: Any, emit: Emit, sampler: Any, encoded: list[bytes]) -> None:
        super().__init__(applied, emit, sampler)
        self.encoded = encoded

    def finish(self) -> None:
        coder = self.applied.transform._coder
        out = self.main_output()
        for item in self.encoded:
            self.emit(out, _global(coder.decode(item)))


class PassNode(Node):
    """Flatten and Reshuffle: every element goes on unchanged (window and timestamp too)."""

    def process(self, value: WindowedValue) -> None:
        self.emit(self.main_output(), value)


class _Keys:
    """Groups by the key's deterministic encoding, as a GroupByKey compares keys."""

    def __init__(self, applied: Any) -> None:
        hint = getattr(applied.inputs[0], "element_type", None)
        coder = coders_registry.get_coder(hint if hint is not None else AnyHint)
        try:
            self.coder = coder.key_coder().as_deterministic_coder(applied.full_label)
        except Exception:  # not a KV coder (an Any input): the deterministic Any coder
            self.coder = coders_registry.get_coder(AnyHint).as_deterministic_coder(
                applied.full_label
            )
        self.order: dict[bytes, Any] = {}  # encoded key -> the first key seen, in order

    def of(self, key: Any) -> bytes:
        encoded = self.coder.encode(key)
        self.order.setdefault(encoded, key)
        return encoded


class GroupByKeyNode(Node):
    def __init__(self, applied: Any, emit: Emit, sampler: Any) -> None:
        super().__init__(applied, emit, sampler)
        self.keys = _Keys(applied)
        self.groups: dict[bytes, list[Any]] = {}

    def process(self, value: WindowedValue) -> None:
        key, item = value.value
        self.groups.setdefault(self.keys.of(key), []).append(item)

    def finish(self) -> None:
        out = self.main_output()
        for encoded, items in self.groups.items():
            self.emit(out, _global((self.keys.order[encoded], items), _END_OF_GLOBAL))
        self.groups = {}


class _Combining:
    """A CombineFn run as a lifted combine runs it: add inputs, compact, merge, extract."""

    def __init__(self, fn: Any, args: Any, kwargs: Any) -> None:
        self.fn = core.CombineFn.maybe_from_callable(pickler.roundtrip(fn))
        self.args, self.kwargs = list(args), dict(kwargs)
        self.ready = False

    def start(self) -> None:
        if not self.ready:
            self.fn.setup(*self.args, **self.kwargs)
            self.ready = True

    def create(self) -> Any:
        return self.fn.create_accumulator(*self.args, **self.kwargs)

    def add(self, accumulator: Any, value: Any) -> Any:
        return self.fn.add_input(accumulator, value, *self.args, **self.kwargs)

    def extract(self, accumulator: Any) -> Any:
        a, k = self.args, self.kwargs
        compacted = self.fn.compact(accumulator, *a, **k)
        return self.fn.extract_output(self.fn.merge_accumulators([compacted], *a, **k), *a, **k)

    def stop(self) -> None:
        if self.ready:
            self.ready = False
            self.fn.teardown(*self.args, **self.kwargs)


class CombinePerKeyNode(Node):
    def __init__(self, applied: Any, emit: Emit, sampler: Any) -> None:
        super().__init__(applied, emit, sampler)
        t = applied.transform
        self.combining = _Combining(t.fn, t.args, t.kwargs)
        self.keys = _Keys(applied)
        self.accumulators: dict[bytes, Any] = {}

    def process(self, value: WindowedValue) -> None:
        self.combining.start()
        key, item = value.value
        encoded = self.keys.of(key)
        acc = self.accumulators.get(encoded)
        if acc is None and encoded not in self.accumulators:
            acc = self.combining.create()
        self.accumulators[encoded] = self.combining.add(acc, item)

    def finish(self) -> None:
        self.combining.start()
        out = self.main_output()
        try:
            for encoded, acc in self.accumulators.items():
                result = self.combining.extract(acc)
                self.emit(out, _global((self.keys.order[encoded], result), _END_OF_GLOBAL))
        finally:
            self.combining.stop()

    def abort(self) -> None:
        self.combining.stop()


class CombineGloballyNode(Node):
    """One accumulator; on empty input the CombineFn's default, as Beam injects it."""

    def __init__(self, applied: Any, emit: Emit, sampler: Any) -> None:
        super().__init__(applied, emit, sampler)
        t = applied.transform
        self.combining = _Combining(t.fn, t.args, t.kwargs)
        self.defaults = bool(t.has_defaults)
        self.accumulator: Any = None
        self.seen = False

    def process(self, value: WindowedValue) -> None:
        self.combining.start()
        if not self.seen:
            self.accumulator, self.seen = self.combining.create(), True
        self.accumulator = self.combining.add(self.accumulator, value.value)

    def finish(self) -> None:
        out = self.main_output()
        self.combining.start()
        try:
            if self.seen:
                result = self.combining.extract(self.accumulator)
                # with defaults Beam's output comes from a Create([None]): the minimum timestamp
                stamp = MIN_TIMESTAMP if self.defaults else _END_OF_GLOBAL
                self.emit(out, _global(result, stamp))
                return
        finally:
            self.combining.stop()
        if self.defaults:  # Beam computes the default with a fresh copy of the CombineFn
            other = _Combining(self.applied.transform.fn, self.combining.args, {})
            other.kwargs = self.combining.kwargs
            other.start()
            try:
                self.emit(out, _global(other.fn.apply([], *other.args, **other.kwargs)))
            finally:
                other.stop()

    def abort(self) -> None:
        self.combining.stop()


class _Receiver(Receiver):
    def __init__(self, emit: Emit, pcoll: Any) -> None:
        self.emit, self.pcoll = emit, pcoll

    def receive(self, windowed_value: WindowedValue) -> None:
        self.emit(self.pcoll, windowed_value)


class _Dropped(Receiver):
    def receive(self, windowed_value: WindowedValue) -> None:
        """An output to a tag nobody declared is dropped, as on the FnApiRunner."""


class _Receivers(dict[Any, Receiver]):
    def __missing__(self, tag: Any) -> Receiver:
        return _Dropped()


class ParDoNode(Node):
    """A ParDo through Beam's ``DoFnRunner``; its main input waits for its side inputs."""

    def __init__(
        self, applied: Any, emit: Emit, sampler: Any, sides: Callable[[Any], list[Any]]
    ) -> None:
        super().__init__(applied, emit, sampler)
        self.sides = sides  # side-input PCollection -> its elements (once complete)
        self.runner: DoFnRunner | None = None

    def _start(self) -> DoFnRunner:
        if self.runner is None:
            t = self.applied.transform
            receivers = _Receivers()
            for tag, pcoll in self.outputs.items():  # the main output's tag is None
                receivers[tag] = _Receiver(self.emit, pcoll)
            side_maps = [
                SideInputMap(type(si), si._view_options(), self.sides(si.pvalue))  # type: ignore[arg-type]
                for si in t.side_inputs
            ]
            runner = DoFnRunner(
                pickler.roundtrip(t.dofn),  # a fresh copy, as every runner deserialises one
                t.args,
                t.kwargs,
                side_maps,
                self.applied.inputs[0].windowing,
                tagged_receivers=receivers,
                step_name=self.label,
                state=DoFnState(counters.CounterFactory()),
            )
            runner.setup()
            self.runner = runner
            runner.start()
        return self.runner

    def process(self, value: WindowedValue) -> None:
        self._start().process(value)

    def finish(self) -> None:
        runner = self._start()
        runner.finish()
        runner.finalize()
        self.runner = None
        runner.teardown()

    def abort(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            runner.teardown()


def windowed_in_global(pcoll: Any) -> bool:
    """Whether a PCollection lives in the global window with the default trigger."""
    try:
        windowing = pcoll.windowing
    except Exception:
        return False
    return isinstance(windowing.windowfn, GlobalWindows) and windowing.is_default()
