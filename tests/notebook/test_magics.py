"""beam_ml.notebook.magics through a real IPython shell, and a notebook run by nbclient."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import beam_ml as bml
import nbformat
import pandas as pd
import pytest
from beam_ml.notebook import magics as bml_magics
from beam_ml.notebook.session import Session
from IPython import get_ipython
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def penguins() -> str:
    return bml.datasets.load("penguins")


@pytest.fixture(scope="module")
def shell() -> Any:
    """A real IPython shell; cleared afterwards so that other test modules in this
    process (Beam checks ``get_ipython()``) do not run as if inside IPython."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "beam_ml")
    yield ip
    InteractiveShell.clear_instance()
    assert get_ipython() is None


@pytest.fixture()
def ip(shell: Any) -> Any:
    """The shell with a fresh session of 80-row previews."""
    magics = shell.magics_manager.registry["BeamML"]
    magics.default_sample = 80
    magics.default_device = "auto"
    magics.session = Session(default_sample=80)
    magics.bindings = {}
    magics._shown = {}
    return shell


class Shown:
    """What a magic printed and displayed (text/plain of each display)."""

    def __init__(self, captured: Any) -> None:
        self.outputs = [o.data for o in captured.outputs]
        texts = [d.get("text/plain", "") for d in self.outputs]
        self.stdout = "\n".join([captured.stdout, *texts])


def line(ip: Any, text: str) -> Shown:
    with capture_output() as captured:
        ip.run_line_magic("beam_ml", text)
    return Shown(captured)


def cell(ip: Any, head: str, body: str) -> Shown:
    with capture_output() as captured:
        ip.run_cell_magic("beam_ml", head, body)
    return Shown(captured)


def usage_error(ip: Any, text: str, body: str | None = None) -> str:
    """The message of the UsageError the magic raises; it must be one line."""
    with pytest.raises(UsageError) as info, capture_output():
        if body is None:
            ip.run_line_magic("beam_ml", text)
        else:
            ip.run_cell_magic("beam_ml", text, body)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def session(ip: Any) -> Session:
    return bml_magics.session(ip)


# --------------------------------------------------------------------------- forms


def test_load_ext_registers_line_and_cell_magic(ip: Any) -> None:
    assert "beam_ml" in ip.magics_manager.magics["line"]
    assert "beam_ml" in ip.magics_manager.magics["cell"]
    assert isinstance(session(ip), Session)


def test_read_binds_a_pandas_sample_of_the_configured_size(ip: Any, penguins: str) -> None:
    ip.run_line_magic("config", "BeamML.default_sample = 25")
    out = line(ip, f"read penguins {penguins}")
    frame = ip.user_ns["penguins"]
    assert isinstance(frame, pd.DataFrame) and len(frame) == 25
    assert "penguins: 25 rows x 8 columns" in out.stdout
    line(ip, f"read small {penguins} --sample 7 --format csv")
    assert len(ip.user_ns["small"]) == 7


def test_config_sets_defaults_and_refuses_bad_values(ip: Any) -> None:
    ip.run_line_magic("config", "BeamML.default_device = 'cpu'")
    assert session(ip).default_device == "cpu"
    with capture_output():
        ip.run_line_magic("config", "BeamML.default_sample = -1")  # IPython logs the error
        ip.run_line_magic("config", "BeamML.default_device = 'tpu'")
    assert session(ip).default_sample == 80
    assert session(ip).default_device == "cpu"


