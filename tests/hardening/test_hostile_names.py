"""Hostile column names, paths, step names and cell bodies through export and every view.

Issue #18, item 6: generated modules parse, hold data only as literals (the
module of a hostile notebook has exactly the identifiers of a benign one) and
run on DirectRunner with such a column name; every HTML view escapes data (no
injected element or attribute, and the text reads back as it was written).
"""

from __future__ import annotations

import ast
import csv
import json
import pickle
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.exporting import export
from beam_ml.exporting.parity import ParityReport, StepParity
from beam_ml.notebook.session import Session
from beam_ml.notebook.steps_table import StepsTable
from beam_ml.notebook.widgets import FramePreview, InferenceView, ProfileView, ValidationView
from beam_ml.rendering import page
from beam_ml.steps import ReadStep

# Each breaks one context: Python strings, HTML text and attributes, Jinja, shells.
HOSTILE = [
    'q"uote',
    "it's",
    'tri"""ple',
    "</script><script>alert(1)</script>",
    "<bmlx onerror=alert(1)>",
    '"><bmlx onclick=x>',
    "{{ 7*7 }}",
    "{% raw %}",
    "$(touch pwned)",
    "back\\slash\\n",
    "\u0430dmin",  # a Cyrillic a
    "rtl\u202eevil\u2066",  # bidi controls
    "new\nline",
    "L" * 300,
]
NUMERIC = HOSTILE[:2]  # the model's features: hostile names too
INJECTED_TAGS = {"script", "bmlx", "iframe", "img"}
INJECTED_ATTRS = {"onerror", "onclick", "onload"}
BODY = "df = df[df['q\"uote'].astype(str) != '</script>\"\"\"{{ x }}$(id)']"


