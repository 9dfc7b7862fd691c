"""Fuzz the readers with many more dirty CSV / JSON Lines files than CI does; a table by class.

Each example is drawn by the strategies of ``tests/hardening/fuzzing.py`` and
checked against the same contract as the CI test (rows + bad records = the
records in the file, or one BeamMLError line). Prints, per input class, how
many files were drawn, how many gave rows, how many a one-line error, how many
broke the contract, and the most common error message (paths elided). A few
(``--pipelines N``) also go through ``bml.profile`` and ``bml.validate``.

    .venv/bin/python benchmarks/fuzz_bench.py --examples 3000 --pipelines 20
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hardening.fuzzing import ALL_CASES, Case, check_outcome, read_outcome
from hypothesis import HealthCheck, Phase, given, settings


def _message(error: str) -> str:
    text = re.sub(r"/\S+/case\.(csv|jsonl)", "FILE", error)
    return re.sub(r"line \d+", "line N", text)[:110]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--pipelines", type=int, default=0, help="also profile + validate N")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    messages: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    broken: list[tuple[Case, str]] = []
    started = time.perf_counter()

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(ALL_CASES)
    def run(case: Case) -> None:
        with tempfile.TemporaryDirectory() as folder:
            try:
                outcome = read_outcome(case, folder)
                check_outcome(case, outcome)
            except AssertionError as error:
                table[case.kind]["BROKEN"] += 1
                broken.append((case, str(error)[:200]))
                return
        table[case.kind]["files"] += 1
        if outcome.error is None:
            table[case.kind]["rows"] += 1
            table[case.kind]["with bad records"] += bool(outcome.bad)
        else:
            table[case.kind]["one-line error"] += 1
            messages[case.kind][_message(outcome.error)] += 1

    run._hypothesis_internal_use_seed = args.seed  # type: ignore[attr-defined]
    run()
    seconds = time.perf_counter() - started
    print(f"{'input class':<44} {'files':>6} {'rows':>6} {'bad>0':>6} {'error':>6} {'BROKEN':>6}")
    for kind in sorted(table):
        c = table[kind]
        print(
            f"{kind[:44]:<44} {c['files']:>6} {c['rows']:>6} {c['with bad records']:>6} "
            f"{c['one-line error']:>6} {c['BROKEN']:>6}"
        )
        if messages[kind]:
            top, count = messages[kind].most_common(1)[0]
            print(f"    most common error ({count}): {top}")
    print(f"{args.examples} examples in {seconds:.1f} s; contract broken by {len(broken)}")
    for case, error in broken[:10]:
        print(f"  BROKEN {case.kind}: {error} data={case.data[:80]!r}")
    if args.pipelines:
        _pipelines(args.pipelines)
    return 1 if broken else 0


def _pipelines(n: int) -> None:
    from hardening.test_fuzz_inputs import _pipelines as check  # the CI test's own check

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(ALL_CASES)
    def run(case: Case) -> None:
        with tempfile.TemporaryDirectory() as folder:
            check(case, folder)

    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    print(f"{n} profile + validate pipelines agreed with the readers in {seconds:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
