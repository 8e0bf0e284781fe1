"""Shared fixtures: real Prefect (its test harness) and a real MLflow SQLite store per test."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Keep the suite's Prefect state out of the project folder and quiet, before anything imports prefect.
_STATE = Path(tempfile.mkdtemp(prefix="deltaflow-tests-"))
os.environ["PREFECT_HOME"] = str(_STATE / "prefect")
(_STATE / "prefect").mkdir(parents=True, exist_ok=True)
for key, value in {
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(key, value)
os.environ.pop("MLFLOW_TRACKING_URI", None)

# Only now may deltaflow (and so Prefect) be imported: its settings are read once, at import.
from flows.local_stack import free_port, start_mlflow_server, stop_process  # noqa: E402,F401 - re-exported for tests


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server and database for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.settings import prepare_environment

    prepare_environment()  # what every flow's first call does (heartbeats off), before the harness copies settings
    # The harness server keeps runs in SQLite, whose busy timeout is Prefect's connection timeout (5 s): under the
    # load test's 50 simultaneous flows on 2 busy cores a writer waited longer and the API answered 503 past the
    # client's retries. A test server may wait: 60 s.
    os.environ.setdefault("PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT", "60")
    os.environ.setdefault("PREFECT_SERVER_DATABASE_TIMEOUT", "60")
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def mlflow_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh MLflow SQLite store in ``tmp_path``, selected through ``MLFLOW_TRACKING_URI``."""
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture
def project_root() -> Path:
    """The repository root (configs/ and data/ live there)."""
    return ROOT


def run_as_scheduled(flow: object, config: object) -> object:
    """Run a deltaflow ``flow`` on ``config`` as Prefect runs a deployment's scheduled run: through its engine,
    without calling the flow object, so without the fail-fast check a call from Python makes first."""
    from prefect.flow_engine import run_flow

    return run_flow(flow, parameters={"config": config})


def runs_of(uri: str, experiment: str) -> list:
    """All runs of ``experiment`` in the MLflow store ``uri`` (empty if the experiment does not exist)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    return [] if found is None else client.search_runs([found.experiment_id])


@pytest.fixture
def mlflow_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ``mlflow server`` on loopback, selected through ``MLFLOW_TRACKING_URI``; yields its URI."""
    process, uri = start_mlflow_server(tmp_path / "mlflow-server")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    try:
        yield uri
    finally:
        stop_process(process)
