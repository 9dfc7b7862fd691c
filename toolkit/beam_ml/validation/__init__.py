"""Rules as data, their inference from a profile, row checks, drift and the validation report.

Modules: ``base`` / ``row_rules`` / ``dataset_rules`` (the rule kinds), ``rules``
(the registry and `RuleSet`), ``rules_yaml`` (YAML read / write), ``infer``
and ``infer_columns`` (rules from a profile), ``calibrate`` (bounds for the
checked size), ``outliers`` (the row rule on Beam's anomaly detectors), ``rows``
(valid / quarantined split), ``checks``, ``drift`` and ``drift_checks``
(dataset-level checks from a profile), ``messages`` (checks in words),
``combiners`` and ``assemble``
(counts and the report), ``report`` (`Check`, `ValidationReport`), ``graph``
(`ValidateDataset`, the one graph) and ``api`` (`validate`).
"""

from __future__ import annotations

from beam_ml.validation.api import as_reference, profile_reference, validate, validation_graph
from beam_ml.validation.assemble import build_report
from beam_ml.validation.checks import evaluate_profile
from beam_ml.validation.drift import js_divergence, ks_threshold, linf, psi
from beam_ml.validation.graph import REPORT_INVALID_ROWS, ValidateDataset
from beam_ml.validation.infer import infer_rules
from beam_ml.validation.report import Check, ValidationReport
from beam_ml.validation.rows import INVALID, VALID, ValidateRows, split_batch
from beam_ml.validation.rules import (
    PSI,
    RULE_KINDS,
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
    RowRule,
    Rule,
    RuleSet,
    Schema,
    Std,
    TypeRule,
    Unique,
    UnseenValues,
    rule_from_dict,
)

__all__ = [
    "INVALID",
    "PSI",
    "REPORT_INVALID_ROWS",
    "RULE_KINDS",
    "VALID",
    "AllowedValues",
    "Check",
    "ClassBalance",
    "Completeness",
    "JSDivergence",
    "KSDistance",
    "LInfDistance",
    "Length",
    "Mean",
    "NotNull",
    "Outliers",
    "Quantile",
    "Range",
    "Regex",
    "RowCount",
    "RowRule",
    "Rule",
    "RuleSet",
    "Schema",
    "Std",
    "TypeRule",
    "Unique",
    "UnseenValues",
    "ValidateDataset",
    "ValidateRows",
    "ValidationReport",
    "as_reference",
    "build_report",
    "evaluate_profile",
    "infer_rules",
    "js_divergence",
    "ks_threshold",
    "linf",
    "profile_reference",
    "psi",
    "rule_from_dict",
    "split_batch",
    "validate",
    "validation_graph",
]
