"""A realistic flights notebook, built in code and run in a real kernel, exports with parity.

January and July of NYC flights (all 19 columns, ``time_hour`` included): a
transform, a profile, July validated against January's transform step, keyed
inference with repeated keys (flight numbers repeat), a cascade of two
scikit-learn models, the export, the module on two DirectRunner workers, and
``beam-ml export --check --full``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from beam_ml import datasets

BEAM_ML = str(Path(sys.executable).parent / "beam-ml")
FEATURES = "dep_delay,distance"
BETWEEN = '''
def only_late(df):
    """The second model looks only at flights the first one called late."""
    return df[df.a_prediction == 1]
'''


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    folder = tmp_path_factory.mktemp("flights_nb")
    flights = pd.read_csv(datasets.load("flights"))
    for month, name in ((1, "jan"), (7, "jul")):
        flights[flights.month == month].to_csv(folder / f"{name}.csv", index=False)
    train = flights[flights.month == 1].dropna(subset=["dep_delay", "distance", "arr_delay"])
    x, y = train[["dep_delay", "distance"]].to_numpy(), (train.arr_delay > 15).astype(int)
    (folder / "late.pkl").write_bytes(pickle.dumps(LogisticRegression().fit(x, y)))
    (folder / "tree.pkl").write_bytes(pickle.dumps(DecisionTreeClassifier(max_depth=4).fit(x, y)))
    (folder / "flight_rules.py").write_text(BETWEEN, encoding="utf-8")
    return folder


def _cells(work: Path) -> list[str]:
    clean = (
        "df = df.dropna(subset=['dep_delay', 'distance'])\ndf['gain'] = df.dep_delay - df.arr_delay"
    )
    late, tree = work / "late.pkl", work / "tree.pkl"
    return [
        "%load_ext beam_ml",
        f"%beam_ml read jan {work / 'jan.csv'} --sample 2000",
        f"%beam_ml read jul {work / 'jul.csv'} --sample 2000",
        f"%%beam_ml transform jan_ok --from jan\n{clean}",
        f"%%beam_ml transform jul_ok --from jul\n{clean}",
        "%beam_ml profile jul_ok -o jul_profile",
        "%beam_ml validate jul_ok --reference jan_ok -o report",
        f"%beam_ml infer jul_ok --model sklearn:{late} --features {FEATURES} --key flight",
        f"%beam_ml cascade jul_ok --model sklearn:{late} --then sklearn:{tree} "
        f"--between flight_rules:only_late --features {FEATURES}",
        "%beam_ml steps",
        f"%beam_ml export {work / 'pipeline.py'}",
    ]


@pytest.mark.slow
def test_flights_notebook_runs_exports_and_checks_with_full_run_verdicts(work: Path) -> None:
    import nbclient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in _cells(work)]
    env = {**os.environ, "PYTHONPATH": str(work)}
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    os.environ["PYTHONPATH"] = str(work)  # the kernel and the module import flight_rules
    try:
        client.execute()
    finally:
        os.environ.pop("PYTHONPATH", None)
    saved = work / "flights.ipynb"
    nbformat.write(nb, saved)
    shown = "".join(str(o.get("text", "")) for c in nb.cells for o in c.outputs)
    assert "jul_ok_cascade" in shown or (work / "pipeline.py").exists()

    # the module on the full months, two worker processes
    workers = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    done = subprocess.run(
        [sys.executable, str(work / "pipeline.py"), "--output", str(work / "out"), *workers],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    predictions = pd.concat(
        pd.read_json(p, lines=True) for p in (work / "out" / "jul_ok_infer").glob("predictions-*")
    )
    july = pd.read_csv(work / "jul.csv").dropna(subset=["dep_delay", "distance"])
    assert len(predictions) == len(july)  # repeated flight numbers: every row predicted once
    assert predictions.flight.value_counts().max() > 1

    # the saved notebook, checked against its previews, and against the full run
    check = subprocess.run(
        [BEAM_ML, "export", str(saved), "-o", str(work / "checked.py"), "--check", "--full"],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
    print(check.stdout)  # the closing note quotes it (pytest -s)
    assert check.returncode in (0, 1), check.stderr[-3000:]
    assert "parity: yes" in check.stdout, check.stdout + check.stderr[-2000:]
    assert "preview verdict vs full-run verdict" in check.stdout
    assert "jul_ok_validate: sample" in check.stdout
