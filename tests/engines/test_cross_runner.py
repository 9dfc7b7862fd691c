"""The exported module of each tutorial notebook and of a flights notebook writes the same
results on DirectRunner, Prism, Flink and Spark as on DirectRunner.

Each notebook is exported from its saved ``.ipynb`` with ``beam-ml export`` (which runs
nothing) into a folder holding the inputs its cells would have made (small, real data:
the penguins and a uniform few-thousand-row slice of NYC flights, models trained here).
The module runs once on DirectRunner as the reference, then on every runner; the outputs
must be equal step by step: rows as multisets of JSON objects, profiles in counts and
moments and within their sketch bounds, reports in verdicts and counts, quarantined rows
and bad records identical. Every option whose default is a relative path is given
absolute, since external workers run in a folder of their own. The runner x notebook
table is written for ``tests/engines/parity_table.py``.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import harness
import nbformat
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ["01_quickstart", "02_flights", "03_inference", "04_production"]
NOTEBOOKS = [*TUTORIALS, "flights"]
RUNNERS = ["prism", "prism-external", "flink", "flink-external", "spark", "spark-external"]
BEAM_ML = str(Path(sys.executable).parent / "beam-ml")
EXTERNAL_TIMEOUT = 300.0  # a run on external workers takes < 30 s; one that hangs is retried
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
FLIGHT_FEATURES = "dep_delay,distance"
CLEAN = (  # the date columns go, so that July is validated against January on its values
    "df = df.dropna(subset=['dep_delay', 'distance'])\n"
    "df = df.drop(columns=['year', 'month', 'day', 'time_hour'])\n"
    "df['gain'] = df.dep_delay - df.arr_delay"
)
FLIGHTS_CELLS = [
    "%load_ext beam_ml",
    "%beam_ml read jan work/jan.csv --sample 1000",
    "%beam_ml read jul work/jul.csv --sample 1000",
    f"%%beam_ml transform jan_ok --from jan\n{CLEAN}",
    f"%%beam_ml transform jul_ok --from jul\n{CLEAN}",
    "%beam_ml profile jul_ok -o jul_profile",
    "%beam_ml validate jul_ok --reference jan_ok -o report",
    "%beam_ml infer jul_ok --model sklearn:work/late.pkl"
    f" --features {FLIGHT_FEATURES} --key flight",
    "%beam_ml compare jul_ok --model sklearn:work/late.pkl --model sklearn:work/tree.pkl"
    f" --features {FLIGHT_FEATURES}",
]


def _penguin_inputs(work: Path) -> None:
    import beam_ml as bml
    import numpy as np

    shutil.copy(bml.datasets.load("penguins"), work / "penguins.csv")
    rules = bml.infer_rules(bml.profile(str(work / "penguins.csv")))
    rules.to_yaml(str(work / "penguins_rules.yaml"))  # 01_quickstart
    rules.to_yaml(str(work / "rules.yaml"))  # 04_production
    faulty = pd.read_csv(work / "penguins.csv")  # 01_quickstart's faulty copy
    faulty.loc[faulty.index[:40], "bill_length_mm"] = np.nan
    faulty.loc[faulty.index[40:50], "body_mass_g"] = 60_000.0
    faulty.loc[faulty.index[50:60], "species"] = "Emperor"
    faulty.to_csv(work / "faulty_penguins.csv", index=False)


def _penguin_models(work: Path) -> None:
    """03_inference's two models, trained as its cells train them."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = pd.read_csv(work / "penguins.csv").dropna(subset=FEATURES)
    x = data[FEATURES].to_numpy(dtype="float32")
    species = sorted(data.species.unique())
    y = data.species.map(species.index).to_numpy()
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    (work / "logreg.pkl").write_bytes(pickle.dumps(logreg))

    class PenguinNet(torch.nn.Module):
        def __init__(self, mean, std):  # type: ignore[no-untyped-def]
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean))
            self.register_buffer("std", torch.tensor(std))
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
            )

        def forward(self, features):  # type: ignore[no-untyped-def]
            return self.layers((features - self.mean) / self.std)

    torch.manual_seed(0)
    net = PenguinNet(x.mean(axis=0), x.std(axis=0))
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(100):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(y)).backward()
        optimiser.step()
    torch.jit.script(net.eval()).save(str(work / "penguin_net.pt"))


def _flight_inputs(work: Path) -> None:
    """A uniform slice of flights (every 97th row), January and July slices, two CSV lines
    with the wrong number of fields (bad records), and two scikit-learn models."""
    import beam_ml as bml
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    flights = pd.read_csv(bml.datasets.load("flights"))
    flights.iloc[::97].to_csv(work / "flights.csv", index=False)  # 02_flights: ~3,500 rows
    for month, name in ((1, "jan"), (7, "jul")):
        flights[flights.month == month].iloc[::11].to_csv(work / f"{name}.csv", index=False)
    with (work / "jul.csv").open("a", encoding="utf-8") as f:
        f.write("2013,7,1,oops\n2013,7,2,1,2,3\n")
    train = flights[flights.month == 1].dropna(subset=["dep_delay", "distance", "arr_delay"])
    x, y = train[["dep_delay", "distance"]].to_numpy(), (train.arr_delay > 15).astype(int)
    (work / "late.pkl").write_bytes(pickle.dumps(LogisticRegression().fit(x, y)))
    (work / "tree.pkl").write_bytes(pickle.dumps(DecisionTreeClassifier(max_depth=4).fit(x, y)))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook folder: work/ with every input the notebooks' cells would have written."""
    root = tmp_path_factory.mktemp("engines")
    work = root / "work"
    work.mkdir()
    _penguin_inputs(work)
    _penguin_models(work)
    _flight_inputs(work)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in FLIGHTS_CELLS]
    nbformat.write(nb, root / "flights.ipynb")
    return root


