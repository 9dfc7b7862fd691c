"""Scaling on Beam's engines: profile generated rows on DirectRunner, Prism and Flink.

The data is profile_bench.py's (N rows x 20 mixed columns, 4 Parquet shards, made
once in its cache folder). Each measurement is a fresh process running
``bml.profile(files, options=[...])``: one ProfileDataset CombineFn in a pipeline.

  direct-1         DirectRunner, in process
  direct-2         DirectRunner, --direct_num_workers=2 --direct_running_mode=multi_processing
  prism            PrismRunner --prism_location=<cache>/bin/prism (LOOPBACK worker)
  prism-external   Prism, EXTERNAL workers from a worker_pool_main pool
  flink-1/flink-2  FlinkRunner on Beam's Flink job server, --parallelism 1 / 2, EXTERNAL workers

Time is the launcher's wall time (imports included); peak memory is the largest sum
of the resident memory of every process taking part (launcher, its children, the
worker pool and its workers, the job server), sampled every 0.1 s. Engines that
tests/engines/setup.sh could not install are reported and skipped.

    python benchmarks/engines_bench.py                  # 1M and 5M rows
    python benchmarks/engines_bench.py --sizes 1m --runners direct-1,direct-2,prism
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "engines"))

import harness  # noqa: E402
from profile_bench import DEFAULT_CACHE, ensure_data, parse_size, size_label  # noqa: E402

RUNNERS = ("direct-1", "direct-2", "prism", "prism-external", "flink-1", "flink-2")
PROFILE = r"""
import json, sys, time
t0 = time.perf_counter()
import beam_ml as bml
t1 = time.perf_counter()
p = bml.profile(sys.argv[1], options=sys.argv[2:])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "work_s": t2 - t1, "rows": p.rows}))
"""


def _tree_rss(roots: list[int]) -> int:
    """Resident bytes of the given processes and all their descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            pid, ppid = int(entry), int(fields[1])
            rss[pid] = int(fields[21]) * page
            children.setdefault(ppid, []).append(pid)
        except (OSError, ValueError, IndexError):
            continue
    total, todo, seen = 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


class Sampler:
    def __init__(self, roots: list[int]) -> None:
        self.roots, self.peak, self._stop = roots, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.roots))
            self._stop.wait(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _pids_of_services() -> list[int]:
    """The job server and worker pool started by harness.service in this process."""
    return [p.pid for p in harness.STARTED if p.poll() is None]


def measure(files: str, options: list[str], timeout: float) -> dict:
    env = harness.worker_env()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", PROFILE, files, *options], stdout=out, stderr=err, env=env
        )
        with Sampler([proc.pid, *_pids_of_services()]) as sampler:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return {"error": f"over {timeout:g} s"}
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {harness.last_error(errors)}"}
    result = json.loads(text.strip().splitlines()[-1])
    result.update(process_s=wall, peak_gb=sampler.peak / 1e9)
    return result


@contextlib.contextmanager
def runner_options(runner: str) -> Iterator[list[str] | str]:
    """The options of a runner, with its services up; or a string: why it cannot run."""
    if runner == "direct-1":
        yield ["--runner=DirectRunner"]
    elif runner == "direct-2":
        yield ["--runner=DirectRunner", *harness.runner_args("direct-2")]
    elif runner.startswith("prism"):
        prism = harness.engine("prism")
        if prism.path is None:
            yield f"blocked: {prism.missing}"
        elif runner == "prism":
            yield harness.runner_args("prism", prism=prism.path)
        else:
            with harness.prism_server(prism.path) as endpoint, harness.worker_pool() as workers:
                yield harness.runner_args("prism-external", endpoint=endpoint, workers=workers)
    else:
        flink = harness.engine("flink")
        if flink.path is None:  # setup.sh's words: the mvn command and what Maven answered
            yield f"blocked: {flink.missing}"
        else:
            parallelism = runner.split("-")[1]
            with harness.flink_server(flink.path) as endpoint, harness.worker_pool() as workers:
                args = harness.runner_args("flink-external", endpoint=endpoint, workers=workers)
                yield [a if not a.startswith("--parallelism") else f"--parallelism={parallelism}"
                       for a in args]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1m,5m", help="comma-separated row counts, e.g. 1m,5m")
    parser.add_argument("--runners", default=",".join(RUNNERS))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per measurement")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    runners = [r.strip() for r in args.runners.split(",")]
    unknown = sorted(set(runners) - set(RUNNERS))
    if unknown:
        parser.error(f"expected runners among {', '.join(RUNNERS)}, got {', '.join(unknown)}")
    folders = {rows: ensure_data(args.cache, rows) for rows in sizes}
    results: dict[tuple[str, int], dict] = {}
    for runner in runners:  # each runner's services start once for all sizes
        with runner_options(runner) as options:
            for rows in sizes:
                if isinstance(options, str):
                    results[runner, rows] = {"error": options}
                    continue
                files = str(folders[rows] / "parquet" / "*.parquet")
                print(f"{runner:15} {size_label(rows):>4} ...", end=" ", flush=True)
                results[runner, rows] = r = measure(files, options, args.timeout)
                print(
                    r.get("error") or f"{r['process_s']:.1f} s, {r['peak_gb']:.2f} GB", flush=True
                )
    print()
    print(render(results, runners, sizes))
    if args.json:
        rows_json = [{"runner": k[0], "rows": k[1], **v} for k, v in results.items()]
        args.json.write_text(json.dumps(rows_json, indent=2) + "\n", encoding="utf-8")
    return 0


def render(results: dict[tuple[str, int], dict], runners: list[str], sizes: list[int]) -> str:
    lines = ["| runner | rows | time (s) | work (s) | peak memory (GB) | 2-vs-1 time |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    pairs = {"direct-2": "direct-1", "flink-2": "flink-1"}
    for runner in runners:
        for rows in sizes:
            r = results.get((runner, rows), {})
            if "error" in r:  # a blocked engine's reason in full: the command and its answer
                shown = r["error"] if r["error"].startswith("blocked: ") else r["error"][:160]
                lines.append(f"| {runner} | {size_label(rows)} | - | - | - | {shown} |")
                continue
            one = results.get((pairs.get(runner, ""), rows), {})
            ratio = f"{r['process_s'] / one['process_s']:.2f}" if "process_s" in one else ""
            lines.append(
                f"| {runner} | {size_label(rows)} | {r['process_s']:.1f} | {r['work_s']:.1f} |"
                f" {r['peak_gb']:.2f} | {ratio} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
