"""Windows, late data and the model side input, on the bundle-based DirectRunner (TestStream).

DirectRunner runs a pipeline with a ``TestStream`` on its bundle-based runner, which
has windows, watermarks and windowed side inputs (no splittable DoFn, so the folder
watch itself runs on Prism: see test_folder_stream.py).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import apache_beam as beam
import numpy as np
import pandas as pd
import pytest
from apache_beam.ml.inference.base import ModelMetadata
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream as BeamTestStream
from apache_beam.transforms.window import FixedWindows, TimestampedValue
from beam_ml.inference import parse_model_spec
from beam_ml.steps import ProfileStep, ValidateStep, attach
from beam_ml.streaming import RefreshedInfer, StreamSettings, window_name, write_windows
from beam_ml.streaming.writing import output_name

RULES = "version: 1\nrules:\n- kind: range\n  column: x\n  min: 0\n  max: 100\n  max_share: 1.0\n"


def _batch(ts: float, xs: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame({"ts": [ts] * len(xs), "x": xs, "y": [0.5] * len(xs)})
    return frame.set_index(pd.RangeIndex(2, 2 + len(xs)))


def _lines(folder: Path, stem: str) -> list[dict]:
    rows = []
    for file in sorted(folder.glob(f"{stem}*.jsonl")):
        rows += [json.loads(x) for x in file.read_text(encoding="utf-8").splitlines() if x]
    return rows


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("teststream")
    (root / "rules.yaml").write_text(RULES, encoding="utf-8")
    train = pd.DataFrame({"x": np.linspace(0, 100, 50), "y": np.full(50, 0.5)})
    paths = {}
    for name, cut in (("a", 50.0), ("b", 20.0)):
        model = LogisticRegression().fit(train, (train.x > cut).astype(int))
        paths[name] = str(root / f"model_{name}.pkl")
        Path(paths[name]).write_bytes(pickle.dumps(model))
    settings = StreamSettings(window=10, lateness=5)
    on_time = {0: _batch(1.0, [10.0, 30.0, 60.0]), 10: _batch(12.0, [40.0, 45.0])}
    late, too_late = _batch(8.0, [35.0]), _batch(3.0, [99.0])
    stream = (
        BeamTestStream(output_tags={"batches", "models"})
        .advance_watermark_to(0, tag="batches")
        .advance_watermark_to(0, tag="models")
        .add_elements([TimestampedValue(ModelMetadata(paths["a"], "a"), 0.5)], tag="models")
        .add_elements([TimestampedValue(ModelMetadata(paths["b"], "b"), 10.5)], tag="models")
        .advance_watermark_to(30, tag="models")
        .add_elements([TimestampedValue(on_time[0], 1.0)], tag="batches")
        .add_elements([TimestampedValue(on_time[10], 12.0)], tag="batches")
        .advance_watermark_to(12, tag="batches")  # window [0, 10) closes
        .add_elements([TimestampedValue(late, 8.0)], tag="batches")  # within the lateness
        .advance_watermark_to(30, tag="batches")  # [0, 10) is past end + lateness
        .add_elements([TimestampedValue(too_late, 3.0)], tag="batches")  # dropped by Beam
        .advance_watermark_to_infinity(tag="batches")
        .advance_watermark_to_infinity(tag="models")
    )
    out = root / "out"
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    profile = ProfileStep("stats", "orders")
    check = ValidateStep("checked", "orders", rules=str(root / "rules.yaml"))
    spec = parse_model_spec(f"sklearn:{paths['a']}", features=("x", "y"))
    with beam.Pipeline(options=options) as p:
        tagged = p | stream
        # the profile takes late firings; the validation (one report per window) does not
        batches = tagged["batches"] | "Window" >> StreamSettings(window=10).windowing()
        attach(batches, proxy=on_time[0].iloc[:0])
        lenient = tagged["batches"] | "LateWindow" >> settings.windowing()
        models = tagged["models"] | "WindowModels" >> beam.WindowInto(FixedWindows(10))
        stats = profile.apply(p, {"orders": lenient})
        checked = check.apply(p, {"orders": batches})
        pred = checked["valid"] | "pred" >> RefreshedInfer(spec, "", updates=models)
        write_windows(profile, stats, str(out))
        write_windows(check, checked, str(out))
        pred["predictions"] | "WritePred" >> _Write(out / "pred")
    return {"out": out, "paths": paths, "on_time": on_time, "late": late}


class _Write(beam.PTransform):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def expand(self, pcoll):  # type: ignore[no-untyped-def]
        from beam_ml.streaming import WriteWindows

        return {"predictions": pcoll} | WriteWindows(str(self.folder))


def test_each_window_profiles_its_own_rows_and_late_rows_fire_it_again(run):
    out = run["out"] / "stats"
    for start, frame in run["on_time"].items():
        profile = json.loads((out / window_name(start) / "profile.json").read_text("utf-8"))
        assert profile["rows"] == len(frame)
        assert profile["columns"]["x"]["mean"] == pytest.approx(frame.x.mean())
    late = out / window_name(0) / output_name("profile.json", 1)
    assert json.loads(late.read_text("utf-8"))["rows"] == len(run["late"])
    assert sorted(p.name for p in (out / window_name(0)).iterdir()) == [
        "profile-pane1.json",
        "profile.json",
    ]


def test_rows_later_than_the_allowed_lateness_are_dropped_by_beam(run):
    folder = run["out"] / "checked" / window_name(0)
    assert sorted(r["x"] for r in _lines(folder, "rows")) == [10.0, 30.0, 60.0]  # no lateness
    report = json.loads((folder / "report.json").read_text("utf-8"))
    assert report["rows"]["total"] == 3 and not list(folder.glob("*pane*"))
    profiles = run["out"] / "stats" / window_name(0)
    assert len(list(profiles.glob("profile*.json"))) == 2  # on time + the late row; 99.0 dropped


def test_each_window_reads_its_own_model_from_the_side_input(run):
    for start, name in ((0, "a"), (10, "b")):
        rows = _lines(run["out"] / "pred" / window_name(start), "predictions")
        assert rows and {r["model_id"] for r in rows} == {run["paths"][name]}
