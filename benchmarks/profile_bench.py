"""Benchmark the Beam-native profiler against pandas, ydata-profiling and whylogs.

Generated data: N rows x 20 mixed columns (floats with nulls, skewed floats,
small and large integers, booleans, low- and high-cardinality strings, ISO
timestamps), written once into a cache folder as Parquet and CSV, 4 shards each
(the same files for every tool; shards let DirectRunner's workers share them).

Every measurement is a fresh process: we report its wall time ("process", with
imports), the time it spends after its imports ("work": read + compute) and its
peak RSS (``os.wait4`` of the child; for multi-processing runs that is the
largest single process, workers included). Median of ``--runs`` interleaved
runs (the tools take turns, so background load hits them alike).

Tools:
  ours      beam_ml.profiling.dataset(...) on DirectRunner, in-process
  ours-mp   the same with --direct_running_mode=multi_processing, 2 workers
  pandas    read, describe(include="all"), value_counts of every string column,
            nunique(), isna().sum()  (the baseline the issue defines)
  ydata     ydata-profiling minimal mode, in its own venv (numpy<2.4)
  whylogs   whylogs 1.6.4 why.log(df), in its own venv (python3.11, numpy<2, pyarrow<20)

The peers' venvs are created by this script in the cache folder (never in the
project's .venv: they conflict with our numpy).

    python benchmarks/profile_bench.py            # 100k, 1M, 5M; 3 runs
    python benchmarks/profile_bench.py --quick    # 100k and 1M; 1 run
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path(os.environ.get("BEAM_ML_BENCH_CACHE", "~/.cache/beam-ml/bench")).expanduser()
SHARDS = 4
COLUMNS = 20
PEER_PYTHON = os.environ.get("BEAM_ML_BENCH_PYTHON", "python3.11")
PEERS = {
    "ydata": ["ydata-profiling==4.18.4", "pyarrow", "setuptools<81"],
    "whylogs": ["whylogs==1.6.4", "numpy<2", "pyarrow<20", "pandas<2.3"],
}

# ---------------------------------------------------------------- data
GENERATE = r"""
import sys
import numpy as np, pandas as pd
from pathlib import Path
rows, folder, shards = int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(2024)
def nulls(x, share):
    x = x.astype(float) if x.dtype.kind in "iu" else x.copy()
    x[rng.random(len(x)) < share] = np.nan if x.dtype.kind == "f" else None
    return x
words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
cities = np.array([f"city-{i:03d}" for i in range(300)])
start = np.datetime64("2024-01-01T00:00:00")
df = pd.DataFrame({
    "f_normal": rng.normal(50, 10, rows),
    "f_nulls": nulls(rng.normal(0, 1, rows), 0.1),
    "f_lognormal": rng.lognormal(0, 1.5, rows),
    "f_uniform": rng.random(rows),
    "f_exp": nulls(rng.exponential(3, rows), 0.02),
    "f_price": np.round(rng.gamma(2, 20, rows), 2),
    "f_corr": None,
    "f_zeros": np.where(rng.random(rows) < 0.3, 0.0, rng.normal(5, 2, rows)),
    "i_small": rng.integers(0, 10, rows),
    "i_age": rng.integers(18, 90, rows),
    "i_large": rng.integers(0, 10**9, rows),
    "i_nulls": nulls(rng.integers(0, 1000, rows), 0.05),
    "b_flag": rng.random(rows) < 0.2,
    "s_word": words[rng.zipf(1.5, rows) % len(words)],
    "s_city": cities[rng.integers(0, len(cities), rows)],
    "s_nulls": pd.Series(words[rng.integers(0, 3, rows)]).where(rng.random(rows) > 0.15, None),
    "s_id": np.char.add("id-", rng.permutation(rows).astype(str)),
    "s_text": np.char.add("note ", rng.integers(0, rows // 2 + 1, rows).astype(str)),
    "s_code": np.char.add("C", rng.integers(0, 5000, rows).astype(str)),
    "t_time": (start + rng.integers(0, 365 * 24 * 3600, rows).astype("timedelta64[s]")).astype(str),
})
df["f_corr"] = df["f_normal"] * 2 + rng.normal(0, 1, rows)
assert df.shape[1] == 20
for fmt in ("parquet", "csv"):
    out = folder / fmt
    out.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(rows), shards)):
        piece = df.iloc[part[0] : part[-1] + 1]
        name = out / f"part-{i:05d}-of-{shards:05d}.{fmt}"
        if fmt == "parquet":
            piece.to_parquet(name, index=False, row_group_size=100_000)
        else:
            piece.to_csv(name, index=False)
"""

# ---------------------------------------------------------------- tools
READ = r"""
import glob, sys, pandas as pd, pyarrow.parquet
def read(folder, fmt):
    files = sorted(glob.glob(f"{folder}/*.{fmt}"))
    reader = pd.read_parquet if fmt == "parquet" else pd.read_csv
    return pd.concat([reader(f) for f in files], ignore_index=True)