class _Html(HTMLParser):
    """Every start tag, attribute and text node of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_escaped(html: str, shown: list[str], scripts: int = 0) -> None:
    """No element or attribute came from data, and each of ``shown`` reads back as text.

    ``scripts``: the <script> elements the template itself holds (the profile
    page's name filter); data must add none.
    """
    parsed = _Html()
    parsed.feed(html)
    parsed.close()
    assert parsed.tags.count("script") == scripts, parsed.tags.count("script")
    injected = INJECTED_TAGS - {"script"}
    assert not injected & set(parsed.tags), set(parsed.tags) & injected
    assert not INJECTED_ATTRS & {name for name, _ in parsed.attrs}
    text = " ".join(" ".join(parsed.text).split())
    values = " ".join(" ".join(v or "" for _, v in parsed.attrs).split())
    for value in shown:
        start = " ".join(value.split())[:20]  # views fold spaces and clip long names
        assert start in text or start in values, (value, text[:2000])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    folder = tmp_path_factory.mktemp("h") / 'we"ird $(x) {{y}} \\ <b>'
    folder.mkdir()
    path = folder / "data.csv"
    rows = [[i * 1.5, (i % 7) - 3.0, *[f"{h}·{i}" for h in HOSTILE[2:]]] for i in range(40)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HOSTILE)
        writer.writerows(rows)
    frame = pd.read_csv(path)
    labels = ["<b>yes</b>" if v > 0 else "{{no}}" for v in frame[NUMERIC[1]]]
    model = folder / "model's $(x).pkl"
    model.write_bytes(pickle.dumps(LogisticRegression().fit(frame[NUMERIC], labels)))
    s = Session(default_sample=30)
    s.read("data", str(path))
    s.transform("kept", "data", BODY)
    s.profile("kept", name="stats")
    s.validate("kept", reference="stats", name="check")
    s.infer("kept", f"sklearn:{model}", features=NUMERIC, device="cpu", name="pred")
    return {"session": s, "path": str(path), "model": str(model), "folder": folder}


# ------------------------------------------------------------------ generated code
def _identifiers(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        for attr in ("id", "attr", "name", "arg", "asname"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                names.add(value)
    return names


def _constants(tree: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_exported_module_holds_hostile_names_only_as_literals(hostile, tmp_path) -> None:
    s = hostile["session"]
    out = export(s, tmp_path / "hostile.py")
    tree = ast.parse(Path(out.path).read_text(encoding="utf-8"))
    # The same notebook over a benign file and model: the same identifiers, so
    # nothing from the data became a name, an attribute or a call.
    benign = Session(default_sample=30)
    for step in s.graph.steps:
        benign.graph.add(step)
    benign.graph.replace(ReadStep("data", "plain.csv"))
    benign_pred = s.get("pred")
    from dataclasses import replace

    benign.graph.replace(replace(benign_pred, model="sklearn:plain.pkl", features=("a", "b")))
    plain = export(benign.graph, tmp_path / "plain.py")
    plain_tree = ast.parse(Path(plain.path).read_text(encoding="utf-8"))
    assert _identifiers(tree) == _identifiers(plain_tree)
    calls = [ast.dump(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    plain_calls = [ast.dump(n.func) for n in ast.walk(plain_tree) if isinstance(n, ast.Call)]
    assert sorted(calls) == sorted(plain_calls)
    constants = _constants(tree)
    assert hostile["path"] in constants and f"sklearn:{hostile['model']}" in constants
    for name in NUMERIC:
        assert any(name in c for c in constants), name
    assert any("</script>" in c and "{{ x }}" in c for c in constants)  # the body, verbatim


def test_a_hostile_step_name_is_refused_with_one_line() -> None:
    for name in [*HOSTILE, "__import__", "x; import os", "pr\u0456nt", "exec"]:
        with pytest.raises(BeamMLError) as caught:
            ReadStep(name, "data.csv")
        assert "\n" not in str(caught.value) and "a step name" in str(caught.value)


def test_an_exported_module_runs_on_directrunner_with_hostile_column_names(
    hostile, tmp_path
) -> None:
    from beam_ml.steps import ProfileStep, StepGraph, ValidateStep

    graph = StepGraph(
        [
            ReadStep("data", hostile["path"]),
            ProfileStep("stats", "data"),
            ValidateStep("check", "data", reference="stats"),
        ]
    )
    module = export(graph, tmp_path / "run_me.py").path
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, module, "--output", str(out)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    profile = json.loads((out / "stats" / "profile.json").read_text(encoding="utf-8"))
    columns = profile["columns"]
    assert set(columns) == set(pd.read_csv(hostile["path"]).columns)
    assert profile["rows"] == 40


# ----------------------------------------------------------------------- the views
def _html(obj: Any) -> str:
    bundle = obj._repr_mimebundle_()
    return str(bundle["text/html"])


def test_profile_views_and_page_escape_hostile_names(hostile, tmp_path) -> None:
    s = hostile["session"]
    profile = s.result("stats")
    check_escaped(profile.to_html(), NUMERIC + HOSTILE[2:])
    check_escaped(profile.to_html(tmp_path / "p.html"), HOSTILE, scripts=1)
    check_escaped(_html(ProfileView.for_step(s, "stats", profile)), HOSTILE)


def test_validation_views_and_page_escape_hostile_names(hostile, tmp_path) -> None:
    s = hostile["session"]
    report = s.result("check")
    check_escaped(report.to_html(), NUMERIC + HOSTILE[2:5])
    check_escaped(_html(ValidationView.for_step(s, "check", report)), NUMERIC + HOSTILE[2:5])
    check_escaped(report.to_html(tmp_path / "v.html"), NUMERIC + HOSTILE[2:5])
    check_escaped(page(hostile["path"], report.to_html()), [hostile["path"]])


def test_inference_frame_and_steps_views_escape_hostile_names(hostile) -> None:
    s = hostile["session"]
    pred = s.result("pred")
    check_escaped(pred.to_html(), ["<b>yes</b>"])
    check_escaped(_html(InferenceView.for_step(s, "pred", pred)), ["<b>yes</b>"])
    check_escaped(_html(FramePreview.for_step(s, "data", s.result("data"))), HOSTILE)
    check_escaped(StepsTable(s.to_dict()).to_html(), ["</script>"])
    check_escaped(_html(s), ["</script>"])


def test_inference_page_and_export_view_escape_hostile_names(hostile, tmp_path) -> None:
    from beam_ml.inference.view import render_page

    s = hostile["session"]
    check_escaped(render_page(s.result("pred").to_dict()), ["<b>yes</b>"])
    folder = tmp_path / '"><bmlx onclick=x>{{ y }}'
    result = export(s, folder / "pipeline.py")
    check_escaped(result.to_html(), [hostile["path"], str(folder)])


def test_parity_report_and_plain_page_escape_hostile_text() -> None:
    steps = tuple(StepParity(f"s{i}", "read", i % 2 == 0, h, h, h) for i, h in enumerate(HOSTILE))
    report = ParityReport("</script>.py", 10, steps, full=True)
    check_escaped(report.to_html(), HOSTILE)
    check_escaped(page("<bmlx onerror=1>{{ x }}", "<p>body</p>"), ["<bmlx onerror=1>{{ x }}"])