class Exported:
    """Each notebook's module, exported once, and its DirectRunner output (the reference)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, tuple[Path, list[str], Path]] = {}

    def __call__(self, notebook: str) -> tuple[Path, list[str], Path]:
        if notebook not in self._done:
            source = self.root / "flights.ipynb" if notebook == "flights" else (
                ROOT / "notebooks" / f"{notebook}.ipynb"
            )  # fmt: skip
            module = self.root / f"pipeline_{notebook}.py"
            done = subprocess.run(
                [BEAM_ML, "export", str(source), "-o", str(module)],
                cwd=self.root, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"beam-ml export {source.name}: {done.stderr[-2000:]}"
            args = harness.absolute_defaults(module, self.root)
            reference = self.root / "out" / notebook / "direct"
            ran = harness.run_module(module, reference, args, cwd=self.root)
            assert ran.returncode == 0, f"DirectRunner: {harness.last_error(ran.stderr)}"
            assert any(reference.rglob("*")), "DirectRunner wrote nothing"
            self._done[notebook] = (module, args, reference)
        return self._done[notebook]


@pytest.fixture(scope="module")
def exported(folder: Path) -> Exported:
    return Exported(folder)


def _runner_args(runner: str, job_servers, worker_pool_address) -> list[str]:  # type: ignore[no-untyped-def]
    engine = runner.split("-")[0]
    if runner == "prism":
        return harness.runner_args(runner, prism=job_servers.prism_binary())
    endpoint = job_servers.endpoint(engine)
    workers = worker_pool_address() if runner.endswith("-external") else ""
    return harness.runner_args(runner, endpoint=endpoint, workers=workers)


@pytest.mark.parametrize(
    ("runner", "notebook"),
    [(r, nb) for r in RUNNERS for nb in NOTEBOOKS],  # runner by runner: each server starts once
    ids=lambda v: v,
)
def test_exported_module_writes_the_same_outputs_on_each_runner_as_on_direct_runner(
    runner: str, notebook: str, exported: Exported, job_servers, request, parity_table
) -> None:  # type: ignore[no-untyped-def]
    row = parity_table.setdefault(runner, {})
    row[notebook] = "not run"
    try:
        args = _runner_args(runner, job_servers, lambda: request.getfixturevalue("worker_pool"))
    except pytest.skip.Exception as skip:
        row[notebook] = f"skipped: {skip}"
        raise
    module, inputs, reference = exported(notebook)
    out = reference.parent / runner
    started = time.perf_counter()
    retried = ""
    external = runner.endswith("-external")
    timeout = EXTERNAL_TIMEOUT if external else 600.0
    try:
        ran = harness.run_module(module, out, [*inputs, *args], cwd=exported.root, timeout=timeout)
    except subprocess.TimeoutExpired:
        if not external:
            raise
        # A run on the shared worker pool hung once in CI (Prism, flights, > 600 s; every
        # other run takes < 30 s): once more, on a pool of its own, and the table says so.
        retried = f" (after a run that hung > {EXTERNAL_TIMEOUT:.0f} s on the shared pool)"
        shutil.rmtree(out, ignore_errors=True)
        with harness.worker_pool(lifetime=900) as fresh:
            config = [a for a in args if not a.startswith("--environment_config=")]
            ran = harness.run_module(
                module, out, [*inputs, *config, f"--environment_config={fresh}"],
                cwd=exported.root, timeout=EXTERNAL_TIMEOUT,
            )  # fmt: skip
    parity_table["_seconds"][f"{runner}/{notebook}"] = round(time.perf_counter() - started, 1)
    if ran.returncode != 0:
        row[notebook] = f"failed: {harness.last_error(ran.stderr)}{retried}"
        pytest.fail(
            f"{runner} on {notebook}: {harness.last_error(ran.stderr)}\n{ran.stderr[-3000:]}"
        )
    differences = harness.compare_folders(reference, out)
    row[notebook] = harness.summary(differences) + retried
    assert not any(differences.values()), differences


def test_beam_ml_export_check_runs_the_parity_check_on_prism(exported: Exported, job_servers):  # type: ignore[no-untyped-def]
    """``beam-ml export NB --check`` passes unknown options to the module: here Prism's."""
    prism = job_servers.prism_binary()
    done = subprocess.run(
        [BEAM_ML, "export", str(ROOT / "notebooks" / "04_production.ipynb"),
         "-o", str(exported.root / "checked.py"), "--check",
         "--runner=PrismRunner", f"--prism_location={prism}"],
        cwd=exported.root, env=harness.worker_env(), capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "parity: yes" in done.stdout, done.stdout