"""

TOOLS = {
    "ours": r"""
import json, sys, time
t0 = time.perf_counter()
import apache_beam, apache_beam.runners.portability.fn_api_runner, pyarrow.parquet
from beam_ml.profiling.dataset import profile
try:
    import IPython  # Beam imports it lazily while building any pipeline (if installed)
except ImportError:
    pass
t1 = time.perf_counter()
folder, fmt, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
p = profile(f"{folder}/*.{fmt}", options=["--runner=DirectRunner", *extra])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "work_s": t2 - t1, "rows": p.rows}))
""",
    "pandas": READ
    + r"""
import json, time
t1 = time.perf_counter()
folder, fmt = sys.argv[1], sys.argv[2]
df = read(folder, fmt)
d = df.describe(include="all")
for c in df.columns:
    if df[c].dtype == object:
        df[c].value_counts()
df.nunique(); df.isna().sum()
t2 = time.perf_counter()
print(json.dumps({"work_s": t2 - t1, "rows": len(df)}))
""",
    "ydata": READ
    + r"""
import json, time
from ydata_profiling import ProfileReport
t1 = time.perf_counter()
df = read(sys.argv[1], sys.argv[2])
ProfileReport(df, minimal=True, progress_bar=False).get_description()
t2 = time.perf_counter()
print(json.dumps({"work_s": t2 - t1, "rows": len(df)}))
""",
    "whylogs": READ
    + r"""
import json, time
import whylogs as why
t1 = time.perf_counter()
df = read(sys.argv[1], sys.argv[2])
view = why.log(df).view()
view.to_pandas()
t2 = time.perf_counter()
print(json.dumps({"work_s": t2 - t1, "rows": len(df)}))
""",
}


def size_label(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows // 1000}k"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def ensure_data(cache: Path, rows: int) -> Path:
    folder = cache / f"data-{size_label(rows)}"
    done = folder / ".done"
    if not done.exists():
        print(f"generating {rows:,} rows x {COLUMNS} columns into {folder} ...", flush=True)
        subprocess.run(
            [sys.executable, "-c", GENERATE, str(rows), str(folder), str(SHARDS)], check=True
        )
        done.write_text("ok")
    return folder


def ensure_venv(cache: Path, name: str) -> Path | None:
    """The peer's own venv (made once); None if it cannot be built here."""
    venv = cache / f"venv-{name}"
    python = venv / "bin" / "python"
    if (venv / ".done").exists():
        return python
    print(f"creating {venv} with {' '.join(PEERS[name])} ...", flush=True)
    try:
        subprocess.run([PEER_PYTHON, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEERS[name]], check=True, timeout=1800
        )
    except (OSError, subprocess.SubprocessError) as error:
        print(f"  skipping {name}: could not build its venv ({error})", flush=True)
        return None
    (venv / ".done").write_text("ok")
    return python


