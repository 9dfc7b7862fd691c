"""The exported streaming module on Prism: a folder that fills while the pipeline runs.

The module starts on an empty folder; the test lands five CSV files, one per 2 s
window (event time), one with bad lines and out-of-range rows, one drifted, and
adds a second model midway (once the first window's predictions are written).
The module stops by itself (``--stop_after``). The test reads the per-window
outputs and checks them against what it wrote.
(Flink is not tested: its job-server jar is not in this machine's Maven registry.)
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from beam_ml.exporting.streaming import export_streaming
from beam_ml.steps import InferStep, ProfileStep, ReadStep, StepGraph, TransformStep, ValidateStep
from beam_ml.streaming import window_name

sys.path.insert(0, str(Path(__file__).parents[1] / "engines"))
import harness

WINDOW = 2.0
FILES = 5
ROWS = 40
DRIFTED, BAD = 3, 1  # file (= window) indexes
STOP_AFTER = 35.0  # seconds the module watches, from the moment it builds the pipeline
RULES = """version: 1
rules:
- kind: range
  column: x
  min: 0
  max: 100
  max_share: 1.0
- kind: js_divergence
  column: x
  threshold: 0.3
  edges: [0, 25, 50, 75, 100]
  reference: [0.5, 0.5, 0.0, 0.0]
"""


def _frame(rng: np.random.Generator, start: float, drifted: bool) -> pd.DataFrame:
    low, high = (50.0, 100.0) if drifted else (0.0, 50.0)
    return pd.DataFrame(
        {
            "ts": np.round(start + rng.uniform(0.05, 0.45, ROWS), 3),
            "x": np.round(rng.uniform(low, high, ROWS), 3),
            "y": np.round(rng.uniform(0, 1, ROWS), 3),
        }
    )


def _models(folder: Path) -> tuple[Path, Path]:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    train = pd.DataFrame({"x": rng.uniform(0, 100, 200), "y": rng.uniform(0, 1, 200)})
    paths = []
    for name, cut in (("model_a", 50.0), ("model_b", 25.0)):
        model = LogisticRegression().fit(train[["x", "y"]], (train.x > cut).astype(int))
        paths.append(folder / f"{name}.pkl")
        paths[-1].write_bytes(pickle.dumps(model))
    return paths[0], paths[1]


def _land(path: Path, data: bytes) -> None:
    """Write a file elsewhere, then move it in: the watcher never sees half a file."""
    temp = path.parent.parent / f".{path.name}.tmp"
    temp.write_bytes(data)
    os.replace(temp, path)


@pytest.fixture(scope="module")
def stream_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    prism = harness.engine("prism")
    if prism.path is None:
        pytest.skip(f"prism is not installed: {prism.missing}")
    root = tmp_path_factory.mktemp("stream")
    (root / "sample").mkdir()
    (root / "incoming").mkdir()
    (root / "models").mkdir()
    staged = root / "staged"
    staged.mkdir()
    (root / "rules.yaml").write_text(RULES, encoding="utf-8")
    rng = np.random.default_rng(0)
    _frame(rng, 0.0, False).to_csv(root / "sample" / "s.csv", index=False)
    model_a = root / "models" / "model_a.pkl"
    built_a, built_b = _models(staged)
    os.replace(built_a, model_a)
    graph = StepGraph(
        [
            ReadStep("orders", str(root / "sample" / "*.csv"), watch=True, event_time="ts"),
            TransformStep("scaled", "orders", "df = df.assign(x_half=df.x / 2)"),
            ProfileStep("scaled_profile", "scaled"),
            ValidateStep("checked", "orders", rules=str(root / "rules.yaml")),
            InferStep("pred", "checked", f"sklearn:{model_a}", features=("x", "y"), device="cpu"),
        ]
    )
    module = root / "stream.py"
    export_streaming(graph, module)
    out = root / "out"
    log = root / "module.log"
    argv = [
        sys.executable,
        str(module),
        f"--output={out}",
        f"--orders_path={root / 'incoming' / '*.csv'}",
        f"--window={WINDOW:g}s",
        "--poll_interval=0.5s",
        f"--stop_after={STOP_AFTER:g}s",
        f"--pred_model_pattern={root / 'models' / '*.pkl'}",
        *harness.runner_args("prism", prism=str(prism.path)),
    ]
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(argv, cwd=root, env=harness.worker_env(), stdout=sink, stderr=sink)
        try:
            started, until = _watching(log, proc)
            # the first whole window that starts after the module watches
            base = math.ceil(started / WINDOW) * WINDOW + WINDOW
            landed = _produce(root, rng, base, built_b)
            last = landed["starts"][FILES - 1]
            assert last + WINDOW < until, "the watch ended before the last file: raise STOP_AFTER"
            proc.wait(timeout=STOP_AFTER + 90)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text[-4000:]
    model_b = root / "models" / "model_b.pkl"
    return {"out": out, "written": landed["frames"], "starts": landed["starts"], "model_b": model_b}


def _watching(log: Path, proc: subprocess.Popen) -> tuple[float, float]:
    """When the module started watching, and until when (from its log line)."""
    pattern = re.compile(r"beam_ml streaming: watching .* from ([0-9.]+) until ([0-9.]+)")
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        found = pattern.search(log.read_text(encoding="utf-8"))
        if found:
            return float(found.group(1)), float(found.group(2))
        time.sleep(0.2)
    raise AssertionError(log.read_text(encoding="utf-8")[-4000:])


def _produce(root: Path, rng: np.random.Generator, base: float, model_b: Path) -> dict:
    """Land one file per window (event times inside it); the new model lands once the
    first window's predictions are written, before the second file."""
    written: dict[int, pd.DataFrame] = {}
    starts: dict[int, float] = {}
    for k in range(FILES):
        if k == 1:  # a new model lands midway (a new name: WatchFilePattern's rule)
            first = root / "out" / "pred" / window_name(starts[0])
            deadline = time.time() + STOP_AFTER
            while not list(first.glob("predictions*.jsonl")) and time.time() < deadline:
                time.sleep(0.2)
            _land(root / "models" / "model_b.pkl", model_b.read_bytes())
            base = math.ceil(time.time() / WINDOW) * WINDOW  # the next window starts now
        start = starts[k] = base + (k if k == 0 else k - 1) * WINDOW
        time.sleep(max(0.0, start + 0.1 - time.time()))
        frame = _frame(rng, start, k == DRIFTED)
        text = frame.to_csv(index=False)
        if k == BAD:
            frame.loc[frame.index[:3], "x"] = -5.0  # out of range: quarantined
            text = frame.to_csv(index=False) + "1,2\nnot,a,row,at,all\n"
        written[k] = frame
        _land(root / "incoming" / f"part-{k}.csv", text.encode())
    return {"frames": written, "starts": starts}


