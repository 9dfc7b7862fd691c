"""Print the runner x notebook parity table of the last engine test run (Markdown).

    python tests/engines/parity_table.py          # the table test_cross_runner.py wrote
    python tests/engines/parity_table.py --run    # run the engine tests first (a few minutes)

Each cell is ``ok`` (the module's outputs equal DirectRunner's: rows as multisets,
profiles in counts/moments and within sketch bounds, reports' verdicts and counts),
what differed, ``failed: <why>``, or ``skipped: <why>`` (an engine that
tests/engines/setup.sh could not install).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def main(argv: list[str]) -> int:
    if "--run" in argv:
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE)],
            cwd=HERE.parents[1], check=False,
        )  # fmt: skip
    if not harness.TABLE.exists():
        print(f"no table yet: {harness.TABLE} is written by pytest {HERE}", file=sys.stderr)
        return 1
    data = json.loads(harness.TABLE.read_text(encoding="utf-8"))
    print(f"cross-runner parity, Beam {harness.BEAM_VERSION}, run {data.get('when', '?')}:\n")
    print(harness.format_table(data))
    seconds = data.get("seconds") or {}
    if seconds:
        print("\nseconds per module run: " + ", ".join(f"{k} {v:g}" for k, v in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
