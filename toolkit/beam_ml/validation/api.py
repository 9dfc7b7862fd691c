"""``bml.validate``: check a dataset against rules in one Beam pipeline.

`validate` reads the source (optionally a uniform sample of it) and applies
`ValidateDataset`, the same subgraph the validate step applies, then brings
the one `ValidationReport` back. `as_reference` turns a Profile, a profile JSON
file or data into the reference rules are inferred from.

>>> import beam_ml as bml
>>> ref = bml.profile(bml.datasets.load("penguins"))       # doctest: +SKIP
>>> rules = bml.infer_rules(ref)                           # doctest: +SKIP
>>> report = bml.validate(new_data, rules)                 # doctest: +SKIP
>>> report.passed, report.rows                             # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from beam_ml.errors import BeamMLError, check_positive_int
from beam_ml.profiling import Profile, ProfileDataset
from beam_ml.runner import run_and_collect
from beam_ml.sources import ReadBatches, SampleRows, as_source
from beam_ml.validation.graph import ValidateDataset
from beam_ml.validation.infer import REFERENCE_TOP_K
from beam_ml.validation.report import ValidationReport
from beam_ml.validation.rules import RuleSet


def validate(
    source: Any,
    rules: Any = None,
    reference: Any = None,
    sample: int | None = None,
    options: Any = None,
    max_invalid_rows: int | None = None,
) -> ValidationReport:
    """Check ``source`` against ``rules`` in one Beam pipeline; quarantine failing rows.

    ``rules``: a RuleSet, a YAML path, or None to infer them from ``reference``
    (a Profile, or data to profile). ``sample``: validate a uniform sample of
    that many rows. ``options``: Beam pipeline options (DirectRunner by default).
    ``max_invalid_rows``: bring back at most that many quarantined rows (the
    counts stay exact: they are computed in the pipeline); None brings all.

    >>> report = validate(bml.datasets.load("penguins"), rules)   # doctest: +SKIP
    >>> report.rows                                             # doctest: +SKIP
    {'total': 344, 'valid': 344, 'invalid': 0}
    """
    check_positive_int("sample", sample, allow_none=True)
    check_positive_int("max_invalid_rows", max_invalid_rows, allow_none=True)
    ref = None if reference is None else as_reference(reference, options=options)
    ruleset = _resolve_rules(rules, ref)
    src = as_source(source)

    def build(p: Any) -> Any:
        return validation_graph(p, src, ruleset, ref, sample, max_invalid_rows)["report"]

    return run_and_collect(build, options)[0]


def validation_graph(
    pipeline: Any,
    source: Any,
    rules: RuleSet | None,
    reference: Any = None,
    sample: int | None = None,
    max_invalid_rows: int | None = None,
) -> dict[str, Any]:
    """The graph `validate` runs: read, an optional sample, then `ValidateDataset`.

    >>> out = validation_graph(beam.Pipeline(), "new.csv", rules)  # doctest: +SKIP
    >>> sorted(out)                                               # doctest: +SKIP
    ['invalid', 'report', 'valid']
    """
    src = as_source(source)
    read = pipeline | "Read" >> ReadBatches(src)
    batches = read.batches
    if sample:
        batches = batches | "Sample" >> SampleRows(sample)
    return batches | "Validate" >> ValidateDataset(
        rules,
        reference=reference,
        bad_records=read.bad_records,
        report_rows=max_invalid_rows,
        source=src.describe(),
    )


def _resolve_rules(rules: Any, reference: Any) -> RuleSet | None:
    """A RuleSet from ``rules``; None when they are to be inferred from ``reference``."""
    if isinstance(rules, RuleSet):
        return rules
    if rules is None:
        if reference is None:
            raise BeamMLError.expected(
                "rules or a reference profile", "neither", "pass rules=... or reference=..."
            )
        return None
    if isinstance(rules, str | Path):
        return RuleSet.read(rules)
    if isinstance(rules, list | tuple):
        return RuleSet(tuple(rules))
    raise BeamMLError.expected(
        "a RuleSet, a rules YAML path or a list of rules", type(rules).__name__
    )


def as_reference(reference: Any, options: Any = None) -> Any:
    """A reference Profile from a Profile, a profile JSON file, or data to profile.

    >>> ref = as_reference("penguins-profile.json")          # doctest: +SKIP
    """
    if hasattr(reference, "to_dict") and hasattr(reference, "cdf"):
        return reference
    if isinstance(reference, str | Path) and str(reference).endswith(".json"):
        file = Path(reference)
        if file.is_file():
            try:
                return Profile.from_json(file.read_text(encoding="utf-8"))
            except (BeamMLError, KeyError, TypeError, ValueError):
                pass  # not a profile: JSON Lines data
    return profile_reference(reference, options=options)


def profile_reference(source: Any, sample: int | None = None, options: Any = None) -> Any:
    """Profile ``source`` as a validation reference (listing up to 1000 values per column).

    >>> ref = profile_reference("january.csv")               # doctest: +SKIP
    """
    src = as_source(source)

    def build(p: Any) -> Any:
        batches = (p | ReadBatches(src)).batches
        if sample:
            batches = batches | SampleRows(sample)
        return batches | ProfileDataset(top_k=REFERENCE_TOP_K)

    return run_and_collect(build, options)[0]