def run_once(python: str, tool: str, folder: Path, fmt: str, extra: list[str]) -> dict:
    """One fresh process; its wall time, work time and peak RSS (os.wait4)."""
    script = TOOLS["ours" if tool.startswith("ours") else tool]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [python, "-c", script, str(folder / fmt), fmt, *extra], stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        tail = " | ".join(errors.strip().splitlines()[-3:])
        return {"error": f"exit {proc.returncode}: {tail[:300]}"}
    result = json.loads(text.strip().splitlines()[-1])
    result["process_s"] = wall
    result["rss_gb"] = usage.ru_maxrss / 1024 / 1024  # KiB on Linux
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run; 100k and 1M rows")
    parser.add_argument("--sizes", help="comma-separated row counts, e.g. 100k,1m,5m")
    parser.add_argument("--runs", type=int, help="runs per measurement (median)")
    parser.add_argument("--tools", default="ours,ours-mp,pandas,ydata,whylogs")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--peer-max-rows",
        type=parse_size,
        default=1_000_000,
        help="run ydata/whylogs only up to this size (ydata needs ~9 GB at 1M rows)",
    )
    parser.add_argument(
        "--peer-runs", type=int, help="runs of ydata/whylogs (default: as --runs; they are slow)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    sizes = [
        parse_size(s)
        for s in (args.sizes or ("100k,1m" if args.quick else "100k,1m,5m")).split(",")
    ]
    runs = args.runs or (1 if args.quick else 3)
    peer_runs = min(args.peer_runs or runs, runs)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} (cores: {os.cpu_count()})", flush=True)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    args.cache.mkdir(parents=True, exist_ok=True)

    pythons = {"ours": sys.executable, "ours-mp": sys.executable, "pandas": sys.executable}
    for peer in ("ydata", "whylogs"):
        if peer in tools:
            python = ensure_venv(args.cache, peer)
            if python is None:
                tools.remove(peer)
            else:
                pythons[peer] = str(python)
    extras = {"ours-mp": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]}

    results: dict[tuple[int, str, str], list[dict]] = {}
    for rows in sizes:
        folder = ensure_data(args.cache, rows)
        for run in range(runs):
            for fmt in formats:
                for tool in tools:
                    if tool in PEERS and (rows > args.peer_max_rows or run >= peer_runs):
                        continue
                    r = run_once(pythons[tool], tool, folder, fmt, extras.get(tool, []))
                    results.setdefault((rows, fmt, tool), []).append(r)
                    shown = r.get("error") or (
                        f"{r['process_s']:.1f} s process, {r['work_s']:.1f} s work, "
                        f"{r['rss_gb']:.2f} GB"
                    )
                    print(
                        f"  [{run + 1}/{runs}] {size_label(rows)} {fmt} {tool}: {shown}", flush=True
                    )
    table = summarise(results)
    print()
    print(render(table, runs))
    print()
    print(targets(table))
    print(f"load average at end: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    return 0


def summarise(results: dict[tuple[int, str, str], list[dict]]) -> list[dict]:
    table = []
    for (rows, fmt, tool), rs in results.items():
        ok = [r for r in rs if "error" not in r]
        row = {"rows": rows, "format": fmt, "tool": tool, "runs": len(ok)}
        if ok:
            for key in ("process_s", "work_s", "rss_gb"):
                row[key] = statistics.median(r[key] for r in ok)
        else:
            row["error"] = rs[0]["error"]
        table.append(row)
    by_key = {(r["rows"], r["format"], r["tool"]): r for r in table}
    for row in table:
        base = by_key.get((row["rows"], row["format"], "pandas"))
        if base and "work_s" in base and "work_s" in row:
            row["work_vs_pandas"] = row["work_s"] / base["work_s"]
            row["process_vs_pandas"] = row["process_s"] / base["process_s"]
            row["rss_vs_pandas"] = row["rss_gb"] / base["rss_gb"]
    return table


def render(table: list[dict], runs: int) -> str:
    head = (
        f"{'rows':>5} {'format':<8} {'tool':<8} {'runs':>4} {'process s':>9} {'work s':>8} "
        f"{'peak GB':>8} {'work/pandas':>11} {'proc/pandas':>11} {'RSS/pandas':>10}"
    )
    lines = [
        f"median of up to {runs} interleaved run(s) (runs column); "
        "work = read + compute, imports excluded",
        head,
    ]
    for r in sorted(table, key=lambda r: (r["rows"], r["format"], r["tool"])):
        if "error" in r:
            lines.append(f"{size_label(r['rows']):>5} {r['format']:<8} {r['tool']:<8} {r['error']}")
            continue

        def ratio(key: str, r: dict = r) -> str:
            return f"{r[key]:.2f}" if key in r else "-"

        lines.append(
            f"{size_label(r['rows']):>5} {r['format']:<8} {r['tool']:<8} {r['runs']:>4} "
            f"{r['process_s']:>9.1f} "
            f"{r['work_s']:>8.1f} {r['rss_gb']:>8.2f} {ratio('work_vs_pandas'):>11} "
            f"{ratio('process_vs_pandas'):>11} {ratio('rss_vs_pandas'):>10}"
        )
    return "\n".join(lines)


def targets(table: list[dict]) -> str:
    """The issue's targets, each with the measured ratio (only those this run can tell)."""
    got = {(r["rows"], r["format"], r["tool"]): r for r in table if "error" not in r}
    lines = ["targets (ours, one process):"]

    def check(label: str, value: float, limit: float, at_most: bool = True) -> None:
        ok = value <= limit if at_most else value >= limit
        sign = "<=" if at_most else ">="
        verdict = "ok" if ok else "NOT MET"
        lines.append(f"  {label:<40} {value:6.2f}  (target {sign} {limit:g}: {verdict})")

    for fmt in ("parquet", "csv"):
        ours = {rows: got.get((rows, fmt, "ours")) for rows in (100_000, 1_000_000, 5_000_000)}
        pandas = {rows: got.get((rows, fmt, "pandas")) for rows in ours}
        one, five = 1_000_000, 5_000_000
        if ours[one] and pandas[one]:
            check(f"{fmt} 1M work / pandas", ours[one]["work_s"] / pandas[one]["work_s"], 1.0)
            check(f"{fmt} 1M peak / pandas peak", ours[one]["rss_gb"] / pandas[one]["rss_gb"], 0.5)
        ydata = got.get((one, fmt, "ydata"))
        if ours[one] and ydata:
            check(f"{fmt} 1M ydata work / ours", ydata["work_s"] / ours[one]["work_s"], 20, False)
        if ours[five] and pandas[five]:
            check(f"{fmt} 5M work / pandas", ours[five]["work_s"] / pandas[five]["work_s"], 0.5)
        if ours[five] and ours[100_000]:
            check(f"{fmt} peak 5M / peak 100k", ours[five]["rss_gb"] / ours[100_000]["rss_gb"], 1.3)
        mp = got.get((five, fmt, "ours-mp"))
        if ours[five] and mp:
            check(f"{fmt} 5M 2 workers / 1 worker (work)", mp["work_s"] / ours[five]["work_s"], 1.0)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
