"""Interrupted runs lose nothing: a killed module or CLI leaves no partial file under a final name.

The module is killed (SIGKILL, its whole process group) at a point made certain by a
model whose ``predict`` announces itself in a file and then waits: every row has
been read and the steps before the model have run, the model's outputs cannot have
been written. Whatever the module left under a final name must then be complete —
each step's JSON Lines shards all there and holding exactly pandas' rows, each
JSON parseable — and the model's outputs absent; what was being written is under
Beam's ``beam-temp-*`` folders or a hidden ``.*.tmp`` name. The atomic writers of
the CLI (``--json``/``--html``) are killed the same way mid-write.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from beam_ml.exporting import export
from beam_ml.steps import InferStep, ProfileStep, ReadStep, StepGraph, TransformStep
from beam_ml.writing import replacing, write_beam_file, write_text

pytestmark = pytest.mark.slow

GATED = '''
import os, time
import numpy as np


class GatedModel:
    """predict() touches `entered`, then waits (at most 120 s) for `gate`, never made."""

    def __init__(self, entered, gate):
        self.entered, self.gate = entered, gate

    def predict(self, x):
        open(self.entered, "w").close()
        deadline = time.monotonic() + 120
        while not os.path.exists(self.gate) and time.monotonic() < deadline:
            time.sleep(0.05)
        return np.zeros(len(x))
'''


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode} before {path.name}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"no {path.name} within {timeout:g} s")
        time.sleep(0.05)


def _kill(proc: subprocess.Popen[bytes]) -> int:
    os.killpg(proc.pid, signal.SIGKILL)  # the module and any worker it started
    return proc.wait(timeout=60)


def test_a_module_killed_mid_run_leaves_only_complete_files_under_final_names(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    table = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.integers(0, 100, 3000)})
    table.to_csv(tmp_path / "table.csv", index=False)
    (tmp_path / "gated_model.py").write_text(textwrap.dedent(GATED), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        import gated_model

        model = gated_model.GatedModel(str(tmp_path / "entered"), str(tmp_path / "gate"))
        (tmp_path / "gated.pkl").write_bytes(pickle.dumps(model))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("gated_model", None)
    graph = StepGraph(
        [
            ReadStep("table", str(tmp_path / "table.csv")),
            TransformStep("big", "table", "df = df[df.b >= 50]"),
            ProfileStep("big_profile", "big"),
            InferStep("scored", "big", f"sklearn:{tmp_path / 'gated.pkl'}", features=("a", "b")),
        ]
    )
    module = export(graph, tmp_path / "pipeline.py").path
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, module, "--output", str(out)], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for(tmp_path / "entered", proc)
    assert _kill(proc) == -signal.SIGKILL

    assert not list(out.rglob("predictions-*")) and not list(out.rglob("errors-*"))
    big = table[table.b >= 50]
    finals = [p for p in out.rglob("*") if p.is_file() and "beam-temp-" not in str(p)]
    stems: dict[tuple[Path, str], list[Path]] = {}
    for file in finals:
        if not file.name.startswith("."):  # hidden: a temporary name, by design
            found = re.fullmatch(r"(\w+)-\d{5}-of-(\d{5})\.\w+", file.name)
            if found:
                stems.setdefault((file.parent, found.group(1)), []).append(file)
    for (folder, stem), shards in stems.items():  # a stem's shards: all N of them, or none
        total = {int(re.search(r"-of-(\d+)", s.name).group(1)) for s in shards}
        assert total == {len(shards)}, (folder.name, stem, [s.name for s in shards])
    rows_shards = sorted((out / "big").glob("rows-*.jsonl"))
    if rows_shards:  # written in full: exactly pandas' rows
        rows = [json.loads(x) for s in rows_shards for x in s.read_text().splitlines() if x]
        assert sorted(r["a"] for r in rows) == sorted(big.a)
    if (out / "big_profile" / "profile.json").exists():
        assert json.loads((out / "big_profile" / "profile.json").read_text())["rows"] == len(big)


_SLOW_WRITER = r"""
import sys, time
from pathlib import Path
from beam_ml.writing import replacing
target, entered = sys.argv[1], Path(sys.argv[2])
with replacing(target) as temp:
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write("<html><body>" + "x" * 100_000)  # half a page
        handle.flush()
        entered.touch()
        time.sleep(120)
        handle.write("</body></html>")
"""


def test_a_cli_writer_killed_mid_write_leaves_the_earlier_file_and_a_hidden_temp(
    tmp_path: Path,
) -> None:
    target = tmp_path / "report.html"
    write_text(target, "<html>the earlier run</html>")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(target), str(tmp_path / "entered")],
        start_new_session=True,
    )
    _wait_for(tmp_path / "entered", proc)
    assert _kill(proc) == -signal.SIGKILL
    assert target.read_text() == "<html>the earlier run</html>"
    [temp] = [p for p in tmp_path.iterdir() if p.name.startswith(".report.html.")]
    assert temp.name.endswith(".tmp") and temp.read_text().startswith("<html><body>x")


def test_atomic_writers_replace_whole_files_and_leave_nothing_when_the_write_fails(
    tmp_path: Path,
) -> None:
    target = tmp_path / "profile.json"
    write_text(target, '{"rows": 1}')
    write_beam_file(str(target), b'{"rows": 2}')
    assert json.loads(target.read_text()) == {"rows": 2}
    with pytest.raises(TypeError):
        write_beam_file(str(target), "not bytes")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError), replacing(tmp_path / "page.html") as temp:
        Path(temp).write_text("half")
        raise RuntimeError("the renderer failed")
    assert json.loads(target.read_text()) == {"rows": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
