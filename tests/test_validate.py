"""validate / infer_rules / ValidateRows on penguins and flights with faults injected in code."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import beam_ml as bml
import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.profiling.dataset import Profile
from beam_ml.runner import run_and_collect
from beam_ml.validation.core import (
    INVALID,
    VALID,
    ValidateRows,
    ValidationReport,
    evaluate_profile,
    infer_rules,
    js_divergence,
    profile_reference,
    psi,
    split_batch,
    validate,
)
from beam_ml.validation.rules import (
    PSI,
    AllowedValues,
    Completeness,
    JSDivergence,
    Length,
    LInfDistance,
    Mean,
    NotNull,
    Outliers,
    Quantile,
    Range,
    Regex,
    RuleSet,
    Unique,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes


def _halves(df: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two disjoint uniform halves of the same data: a reference and a clean re-sample."""
    order = np.random.default_rng(seed).permutation(len(df))
    half = len(df) // 2
    ref = df.iloc[np.sort(order[:half])].reset_index(drop=True)
    new = df.iloc[np.sort(order[half:])].reset_index(drop=True)
    return ref, new


def _write(df: pd.DataFrame, path: Path) -> str:
    df.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    folder = tmp_path_factory.mktemp("penguins")
    df = pd.read_csv(bml.datasets.load("penguins"))
    ref, new = _halves(df, seed=7)
    reference = profile_reference(_write(ref, folder / "ref.csv"))
    return {"folder": folder, "ref": ref, "new": new, "profile": reference}


@pytest.fixture(scope="module")
def penguin_rules(penguins) -> RuleSet:
    return infer_rules(penguins["profile"])


def assert_counts_add_up(report: ValidationReport, expected_total: int) -> None:
    rows = report.rows
    assert rows["total"] == expected_total
    assert rows["valid"] + rows["invalid"] == rows["total"]
    assert len(report.invalid_rows) == rows["invalid"]
    if rows["invalid"]:
        assert all(len(errors) > 0 for errors in report.invalid_rows["_errors"])
        assert report.invalid_rows["_line"].notna().all()


# ------------------------------------------------------------------ penguins


def test_when_a_clean_resample_is_validated_then_every_check_passes(penguins, penguin_rules):
    path = _write(penguins["new"], penguins["folder"] / "clean.csv")
    report = validate(path, penguin_rules)
    assert report.passed, report
    assert_counts_add_up(report, len(penguins["new"]))
    assert len(report.checks) == len(penguin_rules) + 1  # + the parse check


def test_when_other_clean_halves_are_checked_then_inferred_rules_raise_no_false_alarm():
    # the same promise on more random splits, without a pipeline per split
    df = pd.read_csv(bml.datasets.load("penguins"))
    for seed in range(12):
        ref, new = _halves(df, seed)
        rules = infer_rules(Profile.from_frame(ref))
        failed = [c.id for c in evaluate_profile(Profile.from_frame(new), rules) if not c.passed]
        assert failed == [], (seed, failed)
        _, invalid = split_batch(new, rules.row_rules)
        counts = pd.Series([e for errs in invalid["_errors"] for e in errs]).value_counts()
        for rule in rules.row_rules:
            assert counts.get(rule.id, 0) / len(new) <= rule.max_share, (seed, rule.id)


def _null_spike(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.sample(frac=0.25, random_state=1).index, "body_mass_g"] = np.nan
    return out


def _out_of_range(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[[3, 50, 90]], "flipper_length_mm"] = [1000, -5, 2000]
    return out


def _new_category(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.sample(frac=0.05, random_state=2).index, "species"] = "Emperor"
    return out


