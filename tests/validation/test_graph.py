"""ValidateDataset: the one graph `bml.validate` and the validate step apply."""

from __future__ import annotations

import apache_beam as beam
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import Profile
from beam_ml.runner import run_and_collect
from beam_ml.sources import ReadBatches, as_source
from beam_ml.validation import (
    JSDivergence,
    LInfDistance,
    RuleSet,
    ValidateDataset,
    ValidationReport,
    validate,
)

from .data import RecordingRunner, new_category, out_of_range, recording_options, write_csv


def test_validate_applies_the_same_transforms_as_validate_dataset_applied_directly(
    penguins, penguin_rules
):
    path = write_csv(out_of_range(penguins["new"]), penguins["folder"] / "graph.csv")
    RecordingRunner.labels.clear()
    report = validate(path, penguin_rules, options=recording_options())

    def build(p):
        src = as_source(path)
        read = p | "Read" >> ReadBatches(src)
        out = read.batches | "Validate" >> ValidateDataset(
            penguin_rules, bad_records=read.bad_records, report_rows=None, source=src.describe()
        )
        return out["report"]

    direct = run_and_collect(build, recording_options())[0]
    via_validate, applied_directly = RecordingRunner.labels
    assert via_validate == applied_directly
    assert {"Validate/ValidateRows", "Validate/Profile", "Validate/Report"} <= via_validate
    assert report.to_dict() == direct.to_dict()


def test_when_the_reference_is_a_pcollection_then_rules_are_inferred_in_the_pipeline(penguins):
    bad = new_category(penguins["new"])
    reference = penguins["profile"]

    def build(p):
        ref = p | "Reference" >> beam.Create([reference])
        batches = p | "Batches" >> beam.Create([bad.iloc[:100], bad.iloc[100:]], reshuffle=False)
        out = batches | "Validate" >> ValidateDataset(reference=ref, report_rows=3)
        return {key: out[key] for key in ("report", "valid", "invalid")}

    result = run_and_collect(build)
    (report,) = result["report"]
    assert isinstance(report, ValidationReport)
    expected = validate(bad, reference=reference)
    assert {c.id: c.passed for c in report.checks} == {c.id: c.passed for c in expected.checks}
    assert report.rows == expected.rows and not report.passed
    assert len(report.invalid_rows) == 3  # examples are capped, counts are not
    valid = sum(len(b) for b in result["valid"])
    invalid = sum(len(f) for f in result["invalid"])
    assert (valid, invalid) == (report.rows["valid"], report.rows["invalid"])


def test_when_drift_rules_carry_no_reference_then_they_read_the_reference_pcollection(penguins):
    rules = RuleSet((JSDivergence("body_mass_g", threshold=0.1), LInfDistance("sex", 0.1)))

    def build(p):
        ref = p | "Reference" >> beam.Create([penguins["profile"]])
        batches = p | "Batches" >> beam.Create([penguins["new"]], reshuffle=False)
        return (batches | ValidateDataset(rules, reference=ref))["report"]

    (report,) = run_and_collect(build)
    assert report.passed, report
    assert [c.id for c in report.checks] == [
        "parse",
        "js_divergence:body_mass_g",
        "linf_distance:sex",
    ]


def test_when_neither_rules_nor_a_reference_are_given_then_the_transform_says_what_to_pass():
    with pytest.raises(BeamMLError, match="expected rules or a reference profile"):
        ValidateDataset()
    with pytest.raises(BeamMLError, match="report_rows"):
        ValidateDataset(RuleSet(()), report_rows=0)


def test_when_a_profile_object_is_the_reference_then_rules_are_inferred_while_building():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 30})
    transform = ValidateDataset(reference=Profile.from_frame(frame))
    assert isinstance(transform.rules, RuleSet) and len(transform.rules) > 0
