"""Prefect's temporary server, started by deltaflow itself so that its start-up overlaps the run's own imports.

With no Prefect server configured, Prefect starts a temporary one on first use (``SubprocessASGIServer``): a
``uvicorn`` process serving ``prefect.server.api.server:create_app`` on the folder's database. To get that class
Prefect imports its whole server application into the calling process (5 s of CPU here, of a 20 s run) and then
waits for the process to answer. deltaflow starts the same command without importing anything of Prefect's:
the CLI launches it before it imports Prefect and MLflow (:func:`launch`), so the server comes up on another core
while those imports run, and waits for it only when the flow starts (:func:`ensure_running`). ``PREFECT_API_URL``
then points this process (and the processes it starts) at the server, which is stopped when the process exits.

The first start in a folder creates Prefect's database: it is launched and awaited under a file lock
(:mod:`flows.locks`), so two first runs at once do not both create it. The server runs in its own session: a
Ctrl-C in the terminal or a SIGTERM to the run's process group does not reach it, so an interrupted run records its
failure through a server still alive (in the caller's group, a SIGTERM to the group stopped the server and the CLI
then waited 73 s on Prefect's client retries), and the CLI kills it at exit (:func:`kill`). It also watches the
process that started it and stops itself once that is gone (killed, or ended by a signal before the CLI's handlers
were in place), so it is never left orphaned. Nothing here imports Prefect.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import nullcontext
from importlib.util import find_spec
from pathlib import Path

from flows.locks import file_lock
from flows.settings import STARTUP_TIMEOUT_VARIABLE, command_name, prefect_home, use_temporary_server
from pipeline.errors import ConfigError, OrchestrationError

__all__ = ["READY_MARKER", "ensure_running", "kill", "launch", "startup_timeout"]

READY_MARKER = ".deltaflow-database-ready"
"""Under ``PREFECT_HOME``: created once the first temporary server there answered (its database exists)."""
PORT_IN_USE_EXIT = 3
"""uvicorn's exit code when its port was taken (between our choice and its bind): start again on another port."""
MAX_PORT_ATTEMPTS = 10
POLL_SECONDS = 0.1
PARENT_CHECK_SECONDS = 1.0
"""How often the server checks that the process that started it is alive (it stops itself once it is not)."""

_SERVER_PROGRAM = f"""
import os, signal, sys, threading, time
parent = int(sys.argv[1])
def watch():  # a parent that ends without stopping us (SIGKILL, SIGTERM before its handler) must not leave us running
    while os.getppid() == parent:
        time.sleep({PARENT_CHECK_SECONDS})
    os.kill(os.getpid(), signal.SIGTERM)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["uvicorn", *sys.argv[2:]]
from uvicorn.main import main
main()
"""
"""``python -c`` program of the server process: uvicorn's command line, plus a watch on the parent process."""

_server: dict[str, object] = {}  # this process's server: "process" (Popen), "url" (API address), "ready"


def launch() -> None:
    """Start the temporary server's process now, without waiting for it, if this run will need one and its
    database exists already (a first start waits under the lock in :func:`ensure_running`)."""
    startup_timeout()  # a bad value is the user's error, said before Prefect (which reads it too) is imported
    if _needed() and (prefect_home() / READY_MARKER).exists():
        _start_process()


def ensure_running() -> None:
    """Make sure this run has its Prefect server: nothing with one configured (``PREFECT_API_URL``: a real or a local
    server, or a test harness); else this process's temporary server, started if :func:`launch` did not, awaited,
    and named by ``PREFECT_API_URL`` from then on.

    Raises:
        OrchestrationError: the server did not answer within ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``.
    """
    if "ready" in _server:
        return
    if not _needed():
        kill()  # launched before a server configured in a profile was known: not needed
        return
    ready = prefect_home() / READY_MARKER
    if "process" in _server:
        _await_answer()
    else:
        with file_lock(ready.with_suffix(".lock")) if not ready.exists() else nullcontext():
            _start_process()
            _await_answer()
            ready.touch()
    use_temporary_server(str(_server["url"]))


def kill() -> None:
    """SIGKILL this process's temporary server and reap it (an interrupted run: nothing needs it any more; its
    SQLite database is crash-safe)."""
    process = _server.get("process")
    if isinstance(process, subprocess.Popen) and process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def _needed() -> bool:
    """No Prefect server is configured: no ``PREFECT_API_URL`` in the environment (this process's temporary server
    sets it once it answers) nor, once Prefect is imported, in its settings (a profile)."""
    if os.environ.get("PREFECT_API_URL"):
        return False
    if "prefect.settings" not in sys.modules:
        return True
    from prefect.settings import get_current_settings  # already imported: costs nothing

    return not get_current_settings().api.url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_process() -> None:
    """Start ``uvicorn`` serving Prefect's API on a free local port, in its own session (see the module)."""
    port = _free_port()
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    env.pop("PREFECT_API_URL", None)
    spec = find_spec("prefect")  # locates the package without importing it
    app_dir = str(Path(next(iter(spec.submodule_search_locations or []))).parent) if spec else "."
    command = [
        sys.executable, "-c", _SERVER_PROGRAM, str(os.getpid()), "--app-dir", app_dir, "--factory",
        "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    if "process" not in _server:
        atexit.register(_stop)
    _server.update(process=process, url=f"http://127.0.0.1:{port}/api")


def _await_answer() -> None:
    """Wait until the server answers its health check; a port taken meanwhile starts it again on another."""
    timeout = startup_timeout()
    deadline = time.monotonic() + timeout
    attempts = 1
    while True:
        process = _server["process"]
        assert isinstance(process, subprocess.Popen)
        code = process.poll()
        if code == PORT_IN_USE_EXIT and attempts < MAX_PORT_ATTEMPTS:
            attempts += 1
            _start_process()
            continue
        if code is None and _answers(str(_server["url"])):
            _server["ready"] = True
            return
        if code is not None or time.monotonic() >= deadline:
            kill()
            ended = f" (its process ended with exit code {code})" if code is not None else ""
            raise OrchestrationError(
                f"Prefect's temporary server did not start within {timeout} s{ended} (a busy machine?). Fix: start"
                f" a reusable server once with `{command_name()} server start`, or raise {STARTUP_TIMEOUT_VARIABLE}."
            )
        time.sleep(POLL_SECONDS)


def startup_timeout() -> int:
    """Seconds to wait for the server: ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` (600 by default).

    Raises:
        ConfigError: it is not a whole number of seconds (Prefect, which reads it too, would fail on import with a
            page of validation output).
    """
    value = os.environ.get(STARTUP_TIMEOUT_VARIABLE, "600").strip()
    if not value.isdigit():
        raise ConfigError(f"{STARTUP_TIMEOUT_VARIABLE} is {value!r}: expected a whole number of seconds, e.g. 600")
    return int(value)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop() -> None:
    """At exit: stop the server gracefully (SIGTERM), then SIGKILL if it has not ended within 30 s."""
    process = _server.get("process")
    if not isinstance(process, subprocess.Popen) or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
