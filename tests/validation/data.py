"""Shared test data: uniform halves of real tables, CSV writing, the faults injected."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from apache_beam.runners.direct.direct_runner import DirectRunner
from beam_ml.validation import (
    PSI,
    AllowedValues,
    ClassBalance,
    Completeness,
    JSDivergence,
    KSDistance,
    Length,
    LInfDistance,
    Mean,
    NotNull,
    Outliers,
    Quantile,
    Range,
    Regex,
    RowCount,
    RuleSet,
    Schema,
    Std,
    TypeRule,
    Unique,
    UnseenValues,
    ValidationReport,
)


def halves(df: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two disjoint uniform halves of the same data: a reference and a clean re-sample."""
    order = np.random.default_rng(seed).permutation(len(df))
    half = len(df) // 2
    ref = df.iloc[np.sort(order[:half])].reset_index(drop=True)
    new = df.iloc[np.sort(order[half:])].reset_index(drop=True)
    return ref, new


def write_csv(df: pd.DataFrame, path: Path) -> str:
    df.to_csv(path, index=False)
    return str(path)


def assert_counts_add_up(report: ValidationReport, expected_total: int) -> None:
    rows = report.rows
    assert rows["total"] == expected_total
    assert rows["valid"] + rows["invalid"] == rows["total"]
    assert len(report.invalid_rows) == rows["invalid"]
    if rows["invalid"]:
        assert all(len(errors) > 0 for errors in report.invalid_rows["_errors"])
        assert report.invalid_rows["_line"].notna().all()


def null_spike(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.sample(frac=0.25, random_state=1).index, "body_mass_g"] = np.nan
    return out


def out_of_range(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[[3, 50, 90]], "flipper_length_mm"] = [1000, -5, 2000]
    return out


def far_out_of_range(df: pd.DataFrame) -> pd.DataFrame:
    """5 % of the rows far out of range (the quality benchmark's fault)."""
    out = df.copy()
    far = out.sample(frac=0.05, random_state=3).index
    out.loc[far, "flipper_length_mm"] = np.where(np.arange(len(far)) % 2, 1000, -5)
    return out


def new_category(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.sample(frac=0.05, random_state=2).index, "species"] = "Emperor"
    return out


def corrupted_types(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["bill_depth_mm"] = out["bill_depth_mm"].astype(object)
    # 8 of ~170 rows: past what a clean sample of that size may show (a binomial bound of
    # 3.3 % for a zero count in the reference; their rows are quarantined at any count)
    out.loc[out.index[10:18], "bill_depth_mm"] = ["deep", "n/a?"] * 4
    return out


def shifted(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["body_mass_g"] = out["body_mass_g"] + round(df["body_mass_g"].std())
    return out


def duplicated(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.iloc[:15]], ignore_index=True)


FAULTS = {
    "null spike": (null_spike, "completeness:body_mass_g"),
    "out of range": (far_out_of_range, "range:flipper_length_mm"),
    "new category": (new_category, "allowed_values:species"),
    "corrupted types": (corrupted_types, "type:bill_depth_mm"),
    "shifted distribution": (shifted, "js_divergence:body_mass_g"),
    "duplicated rows": (duplicated, "unique"),
    "dropped column": (lambda df: df.drop(columns=["island"]), "schema"),
    "renamed column": (lambda df: df.rename(columns={"sex": "gender"}), "schema"),
}


# One rule of every kind, with every field type the YAML reads.
ONE_OF_EACH = RuleSet(
    (
        Schema({"species": "categorical", "mass": "integer", "when": "datetime"}, allow_extra=True),
        NotNull("species"),
        TypeRule("mass", "integer", max_share=0.01),
        Completeness("sex", max_null_share=0.05),
        Range("mass", min=2000.0, max=7000.0),
        AllowedValues("species", ("Adelie", "yes", 2007, True), max_share=0.01),
        UnseenValues("island", ("Biscoe", "Dream"), max_share=0.1, level="warn"),
        Regex("tailnum", r"N[0-9A-Z]{3,5}"),
        Length("tailnum", min=4, max=7),
        Unique(("year", "month", "flight")),
        Unique(),
        Mean(
            "mass",
            min=3900.0,
            max=4500.0,
            calibration={"rows": 100, "center": 4200.0, "sd": 800.0, "z": 4.0, "slack": 0.0},
            level="warn",
        ),
        Std("mass", min=500.0, max=1100.0),
        Quantile("mass", q=0.5, min=3800.0, max=4300.0),
        Outliers("mass", max_share=0.02, method="iqr", fence=1.5),
        Outliers("mass", method="robust_zscore", stats={"median": 4000.0, "mad": 500.0}),
        RowCount(min=1, max=1000),
        ClassBalance("species", min_share=0.1, max_imbalance_ratio=4.0, classes=("a", "b")),
        JSDivergence("mass", threshold=0.1, edges=(1.0, 2.0, 3.0), reference=(0.25, 0.75)),
        LInfDistance("species", threshold=0.2, reference={"Adelie": 0.5, "Gentoo": 0.5}),
        PSI("mass", threshold=0.25, edges=(1.0, 2.0, 3.0), reference=(0.5, 0.5)),
        PSI("species", threshold=0.25, reference={"Adelie": 0.5, "Gentoo": 0.5}),
        KSDistance(
            "mass",
            threshold=0.2,
            points=(1.0, 2.0),
            reference=(0.4, 0.9),
            calibration={"rows": 100, "alpha": 0.01, "rank_error": 0.0},
        ),
    )
)


class RecordingRunner(DirectRunner):
    """The DirectRunner, noting the label of every transform of each pipeline it runs."""

    labels: ClassVar[list[set[str]]] = []

    def run_pipeline(self, pipeline: Any, options: Any) -> Any:
        proto = pipeline.to_runner_api()
        RecordingRunner.labels.append({t.unique_name for t in proto.components.transforms.values()})
        return super().run_pipeline(pipeline, options)


def recording_options() -> list[str]:
    """Pipeline flags that run on `RecordingRunner`."""
    return [f"--runner={RecordingRunner.__module__}.{RecordingRunner.__name__}"]


def check_frame(frame: pd.DataFrame, rules: RuleSet) -> ValidationReport:
    """The report `ValidateDataset` makes from one batch, built in this process (no pipeline)."""
    from beam_ml.validation import build_report, split_batch

    valid, invalid = split_batch(frame, rules.row_rules)
    return build_report(rules, reference_profile(frame), [invalid], len(valid))


def reference_profile(frame: pd.DataFrame) -> Any:
    """A profile as `ValidateDataset` / `profile_reference` make it (1,000 values a column)."""
    from beam_ml.profiling import Profile, ProfileOptions
    from beam_ml.validation.infer import REFERENCE_TOP_K

    return Profile.from_frame(frame, ProfileOptions(top_k=REFERENCE_TOP_K))
