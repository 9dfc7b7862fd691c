"""export: the generated pipeline module, run for real on DirectRunner, and the parity check."""

from __future__ import annotations

import ast
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from beam_ml import cli, datasets
from beam_ml.errors import BeamMLError
from beam_ml.exporting import check, export, render_module
from beam_ml.steps import (
    CompareStep,
    InferStep,
    ProfileStep,
    ReadStep,
    StepGraph,
    TransformStep,
    ValidateStep,
)

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
BODY = "df = df[df.body_mass_g > 4000]\ndf['ratio'] = df.bill_length_mm / df.bill_depth_mm"
GOLDEN = Path(__file__).parent / "golden" / "export_pipeline.py"
RUFF = Path(sys.executable).with_name("ruff")


@pytest.fixture(scope="module")
def penguins() -> str:
    return datasets.load("penguins")


@pytest.fixture(scope="module")
def model(tmp_path_factory, penguins: str) -> str:
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_csv(penguins).dropna(subset=list(FEATURES))
    fitted = LogisticRegression(max_iter=2000).fit(frame[list(FEATURES)], frame["species"])
    path = tmp_path_factory.mktemp("model") / "lr.pkl"
    path.write_bytes(pickle.dumps(fitted))
    return str(path)


def _graph(penguins: str, model: str | None = None) -> StepGraph:
    steps = [
        ReadStep("penguins", penguins),
        TransformStep("heavy", "penguins", BODY),
        ProfileStep("stats", "penguins"),
        ValidateStep("check", "heavy", reference="stats"),
    ]
    if model:
        steps.append(InferStep("pred", "heavy", f"sklearn:{model}", features=FEATURES))
    return StepGraph(steps)


