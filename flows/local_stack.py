"""Local processes of what the compose stack runs: an MLflow server (and helpers), on 127.0.0.1 only.

Used by the integration tests, the load benchmark and ``docs``: the same commands the containers
run, started as plain processes, so the stack's wiring is exercised on a machine without Docker.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = [
    "free_port",
    "postgres_available",
    "start_mlflow_server",
    "start_postgres",
    "start_prefect_server",
    "stop_process",
    "wait_for_http",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def postgres_available() -> bool:
    """Debian's PostgreSQL server binaries are installed (and, as root, the postgres user exists to run them)."""
    if not (_postgres_bin("initdb") and _postgres_bin("postgres")):
        return False
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return False
    return True


def start_postgres(databases: tuple[str, ...] = ("mlflow", "prefect"), timeout: float = 60.0):
    """A throwaway PostgreSQL server on 127.0.0.1 (trust auth, loopback only) with the given databases.

    Runs as the ``postgres`` user when called as root (PostgreSQL refuses root). Returns (process, base URL
    ``postgresql://deltaflow@127.0.0.1:<port>``, data folder).
    """
    import tempfile

    import psycopg2

    folder = Path(tempfile.mkdtemp(prefix="deltaflow-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run(
        [*as_user, _postgres_bin("initdb"), "-D", str(data), "-U", "deltaflow", "--auth=trust", "-E", "UTF8"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = free_port()
    log_path = folder / "postgres.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*as_user, _postgres_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
             "-k", str(folder)],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = psycopg2.connect(host="127.0.0.1", port=port, user="deltaflow", dbname="postgres")
            break
        except psycopg2.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                raise RuntimeError(f"postgres did not start: {log_path.read_text()[-2000:]}") from None
            time.sleep(0.3)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name in databases:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return process, f"postgresql://deltaflow@127.0.0.1:{port}", folder


def start_mlflow_server(
    folder: Path, port: int | None = None, timeout: float = 120.0, backend_store_uri: str | None = None
):
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
                "--backend-store-uri", backend_store_uri or f"sqlite:///{(folder / 'server.db').as_posix()}",
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


def start_prefect_server(
    folder: Path, port: int | None = None, timeout: float = 180.0, database_url: str | None = None
):
    """A real ``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME in ``folder``.

    ``database_url`` (``postgresql+asyncpg://...``) selects its database; SQLite in ``folder`` otherwise.

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
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    wait_for_http(f"{api}/health", process, timeout, log_path)
    return process, api