def _corrupted_types(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["bill_depth_mm"] = out["bill_depth_mm"].astype(object)
    out.loc[out.index[[10, 11]], "bill_depth_mm"] = ["deep", "n/a?"]
    return out


def _shifted(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["body_mass_g"] = out["body_mass_g"] + round(df["body_mass_g"].std())
    return out


def _duplicated(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.iloc[:15]], ignore_index=True)


FAULTS = {
    "null spike": (_null_spike, "completeness:body_mass_g"),
    "out of range": (_out_of_range, "range:flipper_length_mm"),
    "new category": (_new_category, "allowed_values:species"),
    "corrupted types": (_corrupted_types, "type:bill_depth_mm"),
    "shifted distribution": (_shifted, "js_divergence:body_mass_g"),
    "duplicated rows": (_duplicated, "unique"),
    "dropped column": (lambda df: df.drop(columns=["island"]), "schema"),
    "renamed column": (lambda df: df.rename(columns={"sex": "gender"}), "schema"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_when_a_fault_is_injected_then_inferred_rules_detect_it_and_counts_add_up(
    penguins, penguin_rules, fault
):
    inject, expected_failure = FAULTS[fault]
    bad = inject(penguins["new"])
    path = _write(bad, penguins["folder"] / f"{fault.replace(' ', '_')}.csv")
    report = validate(path, penguin_rules)
    assert not report.passed
    failed = {c.id for c in report.failures}
    assert expected_failure in failed, (fault, failed)
    assert_counts_add_up(report, len(bad))
    assert report.to_dict()["passed"] is False


def test_when_values_are_out_of_range_then_exactly_those_rows_are_quarantined_with_lines(
    penguins, penguin_rules
):
    bad = _out_of_range(penguins["new"])
    path = _write(bad, penguins["folder"] / "range_lines.csv")
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


def test_when_types_are_corrupted_then_the_schema_check_names_the_column(penguins, penguin_rules):
    path = _write(_corrupted_types(penguins["new"]), penguins["folder"] / "types.csv")
    report = validate(path, penguin_rules)
    schema = next(c for c in report.checks if c.id == "schema")
    assert "bill_depth_mm" in schema.observed["wrong_type"]
    assert report.rows["invalid"] == 2
    assert sorted(report.invalid_rows["bill_depth_mm"]) == ["deep", "n/a?"]


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
    bad = _null_spike(penguins["new"])
    rules = RuleSet((Completeness("body_mass_g", max_null_share=0.1),))
    report = validate(bad, rules)
    check = report.checks[1]
    assert check.share == pytest.approx(bad["body_mass_g"].isna().mean())
    assert check.observed == pytest.approx(bad["body_mass_g"].isna().mean())


# ------------------------------------------------------------------ bad input


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


# ------------------------------------------------------------------ written rules


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
    assert unique.message == "exact count"
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


def test_divergences_are_zero_for_equal_distributions_and_grow_with_the_shift():
    assert js_divergence([0.2, 0.8], [0.2, 0.8]) == 0.0
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    assert psi([0.5, 0.5], [0.4, 0.6]) < psi([0.5, 0.5], [0.2, 0.8])


# ------------------------------------------------------------------ the transform


def test_validate_rows_puts_every_row_in_exactly_one_output():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"x": rng.normal(size=1000), "s": rng.choice(["a", "b", "c", None], size=1000)}
    )
    batches = [frame.iloc[i : i + 128] for i in range(0, 1000, 128)]
    rules = RuleSet((Range("x", min=-1.0, max=1.0), AllowedValues("s", ("a", "b")), NotNull("s")))

    def build(p):
        out = p | beam.Create(batches, reshuffle=False) | ValidateRows(rules)
        return {"valid": out[VALID], "invalid": out[INVALID]}

    result = run_and_collect(build)
    valid = pd.concat(result["valid"])
    invalid = pd.concat(result["invalid"])
    assert len(valid) + len(invalid) == 1000
    assert sorted([*valid.index, *invalid["_line"]]) == list(range(1000))
    expected_bad = (frame["x"].abs() > 1) | ~frame["s"].isin(["a", "b"])
    assert set(invalid["_line"]) == set(frame.index[expected_bad])
    both = invalid[invalid["_errors"].map(len) == 2]
    assert all(set(e) == {"allowed_values:s", "not_null:s"} for e in both["_errors"]) or all(
        "range:x" in e for e in both["_errors"]
    )


# ------------------------------------------------------------------ the report


def test_report_to_dict_has_the_documented_shape_and_json_round_trips(penguins, penguin_rules):
    report = validate(_out_of_range(penguins["new"]), penguin_rules)
    d = json.loads(report.to_json())
    assert set(d) >= {"passed", "checks", "rows"}
    assert set(d["rows"]) == {"total", "valid", "invalid"}
    for check in d["checks"]:
        assert set(check) >= {"rule", "column", "passed", "observed", "expected", "share"}
        assert check["share"] is None or 0.0 <= check["share"] <= 1.0


def test_invalid_rows_are_written_as_json_lines_with_errors_and_line(
    tmp_path, penguins, penguin_rules
):
    report = validate(_out_of_range(penguins["new"]), penguin_rules)
    out = report.write_invalid_rows(tmp_path / "bad.jsonl")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == report.rows["invalid"] == 3
    assert {r["_line"] for r in records} == {3, 50, 90}  # a DataFrame's own index
    assert all(r["_errors"] == ["range:flipper_length_mm"] for r in records)
    assert set(penguins["new"].columns) <= set(records[0])


def test_html_lists_failures_first_and_escapes_every_value():
    frame = pd.DataFrame({"<script>": ["<b>x</b>", "ok", None], "y": [1.0, 2.0, 3.0]})
    rules = RuleSet(
        (
            NotNull("y"),
            AllowedValues("<script>", ("ok",)),
            Range("y", min=0.0, max=2.5),
        )
    )
    report = validate(frame, rules)
    bundle = report._repr_mimebundle_()
    html = bundle["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    first_fail = html.index("bml-check bml-bad")
    assert first_fail < html.index("bml-check bml-good")
    assert "FAIL" in bundle["text/plain"] and "allowed_values:<script>" in bundle["text/plain"]
    assert ".bml-validation" in html  # the stylesheet from beam_ml.assets


# ------------------------------------------------------------------ flights


@pytest.fixture(scope="module")
def flights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flights")
    df = pd.read_csv(bml.datasets.load("flights"))
    two_months = df[df["month"] <= 2].reset_index(drop=True)
    ref, new = _halves(two_months, seed=1)
    reference = profile_reference(_write(ref, folder / "ref.csv"))
    return {"folder": folder, "new": new, "rules": infer_rules(reference)}


def test_flights_clean_resample_passes(flights):
    report = validate(_write(flights["new"], flights["folder"] / "clean.csv"), flights["rules"])
    assert report.passed, report
    assert_counts_add_up(report, len(flights["new"]))


def test_flights_faults_are_detected(flights):
    bad = flights["new"].copy()
    rows = bad.sample(frac=0.2, random_state=3).index
    bad.loc[rows, "dep_delay"] = np.nan  # a spike of nulls
    bad.loc[bad.index[:500], "carrier"] = "ZZ"  # a new category
    bad["air_time"] = bad["air_time"] * 1.5  # a shifted distribution
    bad.loc[bad.index[1000:1020], "distance"] = 99_999  # out-of-range values
    bad["arr_delay"] = bad["arr_delay"].astype(object)
    bad.loc[bad.index[2000:2010], "arr_delay"] = "late"  # corrupted types
    bad = pd.concat([bad, bad.iloc[:1500]], ignore_index=True)  # duplicated rows
    bad = bad.drop(columns=["tailnum"])  # a dropped column
    bad = bad.rename(columns={"origin": "airport"})  # a renamed column
    report = validate(_write(bad, flights["folder"] / "bad.csv"), flights["rules"])
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
    assert "arr_delay" in schema["wrong_type"]
    invalid = report.invalid_rows
    assert (invalid["carrier"] == "ZZ").sum() == 500 + 500  # and their 500 duplicates
    assert invalid["_errors"].map(lambda e: "range:distance" in e).sum() == 20 + 20  # + dups
    assert invalid["_errors"].map(lambda e: "type:arr_delay" in e).sum() == 10


# ------------------------------------------------------------------ more sources and shapes


def test_when_an_id_column_is_unique_in_the_reference_then_a_duplicated_id_is_caught():
    rng = np.random.default_rng(11)
    ids = rng.permutation(800)  # two halves of the same id-keyed table
    ref = pd.DataFrame({"id": ids[:400], "x": rng.normal(size=400)})
    rules = infer_rules(Profile.from_frame(ref))
    assert any(r.kind == "unique" and r.columns == ("id",) for r in rules)
    new = pd.DataFrame({"id": ids[400:], "x": rng.normal(size=400)})
    assert validate(new, rules).passed
    clash = new.assign(id=np.r_[ids[400:799], ids[400]])
    report = validate(clash, rules)
    check = next(c for c in report.checks if c.id == "unique:id")
    assert not check.passed and check.observed["duplicates"] == 1


def test_when_sample_is_given_then_only_that_many_rows_are_checked(penguins, penguin_rules):
    report = validate(penguins["new"], penguin_rules, sample=50)
    assert_counts_add_up(report, 50)


def test_when_data_is_parquet_or_json_lines_then_lines_point_into_the_file(tmp_path, penguins):
    frame = _out_of_range(penguins["new"])
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    rules = RuleSet((Range("flipper_length_mm", min=150.0, max=250.0),))
    parquet = validate(str(tmp_path / "d.parquet"), rules)
    assert sorted(parquet.invalid_rows["_line"]) == [3, 50, 90]  # 0-based row numbers
    jsonl = validate(str(tmp_path / "d.jsonl"), rules)
    assert sorted(jsonl.invalid_rows["_line"]) == [4, 51, 91]  # 1-based line numbers


def test_when_a_glob_reads_several_files_then_invalid_rows_name_their_file(tmp_path, penguins):
    frame = _out_of_range(penguins["new"])
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


def test_when_cells_hold_lists_then_row_rules_judge_their_text_and_do_not_crash():
    frame = pd.DataFrame({"tags": [["a"], ["b", "c"], None, "a"]})
    valid, invalid = split_batch(frame, [AllowedValues("tags", ("a", "['a']"))])
    assert len(valid) + len(invalid) == 4
    assert [e for e in invalid["_errors"]] == [["allowed_values:tags"]]


@settings(max_examples=60, deadline=None)
@given(
    frame=data_frames(
        [
            column("x", elements=st.floats(allow_nan=True, allow_infinity=True)),
            column("s", elements=st.one_of(st.none(), st.text(max_size=4))),
        ],
        index=range_indexes(max_size=40),
    ),
    low=st.floats(-10, 0),
)
def test_every_row_lands_in_exactly_one_output_whatever_the_values(frame, low):
    rules = [
        NotNull("x"),
        Range("x", min=low, max=10.0),
        AllowedValues("s", ("a", "b", "")),
        Regex("s", r"[a-z]*"),
        Length("s", max=2),
    ]
    valid, invalid = split_batch(frame, rules)
    assert len(valid) + len(invalid) == len(frame)
    assert sorted([*valid.index, *invalid["_line"]]) == list(frame.index)
    assert all(errors for errors in invalid["_errors"])


# ------------------------------------------------------------------ against exact pandas


@pytest.fixture(scope="module")
def flight_halves():
    df = pd.read_csv(bml.datasets.load("flights"))
    return _halves(df[df["month"] <= 2].reset_index(drop=True), seed=4)


def test_when_the_reference_lists_only_its_top_values_then_drift_uses_an_other_bucket(
    flight_halves,
):
    from beam_ml.profiling.dataset import ProfileOptions

    ref, new = flight_halves
    options = ProfileOptions(top_k=5)
    rules = infer_rules(Profile.from_frame(ref, options))
    dest = next(r for r in rules if r.id == "linf_distance:dest")
    assert len(dest.reference) == 5  # type: ignore[attr-defined]
    assert not any(r.id == "allowed_values:dest" for r in rules)  # the list is incomplete
    # as in validate(): the new data's profile lists up to 1000 values
    listing = ProfileOptions(top_k=1000)
    clean = evaluate_profile(Profile.from_frame(new, listing), rules)
    assert [c.id for c in clean if not c.passed] == []
    shifted = new.copy()
    shifted.loc[shifted.sample(frac=0.3, random_state=0).index, "dest"] = "XXX"
    checks = evaluate_profile(Profile.from_frame(shifted, listing), rules)
    linf = next(c for c in checks if c.id == "linf_distance:dest")
    # "XXX" is not listed: its reference share was at most the smallest listed one
    floor = min(dest.reference.values())  # type: ignore[attr-defined]
    assert not linf.passed and linf.observed == pytest.approx(0.3 - floor, abs=0.02)


def test_dataset_checks_match_exact_pandas_within_the_sketch_bounds(flight_halves):
    _, new = flight_halves
    p = Profile.from_frame(new)
    rules = RuleSet(
        (
            Completeness("dep_delay", max_null_share=1.0),
            Mean("dep_delay", min=-100.0, max=100.0),
            Outliers("dep_delay", max_share=1.0, method="zscore", fence=3.0),
            Outliers("dep_delay", max_share=1.0, method="iqr", fence=1.5),
            Quantile("air_time", q=0.9, min=0.0, max=1000.0),
        )
    )
    checks = {c.id: c for c in evaluate_profile(p, rules)}
    x = new["dep_delay"].dropna()
    eps = p.error_bounds["kll_rank"]
    assert checks["completeness:dep_delay"].observed == pytest.approx(
        new["dep_delay"].isna().mean()
    )
    assert checks["mean:dep_delay"].observed == pytest.approx(x.mean(), rel=1e-9)
    z = ((x - x.mean()) / x.std()).abs() > 3
    assert checks["outliers:dep_delay:zscore"].observed == pytest.approx(z.mean(), abs=2 * eps)
    q1, q3 = x.quantile(0.25), x.quantile(0.75)
    iqr = (x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))
    assert checks["outliers:dep_delay:iqr"].observed == pytest.approx(iqr.mean(), abs=4 * eps)
    rank = (new["air_time"].dropna() <= checks["quantile:air_time@0.9"].observed).mean()
    assert rank == pytest.approx(0.9, abs=eps + 0.01)


def test_when_a_class_disappears_then_class_balance_fails_and_a_new_rare_one_is_ignored():
    df = pd.read_csv(bml.datasets.load("penguins"))
    ref, new = _halves(df, seed=2)
    rules = infer_rules(Profile.from_frame(ref))
    balance = next(r for r in rules if r.id == "class_balance:species")
    assert set(balance.classes) == {"Adelie", "Gentoo", "Chinstrap"}  # type: ignore[attr-defined]
    gone = evaluate_profile(Profile.from_frame(new[new["species"] != "Chinstrap"]), rules)
    check = next(c for c in gone if c.id == "class_balance:species")
    assert not check.passed and check.observed["min_share"] == 0.0
    one_more = new.copy()
    one_more.loc[one_more.index[0], "species"] = "Emperor"
    checks = evaluate_profile(Profile.from_frame(one_more), rules)
    assert next(c for c in checks if c.id == "class_balance:species").passed


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
    assert not mean.passed and mean.message == "'x' has no values"


def test_when_a_few_whole_numbers_change_their_mix_then_the_value_drift_check_fails():
    df = pd.read_csv(bml.datasets.load("penguins"))
    ref, new = _halves(df, seed=3)
    rules = infer_rules(Profile.from_frame(ref))
    assert any(r.id == "linf_distance:year" for r in rules)
    assert all(c.passed for c in evaluate_profile(Profile.from_frame(new), rules))
    later = new.assign(year=np.where(new["year"] == 2007, 2009, new["year"]))
    checks = {c.id: c for c in evaluate_profile(Profile.from_frame(later), rules)}
    assert not checks["linf_distance:year"].passed
    assert checks["linf_distance:year"].observed == pytest.approx(
        (new["year"] == 2007).mean(), abs=0.06
    )


def test_when_infer_rules_gets_no_profile_then_the_error_says_how_to_make_one():
    with pytest.raises(BeamMLError, match=r"expected a Profile, got str: pass bml.profile"):
        infer_rules("penguins.csv")


def test_when_invalid_rows_are_capped_then_counts_stay_exact(penguins, penguin_rules):
    bad = _out_of_range(_new_category(penguins["new"]))
    full = validate(bad, penguin_rules)
    capped = validate(bad, penguin_rules, max_invalid_rows=2)
    assert capped.rows == full.rows and full.rows["invalid"] > 2
    assert len(capped.invalid_rows) == 2 and capped.to_dict()["invalid_rows_kept"] == 2
    shares = {c.id: (c.share, c.passed) for c in full.checks}
    assert {c.id: (c.share, c.passed) for c in capped.checks} == shares
