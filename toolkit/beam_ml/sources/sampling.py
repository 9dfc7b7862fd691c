"""Previews that say what they are: the first rows, or a uniform (or block) sample.

:func:`sample` is the default preview: a uniform sample of the whole input
(bottom-k over a seeded hash of each row's position; memory bounded by its
size), or, over ``scan_limit`` bytes, a sample of random blocks
(:mod:`beam_ml.sources.blocks`). :func:`head` keeps the first rows and reads
no further. Both record what they did in ``frame.attrs["beam_ml_sample"]``
and the reading options in ``frame.attrs["beam_ml_read"]``;
:func:`describe_sample` turns the first into a line for a view.

>>> frame = sample(pd.DataFrame({"a": range(100)}), 10, seed=1)
>>> describe_sample(frame)
'uniform sample of 10 of 100 rows (seed 1)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from beam_ml.errors import check_positive_int
from beam_ml.sources.blocks import SCAN_LIMIT, block_files, sample_blocks
from beam_ml.sources.bottomk import SAMPLE_ATTR, _BottomK, _concat
from beam_ml.sources.reading import iter_batches
from beam_ml.sources.source import BadRecord, as_source

# Where a preview records the options it was read with (Source.read_options()).
READ_ATTR = "beam_ml_read"


def head(source: Any, n: int, bad_records: list[BadRecord] | None = None) -> pd.DataFrame:
    """The first ``n`` rows, reading no further than needed.

    >>> frame = head(pd.DataFrame({"a": range(10)}), 3)
    >>> len(frame), describe_sample(frame)
    (3, 'first 3 rows')
    """
    check_positive_int("n", n)
    src = as_source(source).resolved()
    taken: list[pd.DataFrame] = []
    count, read_all = 0, True
    for batch in iter_batches(src, bad_records):
        taken.append(batch.iloc[: n - count])
        count += len(taken[-1])
        if count >= n:
            read_all = False
            break
    population = count if read_all else None  # known only when the input ended first
    frame = _concat(taken)
    frame.attrs[SAMPLE_ATTR] = {"method": "head", "rows": len(frame), "population": population}
    frame.attrs[READ_ATTR] = src.read_options()
    return frame


def sample(
    source: Any,
    n: int,
    seed: int = 0,
    bad_records: list[BadRecord] | None = None,
    scan_limit: int = SCAN_LIMIT,
) -> pd.DataFrame:
    """A uniform random sample of ``n`` rows (all rows if there are fewer).

    Memory holds at most ``n`` rows plus one batch. The same seed picks the same
    rows as :class:`SampleRows` in a pipeline, whatever the batching. Files
    together larger than ``scan_limit`` bytes are sampled by random blocks
    instead (not uniform: ``attrs["beam_ml_sample"]`` states the bias).

    >>> len(sample(pd.DataFrame({"a": range(100)}), 10, seed=1))
    10
    """
    check_positive_int("n", n)
    src = as_source(source).resolved()
    found = block_files(src, scan_limit)
    if found is not None:
        on_bad = bad_records.append if bad_records is not None else (lambda _record: None)
        frame = sample_blocks(src, found, n, seed, on_bad)
    else:
        from beam_ml.runner import count_rows

        bottom = _BottomK(n, seed)
        accumulator = bottom.create_accumulator()
        for batch in iter_batches(src, bad_records):
            count_rows(len(batch))  # a preview's progress line shows the rows scanned
            accumulator = bottom.add_input(accumulator, batch)
        frame = bottom.extract_output(accumulator)
    frame.attrs[READ_ATTR] = src.read_options()
    return frame


def describe_sample(info: Any) -> str:
    """One line saying what a preview is, from a sampled frame, its attrs, or their dict.

    >>> describe_sample({"method": "uniform", "rows": 1000, "population": 336776, "seed": 0})
    'uniform sample of 1,000 of 336,776 rows (seed 0)'
    >>> describe_sample({"method": "head", "rows": 1000, "population": None})
    'first 1,000 rows'
    """
    if isinstance(info, pd.DataFrame):
        info = info.attrs
    if isinstance(info, Mapping) and SAMPLE_ATTR in info:
        info = info[SAMPLE_ATTR]
    if not isinstance(info, Mapping) or "method" not in info:
        return "rows of unknown origin"
    rows, population = int(info["rows"]), info.get("population")
    if population is not None and rows == population and info["method"] != "blocks":
        return f"all {rows:,} rows"
    if info["method"] == "head":
        return f"first {rows:,} rows"
    if info["method"] == "uniform":
        return f"uniform sample of {rows:,} of {int(population or 0):,} rows (seed {info['seed']})"
    about = "about " if info.get("population_estimated") else ""
    blocks = f"{info['blocks']:,} random {info['unit']}"
    if "of_blocks" in info:
        blocks += f" of {info['of_blocks']:,}"
    return (
        f"sample of {rows:,} rows from {blocks}, {about}{int(population or 0):,} rows in all "
        f"(seed {info['seed']}; {info['bias']})"
    )
