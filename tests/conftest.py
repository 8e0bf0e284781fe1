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


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server and database for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

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


def runs_of(uri: str, experiment: str) -> list:
    """All runs of ``experiment`` in the MLflow store ``uri`` (empty if the experiment does not exist)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    return [] if found is None else client.search_runs([found.experiment_id])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_mlflow_server(folder: Path, port: int | None = None, timeout: float = 120.0):
    """A real ``mlflow server`` process on 127.0.0.1 (SQLite store and artifacts in ``folder``, job execution off).

    Returns (process, tracking URI) once the REST API answers (not just ``/health``).
    """
    import subprocess
    import sys
    import time
    import urllib.request

    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    mlflow = Path(sys.executable).parent / "mlflow"
    log = (folder / "mlflow-server.log").open("ab")
    process = subprocess.Popen(
        [
            str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{(folder / 'server.db').as_posix()}",
            "--artifacts-destination", str(folder / "artifacts"),
        ],
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        stdout=log,
        stderr=log,
        start_new_session=True,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {(folder / 'mlflow-server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/api/2.0/mlflow/experiments/search?max_results=1", timeout=2) as r:
                if r.status == 200:
                    return process, uri
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"mlflow server on port {port} did not answer within {timeout} s")


def stop_process(process) -> None:
    """SIGTERM a server (and its process group), then wait; SIGKILL if it lingers."""
    import signal
    import subprocess

    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture
def mlflow_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ``mlflow server`` on loopback, selected through ``MLFLOW_TRACKING_URI``; yields its URI."""
    process, uri = start_mlflow_server(tmp_path / "mlflow-server")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    try:
        yield uri
    finally:
        stop_process(process)
