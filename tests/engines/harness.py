"""Beam's local engines for the engine tests and the engine benchmark, without pytest.

What ``tests/engines/setup.sh`` installed (``engines.json`` in the cache), the job
servers and the external worker pool as processes started and stopped here, how an
exported module is run on each runner, and the comparison of two output folders.

Every process is started in a session (process group) of its own and stopped by that
group's id, with a deadline after which it is killed even if nobody stops it.

>>> engine("prism")                       # doctest: +SKIP
Engine(name='prism', path='/root/.cache/beam-ml/bin/prism', missing=None)
>>> with prism_server(engine("prism").path) as endpoint:   # doctest: +SKIP
...     run_module("pipeline.py", "out", runner_args("prism-external", ...))
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beam_ml.steps.parity import canonical

BEAM_VERSION = "2.77.0"
CACHE = Path(os.environ.get("BEAM_ML_CACHE") or Path.home() / ".cache" / "beam-ml")
VENV_BIN = Path(sys.executable).parent
SETUP = Path(__file__).with_name("setup.sh")
# Environment variables that point at an engine by hand, ahead of the cache.
OVERRIDES = {"prism": "BEAM_ML_PRISM", "flink": "BEAM_ML_FLINK_JAR", "spark": "BEAM_ML_SPARK_JAR"}
SPARK_JVM_ARGS = [  # what Beam's SparkJarJobServer adds for Java 17 (spark_runner.py)
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
]


STARTED: list[subprocess.Popen[bytes]] = []  # every service started here (benchmarks sample them)


@dataclass(frozen=True)
class Engine:
    name: str
    path: str | None
    missing: str | None = None


def engine(name: str) -> Engine:
    """The local binary or jar of an engine, or why there is none (setup.sh's words)."""
    override = os.environ.get(OVERRIDES.get(name, ""), "")
    if override:
        if Path(override).exists():
            return Engine(name, override)
        return Engine(name, None, f"${OVERRIDES[name]}={override} does not exist")
    status = CACHE / "engines.json"
    if not status.exists():
        return Engine(name, None, f"{status} is missing: run {SETUP} first")
    info = json.loads(status.read_text(encoding="utf-8")).get(name) or {}
    if "path" in info and Path(info["path"]).exists():
        if name in ("flink", "spark") and "path" not in (
            json.loads(status.read_text(encoding="utf-8")).get("java") or {}
        ):
            return Engine(name, None, "java is not on PATH")
        return Engine(name, info["path"])
    if "path" in info:
        return Engine(name, None, f"{info['path']} is gone: run {SETUP} again")
    return Engine(name, None, info.get("missing") or f"{name} is not in {status}: run {SETUP}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{tail}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{proc.args!r} did not listen on port {port} within {timeout:g} s")


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group this module started (its id is the child's pid), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):  # children (SDK workers) left in the group
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


@contextlib.contextmanager
def service(
    argv: Sequence[str],
    port: int,
    name: str,
    *,
    startup: float = 120.0,
    lifetime: float = 1800.0,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Iterator[Path]:
    """Run ``argv`` until the block ends (or ``lifetime`` seconds pass); yield its log file
    (removed at the end unless BEAM_ML_KEEP_LOGS is set)."""
    log = Path(tempfile.mkstemp(prefix=f"beam-ml-{name}-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=cwd,
        )  # fmt: skip
    STARTED.append(proc)
    timer = threading.Timer(lifetime, _stop_group, (proc,))
    timer.daemon = True
    timer.start()
    try:
        _wait_for_port(port, proc, log, startup)
        yield log
    finally:
        timer.cancel()
        _stop_group(proc)
        STARTED.remove(proc)
        if not os.environ.get("BEAM_ML_KEEP_LOGS"):  # a failed start quoted its tail already
            log.unlink(missing_ok=True)


def worker_env() -> dict[str, str]:
    """worker_pool_main starts each SDK worker as ``python -c ...``: our venv's python first."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextlib.contextmanager
def worker_pool(lifetime: float = 1800.0) -> Iterator[str]:
    """A pool of external Python SDK workers (one process per worker); yields its address."""
    port = free_port()
    argv = [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
            f"--service_port={port}"]  # fmt: skip
    with service(argv, port, "workers", startup=60, lifetime=lifetime, env=worker_env(),
                 cwd=tempfile.gettempdir()):  # fmt: skip
        yield f"localhost:{port}"


@contextlib.contextmanager
def prism_server(binary: str, lifetime: float = 1800.0) -> Iterator[str]:
    """Prism's job service on a free port (the command PrismJobServer itself runs)."""
    port = free_port()
    argv = [binary, "--job_port", str(port), "--serve_http=false", "--log_level", "warn"]
    with service(argv, port, "prism", startup=60, lifetime=lifetime):
        yield f"localhost:{port}"


def _java_job_server(
    jar: str, extra: Sequence[str], jvm: Sequence[str] = ()
) -> tuple[list[str], int]:
    job, artifact, expansion = free_port(), free_port(), free_port()
    argv = ["java", *jvm, "-jar", jar, *extra,
            "--job-port", str(job), "--artifact-port", str(artifact),
            "--expansion-port", str(expansion)]  # fmt: skip
    return argv, job


@contextlib.contextmanager
def flink_server(jar: str, lifetime: float = 1800.0) -> Iterator[str]:
    """Beam's Flink job server with an embedded local Flink (--flink-master [local])."""
    argv, port = _java_job_server(jar, ["--flink-master", "[local]"])
    with service(argv, port, "flink", startup=180, lifetime=lifetime):
        yield f"localhost:{port}"


@contextlib.contextmanager
def spark_server(jar: str, master: str = "local[2]", lifetime: float = 1800.0) -> Iterator[str]:
    """Beam's Spark job server on a local Spark (--spark-master-url local[2])."""
    argv, port = _java_job_server(jar, ["--spark-master-url", master], SPARK_JVM_ARGS)
    with service(argv, port, "spark", startup=180, lifetime=lifetime):
        yield f"localhost:{port}"


# ---- running an exported module ----------------------------------------------------------

RUNNERS = (
    "direct", "direct-2", "prism", "prism-external",
    "flink", "flink-external", "spark", "spark-external",
)  # fmt: skip


def runner_args(
    runner: str, *, prism: str = "", endpoint: str = "", workers: str = ""
) -> list[str]:
    """The Beam options of each runner the tests run (README quotes these)."""
    external = ["--environment_type=EXTERNAL", f"--environment_config={workers}"]
    loopback = ["--environment_type=LOOPBACK"]
    flink = ["--runner=FlinkRunner", f"--job_endpoint={endpoint}", "--parallelism=2"]
    return {
        "direct": [],
        "direct-2": ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
        "prism": ["--runner=PrismRunner", f"--prism_location={prism}"],
        "prism-external": ["--runner=PrismRunner", f"--job_endpoint={endpoint}", *external],
        "flink": [*flink, *loopback],
        "flink-external": [*flink, *external],
        "spark": ["--runner=SparkRunner", f"--job_endpoint={endpoint}", *loopback],
        "spark-external": ["--runner=SparkRunner", f"--job_endpoint={endpoint}", *external],
    }[runner]  # fmt: skip


def module_options(module: Path) -> list[Any]:
    """The argparse actions of an exported module's own options (its ``PipelineArgs``)."""
    import argparse
    import gc
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_exported_{abs(hash(module))}", module)
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    parser = argparse.ArgumentParser()
    loaded.PipelineArgs._add_argparse_args(parser)
    # Beam parses every live PipelineOptions subclass: drop this module's now, or a later
    # module's options clash with it in this worker ("conflicting option string").
    del loaded
    gc.collect()
    return list(parser._actions)


def absolute_defaults(module: Path, cwd: Path) -> list[str]:
    """``--dest=/abs/path`` for each option of the module whose default is a relative path.

    An exported module's defaults are the notebook's relative paths, read from the
    current folder; an external worker runs in a folder of its own, so the tests give
    every such path absolute (``KIND:PATH`` model options too).
    """
    argv = []
    for action in module_options(module):
        value = action.default
        if not isinstance(value, str) or not action.option_strings or action.dest == "output":
            continue
        kind, sep, rest = value.partition(":")
        if (cwd / value).exists():
            argv.append(f"--{action.dest}={cwd / value}")
        elif sep and rest and (cwd / rest).exists():
            argv.append(f"--{action.dest}={kind}:{cwd / rest}")
    return argv


def run_module(
    module: Path, output: Path, args: Sequence[str], *, cwd: Path, timeout: float = 600.0
) -> subprocess.CompletedProcess[str]:
    """``python MODULE --output OUTPUT ARGS...`` in ``cwd``, as a user runs it."""
    argv = [sys.executable, str(module), "--output", str(output), *args]
    env = worker_env()
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def last_error(stderr: str) -> str:
    """The line of a failed run's log that says why."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if any(
            w in line for w in ("Error", "Exception", "error:", "failed")
        ) and not line.startswith(("WARNING:root:apitools", "Failed to import GCSFileSystem")):
            return line[:400]
    return (lines or ["no output"])[-1][:400]


# ---- comparing two output folders ------------------------------------------------------------


def _lines(file: Path) -> list[str]:
    """A shard's rows as JSON lines: JSON Lines as written, Parquet as the module writes JSON."""
    if file.suffix == ".parquet":
        import pandas as pd
        from beam_ml.steps.outputs import frame_lines

        return frame_lines(pd.read_parquet(file))
    return file.read_text(encoding="utf-8").splitlines()


def row_multiset(files: Sequence[Path]) -> Counter[Any]:
    """Rows of JSON Lines or Parquet shards as a multiset: any order, floats to 10 digits."""
    rows: Counter[Any] = Counter()
    for file in files:
        for line in _lines(file):
            if line.strip():
                rows[canonical(json.loads(line))] += 1
    return rows


def _stems(folder: Path) -> dict[str, list[Path]]:
    stems: dict[str, list[Path]] = {}
    for file in sorted([*folder.glob("*.jsonl"), *folder.glob("*.parquet")]):
        stems.setdefault(file.name.split("-")[0], []).append(file)
    return stems


def _close(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is y
    return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9)


COUNT_KEYS = ("type", "count", "nulls", "nan", "inf", "pos_inf", "neg_inf", "zeros", "negatives",
              "min", "max", "kinds", "unhashable", "lengths")  # fmt: skip
MOMENT_KEYS = ("mean", "std", "skewness", "kurtosis")


def _kll(profile: dict[str, Any], column: str) -> Any:
    import datasketches

    state = profile.get("state", {}).get("columns", {}).get(column, {})
    if not state.get("kll"):
        return None
    return datasketches.kll_doubles_sketch.deserialize(base64.b64decode(state["kll"]))


def compare_profiles(ref: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Exact counts, moments to 1e-9 relative, distinct counts within the HLL bound, and
    each quantile the runner found at its level in the reference's KLL sketch (within the
    rank error the profile states)."""
    problems = []
    if ref["rows"] != got["rows"]:
        problems.append(f"rows {got['rows']} vs {ref['rows']}")
    if set(ref["columns"]) != set(got["columns"]):
        problems.append(f"columns {sorted(got['columns'])} vs {sorted(ref['columns'])}")
    bounds = ref.get("error_bounds") or {}
    kll, hll = float(bounds.get("kll_rank", 0.0)), float(bounds.get("hll_relative", 0.0))
    for name in sorted(set(ref["columns"]) & set(got["columns"])):
        a, b = got["columns"][name], ref["columns"][name]
        for key in COUNT_KEYS:
            if canonical(a.get(key)) != canonical(b.get(key)):
                problems.append(f"{name}.{key} {a.get(key)!r} vs {b.get(key)!r}")
        for key in MOMENT_KEYS:
            if not _close(a.get(key), b.get(key)):
                problems.append(f"{name}.{key} {a.get(key)!r} vs {b.get(key)!r}")
        da, db = a.get("distinct"), b.get("distinct")
        if da is not None and db is not None and abs(da - db) > 3 * hll * max(da, db) + 1:
            problems.append(f"{name}.distinct {da} vs {db}")
        sketch = _kll(ref, name)
        n = max(int(b.get("count") or 0) - int(b.get("nulls") or 0), 1)
        tolerance = 2 * kll + 1.0 / n
        for level, value in (a.get("quantiles") or {}).items():
            if value is None or sketch is None or sketch.is_empty():
                continue
            if b.get("type") == "datetime":
                import pandas as pd

                point = float(pd.Timestamp(value).value)
            else:
                point = float(value)
            below = float(sketch.get_cdf([point], False)[0])
            upto = float(sketch.get_cdf([point], True)[0])
            if not below - tolerance <= float(level) <= upto + tolerance:
                problems.append(
                    f"{name} quantile {level}: {value} has ranks {below:.3f}-{upto:.3f}"
                )
    return problems


def compare_reports(ref: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Identical verdicts (overall and per check, in order), row counts and integer observations."""
    from beam_ml.steps.parity import SKETCH_CHECKS

    problems = []
    if ref.get("rows") != got.get("rows"):
        problems.append(f"rows {got.get('rows')} vs {ref.get('rows')}")
    want = [(c["id"], c["passed"]) for c in ref.get("checks", [])]
    have = [(c["id"], c["passed"]) for c in got.get("checks", [])]
    # A check read off a (randomised) KLL sketch may fall on either side of its bound
    # when its value lies within the rank error: the library's parity allows that too.
    differ = [i for i, p in have if dict(want).get(i) != p]
    exact = [i for i in differ if i.split(":", 1)[0] not in SKETCH_CHECKS]
    if [i for i, _ in want] != [i for i, _ in have]:
        problems.append("verdicts differ: different checks")
    elif exact:
        shown = [f"{i}: {dict(have)[i]} vs {dict(want)[i]}" for i in exact[:5]]
        problems.append("verdicts differ: " + "; ".join(shown))
    elif not differ and ref.get("passed") != got.get("passed"):
        problems.append(f"passed {got.get('passed')} vs {ref.get('passed')}")
    for c, d in zip(got.get("checks", []), ref.get("checks", []), strict=False):
        x, y = c.get("observed"), d.get("observed")
        if isinstance(y, int) and not isinstance(y, bool) and x != y:
            problems.append(f"{d['id']} observed {x!r} vs {y!r}")
    return problems


def compare_folders(ref: Path, got: Path) -> dict[str, list[str]]:
    """Per step folder under ``ref``: what differs in ``got`` (an empty list when nothing)."""
    result: dict[str, list[str]] = {}
    for step in sorted(p for p in ref.iterdir() if p.is_dir()):
        other = got / step.name
        problems: list[str] = []
        if not other.is_dir():
            result[step.name] = ["no output folder"]
            continue
        want, have = _stems(step), _stems(other)
        for stem in sorted(set(want) | set(have)):
            a, b = row_multiset(have.get(stem, [])), row_multiset(want.get(stem, []))
            if a != b:
                extra, lost = a - b, b - a
                example = next(iter(extra or lost))
                problems.append(
                    f"{stem}: {sum(a.values())} rows vs {sum(b.values())}; {sum(extra.values())}"
                    f" only here, {sum(lost.values())} only on DirectRunner"
                    f" (e.g. {str(dict(example))[:160]})"
                )
        for name, compare in (("profile.json", compare_profiles), ("report.json", compare_reports)):
            if (step / name).exists():
                if not (other / name).exists():
                    problems.append(f"no {name}")
                else:
                    problems += [
                        f"{name}: {p}"
                        for p in compare(
                            json.loads((step / name).read_text(encoding="utf-8")),
                            json.loads((other / name).read_text(encoding="utf-8")),
                        )
                    ]
        result[step.name] = problems
    return result


def summary(differences: dict[str, list[str]]) -> str:
    """'ok' or the first differences, step by step, in one line."""
    bad = {step: p for step, p in differences.items() if p}
    if not bad:
        return "ok"
    return "; ".join(f"{step}: {', '.join(p[:2])}" for step, p in bad.items())[:300]


# ---- the parity table --------------------------------------------------------------------------

TABLE = CACHE / "parity" / "table.json"


def write_table(cells: dict[str, dict[str, str]], seconds: dict[str, float]) -> None:
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(
        json.dumps({"cells": cells, "seconds": seconds, "when": time.strftime("%Y-%m-%d %H:%M")},
                   indent=2) + "\n", encoding="utf-8",
    )  # fmt: skip


def format_table(data: dict[str, Any]) -> str:
    """Markdown: one row per runner, one column per notebook; skip reasons as footnotes."""
    cells: dict[str, dict[str, str]] = data["cells"]
    notebooks = sorted({nb for row in cells.values() for nb in row})
    reasons: list[str] = []

    def cell(text: str) -> str:
        if not text.startswith("skipped: "):
            return text.replace("|", "/")
        reason = text.removeprefix("skipped: ")
        if reason not in reasons:
            reasons.append(reason)
        return f"skipped [{reasons.index(reason) + 1}]"

    lines = ["| runner | " + " | ".join(notebooks) + " |", "|---|" + "---|" * len(notebooks)]
    for runner in ["direct", *[r for r in RUNNERS if r in cells and r != "direct"]]:
        row = cells.get(runner, {})
        if runner == "direct":
            row = {nb: "reference" for nb in notebooks}
        shown = " | ".join(cell(row.get(nb, "-")) for nb in notebooks)
        lines.append(f"| {runner} | {shown} |")
    lines += [""] + [f"[{i}] {reason}" for i, reason in enumerate(reasons, 1)]
    return "\n".join(lines)
