"""The row-level outliers rule: Beam's anomaly detectors, quarantine with score and reason."""

from __future__ import annotations

import apache_beam as beam
import numpy as np
import pandas as pd
import pytest
from apache_beam.ml.anomaly.detectors.iqr import IQR
from apache_beam.ml.anomaly.detectors.robust_zscore import RobustZScore
from apache_beam.ml.anomaly.detectors.zscore import ZScore
from apache_beam.ml.anomaly.transforms import AnomalyDetection
from beam_ml.errors import BeamMLError
from beam_ml.runner import run_and_collect
from beam_ml.validation import Outliers, RuleSet, ValidateDataset

from .data import check_frame


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(10.0, 2.0, 120)
    x[[5, 77, 90, 119]] = [40.0, -30.0, 25.0, 18.0]
    return pd.DataFrame({"x": x, "name": [f"r{i}" for i in range(120)]})


RULES = (
    Outliers("x", method="zscore", fence=3.0, stats={"mean": 10.0, "std": 2.0}),
    Outliers("x", method="iqr", fence=1.5, stats={"q1": 8.65, "q3": 11.35}),
    Outliers("x", method="robust_zscore", stats={"median": 10.0, "mad": 1.35}),
)


def test_each_method_builds_its_beam_detector_frozen_at_the_reference_stats():
    kinds = [type(r.detector()) for r in RULES]
    assert kinds == [ZScore, IQR, RobustZScore]
    assert [r.cutoff for r in RULES] == [3.0, 1.5, 3.5]  # robust_zscore's default
    detector = RULES[0].detector()
    detector.learn_one(beam.Row(value=1e6))  # checked rows never move the reference
    assert detector.score_one(beam.Row(value=16.0)) == 3.0


def test_when_stats_lack_what_the_method_needs_then_the_error_says_what_to_write():
    with pytest.raises(BeamMLError, match=r"stats with q1, q3 for method iqr"):
        Outliers("x", method="iqr", stats={"mean": 1.0})


def test_the_rule_quarantines_exactly_what_beams_anomaly_detection_flags_in_one_pipeline():
    frame = _frame()
    rules = RuleSet(RULES)

    def build(p):
        batches = p | "Batches" >> beam.Create([frame.iloc[:60], frame.iloc[60:]])
        out = batches | "Validate" >> ValidateDataset(rules)
        found = {"report": out["report"], "invalid": out["invalid"]}
        for i, rule in enumerate(RULES):
            found[rule.id] = (
                p
                | f"Rows{i}" >> beam.Create([(0, beam.Row(value=float(v))) for v in frame["x"]])
                | f"Detect{i}" >> AnomalyDetection(rule.detector())
                | f"Flagged{i}" >> beam.Map(lambda kv: (kv[1].example.value, kv[1].predictions[0]))
            )
        return found

    got = run_and_collect(build)
    invalid = pd.concat(got["invalid"], ignore_index=True)
    report = got["report"][0]
    for rule in RULES:
        flagged = {v for v, pred in got[rule.id] if pred.label == 1}
        mine = invalid[invalid["_errors"].map(lambda e, i=rule.id: i in e)]
        assert set(mine["x"]) == flagged and flagged, rule.id
        scores = {v: pred.score for v, pred in got[rule.id]}
        for _, row in mine.iterrows():
            assert row["_reasons"][rule.id] == rule.reason(scores[row["x"]])
        check = next(c for c in report.checks if c.id == rule.id)
        assert check.observed["failing_rows"] == len(flagged) and check.scope == "row"
    assert report.rows["valid"] + report.rows["invalid"] == len(frame)
    assert invalid.loc[invalid["x"] == 40.0, "_reasons"].iloc[0]["outliers:x:zscore"] == (
        "ZScore score 15 >= 3"
    )


def test_without_reference_stats_an_old_rule_reads_the_share_from_the_checked_profile():
    old = RuleSet.from_yaml("rules:\n- kind: outliers\n  column: x\n  max_share: 0.001\n")
    report = check_frame(_frame(), old)
    check = next(c for c in report.checks if c.id == "outliers:x:zscore")
    assert not check.passed and "no reference stats" in check.message
    assert report.rows["invalid"] == 0  # nothing to score rows against: none quarantined
