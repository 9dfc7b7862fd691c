"""Fixtures for the engine tests: Beam's job servers and a pool of external Python workers.

Each job server starts once per pytest session, on free ports, the first time a test
asks for it, and at most one Java job server (Flink or Spark) runs at a time: asking for
Spark stops Flink (the tests run runner by runner, so each starts once). Prism and the
worker pool stay up until the session ends. An engine that setup.sh could not install
skips its tests with setup.sh's exact words. All engine tests live in one file, so under
``pytest -n 2 --dist loadfile`` one xdist worker owns these processes and their ports.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import harness


class JobServers:
    """Started on first use; one Java job server at a time; all stopped at session end."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._java: tuple[str, contextlib.ExitStack] | None = None
        self._endpoints: dict[str, str] = {}
        self._failed: dict[str, str] = {}

    def _require(self, name: str) -> harness.Engine:
        found = harness.engine(name)
        if found.path is None:
            pytest.skip(f"{name} is not installed: {found.missing}")
        return found

    def prism_binary(self) -> str:
        return str(self._require("prism").path)

    def endpoint(self, name: str) -> str:
        if name in self._failed:
            pytest.fail(self._failed[name])
        if name in self._endpoints:
            return self._endpoints[name]
        found = self._require(name)
        assert found.path
        try:
            if name == "prism":
                self._endpoints[name] = self._stack.enter_context(harness.prism_server(found.path))
            else:
                if self._java is not None:  # one heavy JVM at a time
                    old, stack = self._java
                    stack.close()
                    self._endpoints.pop(old, None)
                stack = contextlib.ExitStack()
                start = harness.flink_server if name == "flink" else harness.spark_server
                self._endpoints[name] = stack.enter_context(start(found.path))
                self._java = (name, stack)
        except RuntimeError as error:
            self._failed[name] = f"the {name} job server did not start: {error}"
            pytest.fail(self._failed[name])
        return self._endpoints[name]

    def close(self) -> None:
        if self._java is not None:
            self._java[1].close()
        self._stack.close()


@pytest.fixture(scope="session")
def job_servers() -> Iterator[JobServers]:
    servers = JobServers()
    yield servers
    servers.close()


@pytest.fixture(scope="session")
def worker_pool() -> Iterator[str]:
    """``python -m apache_beam.runners.worker.worker_pool_main --service_port=N``: each SDK
    worker a process of its own, all killed with the pool (and after 30 minutes at most)."""
    with harness.worker_pool(lifetime=1800) as address:
        yield address


@pytest.fixture(scope="session")
def parity_table() -> Iterator[dict[str, dict[str, str]]]:
    """runner -> notebook -> 'ok' / what differed; written for tests/engines/parity_table.py."""
    cells: dict[str, dict[str, str]] = {}
    seconds: dict[str, float] = {}
    cells["_seconds"] = seconds  # type: ignore[assignment]
    yield cells
    cells.pop("_seconds")
    if cells:
        harness.write_table(cells, seconds)
