"""The one validation graph: `ValidateDataset`, used by `bml.validate` and the validate step.

Batches are split into valid and quarantined rows (`ValidateRows`), profiled
(`ProfileDataset`), and combined into exact counts (failing rows per rule, valid
rows, duplicates per unique column set) and a bounded sample of quarantined
rows; these are joined per window (``Join``) and one ``Report`` step turns them into
a `ValidationReport`. Without rules, they are inferred from the reference: in this
process when it is a Profile, in the pipeline when it is a PCollection.

>>> with beam.Pipeline() as p:                                   # doctest: +SKIP
...     read = p | ReadBatches(as_source("new.csv"))
...     out = read.batches | ValidateDataset(rules, bad_records=read.bad_records)
...     out["report"] | beam.Map(print)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import AsList, AsSingleton, PCollection
from apache_beam.transforms.window import GlobalWindows

from beam_ml.errors import BeamMLError, check_positive_int
from beam_ml.profiling import ProfileDataset
from beam_ml.validation.assemble import build_report
from beam_ml.validation.combiners import CountDuplicates, KeepRows, SumCounts, error_counts
from beam_ml.validation.dataset_rules import Unique
from beam_ml.validation.infer import REFERENCE_TOP_K, infer_rules
from beam_ml.validation.report import ValidationReport
from beam_ml.validation.rows import INVALID, VALID, ValidateRows
from beam_ml.validation.rules import RuleSet

# Quarantined rows a report keeps as examples by default (its counts stay exact).
REPORT_INVALID_ROWS = 1000


class ValidateDataset(beam.PTransform):
    """Pandas batches -> ``{"report", "valid", "invalid"}``: the whole validation of a dataset.

    ``rules``: a RuleSet, or None to infer them from ``reference``. ``reference``:
    None, a Profile, or a PCollection holding one Profile (drift rules without a
    reference distribution read it). ``bad_records``: a PCollection of the read's
    `BadRecord`s (counted and shown in the report). ``report_rows``: how many
    quarantined rows the report keeps (None: all). ``source``: the report's label.

    ``report`` holds one `ValidationReport`; ``valid`` the valid batches;
    ``invalid`` DataFrames of every quarantined row with ``_errors`` and ``_line``.
    """

    def __init__(
        self,
        rules: RuleSet | None = None,
        *,
        reference: Any = None,
        bad_records: Any = None,
        report_rows: int | None = REPORT_INVALID_ROWS,
        source: str = "",
    ) -> None:
        super().__init__()
        check_positive_int("report_rows", report_rows, allow_none=True)
        if rules is not None and not isinstance(rules, RuleSet):
            raise BeamMLError.expected(
                "rules as a RuleSet or None", type(rules).__name__, "use RuleSet.read(path)"
            )
        if rules is None and reference is None:
            raise BeamMLError.expected(
                "rules or a reference profile", "neither", "pass rules=... or reference=..."
            )
        if rules is None and not isinstance(reference, PCollection):
            rules = infer_rules(reference)  # a Profile at hand: infer once, here
        self.rules = rules
        self.reference = reference
        self.bad_records = bad_records
        self.report_rows = report_rows
        self.source = source

    def expand(self, batches: PCollection) -> dict[str, PCollection]:
        inferred = None
        if self.rules is None:  # inferred in the pipeline: one RuleSet, as a side input
            inferred = self.reference | "InferRules" >> beam.Map(infer_rules)
            # the column sets inferred rules name are unknown while building: whole rows
            unique_sets: list[tuple[str, ...]] = [()]
        else:
            unique_sets = sorted({r.columns for r in self.rules.rules if isinstance(r, Unique)})
        split = batches | "ValidateRows" >> ValidateRows(self._rules(inferred))
        valid, invalid = split[VALID], split[INVALID]
        reference = self.reference
        if isinstance(reference, PCollection):
            reference = AsList(reference)
        windowed = batches.windowing.windowfn != GlobalWindows()
        parts = {
            "profile": batches | "Profile" >> ProfileDataset(top_k=REFERENCE_TOP_K),
            "invalid": invalid | "KeepSome" >> _combine(KeepRows(self.report_rows), windowed),
            "counts": (
                invalid
                | "CountErrors" >> beam.Map(error_counts)
                | "SumErrors" >> _combine(SumCounts(), windowed)
            ),
            "valid_rows": (
                valid | "CountValid" >> beam.Map(len) | "SumValid" >> _combine(sum, windowed)
            ),
            "duplicates": batches
            | "Duplicates" >> _combine(CountDuplicates(unique_sets), windowed),
        }
        if self.bad_records is not None:
            parts["bad_records"] = self.bad_records
        # One join per window, not side inputs: a window's report is made once all of its
        # parts are in (a windowed side input read early gave a report its defaults).
        keyed = {name: pcoll | f"Key_{name}" >> beam.Map(_one_key) for name, pcoll in parts.items()}
        report = (
            keyed
            | "Join" >> beam.CoGroupByKey()
            | "Report"
            >> beam.FlatMap(
                _report_of_parts,
                rules=self._rules(inferred),
                empty=_empty_parts(self.report_rows, unique_sets),
                reference=reference,
                source=self.source,
            )
        )
        return {"report": report, "valid": valid, "invalid": invalid}

    def _rules(self, inferred: PCollection | None) -> Any:
        """The rules as the ParDo / Map argument: the RuleSet, or a side input of it."""
        return self.rules if inferred is None else AsSingleton(inferred)


def _combine(fn: Any, windowed: bool) -> beam.PTransform:
    """``CombineGlobally(fn)``; per window without a value for an empty one when windowed."""
    combine = beam.CombineGlobally(fn)
    return combine.without_defaults() if windowed else combine


def _one_key(value: Any) -> tuple[int, Any]:
    return 0, value


def _empty_parts(report_rows: int | None, unique_sets: list[tuple[str, ...]]) -> dict[str, Any]:
    """What each combined part is in a window that had none of its input."""
    return {
        "invalid": KeepRows(report_rows).apply([]),
        "counts": SumCounts().apply([]),
        "valid_rows": 0,
        "duplicates": CountDuplicates(unique_sets).apply([]),
    }


def _report_of_parts(
    keyed: tuple[int, dict[str, list[Any]]],
    rules: RuleSet,
    empty: dict[str, Any],
    reference: Any,
    source: str,
) -> Iterator[ValidationReport]:
    """The ``Report`` step: one report for a window (or the whole dataset) that had rows."""
    _, parts = keyed
    if not parts["profile"]:  # a window of bad records only: they are written, not reported
        return
    one = {name: values[0] if values else empty[name] for name, values in parts.items()
           if name in empty}  # fmt: skip
    yield make_report(
        parts["profile"][0],
        rules,
        bad_records=parts.get("bad_records", []),
        reference=reference,
        source=source,
        **one,
    )


def make_report(
    profile: Any,
    rules: RuleSet,
    invalid: Any,
    counts: dict[str, int],
    valid_rows: int,
    duplicates: dict[tuple[str, ...], dict[str, Any]],
    bad_records: Any,
    reference: Any,
    source: str,
) -> ValidationReport:
    """The ``Report`` step: a `ValidationReport` from the graph's combined outputs."""
    if isinstance(reference, list):  # a side input of the one reference Profile
        reference = reference[0] if reference else None
    usable = {cols: stats for cols, stats in duplicates.items() if not stats["missing"]}
    return build_report(
        rules,
        profile,
        invalid=[invalid],
        counts=counts,
        valid_rows=int(valid_rows),
        bad_records=list(bad_records),
        reference=reference,
        duplicates=usable,
        source=source,
    )
