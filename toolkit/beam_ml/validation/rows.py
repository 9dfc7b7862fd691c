"""Row-level validation: split each batch into valid and quarantined rows, nothing lost.

`split_batch` is pure pandas (vectorised per rule); `ValidateRows` runs it on
every batch of a PCollection with two outputs. A quarantined row keeps its
fields plus ``_errors`` (the ids of the rules it failed), ``_line`` (its source
line or index) and ``_file`` when read from a file; with ``outliers`` rules,
``_reasons`` (rule id -> the Beam detector's score and reason). Rules about a
column a batch lacks are skipped here: they fail as dataset-level checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import numpy as np
import pandas as pd

from beam_ml.errors import BeamMLError
from beam_ml.validation.base import RowRule, Rule
from beam_ml.validation.outliers import Outliers
from beam_ml.validation.rules import RuleSet

# The column of quarantined rows holding the outlier detectors' reasons.
REASONS = "_reasons"

# The two outputs of `ValidateRows` (and the tags of its ParDo).
INVALID = "invalid"
VALID = "valid"


def split_batch(batch: pd.DataFrame, rules: Iterable[RowRule]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one batch into (valid rows, invalid rows with ``_errors`` and ``_line``).

    Pure pandas; `ValidateRows` runs it on every batch. Rules on a column the
    batch lacks are skipped here (they fail as dataset-level checks). Rows read
    from a file also get ``_file``.

    >>> from beam_ml.validation.row_rules import Range
    >>> ok, bad = split_batch(pd.DataFrame({"x": [1, -1]}), [Range("x", min=0)])
    >>> len(ok), bad["_errors"].tolist()
    (1, [['range:x']])
    """
    ids: list[str] = []
    masks: list[np.ndarray] = []
    rules = list(rules)
    scored = any(isinstance(r, Outliers) for r in rules)
    reasons: dict[str, np.ndarray] = {}
    for rule in rules:
        column = rule.column  # type: ignore[attr-defined]
        if column not in batch.columns:
            continue
        series = batch[column]
        if isinstance(series, pd.DataFrame):  # duplicated column name: check the first
            series = series.iloc[:, 0]
        if isinstance(rule, Outliers):
            scores = rule.scores(series)
            mask = rule.flags(scores)
            reasons[rule.id] = scores
        else:
            mask = _failures(rule, series)
        if mask.any():
            ids.append(rule.id)
            masks.append(mask)
    if not masks:
        return batch, _empty_invalid(batch, scored)
    matrix = np.column_stack(masks)
    bad = matrix.any(axis=1)
    valid = batch[~bad]
    invalid = batch[bad].copy()
    names = np.asarray(ids, dtype=object)
    invalid["_errors"] = [list(names[row]) for row in matrix[bad]]
    invalid["_line"] = np.asarray(batch.index)[bad]
    if scored:
        invalid[REASONS] = _reasons(rules, reasons, matrix[bad], ids, np.asarray(bad))
    source_file = batch.attrs.get("file")
    if source_file and source_file != "<dataframe>":
        invalid["_file"] = source_file  # a glob reads many files: say which one
    invalid.attrs = dict(batch.attrs)
    return valid, invalid.reset_index(drop=True)


def _failures(rule: RowRule, series: pd.Series) -> np.ndarray:
    try:
        return np.asarray(rule.failures(series), dtype=bool)
    except (TypeError, ValueError):
        # odd cells (lists from JSON, mixed objects): judge their text form instead
        text = series.astype(str).where(series.notna(), None)
        return np.asarray(rule.failures(text), dtype=bool)


def _reasons(
    rules: list[RowRule],
    scores: dict[str, np.ndarray],
    failed: np.ndarray,
    ids: list[str],
    bad: np.ndarray,
) -> list[dict[str, str]]:
    """Per quarantined row: each outlier rule it failed -> the detector's score and reason."""
    by_id = {r.id: r for r in rules if isinstance(r, Outliers)}
    positions = np.flatnonzero(bad)
    out: list[dict[str, str]] = []
    for row, flags in zip(positions, failed, strict=True):
        said = {}
        for rule_id, flag in zip(ids, flags, strict=True):
            if flag and rule_id in by_id:
                said[rule_id] = by_id[rule_id].reason(float(scores[rule_id][row]))
        out.append(said)
    return out


def _empty_invalid(batch: pd.DataFrame, scored: bool = False) -> pd.DataFrame:
    empty = batch.iloc[:0].copy()
    empty["_errors"] = pd.Series([], dtype=object)
    empty["_line"] = pd.Series([], dtype="int64")
    if scored:
        empty[REASONS] = pd.Series([], dtype=object)
    return empty.reset_index(drop=True)


class SplitRows(beam.DoFn):
    """Split each batch by the row rules, given as a RuleSet or a side input of one."""

    def process(self, batch: pd.DataFrame, rules: RuleSet) -> Iterator[Any]:
        if not isinstance(batch, pd.DataFrame):
            raise BeamMLError.expected(
                "pandas DataFrame batches", type(batch).__name__, "read with ReadBatches"
            )
        valid, invalid = split_batch(batch, rules.row_rules)
        if len(valid):
            yield valid
        if len(invalid):
            yield beam.pvalue.TaggedOutput(INVALID, invalid)


class ValidateRows(beam.PTransform):
    """Pandas batches -> ``valid`` batches and ``invalid`` row frames (``out[VALID]`` ...).

    Every input row is in exactly one output; only the row-level rules are used.
    ``rules`` may also be a side input holding a RuleSet (rules inferred in the
    pipeline).

    >>> with beam.Pipeline() as p:                             # doctest: +SKIP
    ...     out = read_batches(p, "data.csv") | ValidateRows(rules)
    ...     out.invalid | beam.Map(print)
    """

    def __init__(self, rules: RuleSet | Iterable[Rule] | Any) -> None:
        super().__init__()
        if isinstance(rules, RuleSet | beam.pvalue.AsSideInput):
            self.rules = rules
        else:
            self.rules = RuleSet(tuple(rules))

    def expand(self, batches: Any) -> Any:
        return batches | "Split" >> beam.ParDo(SplitRows(), self.rules).with_outputs(
            INVALID, main=VALID
        )
