"""Hand an exported module to an orchestrator: an Airflow DAG, a Kubeflow Pipelines v2 pipeline.

Both run the module :func:`~beam_ml.exporting.export` wrote, with its options
(defaults: the notebook's; local files as absolute paths, since an orchestrator's
worker runs in a folder of its own) and the runner as a parameter:

- :func:`airflow_dag` writes a DAG file with one ``BeamRunPythonPipelineOperator``
  task (``apache-airflow-providers-apache-beam``): ``py_file`` the module, the
  options as ``pipeline_options``, ``runner`` the DAG parameter ``runner``;
- :func:`kfp_pipeline` writes the pipeline's Python source (``<name>_kfp.py``,
  one component running the module, whose source it carries) and compiles it
  with the ``kfp`` compiler into the YAML Kubeflow runs (``kfp`` must be installed).

Neither imports Airflow or kfp here: the DAG is a file Airflow imports, and the
pipeline is compiled in a child process.

>>> result = export("explore.ipynb", "pipeline.py")          # doctest: +SKIP
>>> airflow_dag(result, "dags/explore_dag.py")               # doctest: +SKIP
'dags/explore_dag.py'
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from beam_ml.errors import BeamMLError, one_line
from beam_ml.exporting.codegen import ExportResult, _literal, format_source
from beam_ml.exporting.paths import absolute_default

__all__ = ["airflow_dag", "kfp_pipeline", "pipeline_options"]

TASK_ID = "run_pipeline"
RUNNERS = ("DirectRunner", "PrismRunner", "DataflowRunner", "FlinkRunner", "SparkRunner")


def _local_paths(module: Path) -> tuple[str, ...]:
    """The module's ``LOCAL_PATHS`` (options whose defaults are files beside it)."""
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "LOCAL_PATHS" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))  # a dict: its keys
    return ()


def pipeline_options(result: ExportResult) -> dict[str, Any]:
    """The module's options with their defaults, local files as absolute paths.

    >>> pipeline_options(export(graph, "/srv/pipeline.py"))     # doctest: +SKIP
    {'penguins_path': '/srv/penguins.csv', 'output': 'output', 'output_format': 'jsonl'}
    """
    module = Path(result.path).resolve()
    local = _local_paths(module)
    return {
        dest: absolute_default(value, module.parent) if dest in local else value
        for dest, value in result.options.items()
    }


def _name(result: ExportResult) -> str:
    """A DAG id / pipeline name from the module's file name."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(result.path).stem)
    return f"beam_ml_{stem}"


def _check_target(path: str | os.PathLike[str], suffixes: tuple[str, ...], example: str) -> Path:
    target = Path(os.fspath(path))
    if target.suffix not in suffixes:
        raise BeamMLError.expected(
            f"a file name ending in {' or '.join(suffixes)}", repr(os.fspath(path)), example
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def airflow_dag(result: ExportResult, path: str | os.PathLike[str]) -> str:
    """Write an Airflow DAG running the exported module; return its path.

    One task, ``run_pipeline``, a ``BeamRunPythonPipelineOperator``: ``py_file`` the
    module, its options as ``pipeline_options`` (``output`` the DAG parameter
    ``output``), ``runner`` the DAG parameter ``runner`` (default DirectRunner).

    >>> airflow_dag(export("explore.ipynb", "pipeline.py"), "dags/explore.py")   # doctest: +SKIP
    'dags/explore.py'
    """
    from beam_ml.writing import write_text

    target = _check_target(path, (".py",), "e.g. --airflow dags/explore_dag.py")
    options = pipeline_options(result)
    output = options.pop("output")
    module = str(Path(result.path).resolve())
    lines = ",\n".join(f"        {_literal(k)}: {_literal(v)}" for k, v in options.items())
    source = f'''"""Airflow DAG exported by beam-ml-toolkit: runs {Path(module).name} with Beam.