def _lines(folder: Path, stem: str) -> list[dict]:
    rows = []
    for file in sorted(folder.glob(f"{stem}*.jsonl")):
        rows += [json.loads(x) for x in file.read_text(encoding="utf-8").splitlines() if x]
    return rows


def _window(run: dict, k: int) -> str:
    return window_name(run["starts"][k])


def test_each_window_holds_exactly_the_rows_of_its_file(stream_run):
    out = stream_run["out"]
    for k, frame in stream_run["written"].items():
        folder = out / "scaled" / _window(stream_run, k)
        rows = _lines(folder, "rows")
        assert len(rows) == len(frame), k
        assert sorted(r["ts"] for r in rows) == sorted(frame.ts.tolist())
        assert all(r["x_half"] == pytest.approx(r["x"] / 2) for r in rows)
        profile = json.loads((out / "scaled_profile" / _window(stream_run, k) / "profile.json")
                             .read_text(encoding="utf-8"))  # fmt: skip
        assert profile["rows"] == len(frame)


def test_every_row_is_valid_quarantined_or_a_bad_record(stream_run):
    out = stream_run["out"]
    for k, frame in stream_run["written"].items():
        folder = out / "checked" / _window(stream_run, k)
        valid, invalid = _lines(folder, "rows"), _lines(folder, "invalid")
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        bad = _lines(out / "orders" / _window(stream_run, k), "bad_records")
        assert len(valid) + len(invalid) == len(frame)
        assert len(invalid) == (3 if k == BAD else 0)
        assert len(bad) == (2 if k == BAD else 0)
        # a report counts the lines that could not be read as invalid rows too
        assert report["rows"] == {
            "total": len(frame) + len(bad),
            "valid": len(valid),
            "invalid": len(invalid) + len(bad),
        }


def test_the_drifted_window_fails_its_drift_check_and_the_others_pass(stream_run):
    out = stream_run["out"]
    for k in stream_run["written"]:
        report = json.loads(
            (out / "checked" / _window(stream_run, k) / "report.json").read_text(encoding="utf-8")
        )
        drift = [c for c in report["checks"] if c["id"].startswith("js_divergence")]
        assert drift and drift[0]["passed"] == (k != DRIFTED), (k, drift)
        # the bad file's window also fails its parse check (lines that could not be read)
        assert report["passed"] == (k not in (DRIFTED, BAD)), report["checks"]


def test_predictions_switch_model_id_after_the_new_model_lands(stream_run):
    out = stream_run["out"]
    ids = []
    for k in sorted(stream_run["written"]):
        rows = _lines(out / "pred" / _window(stream_run, k), "predictions")
        assert len(rows) == len(_lines(out / "checked" / _window(stream_run, k), "rows"))
        ids.append({r["model_id"] for r in rows})
    new = str(stream_run["model_b"])
    assert new not in ids[0]
    assert ids[-1] == {new}
    first_new = next(i for i, got in enumerate(ids) if new in got)
    assert all(got == {new} for got in ids[first_new + 1 :])
