# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv once and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check benchmarks clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned or ranged torch pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/beam-ml demo

test: $(STAMP)
	# Debian's chromium + chromium-driver for the JupyterLab browser test (a no-op once installed).
	tests/browser/setup.sh
	# Beam's Prism (go install) and Flink / Spark job servers (mvn) for the engine tests,
	# cached in $${BEAM_ML_CACHE:-~/.cache/beam-ml}; what cannot be had is reported and skipped.
	tests/engines/setup.sh
	# Airflow in a venv of its own (~/.cache/beam-ml/venvs/airflow) and kfp for the
	# orchestrator hand-off tests; cached, reported, always exits 0.
	tests/exporting/setup_orchestrators.sh
	$(PY) -m pytest -n 2 --dist loadfile --nbmake tests notebooks

lint: $(STAMP)
	$(VENV)/bin/ruff check toolkit tests benchmarks
	$(VENV)/bin/ruff format --check toolkit tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

benchmarks: $(STAMP)
	# The real tables of the validation quality benchmark (peers get venvs of their own).
	$(PY) -m pip install --quiet -e '.[quality]'
	$(PY) benchmarks/profile_bench.py
	$(PY) benchmarks/profile_bench.py --floor
	$(PY) benchmarks/validate_bench.py
	$(PY) benchmarks/inference_bench.py
	$(PY) benchmarks/preview_bench.py
	$(PY) benchmarks/notebook_latency.py
	$(PY) benchmarks/validate_quality.py
	$(PY) benchmarks/fuzz_bench.py

clean:
	rm -rf $(VENV) out build dist *.egg-info toolkit/*.egg-info
