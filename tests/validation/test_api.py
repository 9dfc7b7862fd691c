"""bml.validate end to end: penguins and flights halves, faults injected in code, sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling import Profile
from beam_ml.validation import (
    PSI,
    AllowedValues,
    Completeness,
    JSDivergence,
    LInfDistance,
    Mean,
    NotNull,
    Quantile,
    Range,
    Regex,
    RuleSet,
    Unique,
    infer_rules,
    validate,
)

from .data import (
    FAULTS,
    assert_counts_add_up,
    corrupted_types,
    new_category,
    null_spike,
    out_of_range,
    write_csv,
)


def test_when_a_clean_resample_is_validated_then_every_check_passes(penguins, penguin_rules):
    path = write_csv(penguins["new"], penguins["folder"] / "clean.csv")
    report = validate(path, penguin_rules)
    assert report.passed, report
    assert_counts_add_up(report, len(penguins["new"]))
    assert len(report.checks) == len(penguin_rules) + 1  # + the parse check


@pytest.mark.parametrize("fault", list(FAULTS))
def test_when_a_fault_is_injected_then_inferred_rules_detect_it_and_counts_add_up(
    penguins, penguin_rules, fault
):
    inject, expected_failure = FAULTS[fault]
    bad = inject(penguins["new"])
    path = write_csv(bad, penguins["folder"] / f"{fault.replace(' ', '_')}.csv")
    report = validate(path, penguin_rules)
    failed = {c.id for c in report.failures}
    assert expected_failure in failed, (fault, failed)
    assert_counts_add_up(report, len(bad))
    level = next(r.level for r in penguin_rules if r.id == expected_failure)
    # a distribution shift is a warning (the report passes, warning); the rest are errors
    assert report.passed is (level == "warn") and report.to_dict()["passed"] is report.passed
    assert expected_failure in {
        c.id for c in (report.warnings if level == "warn" else report.errors)
    }


def test_when_values_are_out_of_range_then_exactly_those_rows_are_quarantined_with_lines(
    penguins, penguin_rules
):
    bad = out_of_range(penguins["new"])
    path = write_csv(bad, penguins["folder"] / "range_lines.csv")
    report = validate(path, penguin_rules)
    invalid = report.invalid_rows
    assert sorted(invalid["_line"]) == [3 + 2, 50 + 2, 90 + 2]  # header is line 1
    assert all("range:flipper_length_mm" in e for e in invalid["_errors"])
    lines = Path(path).read_text().splitlines()
    for _, row in invalid.iterrows():
        assert lines[row["_line"] - 1].split(",")[0] == row["species"]
    check = next(c for c in report.checks if c.id == "range:flipper_length_mm")
    assert check.share == pytest.approx(3 / len(bad))
    assert len(check.sample) == 3 and check.sample[0]["_line"] == 5


def test_when_types_are_corrupted_then_the_type_check_fails_and_quarantines_them(
    penguins, penguin_rules
):
    path = write_csv(corrupted_types(penguins["new"]), penguins["folder"] / "types.csv")
    report = validate(path, penguin_rules)
    check = next(c for c in report.checks if c.id == "type:bill_depth_mm")
    assert not check.passed and check.observed == {"failing_rows": 8}, check
    # text where numbers were is the type rule's to judge: the schema leaves it to it
    schema = next(c for c in report.checks if c.id == "schema")
    assert schema.passed and not schema.observed["wrong_type"]
    assert report.rows["invalid"] == 8
    assert sorted(set(report.invalid_rows["bill_depth_mm"])) == ["deep", "n/a?"]


def test_when_a_column_is_renamed_then_the_schema_reports_it_missing_and_unexpected(
    penguins, penguin_rules
):
    report = validate(penguins["new"].rename(columns={"sex": "gender"}), penguin_rules)
    schema = next(c for c in report.checks if c.id == "schema")
    assert schema.observed["missing"] == ["sex"]
    assert schema.observed["unexpected"] == ["gender"]
    completeness = next(c for c in report.checks if c.id == "completeness:sex")
    assert completeness.observed == "column missing" and not completeness.passed


def test_when_a_null_spike_is_checked_then_the_share_is_the_exact_pandas_share(penguins):
    bad = null_spike(penguins["new"])
    rules = RuleSet((Completeness("body_mass_g", max_null_share=0.1),))
    report = validate(bad, rules)
    check = report.checks[1]
    assert check.share == pytest.approx(bad["body_mass_g"].isna().mean())
    assert check.observed == pytest.approx(bad["body_mass_g"].isna().mean())


def test_when_csv_lines_do_not_parse_then_they_are_quarantined_not_lost(tmp_path, penguins):
    path = tmp_path / "broken.csv"
    frame = penguins["new"].head(20)
    lines = frame.to_csv(index=False).splitlines()
    lines.insert(6, "Adelie,Torgersen,1,2")  # too few fields: file line 7
    lines.insert(12, "a,b,c,d,e,f,g,h,i,j,k")  # too many: file line 13
    path.write_text("\n".join(lines) + "\n")
    report = validate(str(path), RuleSet((NotNull("species"),)))
    assert_counts_add_up(report, 22)
    parse = report.checks[0]
    assert parse.id == "parse" and not parse.passed and parse.observed == 2
    broken = report.invalid_rows[report.invalid_rows["_text"].notna()]
    assert sorted(broken["_line"]) == [7, 13]
    assert all(e[0].startswith("parse:") for e in broken["_errors"])


def test_when_a_rule_names_a_column_the_data_lacks_then_the_check_fails_clearly(penguins):
    rules = RuleSet((Range("wingspan", min=0.0), Mean("wingspan", min=1.0), NotNull("species")))
    report = validate(penguins["new"], rules)
    by_id = {c.id: c for c in report.checks}
    for rule_id in ("range:wingspan", "mean:wingspan"):
        assert not by_id[rule_id].passed
        assert by_id[rule_id].observed == "column missing"
        assert "no column 'wingspan'" in by_id[rule_id].message
    assert by_id["not_null:species"].passed
    assert report.rows["invalid"] == 0  # a missing column quarantines no row


def test_when_drift_rules_have_no_reference_then_they_fail_with_a_reason(penguins):
    rules = RuleSet((JSDivergence("body_mass_g", threshold=0.1), LInfDistance("sex", 0.1)))
    report = validate(penguins["new"], rules)
    assert [c.passed for c in report.checks[1:]] == [False, False]
    assert all("no reference distribution" in c.message for c in report.checks[1:])
    # given a reference profile, the same rules are evaluated
    with_ref = validate(penguins["new"], rules, reference=penguins["profile"])
    assert with_ref.passed, with_ref


def test_when_neither_rules_nor_reference_are_given_then_the_error_says_what_to_pass(penguins):
    with pytest.raises(BeamMLError, match="expected rules or a reference profile"):
        validate(penguins["new"])


def test_when_the_source_is_missing_then_validate_raises_a_clear_error(penguin_rules):
    with pytest.raises(BeamMLError, match="an existing file"):
        validate("/nonexistent/data.csv", penguin_rules)


def test_when_a_reference_path_is_given_then_rules_are_inferred_from_it(penguins):
    ref_path = str(penguins["folder"] / "ref.csv")
    report = validate(penguins["new"], reference=ref_path)
    assert report.passed, report
    assert any(c.rule == "js_divergence" for c in report.checks)


def test_when_rules_are_written_by_hand_then_regex_quantile_psi_and_unique_sets_work(penguins):
    df = penguins["new"].copy()
    df.loc[df.index[:4], "island"] = "dream"  # lower case: breaks the regex
    doubled = pd.concat([df, df.iloc[:6]], ignore_index=True)
    shifted = doubled.assign(body_mass_g=doubled["body_mass_g"] * 1.3)
    ref = penguins["profile"]
    rules = RuleSet(
        (
            Regex("island", r"[A-Z][a-z]+"),
            Quantile("body_mass_g", q=0.5, min=3000.0, max=4500.0),
            PSI("body_mass_g", threshold=0.25),
            PSI("species", threshold=0.25),
            Unique(("species", "island", "bill_length_mm", "body_mass_g")),
            AllowedValues("island", ("Biscoe", "Dream", "Torgersen"), max_share=0.5),
        )
    )
    report = validate(shifted, rules, reference=ref)
    by_id = {c.id: c for c in report.checks}
    # 4 rows broken, and 4 more among the 6 duplicated ones
    assert not by_id["regex:island"].passed and by_id["regex:island"].observed["failing_rows"] == 8
    assert not by_id["quantile:body_mass_g@0.5"].passed
    assert not by_id["psi:body_mass_g"].passed and by_id["psi:species"].passed
    unique = by_id["unique:species+island+bill_length_mm+body_mass_g"]
    cols = ["species", "island", "bill_length_mm", "body_mass_g"]
    assert unique.observed["duplicates"] == doubled.duplicated(subset=cols).sum() >= 6
    assert not unique.passed
    assert unique.message.endswith("exact count)")
    # the tolerated share keeps the check green, yet the rows are still quarantined
    assert by_id["allowed_values:island"].passed
    assert sorted(report.invalid_rows["_line"]) == [
        0,
        1,
        2,
        3,
        len(df),
        len(df) + 1,
        len(df) + 2,
        len(df) + 3,
    ]


def test_flights_clean_resample_passes(flights):
    report = validate(write_csv(flights["new"], flights["folder"] / "clean.csv"), flights["rules"])
    assert report.passed, report
    assert_counts_add_up(report, len(flights["new"]))


def test_flights_faults_are_detected(flights):
    bad = flights["new"].copy()
    rows = bad.sample(frac=0.2, random_state=3).index
    bad.loc[rows, "dep_delay"] = np.nan  # a spike of nulls
    bad.loc[bad.index[:500], "carrier"] = "ZZ"  # a new category
    bad["air_time"] = bad["air_time"] * 1.5  # a shifted distribution
    bad.loc[bad.index[1000:1200], "distance"] = 99_999  # out-of-range values
    bad["arr_delay"] = bad["arr_delay"].astype(object)
    bad.loc[bad.index[2000:2010], "arr_delay"] = "late"  # corrupted types
    bad = pd.concat([bad, bad.iloc[:1500]], ignore_index=True)  # duplicated rows
    bad = bad.drop(columns=["tailnum"])  # a dropped column
    bad = bad.rename(columns={"origin": "airport"})  # a renamed column
    report = validate(write_csv(bad, flights["folder"] / "bad.csv"), flights["rules"])
    failed = {c.id for c in report.failures}
    expected = {
        "completeness:dep_delay",
        "allowed_values:carrier",
        "js_divergence:air_time",
        "mean:air_time",
        "range:distance",
        "type:arr_delay",
        "unique",
        "schema",
    }
    assert expected <= failed, expected - failed
    assert_counts_add_up(report, len(bad))
    schema = next(c for c in report.checks if c.id == "schema").observed
    assert schema["missing"] == ["tailnum", "origin"] and schema["unexpected"] == ["airport"]
    assert schema["wrong_type"] == {}  # "late" in arr_delay: the type check's, above
    invalid = report.invalid_rows
    assert (invalid["carrier"] == "ZZ").sum() == 500 + 500  # and their 500 duplicates
    assert invalid["_errors"].map(lambda e: "range:distance" in e).sum() == 200 + 200  # + dups
    assert invalid["_errors"].map(lambda e: "type:arr_delay" in e).sum() == 10


def test_when_sample_is_given_then_only_that_many_rows_are_checked(penguins, penguin_rules):
    report = validate(penguins["new"], penguin_rules, sample=50)
    assert_counts_add_up(report, 50)


def test_when_data_is_parquet_or_json_lines_then_lines_point_into_the_file(tmp_path, penguins):
    frame = out_of_range(penguins["new"])
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    rules = RuleSet((Range("flipper_length_mm", min=150.0, max=250.0),))
    parquet = validate(str(tmp_path / "d.parquet"), rules)
    assert sorted(parquet.invalid_rows["_line"]) == [3, 50, 90]  # 0-based row numbers
    jsonl = validate(str(tmp_path / "d.jsonl"), rules)
    assert sorted(jsonl.invalid_rows["_line"]) == [4, 51, 91]  # 1-based line numbers


def test_when_a_glob_reads_several_files_then_invalid_rows_name_their_file(tmp_path, penguins):
    frame = out_of_range(penguins["new"])
    frame.iloc[:60].to_csv(tmp_path / "part-1.csv", index=False)
    frame.iloc[60:].to_csv(tmp_path / "part-2.csv", index=False)
    rules = RuleSet((Range("flipper_length_mm", min=150.0, max=250.0),))
    report = validate(str(tmp_path / "part-*.csv"), rules)
    assert_counts_add_up(report, len(frame))
    found = sorted(
        zip(
            report.invalid_rows["_file"].map(lambda f: Path(f).name),
            report.invalid_rows["_line"],
            strict=True,
        )
    )
    assert found == [("part-1.csv", 5), ("part-1.csv", 52), ("part-2.csv", 32)]


def test_when_json_lines_data_does_not_parse_then_the_error_names_the_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"x": 1}\n{"x": 2}\n{"x": oops}\n')
    with pytest.raises(BeamMLError, match="line 3"):
        validate(str(path), RuleSet((NotNull("x"),)))


def test_when_the_data_is_empty_or_all_null_then_checks_fail_without_a_crash():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 20, "s": ["a", "b", "c"] * 20})
    rules = infer_rules(Profile.from_frame(frame))
    empty = validate(frame.iloc[:0], rules)
    assert not empty.passed and empty.rows == {"total": 0, "valid": 0, "invalid": 0}
    nulls = validate(pd.DataFrame({"x": [np.nan] * 5, "s": [None] * 5}), rules)
    assert_counts_add_up(nulls, 5)
    mean = next(c for c in nulls.checks if c.id == "mean:x")
    assert not mean.passed and mean.message == "'x' has no values (warn)"


def test_when_invalid_rows_are_capped_then_counts_stay_exact(penguins, penguin_rules):
    bad = out_of_range(new_category(penguins["new"]))
    full = validate(bad, penguin_rules)
    capped = validate(bad, penguin_rules, max_invalid_rows=2)
    assert capped.rows == full.rows and full.rows["invalid"] > 2
    assert len(capped.invalid_rows) == 2 and capped.to_dict()["invalid_rows_kept"] == 2
    shares = {c.id: (c.share, c.passed) for c in full.checks}
    assert {c.id: (c.share, c.passed) for c in capped.checks} == shares
