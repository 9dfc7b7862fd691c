"""The streaming export from a graph, a saved notebook (CLI) and the magic; the watched read."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.exporting import export
from beam_ml.steps import PreviewContext, ReadStep, StepGraph, TransformStep
from beam_ml.steps.forms import parse_form
from beam_ml.streaming import StreamSettings, seconds, window_name

sys.path.insert(0, str(Path(__file__).parents[1] / "engines"))
import harness


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "a.csv").write_text("ts;x\n1;2.5\n12;3.5\n", encoding="utf-8")
    return tmp_path


def test_when_a_read_is_watched_the_form_records_it_and_the_preview_names_its_windows(folder):
    line = f"%beam_ml read orders '{folder}/incoming/*.csv' --watch --window 10s --event-time ts"
    step = parse_form(line).step
    assert (step.watch, step.window, step.event_time) == (True, "10s", "ts")
    assert "watch=True" in step.to_code()
    preview = step.preview({}, PreviewContext(sample=10))
    info = preview.rows.attrs["beam_ml_windows"]
    assert info["by"] == "event time (ts)"
    assert info["windows"] == [
        {"window": window_name(0), "count": 1},
        {"window": window_name(10), "count": 1},
    ]


def test_when_window_is_given_without_watch_or_is_no_duration_then_one_line_error(folder):
    with pytest.raises(BeamMLError, match="--watch"):
        parse_form(f"%beam_ml read orders '{folder}/incoming/*.csv' --window 10s")
    with pytest.raises(BeamMLError, match="duration"):
        ReadStep("orders", str(folder / "incoming" / "*.csv"), watch=True, window="soon")
    assert seconds("250ms") == 0.25
    with pytest.raises(BeamMLError, match="divides"):
        StreamSettings(window=60, every=25)


def test_streaming_module_keeps_the_columns_and_detected_delimiter_and_has_stream_options(folder):
    graph = StepGraph(
        [
            ReadStep("orders", str(folder / "incoming" / "*.csv")),
            TransformStep("big", "orders", "df = df[df.x > 3]"),
        ]
    )
    result = export(graph, folder / "stream.py", streaming=True)
    assert result.to_dict()["streamed"] == ["orders"]
    for name in ("window", "every", "stop_after", "orders_event_time", "orders_path"):
        assert name in result.options
    assert "exported 2 steps as a streaming pipeline" in str(result)
    assert "window=&lt;start&gt;" in result.to_html()
    source = (folder / "stream.py").read_text(encoding="utf-8")
    assert "watch=True" in source and 'delimiter=";"' in source
    assert json.loads(_schema_of(source)) == {"ts": "float64", "x": "float64"}
    defaults = _defaults(folder / "stream.py")
    assert defaults["window"] == "60s" and defaults["stop_after"] is None


def _schema_of(source: str) -> str:
    import ast

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "schema":
            return str(ast.literal_eval(node.value))
    raise AssertionError("no schema in the module")


def test_when_the_pattern_matches_nothing_at_export_the_message_says_what_to_do(folder):
    graph = StepGraph([ReadStep("orders", str(folder / "empty" / "*.csv"))])
    with pytest.raises(BeamMLError, match="learn the columns"):
        export(graph, folder / "stream.py", streaming=True)


def test_cli_exports_a_saved_notebook_as_a_streaming_module(folder, capsys):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext beam_ml"),
        nbformat.v4.new_code_cell(
            f"%beam_ml read orders '{folder}/incoming/*.csv' --watch --window 30s"
        ),
        nbformat.v4.new_code_cell("%beam_ml profile orders"),
    ]
    path = folder / "explore.ipynb"
    nbformat.write(nb, path)
    from beam_ml.cli.main import main

    argv = ["export", str(path), "--streaming", "-o", str(folder / "stream.py")]
    assert main(argv) == 0
    assert "watching orders" in capsys.readouterr().out
    assert _defaults(folder / "stream.py")["window"] == "30s"
    assert "build_streaming" in (folder / "stream.py").read_text(encoding="utf-8")


def _defaults(module: Path) -> dict:
    return {a.dest: a.default for a in harness.module_options(module)}


def test_magic_watches_a_read_lists_it_as_streamed_and_exports_it_streaming(folder):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.clear_instance()  # a fresh kernel: no session left by an earlier test
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "beam_ml")
        with capture_output() as shown:
            shell.run_line_magic(
                "beam_ml", f"read orders '{folder}/incoming/*.csv' --watch --window 10s"
            )
            shell.run_line_magic("beam_ml", "steps")
            shell.run_line_magic("beam_ml", f"export {folder / 'live.py'} --streaming")
        listed = shell.magics_manager.registry["BeamML"].session.to_dict()["steps"]
    finally:
        InteractiveShell.clear_instance()
    texts = "\n".join([shown.stdout, *(o.data.get("text/plain", "") for o in shown.outputs)])
    assert [(s["name"], s["watch"], s["window"]) for s in listed] == [("orders", True, "10s")]
    assert "streamed in windows of 10s by file modification time: window=" in texts
    assert "as a streaming pipeline" in texts and "watching orders" in texts
    assert _defaults(folder / "live.py")["window"] == "10s"
