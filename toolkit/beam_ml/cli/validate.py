"""``beam-ml validate PATH``: rules or a reference, a report, quarantined rows; exit 1: failed.

Exit 1 on a failed ``error``-level check; ``--fail-on warn`` also on warnings.
"""

from __future__ import annotations

import argparse
from typing import Any

from beam_ml.cli.reading import add_read_options, data_source


def add_validate(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check data against rules (or a reference), quarantine invalid rows",
        description="Check PATH against rules inferred from --reference or read from --rules. "
        "Exit code 0: no error-level check failed (warnings are reported); 1: an error-level "
        "check failed (or a warning, with --fail-on warn); 2: a usage error.",
    )
    parser.add_argument("path", metavar="PATH", help="data to check: a file or a glob")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--reference",
        metavar="REF_PATH",
        help="reference data (or a profile JSON from Profile.to_json) to infer rules from",
    )
    given.add_argument("--rules", metavar="RULES.yaml", help="a rules YAML file")
    parser.add_argument("--write-rules", metavar="OUT.yaml", help="write the rules used as YAML")
    parser.add_argument("--json", metavar="OUT", help="write the report as JSON")
    parser.add_argument("--html", metavar="OUT", help="write the report as HTML")
    parser.add_argument(
        "--invalid-rows", metavar="OUT", help="write the invalid rows as JSON Lines"
    )
    parser.add_argument("--sample", type=int, metavar="N", help="check a uniform sample of N rows")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    parser.add_argument(
        "--fail-on",
        choices=("error", "warn"),
        default="error",
        help="exit 1 on failed error-level checks (default) or on warnings too",
    )
    add_read_options(parser)


def run_validate(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.validation import as_reference, infer_rules, validate
    from beam_ml.validation.rules import RuleSet

    options = beam_args or None
    if args.rules:
        rules, reference = RuleSet.read(args.rules), None
    else:
        given = args.reference
        ref = given if given.endswith(".json") else data_source(given, args)
        reference = as_reference(ref, options=options)
        rules = infer_rules(reference)
    if args.write_rules:
        rules.write(args.write_rules)
    # without --invalid-rows only the report's samples need quarantined rows: bound them
    keep = None if args.invalid_rows else 10_000
    report = validate(
        data_source(args.path, args),
        rules,
        reference=reference,
        sample=args.sample,
        options=options,
        max_invalid_rows=keep,
    )
    from beam_ml.writing import replacing, write_text

    if args.json:  # under a temporary name, renamed when complete (an interrupted run: none)
        write_text(args.json, report.to_json())
    if args.html:
        with replacing(args.html) as temp:
            report.to_html(temp)
    if args.invalid_rows:
        with replacing(args.invalid_rows) as temp:
            report.write_invalid_rows(temp)
    print(report.text(failures_only=True))
    strict = getattr(args, "fail_on", "error") == "warn"
    return 0 if report.passed and not (strict and report.warnings) else 1
