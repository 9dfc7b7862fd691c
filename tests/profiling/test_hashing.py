"""The numpy SipHash of Arrow strings is pandas' hash bit for bit; HLL register values exact."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from beam_ml.profiling.hashing import LONG_BYTES, hash_arrow_strings
from beam_ml.profiling.numeric import sorted_counts
from beam_ml.profiling.sketches import register_values


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_arrow_string_hashes_equal_pandas_hashes_of_python_strings(kind):
    rng = random.Random(3)
    alphabet = "abcxyz019 éüß漢字😀\u0000"
    texts = ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "x" * LONG_BYTES, "é" * 200]
    texts += ["y" * (LONG_BYTES + 1)]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    strings = pa.array(texts, type=kind)
    expected = pd.util.hash_array(np.array(texts, dtype=object), categorize=False)
    np.testing.assert_array_equal(hash_arrow_strings(strings), expected)
    # a slice of a larger buffer (Arrow's offset) hashes the same
    np.testing.assert_array_equal(hash_arrow_strings(strings.slice(5, 200)), expected[5:205])
    assert hash_arrow_strings(pa.array([], type=kind)).size == 0


@pytest.mark.parametrize("width", [48, 52, 60])
def test_register_values_are_leading_zeros_plus_one_of_every_word(width):
    rng = np.random.default_rng(width)
    words = rng.integers(0, 2**63, 20_000, dtype=np.uint64) >> np.uint64(64 - width)
    edges = [0, 1, 2, 3, 2 ** (width - 1), 2 ** (width - 1) - 1, 2**width - 1]
    words = np.concatenate([words, np.array(edges, dtype=np.uint64)])
    expected = [width - int(w).bit_length() + 1 for w in words.tolist()]
    assert register_values(words, width).tolist() == expected


def test_sorted_counts_match_value_counts():
    x = np.random.default_rng(1).integers(0, 50, 5000).astype(float)
    x[:3] = [np.inf, -np.inf, np.inf]
    values, counts = sorted_counts(np.sort(x))
    truth = pd.Series(x).value_counts().sort_index()
    assert values.tolist() == truth.index.tolist() and counts.tolist() == truth.tolist()
