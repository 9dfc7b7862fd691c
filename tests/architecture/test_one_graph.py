"""Every step kind previews with the subgraph the exported module applies.

The preview pipeline (the inputs' previews as PCollections, then
``step.apply``) and the exported module's ``build_pipeline`` must apply the same
transforms, by label, under each step's composite.
"""

from __future__ import annotations

import gc
import importlib.util
import pickle
from collections.abc import Iterator

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from beam_ml import datasets
from beam_ml.exporting import export
from beam_ml.steps import (
    CascadeStep,
    CompareStep,
    InferStep,
    PreviewContext,
    ProfileStep,
    ReadStep,
    StepGraph,
    TransformStep,
    ValidateStep,
    preview_graph,
)

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


class _Labels(beam.pipeline.PipelineVisitor):
    def __init__(self) -> None:
        self.labels: set[str] = set()

    def enter_composite_transform(self, node: beam.pipeline.AppliedPTransform) -> None:
        self.labels.add(node.full_label)

    def visit_transform(self, node: beam.pipeline.AppliedPTransform) -> None:
        self.labels.add(node.full_label)


def _labels(pipeline: beam.Pipeline, step: str) -> set[str]:
    visitor = _Labels()
    pipeline.visit(visitor)
    return {label for label in visitor.labels if label == step or label.startswith(step + "/")}


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> StepGraph:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    folder = tmp_path_factory.mktemp("one_graph")
    frame = pd.read_csv(datasets.load("penguins")).dropna()
    models = []
    for name, model in (
        ("lr", LogisticRegression(max_iter=500)),
        ("tree", DecisionTreeClassifier()),
    ):
        model.fit(frame[list(FEATURES)], frame["species"])
        path = folder / f"{name}.pkl"
        path.write_bytes(pickle.dumps(model))
        models.append(f"sklearn:{path}")
    return StepGraph(
        [
            ReadStep("penguins", datasets.load("penguins")),
            TransformStep("clean", "penguins", f"df = df.dropna(subset={list(FEATURES)!r})"),
            ProfileStep("stats", "clean"),
            ValidateStep("checked", "clean", reference="stats"),
            ValidateStep("against_data", "clean", reference="penguins"),
            InferStep("pred", "checked", models[0], features=FEATURES, device="cpu"),
            CompareStep("ab", "clean", tuple(models), features=FEATURES, device="cpu"),
            CascadeStep("chain", "clean", models[0], models[1], features=FEATURES, device="cpu"),
        ]
    )


@pytest.fixture(scope="module")
def previews(graph: StepGraph) -> dict:
    return preview_graph(graph, PreviewContext(sample=60))


@pytest.fixture(scope="module")
def module_pipeline(
    graph: StepGraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[beam.Pipeline]:
    folder = tmp_path_factory.mktemp("module")
    export(graph, folder / "pipeline.py")
    spec = importlib.util.spec_from_file_location("exported_pipeline", folder / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    options = PipelineOptions(["--output", str(folder / "out")])
    pipeline = beam.Pipeline(options=options)
    module.build_pipeline(pipeline, options)
    yield pipeline
    # Beam parses every live PipelineOptions subclass: drop the module's options class,
    # or a later module's options clash with it in this worker.
    del module, options, pipeline
    gc.collect()


@pytest.mark.parametrize("name", ["stats", "checked", "against_data", "pred", "ab", "chain"])
def test_preview_and_module_apply_the_same_transforms_for_each_kind(
    graph: StepGraph, previews: dict, module_pipeline: beam.Pipeline, name: str
) -> None:
    step = graph.get(name)
    preview_pipeline = beam.Pipeline()
    PreviewContext(sample=60).build(preview_pipeline, step, {n: previews[n] for n in step.inputs()})
    preview_labels = _labels(preview_pipeline, name)
    assert len(preview_labels) > 2
    assert preview_labels == _labels(module_pipeline, name)