def test_transform_binds_the_sample_pandas_would_give(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    cell(ip, "transform heavy --from penguins", "df = df[df.body_mass_g > 4000]\n")
    sample = ip.user_ns["penguins"]
    pd.testing.assert_frame_equal(ip.user_ns["heavy"], sample[sample.body_mass_g > 4000])


def test_cell_body_keeps_quotes_double_spaces_and_dash_v_as_body(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    body = (
        "# -v and --from here are code, not options\n"
        "df = df[df.species + '  -v' != \"Adelie  -v\"]\n"
    )
    cell(ip, "transform others --from penguins", body)
    assert session(ip).get("others").body == body
    sample = ip.user_ns["penguins"]
    # Squeezing the double spaces would keep the Adelie rows.
    assert len(ip.user_ns["others"]) == int((sample.species != "Adelie").sum())


def test_quoted_option_values_keep_their_spaces(ip: Any, penguins: str, tmp_path) -> None:
    spaced = tmp_path / "my  penguins $HOME {x}.csv"
    spaced.write_bytes(Path(penguins).read_bytes())
    line(ip, f"read spaced '{spaced}' --sample 5")
    assert session(ip).get("spaced").path == str(spaced)
    assert len(ip.user_ns["spaced"]) == 5


def test_profile_and_validate_bind_results_with_o(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    out = line(ip, "profile penguins -o stats")
    stats = ip.user_ns["stats"]
    assert isinstance(stats, bml.Profile) and stats.rows == 80
    assert "Profile: 80 rows" in out.stdout
    line(ip, "validate penguins --reference penguins_profile -o report")
    report = ip.user_ns["report"]
    assert report.rows["total"] == 80 and report.passed
    assert session(ip).names() == ["penguins", "penguins_profile", "penguins_validate"]


def test_steps_lists_each_step_and_whether_it_is_cached(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    cell(ip, "transform heavy --from penguins", "df = df[df.body_mass_g > 4000]")
    out = line(ip, "steps")
    assert "penguins" in out.stdout and "transform" in out.stdout and "yes" in out.stdout


def test_infer_shows_device_and_binds_the_preview(ip: Any, penguins: str, tmp_path) -> None:
    from sklearn.tree import DecisionTreeClassifier

    features = ["bill_length_mm", "bill_depth_mm"]
    data = pd.read_csv(penguins).dropna()
    path = tmp_path / "tree.pkl"
    path.write_bytes(pickle.dumps(DecisionTreeClassifier().fit(data[features], data.species)))
    line(ip, f"read penguins {penguins}")
    cell(ip, "transform clean --from penguins", "df = df.dropna()")
    columns = ",".join(features)
    out = line(ip, f"infer clean --model 'sklearn:{path}' --features {columns} --device cpu -o p")
    preview = ip.user_ns["p"]
    assert preview.device == "cpu" and len(preview.predictions) == len(ip.user_ns["clean"])
    assert "ran on cpu" in out.stdout


# --------------------------------------------------------------------------- caching


def test_when_cell_rerun_unchanged_then_cached_result_is_bound(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    line(ip, "profile penguins -o stats")
    first = ip.user_ns["stats"]
    computed = list(session(ip).computed)
    line(ip, f"read penguins {penguins}")
    line(ip, "profile penguins -o stats")
    assert ip.user_ns["stats"] is first
    assert session(ip).computed == computed


def test_a_cell_run_again_retires_its_earlier_view_so_reruns_do_not_pile_up(
    ip: Any, penguins: str
) -> None:
    """Each run of a cell used to leave a view (kept alive by its widgets) that every later
    change of the step redrew: n runs cost n renders. The earlier view now stops following."""
    magics = ip.magics_manager.registry["BeamML"]
    line(ip, f"read penguins {penguins}")
    watching = len(session(ip)._watchers)
    line(ip, "profile penguins -o stats")
    first = magics._shown["penguins_profile"]
    for _ in range(3):
        line(ip, "profile penguins -o stats")
    latest = magics._shown["penguins_profile"]
    assert latest is not first and first._unwatch is None and latest._unwatch is not None
    assert len(session(ip)._watchers) == watching + 1
    session(ip).set_sample("penguins_profile", 40)  # the latest view follows a change
    assert latest.result.rows == 40 and first.result.rows == 80


def test_when_transform_edited_then_downstream_is_recomputed_and_rebound(
    ip: Any, penguins: str
) -> None:
    line(ip, f"read penguins {penguins}")
    sample = ip.user_ns["penguins"]
    cell(ip, "transform heavy --from penguins", "df = df[df.body_mass_g > 4000]")
    line(ip, "profile heavy -o stats")
    old = ip.user_ns["stats"]
    session(ip).computed.clear()
    out = cell(ip, "transform heavy --from penguins", "df = df[df.body_mass_g > 4200]")
    assert session(ip).computed == ["heavy", "heavy_profile"]
    assert ip.user_ns["penguins"] is sample
    assert ip.user_ns["stats"] is not old
    assert ip.user_ns["stats"].rows == int((sample.body_mass_g > 4200).sum())
    assert "recomputed downstream: heavy_profile" in out.stdout


# --------------------------------------------------------------------------- errors


def test_unknown_subcommand_suggests_the_closest(ip: Any) -> None:
    assert "did you mean 'profile'" in usage_error(ip, "profle penguins")
    assert "read, transform, profile" in usage_error(ip, "")


def test_unknown_input_name_is_a_usage_error(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    assert "did you mean 'penguins'" in usage_error(ip, "profile pengiuns")
    message = usage_error(ip, "transform t --from nothing_here", "df = df")
    assert "'nothing_here'" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profile penguins --bogus 1", "unrecognized arguments: --bogus"),
        ("read penguins", "required: path"),
        ("read penguins p.csv --sample many", "--sample: expected a whole number"),
        ("read penguins p.csv --format xls", "invalid choice: 'xls'"),
        ("read 2bad p.csv", "plain Python identifier"),
        ("validate penguins", "a reference or rules"),
        ("infer penguins --model sklearn:m.pkl --device tpu", "invalid choice: 'tpu'"),
        ("profile penguins -o 'not a name'", "-o expected a Python name"),
        ("read penguins 'unclosed.csv", "balanced quotes"),
        ("transform t --from penguins", "cell"),
        ("read penguins /no/such/file.csv", "matches nothing"),
    ],
)
def test_bad_options_are_one_line_usage_errors(
    ip: Any, penguins: str, text: str, expected: str
) -> None:
    line(ip, f"read penguins {penguins}")
    assert expected in usage_error(ip, text)


def test_engine_errors_are_one_line_usage_errors(ip: Any, penguins: str) -> None:
    line(ip, f"read penguins {penguins}")
    message = usage_error(ip, "transform s --from penguins", "df = df.sort_values('year')")
    assert message.startswith("%beam_ml transform:") and "sort_values" in message
    assert "body" in usage_error(ip, "profile penguins", "df = df")
    assert "s" not in session(ip).names()


# --------------------------------------------------------------------------- a notebook


def test_notebook_runs_under_nbclient_with_widgets_and_static_html(
    penguins: str, tmp_path: Path
) -> None:
    """Each view is two outputs: the controls (a widget) and the static HTML, which a
    saved notebook shows without a kernel; set_device from code updates an earlier cell."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    train = (
        "import pickle, pandas as pd\n"
        "from sklearn.linear_model import LogisticRegression\n"
        f"frame = pd.read_csv({penguins!r}).dropna()\n"
        "model = LogisticRegression(max_iter=500).fit(frame[['bill_length_mm']], frame.species)\n"
        "open('species.pkl', 'wb').write(pickle.dumps(model))"
    )
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext beam_ml\n%config BeamML.default_sample = 100"),
        nbformat.v4.new_code_cell(f"%beam_ml read penguins {penguins}"),
        nbformat.v4.new_code_cell(
            "%%beam_ml transform heavy --from penguins\ndf = df[df.body_mass_g > 4000]"
        ),
        nbformat.v4.new_code_cell("%beam_ml profile heavy -o stats"),
        nbformat.v4.new_code_cell("print(len(penguins), len(heavy), stats.rows)"),
        nbformat.v4.new_code_cell("%beam_ml profile nope", metadata={"tags": ["raises-exception"]}),
        nbformat.v4.new_code_cell(train),
        nbformat.v4.new_code_cell(
            "%beam_ml infer heavy --model sklearn:species.pkl --features bill_length_mm "
            "--device gpu"
        ),
        nbformat.v4.new_code_cell(
            "from beam_ml.notebook.magics import session\n"
            "session().set_device('heavy_infer', 'cpu').device_reason"
        ),
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [c.outputs for c in nb.cells]
    assert all(o.output_type != "error" for cell_out in outputs[:5] for o in cell_out)
    read_html = [o for o in outputs[1] if "text/html" in o.get("data", {})]
    assert read_html and "penguins: 100 rows" in read_html[0].data["text/plain"]
    shown = [o.data for o in outputs[3] if o.output_type == "display_data"]
    (controls,) = [d for d in shown if "controls of" in d["text/plain"]]
    (static,) = [d for d in shown if 'class="bml bml-profile"' in d.get("text/html", "")]
    assert set(controls) == {"text/plain", WIDGET}
    assert WIDGET not in static
    assert "Profile:" in static["text/plain"]
    # the preview is the uniform sample of 100 rows (seed 0) that bml.sample gives
    heavy = int((bml.sample(penguins, 100, seed=0).body_mass_g > 4000).sum())
    assert outputs[4][0].text.split() == ["100", str(heavy), str(heavy)]
    # IPython prints a UsageError as one stderr line: no traceback into our code.
    assert [o.output_type for o in outputs[5]] == ["stream"]
    error = outputs[5][0].text
    assert error.startswith("UsageError: %beam_ml profile:") and "'nope'" in error
    assert error.count("\n") == 1 and "beam_ml/" not in error
    scripts = [o for c in outputs for o in c if "application/javascript" in o.get("data", {})]
    assert not scripts  # Interactive Beam's jQuery loader is kept out of the notebook
    # set_device from code (cell 8) re-drew the infer cell's static view (cell 7) in place
    assert "asked cpu" in outputs[8][-1].data["text/plain"]
    infer_static = [
        o
        for o in outputs[7]
        if 'class="bml bml-inference"' in o.get("data", {}).get("text/html", "")
    ]
    assert len(infer_static) == 1 and "asked cpu; " in infer_static[0].data["text/html"]
    assert "asked gpu" not in infer_static[0].data["text/html"]
    assert infer_static[0].data["text/html"].count("Device: CPU") == 1  # one banner
    # nbconvert (no widget state saved): every view is there, no widget error
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert 'class="bml bml-profile"' in page and 'class="bml bml-inference"' in page
    assert "Error displaying widget" not in page


def test_export_writes_the_recorded_steps_as_a_pipeline_module(
    ip: Any, penguins: str, tmp_path
) -> None:
    line(ip, f"read penguins {penguins}")
    body = "df = df[df.island != 'Dream  -v']\n"
    cell(ip, "transform kept --from penguins", body)
    target = tmp_path / "pipeline.py"
    out = line(ip, f"export '{target}'")
    code = target.read_text()
    assert "def build_pipeline" in code and "get_ipython" not in code
    assert "Dream  -v" in code  # the body, spaces and all
    assert "pipeline.py" in out.stdout
    assert "a module path ending in .py" in usage_error(ip, f"export '{tmp_path / 'x.txt'}'")


class _BrokenSession(Session):
    """A session whose previews hit an error nobody foresaw (not a BeamMLError)."""

    def add(self, step: Any, sample: int | None = None) -> Any:
        raise RuntimeError("disk on fire\nsecond line")


def test_unforeseen_errors_are_still_one_line_with_a_way_to_the_traceback(
    ip: Any, penguins: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip.magics_manager.registry["BeamML"].session = _BrokenSession(default_sample=10)
    message = usage_error(ip, f"read penguins {penguins}")
    assert message.startswith("%beam_ml read failed: RuntimeError: disk on fire")
    assert "BEAM_ML_VERBOSE" in message
    monkeypatch.setenv("BEAM_ML_VERBOSE", "1")
    with pytest.raises(RuntimeError), capture_output():
        ip.run_line_magic("beam_ml", f"read penguins {penguins}")


def test_read_caption_counts_the_lines_that_could_not_be_read(ip: Any, tmp_path) -> None:
    dirty = tmp_path / "dirty.csv"
    dirty.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    out = line(ip, f"read dirty {dirty}")
    assert len(ip.user_ns["dirty"]) == 2
    assert "1 line(s) could not be read, first: line 3: expected 2 fields, saw 3" in out.stdout