def _run(module: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(module), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _lines(folder: Path, stem: str) -> list[dict]:
    return [
        json.loads(line)
        for file in sorted(folder.glob(f"{stem}-*.jsonl"))
        for line in file.read_text().splitlines()
        if line
    ]


# ----------------------------------------------------------------- the module


def test_exported_module_runs_on_the_full_input_and_writes_each_steps_outputs(
    penguins, model, tmp_path
):
    result = export(_graph(penguins, model), tmp_path / "pipeline.py")
    _run(Path(result.path), "--output", str(tmp_path / "out"))
    out = tmp_path / "out"
    frame = pd.read_csv(penguins)
    heavy = frame[frame.body_mass_g > 4000]
    rows = _lines(out / "heavy", "rows")
    assert len(rows) == len(heavy) == 172  # the full input, not a sample
    assert sorted(r["ratio"] for r in rows) == pytest.approx(
        sorted(heavy.bill_length_mm / heavy.bill_depth_mm)
    )
    profile = json.loads((out / "stats" / "profile.json").read_text())
    assert profile["rows"] == 344
    assert profile["columns"]["body_mass_g"]["mean"] == pytest.approx(frame.body_mass_g.mean())
    report = json.loads((out / "check" / "report.json").read_text())
    assert report["rows"]["total"] == len(heavy)
    valid, invalid = _lines(out / "check", "rows"), _lines(out / "check", "invalid")
    assert len(valid) + len(invalid) == len(heavy)
    predictions = _lines(out / "pred", "predictions")
    assert len(predictions) == len(heavy) and not _lines(out / "pred", "errors")
    with open(model, "rb") as handle:
        fitted = pickle.load(handle)
    expected = fitted.predict(heavy[list(FEATURES)])
    assert sorted(p["prediction"] for p in predictions) == sorted(expected)


def test_exported_module_runs_with_two_worker_processes(penguins, tmp_path):
    graph = StepGraph(list(_graph(penguins).steps)[:3])
    result = export(graph, tmp_path / "pipeline.py")
    sample = tmp_path / "input.csv"
    pd.read_csv(penguins).to_csv(sample, index=False)
    _run(
        Path(result.path),
        "--input",
        str(sample),
        "--output",
        str(tmp_path / "out"),
        "--direct_num_workers=2",
        "--direct_running_mode=multi_processing",
    )
    assert len(_lines(tmp_path / "out" / "heavy", "rows")) == 172
    assert json.loads((tmp_path / "out" / "stats" / "profile.json").read_text())["rows"] == 344


def test_exported_module_writes_ragged_lines_as_bad_records_and_loses_no_row(penguins, tmp_path):
    graph = StepGraph(list(_graph(penguins).steps)[:2])
    result = export(graph, tmp_path / "pipeline.py")
    lines = Path(penguins).read_text().splitlines()
    bad = ["Adelie,Torgersen,1,2", "x,y,1,2,3,4,5,6,7,8"]
    ragged = [*lines[:5], bad[0], *lines[5:100], bad[1], *lines[100:]]
    sample = tmp_path / "ragged.csv"
    sample.write_text("\n".join(ragged) + "\n")
    _run(Path(result.path), "--input", str(sample), "--output", str(tmp_path / "out"))
    bad = _lines(tmp_path / "out" / "penguins", "bad_records")
    assert sorted((b["line"], b["text"]) for b in bad) == [
        (6, "Adelie,Torgersen,1,2"),
        (102, "x,y,1,2,3,4,5,6,7,8"),
    ]
    rows = _lines(tmp_path / "out" / "heavy", "rows")
    frame = pd.read_csv(penguins)
    assert len(rows) == int((frame.body_mass_g > 4000).sum())


def test_module_imports_only_beam_and_the_engine_and_passes_ruff(penguins, model, tmp_path):
    result = export(_graph(penguins, model), tmp_path / "pipeline.py")
    source = Path(result.path).read_text()
    tree = ast.parse(source)
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(str(node.module))
    assert modules <= {
        "argparse",
        "logging",
        "os",
        "sys",
        "apache_beam",
        "apache_beam.options.pipeline_options",
        "beam_ml.steps",
    }
    for banned in ("IPython", "ipywidgets", "InteractiveRunner", "get_ipython", "display("):
        assert banned not in source
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert {"PipelineArgs", "absolute_paths", "build_pipeline", "run", "transform_heavy"} <= names
    assert source.rstrip().endswith(
        'if __name__ == "__main__":\n    logging.getLogger().setLevel(logging.INFO)\n    run()'
    )
    for command in (
        ["check", "--isolated"],
        ["format", "--isolated", "--line-length", "100", "--check"],
    ):
        done = subprocess.run([str(RUFF), *command, result.path], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    lines = Path(result.requirements).read_text().splitlines()
    requirements = [line for line in lines if not line.startswith("#")]
    pinned = {line.split("==")[0] for line in requirements}
    assert {"apache-beam", "pandas", "numpy", "pyarrow", "datasketches", "pyyaml"} <= pinned
    assert {"scikit-learn", "beam-ml-toolkit"} <= pinned and "torch" not in pinned
    assert all("==" in line for line in requirements)


def test_bodies_using_pd_or_np_get_those_imports_and_nothing_unused(tmp_path):
    body = "df = df[df.x > np.pi]\ndf['when'] = pd.Timestamp('2024-01-01')"
    graph = StepGraph([ReadStep("xs", "x.csv"), TransformStep("t", "xs", body)])
    path = export(graph, tmp_path / "pipeline.py").path
    source = Path(path).read_text()
    assert "import numpy as np" in source and "import pandas as pd" in source
    done = subprocess.run([str(RUFF), "check", "--isolated", path], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    plain = export(StepGraph([ReadStep("xs", "x.csv")]), tmp_path / "plain.py").path
    assert "numpy" not in Path(plain).read_text()


def test_generated_code_matches_the_golden_file():
    graph = StepGraph(
        [
            ReadStep("penguins", "data/penguins.csv", format="csv"),
            TransformStep("heavy", "penguins", BODY),
            ProfileStep("stats", "heavy", top_k=20),
            ValidateStep("check", "heavy", rules="rules/penguins.yaml"),
            InferStep(
                "pred", "check", "torchscript:models/mlp.pt", features=FEATURES, device="gpu"
            ),
        ]
    )
    from beam_ml.exporting.codegen import format_source

    source = format_source(render_module(graph)[0])
    if os.environ.get("BEAM_ML_REGEN_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(source)
    assert source == GOLDEN.read_text(), "run with BEAM_ML_REGEN_GOLDEN=1 to accept the change"


def test_when_a_step_used_the_gpu_then_the_module_carries_the_device_and_a_hint(tmp_path):
    import apache_beam as beam

    data = tmp_path / "x.csv"
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(data, index=False)
    graph = StepGraph(
        [
            ReadStep("xs", str(data)),
            InferStep("pred", "xs", "torchscript:mlp.pt", features=("a",), device="gpu"),
        ]
    )
    source, options = render_module(graph)
    assert options["pred_device"] == "gpu"
    assert "nvidia" in options["pred_accelerator"]
    assert "accelerator=args.pred_accelerator" in source
    # The step builds RunInference with Beam's accelerator resource hint.
    pipeline = beam.Pipeline()
    graph.apply(pipeline)
    hints = {}
    for top in pipeline.transforms_stack[0].parts:
        stack = [top]
        while stack:
            node = stack.pop()
            hints.update(node.resource_hints)
            stack.extend(node.parts)
    assert any(b"nvidia" in value for value in hints.values()), hints


# ----------------------------------------------------------------- hostile input


HOSTILE_PATH = 'data/x".csv\n__import__("os").system("touch PWNED")  # \'"""'


def test_hostile_paths_become_string_literals_never_code(tmp_path):
    graph = StepGraph(
        [
            ReadStep("penguins", HOSTILE_PATH, format="csv"),
            InferStep("pred", "penguins", f"sklearn:{HOSTILE_PATH}", device="cpu"),
        ]
    )
    result = export(graph, tmp_path / "pipeline.py")
    tree = ast.parse(Path(result.path).read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "__import__" not in names
    defaults = [
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
        for kw in node.keywords
        if kw.arg == "default" and isinstance(kw.value, ast.Constant)
    ]
    assert HOSTILE_PATH in defaults and f"sklearn:{HOSTILE_PATH}" in defaults
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "body",
    [
        "df = df\nreturn_value = 1\n\ndef build_pipeline(p, o):\n    pass",
        "note = '''two\n  lines'''\ndf = df.assign(note=note)",
        'df = df.assign(x=1)\n# """ end of docstring?\n__import__(\'os\').getcwd()',
        "if True:\n\tdf = df.assign(t=1)",
    ],
)
def test_a_transform_body_stays_inside_its_function(body, tmp_path):
    graph = StepGraph([ReadStep("penguins", "p.csv"), TransformStep("t", "penguins", body)])
    source = render_module(graph)[0]
    tree = ast.parse(source)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in functions] == ["transform_t", "absolute_paths", "build_pipeline", "run"]
    expected = ast.parse(body).body
    assert ast.dump(ast.Module(functions[0].body[:-1], [])) == ast.dump(ast.Module(expected, []))
    top = [type(n).__name__ for n in tree.body]
    assert top.count("Expr") == 1  # the docstring; any other module-level call is an escape


def test_when_a_step_name_is_hostile_in_a_notebook_then_export_fails_clearly(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%beam_ml read __import__ data.csv")]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(BeamMLError, match=r"cell 1: .*plain Python identifier"):
        export(str(path), tmp_path / "pipeline.py")
    assert cli.main(["export", str(path), "-o", str(tmp_path / "pipeline.py")]) == 2
    assert "plain Python identifier" in capsys.readouterr().err
    assert not (tmp_path / "pipeline.py").exists()


def test_when_module_path_is_not_a_python_name_then_export_refuses(penguins, tmp_path):
    with pytest.raises(BeamMLError, match=r"\.py"):
        export(_graph(penguins), tmp_path / "my-pipeline.txt")


# ----------------------------------------------------------------- notebooks and parity


def _notebook(path: Path, penguins: str, model: str, body: str = BODY) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext beam_ml"),
        nbformat.v4.new_code_cell(f"%beam_ml read penguins '{penguins}' --sample 120"),
        nbformat.v4.new_code_cell(f"%%beam_ml transform heavy --from penguins\n{body}"),
        nbformat.v4.new_code_cell("%beam_ml profile penguins"),
        nbformat.v4.new_code_cell("%beam_ml validate heavy --reference penguins_profile"),
        nbformat.v4.new_code_cell(
            f"%beam_ml infer heavy --model sklearn:{model} --features {','.join(FEATURES)}"
            " --device cpu"
        ),
        nbformat.v4.new_code_cell(
            f"%beam_ml compare heavy --model sklearn:{model} --model sklearn:{model}"
            f" --features {','.join(FEATURES)} --device cpu"
        ),
    ]
    nbformat.write(nb, path)
    return path


def test_export_from_a_saved_notebook_equals_export_from_the_same_graph(penguins, model, tmp_path):
    notebook = _notebook(tmp_path / "explore.ipynb", penguins, model)
    from_notebook = export(str(notebook), tmp_path / "a.py")
    graph = StepGraph(
        [
            ReadStep("penguins", penguins),
            TransformStep("heavy", "penguins", BODY),
            ProfileStep("penguins_profile", "penguins"),
            ValidateStep("heavy_validate", "heavy", reference="penguins_profile"),
            InferStep("heavy_infer", "heavy", f"sklearn:{model}", features=FEATURES, device="cpu"),
            CompareStep(
                "heavy_compare",
                "heavy",
                (f"sklearn:{model}", f"sklearn:{model}"),
                features=FEATURES,
                device="cpu",
            ),
        ]
    )
    from_graph = export(graph, tmp_path / "b.py")
    assert Path(from_notebook.path).read_text() == Path(from_graph.path).read_text()


def test_beam_ml_export_check_reports_parity_step_by_step(penguins, model, tmp_path, capsys):
    notebook = _notebook(tmp_path / "explore.ipynb", penguins, model)
    code = cli.main(["export", str(notebook), "-o", str(tmp_path / "pipeline.py"), "--check"])
    out = capsys.readouterr().out
    assert code == 0, out
    for step in ("heavy (transform)", "penguins_profile (profile)", "heavy_validate (validate)"):
        assert f"ok   {step}" in out
    assert "ok   heavy_infer (infer): same" in out
    assert "ok   heavy_compare (compare): same" in out
    assert "120-row sample" in out


def test_when_the_module_differs_from_the_preview_then_check_says_which_step(
    penguins, model, tmp_path
):
    # A body that depends on the process it runs in: the notebook and the module differ.
    body = "import sys\ndf['runner'] = df.year * 0 + int(sys.argv[0].endswith('pipeline.py'))"
    graph = StepGraph([ReadStep("penguins", penguins), TransformStep("env", "penguins", body)])
    report = check(graph, sample=50)
    assert not report.passed
    (diff,) = [s for s in report.steps if not s.passed]
    assert diff.step == "env" and "only in the module" in diff.detail
    assert "DIFF env (transform)" in str(report)


# ----------------------------------------------------------------- live sessions


def test_export_from_a_live_session_carries_the_device_each_step_ran_with(
    penguins, model, tmp_path
):
    from beam_ml.notebook.session import Session

    session = Session(default_sample=40, device_probe=lambda: True)  # "CUDA is available"
    session.read("penguins", penguins)
    session.transform("heavy", "penguins", BODY)
    preview = session.infer("heavy", f"sklearn:{model}", features=",".join(FEATURES))
    assert preview.device == "cpu"  # scikit-learn runs on cpu even when a GPU is there
    result = export(session, tmp_path / "pipeline.py")
    assert result.options["heavy_infer_device"] == "auto" and not result.gpu_steps
    assert result.options["heavy_infer_accelerator"] is None
    assert "transform_heavy" in Path(result.path).read_text()
    session.set_device("heavy_infer", "gpu")
    result = export(session, tmp_path / "pipeline.py")
    assert result.options["heavy_infer_device"] == "gpu"
    assert result.options["heavy_infer_accelerator"] is None  # no GPU worker for sklearn


def test_export_from_a_live_ipython_shell_through_the_magic(penguins, tmp_path):
    pytest.importorskip("beam_ml.notebook.magics")
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "beam_ml")
    shell.run_line_magic("beam_ml", f"read penguins '{penguins}' --sample 30")
    shell.run_cell_magic("beam_ml", "transform heavy --from penguins", BODY)
    target = tmp_path / "live pipeline" / "pipeline.py"
    shell.run_line_magic("beam_ml", f"export '{target}'")
    source = target.read_text()
    assert "def transform_heavy(df):" in source and "get_ipython" not in source
    assert (target.parent / "requirements.txt").exists()


def test_module_accepts_remote_runner_options_and_labels_steps_by_name(penguins, tmp_path):
    result = export(_graph(penguins), tmp_path / "pipeline.py")
    script = f"""
import apache_beam as beam, importlib.util, json, sys
from apache_beam.options.pipeline_options import PipelineOptions
spec = importlib.util.spec_from_file_location("pipeline", {result.path!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
options = PipelineOptions(["--runner=DataflowRunner", "--project=p", "--region=r",
    "--temp_location=gs://b/tmp", "--input", {penguins!r}, "--output", "gs://b/out"])
args = options.view_as(module.PipelineArgs)
p = beam.Pipeline()  # built, never run: Dataflow cannot run here
module.build_pipeline(p, options)
labels = [t.full_label for t in p.transforms_stack[0].parts]
print(json.dumps({{"input": args.penguins_path, "output": args.output, "labels": labels}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["input"] == penguins and seen["output"] == "gs://b/out"
    for name in ("penguins", "heavy", "stats", "check", "Write[heavy]", "Write[stats]"):
        assert name in seen["labels"], seen["labels"]
