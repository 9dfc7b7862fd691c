"""A fast in-process runner for small previews: the same DoFns and CombineFns, in this process.

:class:`LocalRunner` is a Beam ``PipelineRunner``; :func:`beam_ml.runner.run_and_collect`
uses it for previews on DirectRunner options and falls back to DirectRunner when
it raises :class:`Unsupported`. Set ``BEAM_ML_RUNNER=direct`` to always use DirectRunner.

>>> import apache_beam as beam
>>> p = beam.Pipeline(runner=LocalRunner())
>>> total = p | beam.Create([1, 2, 3]) | beam.CombineGlobally(sum)
>>> p.run().elements(total)
[6]
"""

from __future__ import annotations

from beam_ml.local_runner import speedups
from beam_ml.local_runner.runner import LocalMetrics, LocalResult, LocalRunner, Unsupported

# Beam asks each DoFn for its state specs several times while building and running
# a ParDo; the memo gives the same answer without the inspection (see speedups).
speedups.install()

__all__ = ["LocalMetrics", "LocalResult", "LocalRunner", "Unsupported"]
