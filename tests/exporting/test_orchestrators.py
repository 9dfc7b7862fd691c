"""Orchestrator hand-off, checked offline: an Airflow DAG and a Kubeflow pipeline run the module.

``beam-ml export NB --airflow dag.py`` writes a DAG that a real Airflow (in a
virtualenv of its own, made by tests/exporting/setup_orchestrators.sh: Airflow and
the project pin conflicting versions) imports into a ``DagBag`` with no import
errors and the one expected ``BeamRunPythonPipelineOperator`` task.
``beam-ml export NB --kfp pipeline.yaml`` compiles a KFP v2 pipeline that
``kfp.local``'s subprocess runner runs on DirectRunner; its outputs are found in the
component's artifact and equal pandas' answer. What setup could not install skips
with setup's exact words.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from beam_ml import datasets

pytestmark = pytest.mark.slow

CACHE = Path(os.environ.get("BEAM_ML_CACHE") or Path.home() / ".cache" / "beam-ml")
SETUP = Path(__file__).with_name("setup_orchestrators.sh")
BEAM_ML = str(Path(sys.executable).parent / "beam-ml")
CELLS = [
    "%load_ext beam_ml",
    "%beam_ml read penguins data/penguins.csv",
    "%%beam_ml transform heavy --from penguins\ndf = df[df.body_mass_g > 4000]",
    "%beam_ml profile heavy -o heavy_profile",
]
DAGBAG = r"""
import json, sys
from airflow.models import DagBag
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "params": {k: dag.params[k] for k in dag.params},
        "tasks": [{"id": t.task_id, "type": type(t).__name__, "py_file": t.py_file,
                   "runner": t.runner, "options": t.pipeline_options} for t in dag.tasks],
    }
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


def _missing(name: str) -> str | None:
    """Why setup could not install ``name`` (its exact words), or None when it did."""
    status = CACHE / "venvs" / f"{name}.status"
    if not status.exists():
        return f"{status} is missing: run {SETUP} first"
    state, _, detail = status.read_text(encoding="utf-8").rstrip("\n").partition("\t")
    return None if state == "ok" else detail


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("handoff")
    (folder / "data").mkdir()
    (folder / "data" / "penguins.csv").write_bytes(Path(datasets.load("penguins")).read_bytes())
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nb, folder / "explore.ipynb")
    return folder / "explore.ipynb"


def _export(notebook: Path, out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    out.mkdir(exist_ok=True)
    done = subprocess.run(
        [BEAM_ML, "export", str(notebook), "-o", str(out / "pipeline.py"), *flags],
        cwd=out, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    return done


def test_airflow_dag_imports_into_a_dagbag_with_the_beam_task_and_the_module_options(
    notebook: Path, tmp_path: Path
) -> None:
    why = _missing("airflow")
    if why:
        pytest.skip(f"airflow is not installed: {why}")
    _export(notebook, tmp_path, "--airflow", str(tmp_path / "dags" / "explore_dag.py"))
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow_home")}
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    done = subprocess.run(
        [str(CACHE / "venvs" / "airflow" / "bin" / "python"), "-c", DAGBAG,
         str(tmp_path / "dags")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    bag = json.loads(done.stdout.strip().splitlines()[-1])
    assert bag["errors"] == {}
    assert list(bag["dags"]) == ["beam_ml_pipeline"]
    dag = bag["dags"]["beam_ml_pipeline"]
    assert dag["params"]["runner"] == "DirectRunner" and dag["params"]["output"] == "output"
    [task] = dag["tasks"]
    assert task["id"] == "run_pipeline" and task["type"] == "BeamRunPythonPipelineOperator"
    assert task["py_file"] == str((tmp_path / "pipeline.py").resolve())
    assert task["runner"] == "{{ params.runner }}"  # templated from the DAG parameter
    options = task["options"]
    assert options["output"] == "{{ params.output }}" and options["output_format"] == "jsonl"
    # the notebook's input, absolute: an Airflow worker runs in a folder of its own
    assert options["penguins_path"] == str(notebook.parent / "data" / "penguins.csv")


def test_kfp_pipeline_compiles_and_runs_locally_on_direct_runner_writing_the_outputs(
    notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    why = _missing("kfp")
    if why:
        pytest.skip(f"kfp is not installed: {why}")
    pytest.importorskip("kfp", reason=f"kfp is not importable here: run {SETUP}")
    from kfp import components, local

    yaml_path = tmp_path / "pipeline.yaml"
    _export(notebook, tmp_path, "--kfp", str(yaml_path))
    spec = yaml_path.read_text(encoding="utf-8")
    assert "run-beam-module" in spec and "DirectRunner" in spec
    monkeypatch.chdir(tmp_path)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    pipeline = components.load_component_from_file(str(yaml_path))
    pipeline(runner="DirectRunner")

    [profile] = list((tmp_path / "root").rglob("heavy_profile/profile.json"))
    frame = pd.read_csv(notebook.parent / "data" / "penguins.csv")
    heavy = frame[frame.body_mass_g > 4000]
    assert json.loads(profile.read_text(encoding="utf-8"))["rows"] == len(heavy)
    rows = [
        json.loads(line)
        for file in profile.parent.parent.glob("heavy/rows-*.jsonl")
        for line in file.read_text(encoding="utf-8").splitlines()
        if line
    ]
    assert sorted(r["body_mass_g"] for r in rows) == sorted(heavy.body_mass_g)
