"""Progress while Beam runs: the CLI's bar on a real terminal, Ctrl-C, and the notebook's line.

The CLI tests run ``beam-ml profile`` on all 336,776 flights in a subprocess
whose stderr is a pseudo-terminal (the ``pty`` module), as a user's shell is.
"""

from __future__ import annotations

import itertools
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import apache_beam as beam
import pandas as pd
import pytest
from beam_ml import datasets
from beam_ml.cli.progress import wanted
from beam_ml.notebook.progress_view import ProgressView
from beam_ml.notebook.session import Progress
from beam_ml.runner import count_rows, current_progress, run_and_collect

BEAM_ML = str(Path(sys.executable).with_name("beam-ml"))
REPORT = re.compile(r"beam-ml profile: \[[=> ]+\] ([\d,]+) rows read, ([\d.]+) s")


@pytest.fixture(scope="module")
def flights() -> str:
    return str(datasets.load("flights"))


class Terminal:
    """A subprocess whose stdin and stderr are a pseudo-terminal; stdout is a pipe."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [BEAM_ML, *args], stdin=slave, stderr=slave, stdout=subprocess.PIPE, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.text = ""

    def read(self, until: Any = None, timeout: float = 180.0) -> str:
        """Read the terminal until ``until(text)`` holds or the process ends."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the process closed the terminal
                    break
                if not chunk:
                    break
                self.text += chunk.decode(errors="replace")
                if until is not None and until(self.text):
                    return self.text
            elif self.proc.poll() is not None:
                break
        return self.text

    def finish(self) -> tuple[int, str]:
        self.read()
        out = self.proc.stdout.read().decode() if self.proc.stdout else ""
        code = self.proc.wait(timeout=60)
        os.close(self.master)
        return code, out


def reports(text: str) -> list[tuple[int, float]]:
    return [(int(r.replace(",", "")), float(s)) for r, s in REPORT.findall(text)]


def test_cli_progress_bar_counts_rows_and_time_on_a_terminal_then_clears(flights, tmp_path):
    out = tmp_path / "profile.json"
    term = Terminal("profile", flights, "--json", str(out))
    code, stdout = term.finish()
    assert code == 0, term.text
    seen = reports(term.text)
    assert len(seen) >= 2, term.text
    rows = [r for r, _ in seen]
    seconds = [s for _, s in seen]
    assert rows == sorted(rows) and 0 < rows[-1] <= 336_776  # counts up, never backwards
    assert seconds == sorted(seconds) and seconds[-1] > seconds[0]
    assert term.text.rstrip(" ").endswith("\r")  # the line is erased at the end
    assert "profiled 336,776 rows" in stdout and out.exists()


def test_cli_shows_no_bar_with_quiet_or_when_stderr_is_not_a_terminal(flights, tmp_path):
    import argparse
    import io

    term = Terminal("profile", flights, "--sample", "50", "--quiet")
    code, _ = term.finish()
    assert code == 0 and "rows read" not in term.text
    # a pipe or a file is no terminal: no bar, whatever the flags
    assert not wanted(argparse.Namespace(quiet=False), io.StringIO())
    with open(os.devnull, "w") as devnull:
        assert not wanted(argparse.Namespace(quiet=False), devnull)


def test_ctrl_c_cancels_the_run_in_one_line_with_exit_130(flights, tmp_path):
    out = tmp_path / "never.json"
    term = Terminal("profile", flights, "--json", str(out))
    started = term.read(until=lambda text: any(r > 0 for r, _ in reports(text)))
    assert reports(started), started
    term.proc.send_signal(signal.SIGINT)
    code, _ = term.finish()
    assert code == 130, term.text[-3000:]
    lines = [line for line in term.text.replace("\r", "\n").splitlines() if line.strip()]
    assert lines[-1].startswith("beam-ml profile: interrupted after"), lines[-3:]
    assert "Traceback" not in term.text and "KeyboardInterrupt" not in term.text
    assert not out.exists()  # nothing half-written


# module level: a DoFn is pickled by reference to these, not copied with its locks
_COUNTED, _RELEASE = threading.Event(), threading.Event()


def _read_and_wait(n: int) -> int:
    count_rows(n)
    _COUNTED.set()
    _RELEASE.wait(30)
    return n


def test_notebook_progress_line_shows_the_rows_the_running_pipeline_has_read() -> None:
    view = ProgressView()
    view.update(Progress("flights_profile", "profile", "started", None, 0.0))
    counted, release = _COUNTED, _RELEASE
    counted.clear()
    release.clear()
    thread = threading.Thread(
        target=run_and_collect,
        args=(lambda p: p | beam.Create([1234]) | beam.Map(_read_and_wait),),
    )
    thread.start()
    try:
        assert counted.wait(30)
        live = current_progress()
        assert live is not None and live.rows == 1234
        assert view.rows() == 1234 and "1,234" in view._html()
    finally:
        release.set()
        thread.join(30)
    view.update(Progress("flights_profile", "profile", "done", 344, 0.2))
    assert view.rows() == 344 and current_progress() is None


def test_notebook_progress_goes_to_the_running_cell_and_is_removed_when_done(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    penguins = str(datasets.load("penguins"))
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "beam_ml")
        shell.run_line_magic("beam_ml", f"read penguins {penguins}")
        with capture_output() as cell:
            shell.run_line_magic("beam_ml", "profile penguins -o stats")
        texts = [o.data.get("text/plain", "") for o in cell.outputs]
        first = next(i for i, t in enumerate(texts) if t.startswith("profile penguins_profile"))
        assert "started" in texts[first]  # shown in this cell while Beam ran
        removed = [i for i, o in enumerate(cell.outputs) if o.update and not texts[i]]
        assert removed and removed[0] > first  # then replaced by nothing: no stale line
        assert shell.user_ns["stats"].rows == 344
    finally:
        InteractiveShell.clear_instance()


def test_a_read_preview_reports_the_rows_it_scans_while_it_samples(flights) -> None:
    """A uniform sample scans the whole file (no Beam): its rows show while it reads."""
    from beam_ml.runner import watch_progress
    from beam_ml.steps import ReadStep
    from beam_ml.steps.base import PreviewContext

    seen = []
    stop = watch_progress(seen.append)
    try:
        preview = ReadStep("flights", flights).preview({}, PreviewContext(sample=100))
    finally:
        stop()
    total = len(pd.read_csv(flights, usecols=[0]))
    assert len(preview.result) == 100
    assert seen and seen[-1].done and seen[-1].rows == total
    assert all(a.rows <= b.rows for a, b in itertools.pairwise(seen))