Trigger it with the runner and the output folder as parameters, e.g.
``airflow dags trigger {_name(result)} --conf '{{"runner": "DataflowRunner",
"output": "gs://BUCKET/out"}}'`` (a remote runner also needs its own options in
PIPELINE_OPTIONS: project, region, temp_location...). The worker running the task
needs the module's requirements.txt installed for PYTHON (or set py_requirements).
"""

import datetime

from airflow import DAG
from airflow.models.param import Param
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator

MODULE = {_literal(module)}
PYTHON = {_literal(sys.executable)}
RUNNERS = [{", ".join(_literal(r) for r in RUNNERS)}]
PIPELINE_OPTIONS = {{
{lines}{"," if lines else ""}
        "output": "{{{{ params.output }}}}",
}}

with DAG(
    dag_id={_literal(_name(result))},
    description={_literal(f"beam-ml pipeline {Path(module).name}: " + ", ".join(result.steps))},
    schedule=None,
    start_date=datetime.datetime(2024, 1, 1),
    catchup=False,
    params={{
        "runner": Param("DirectRunner", type="string", enum=RUNNERS),
        "output": Param({_literal(output)}, type="string"),
    }},
    tags=["beam-ml"],
) as dag:
    BeamRunPythonPipelineOperator(
        task_id={_literal(TASK_ID)},
        py_file=MODULE,
        runner="{{{{ params.runner }}}}",
        pipeline_options=PIPELINE_OPTIONS,
        py_interpreter=PYTHON,
    )
'''
    write_text(target, format_source(source))
    return str(target)


def kfp_pipeline(result: ExportResult, path: str | os.PathLike[str]) -> str:
    """Write a Kubeflow Pipelines v2 pipeline running the exported module; return its path.

    ``path`` (``.yaml``) is compiled by the ``kfp`` compiler from ``<stem>_kfp.py``,
    written beside it: one component, ``run-beam-module``, that writes the module's
    source (carried in the pipeline) to a file and runs it with the pipeline's
    ``runner`` and ``options``, its outputs in the component's ``outputs`` artifact.

    >>> kfp_pipeline(export("explore.ipynb", "pipeline.py"), "pipeline.yaml")   # doctest: +SKIP
    'pipeline.yaml'
    """
    target = _check_target(path, (".yaml", ".yml"), "e.g. --kfp pipeline.yaml")
    options = pipeline_options(result)
    options.pop("output")  # the component's artifact folder
    module = Path(result.path).resolve()
    source = f'''"""Kubeflow Pipelines v2 pipeline exported by beam-ml-toolkit: runs {module.name}.

Compiled into {target.name} (kfp's compiler). The one component writes the module's
source to a file and runs it: its image needs apache-beam, beam-ml-toolkit and the
module's requirements.txt (set BASE_IMAGE). Row outputs, profiles and reports go to
the component's ``outputs`` artifact.
"""

from kfp import compiler, dsl

BASE_IMAGE = "python:3.11"
MODULE_SOURCE = {_literal(module.read_text(encoding="utf-8"))}
OPTIONS = {{{", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in options.items())}}}


@dsl.component(base_image=BASE_IMAGE)
def run_beam_module(
    module_source: str, runner: str, options: dict, outputs: dsl.Output[dsl.Artifact]
):
    """Run the exported module with ``--runner`` and ``options``; outputs in ``outputs``."""
    import os
    import subprocess
    import sys
    import tempfile

    folder = tempfile.mkdtemp(prefix="beam-ml-")
    module = os.path.join(folder, "pipeline.py")
    with open(module, "w", encoding="utf-8") as handle:
        handle.write(module_source)
    os.makedirs(outputs.path, exist_ok=True)
    argv = [sys.executable, module, f"--runner={{runner}}", f"--output={{outputs.path}}"]
    argv += [f"--{{key}}={{value}}" for key, value in options.items()]
    subprocess.run(argv, check=True)


@dsl.pipeline(
    name={_literal(_name(result).replace("_", "-"))},
    description={_literal("beam-ml pipeline: " + ", ".join(result.steps))},
)
def pipeline(runner: str = "DirectRunner", options: dict = OPTIONS):
    run_beam_module(module_source=MODULE_SOURCE, runner=runner, options=options)


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else {_literal(target.name)}
    compiler.Compiler().compile(pipeline, target)
'''
    from beam_ml.writing import write_text

    script = target.with_name(f"{target.stem}_kfp.py")
    write_text(script, format_source(source))
    # compiled to a hidden name (kfp wants a .yaml suffix) and renamed when complete
    temp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(temp)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            fix = "pip install kfp" if "No module named 'kfp'" in last else f"see {script}"
            raise BeamMLError.expected(
                "the kfp compiler to compile the pipeline", one_line(last), fix
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return str(target)
