"""beam_ml.sources.sampling: head and sample, and previews that say what they are."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from beam_ml import sources
from scipy import stats

from .data import sorted_rows, write_all_formats


def test_head_reads_the_first_rows_only(tmp_path, penguins):
    path = write_all_formats(penguins, tmp_path)["parquet"]
    first = sources.head(sources.Source(path, batch_rows=50), 120)
    assert first.index.tolist() == list(range(120))
    pd.testing.assert_frame_equal(sorted_rows(first), sorted_rows(penguins.head(120)))
    assert first.attrs["beam_ml_sample"] == {"method": "head", "rows": 120, "population": None}
    assert sources.describe_sample(first) == "first 120 rows"


def test_head_of_a_short_input_says_it_holds_every_row(penguins):
    frame = sources.head(penguins, 1000)
    assert frame.attrs["beam_ml_sample"]["population"] == len(penguins)
    assert sources.describe_sample(frame) == "all 344 rows"


def test_sample_is_reproducible_and_independent_of_batching(tmp_path, penguins):
    path = write_all_formats(penguins, tmp_path)["csv"]
    a = sources.sample(sources.Source(path, batch_rows=7), 50, seed=3)
    b = sources.sample(sources.Source(path, batch_rows=1000), 50, seed=3)
    c = sources.sample(sources.Source(path, batch_rows=1000), 50, seed=4)
    assert len(a) == 50
    assert a.index.tolist() == b.index.tolist()
    assert a.index.tolist() != c.index.tolist()


def test_sample_is_uniform_over_the_rows():
    # Kolmogorov-Smirnov test of the sampled positions against a uniform
    # distribution, over many seeds: a biased sampler (say, favouring the first
    # batches) fails it by orders of magnitude.
    frame = pd.DataFrame({"i": np.arange(20_000)})
    positions = np.concatenate(
        [
            sources.sample(sources.Source(frame=frame, batch_rows=1500), 200, seed=s).i
            for s in range(20)
        ]
    )
    result = stats.kstest(positions / len(frame), "uniform")
    assert result.pvalue > 0.001
    assert len(np.unique(positions)) > 3500  # seeds give different samples


def _uniform_extreme_share(n: int, miss: float = 1e-9) -> float:
    """q such that a uniform sample of n misses the lowest share q of a population
    with probability (1 - q) ** n <= miss: its minimum lies in that share."""
    return -math.log(miss) / n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sample_of_a_sorted_file_spans_its_whole_range(tmp_path, seed):
    rows, n = 20_000, 500
    path = tmp_path / "sorted.csv"
    pd.DataFrame({"x": np.arange(rows), "label": "a"}).to_csv(path, index=False)
    got = sources.sample(sources.Source(str(path), batch_rows=3000), n, seed=seed)
    q = _uniform_extreme_share(n)  # 4.1% of the rows
    assert got.x.min() < q * rows and got.x.max() > (1 - q) * rows
    first = sources.head(str(path), n)
    assert first.x.max() < q * rows  # the head sees one end only: what the sample fixes


def test_a_sample_states_what_it_is(tmp_path):
    path = tmp_path / "rows.csv"
    pd.DataFrame({"x": np.arange(5_000)}).to_csv(path, index=False)
    frame = sources.sample(str(path), 1000, seed=7)
    assert frame.attrs["beam_ml_sample"] == {
        "method": "uniform",
        "rows": 1000,
        "population": 5000,
        "seed": 7,
    }
    assert sources.describe_sample(frame) == "uniform sample of 1,000 of 5,000 rows (seed 7)"
    assert sources.describe_sample(frame.attrs) == sources.describe_sample(frame)
    assert frame.attrs["beam_ml_read"]["delimiter"] == ","


def test_the_same_seed_picks_the_same_rows_twice(tmp_path, penguins):
    path = write_all_formats(penguins, tmp_path)["json"]
    a, b = sources.sample(path, 40, seed=5), sources.sample(path, 40, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_describing_a_frame_without_a_record_says_so():
    assert sources.describe_sample(pd.DataFrame()) == "rows of unknown origin"
    assert sources.describe_sample({"method": "uniform", "rows": 3, "population": 3}) == (
        "all 3 rows"
    )
