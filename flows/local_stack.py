"""Local processes of what the compose stack runs: an MLflow server (and helpers), on 127.0.0.1 only.

Used by the integration tests, the load benchmark and ``docs``: the same commands the containers
run, started as plain processes, so the stack's wiring is exercised on a machine without Docker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["free_port", "start_mlflow_server", "start_prefect_server", "stop_process", "wait_for_http"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_mlflow_server(folder: Path, port: int | None = None, timeout: float = 120.0):
    """A real ``mlflow server`` process on 127.0.0.1 (SQLite store and artifacts in ``folder``, job execution off).

    Returns (process, tracking URI) once the REST API answers (not just ``/health``, which answers regardless).
    """
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    mlflow = Path(sys.executable).parent / "mlflow"
    log_path = folder / "mlflow-server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--backend-store-uri", f"sqlite:///{(folder / 'server.db').as_posix()}",
                "--artifacts-destination", str(folder / "artifacts"),
            ],
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    wait_for_http(f"{uri}/api/2.0/mlflow/experiments/search?max_results=1", process, timeout, log_path)
    return process, uri


def stop_process(process) -> None:
    """SIGTERM a server (and its process group), then wait; SIGKILL if it lingers."""
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


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    """Poll ``url`` until it answers 200; raise with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    stop_process(process)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_prefect_server(folder: Path, port: int | None = None, timeout: float = 180.0):
    """A real ``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME (SQLite) in ``folder``.

    Returns (process, API URL) once ``/api/health`` answers.
    """
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    prefect = Path(sys.executable).parent / "prefect"
    log_path = folder / "prefect-server.log"
    env = {
        **os.environ,
        "PREFECT_HOME": str(folder),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "true",
    }
    env.pop("PREFECT_API_URL", None)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    wait_for_http(f"{api}/health", process, timeout, log_path)
    return process, api
