"""A reusable local Prefect server: ``python -m flows server start|stop|status``.

``start`` runs ``prefect server start`` in the background on 127.0.0.1 with the folder's own
``PREFECT_HOME`` (``.state/prefect``: the same database the temporary server uses) and notes its
process id and address in ``<PREFECT_HOME>/local-server.json``. Later CLI and Python calls in that
folder find it there (:func:`running_server_url`) and use it: no temporary server to start, and the
runs show in the Prefect UI. When it is not running they fall back to Prefect's temporary server.
``serve`` notes its process id under ``<PREFECT_HOME>/serving/`` while it runs (:func:`serving`), so that ``stop``
can say which serve processes end with the server (:func:`serving_processes`).
Nothing here imports Prefect.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.local_stack import start_prefect_server

__all__ = [
    "STATE_FILE", "answers", "refuses", "running_server_url", "server_status", "serving", "serving_processes",
    "start_local_server", "stop_local_server",
]  # fmt: skip

STATE_FILE = "local-server.json"
SERVING_FOLDER = "serving"
"""Under ``PREFECT_HOME``: one empty file per running ``serve`` process, named by its process id."""


def _read_state(home: Path) -> dict | None:
    try:
        state = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and {"pid", "url"} <= set(state) else None


def _is_prefect_process(pid: int) -> bool:
    """The process exists and (where /proc tells) runs Prefect: a recycled pid is not our server."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    return not cmdline.exists() or b"prefect" in cmdline.read_bytes()


def answers(url: str, timeout: float = 5.0) -> bool:
    """Whether a Prefect API at ``url`` (``http://host:port/api``) answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def refuses(url: str, timeout: float = 5.0) -> bool:
    """Whether nothing listens at ``url``'s host and port any more: a connection there is refused (a stopped
    server), not merely slow to answer (a busy one) nor unreachable over the network."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def server_status(home: Path) -> dict | None:
    """The local server's ``{"pid", "url", "ui"}`` when its process runs and its API answers, else None."""
    state = _read_state(home)
    if state is None or not _is_prefect_process(int(state["pid"])) or not answers(state["url"]):
        return None
    return state


def running_server_url(home: Path) -> str | None:
    """The API URL of the local server started in ``home``, if it is running and answers; else None."""
    if not (home / STATE_FILE).is_file():  # the usual case: no server, no cost
        return None
    state = server_status(home)
    return None if state is None else str(state["url"])


@contextmanager
def serving(home: Path) -> Iterator[Path]:
    """Note this process as serving deployments from ``home`` while the block runs; yields the note's file (to
    remove before an exit that skips the block's end)."""
    marker = home / SERVING_FOLDER / str(os.getpid())
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    try:
        yield marker
    finally:
        marker.unlink(missing_ok=True)


def serving_processes(home: Path) -> list[int]:
    """The process ids of the ``serve`` processes of ``home`` still alive (markers of dead ones are removed)."""
    folder, alive = home / SERVING_FOLDER, []
    for marker in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            pid = int(marker.name)
            os.kill(pid, 0)
            alive.append(pid)
        except (ValueError, ProcessLookupError):
            marker.unlink(missing_ok=True)
        except PermissionError:  # alive, another user's
            alive.append(int(marker.name))
    return alive


def start_local_server(home: Path, port: int | None = None, timeout: float = 600.0) -> dict:
    """Start (or find running) the local server of ``home``; returns its ``{"pid", "url", "ui"}``.

    ``timeout`` is generous on purpose: a cold start on a busy machine takes tens of seconds.

    Raises:
        RuntimeError: the server exited or did not answer within ``timeout`` (with its log's tail).
    """
    running = server_status(home)
    if running is not None:
        return running
    home.mkdir(parents=True, exist_ok=True)
    process, url = start_prefect_server(home, port=port, timeout=timeout)
    state = {"pid": process.pid, "url": url, "ui": url.removesuffix("/api"), "log": str(home / "prefect-server.log")}
    (home / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    return state


def stop_local_server(home: Path, timeout: float = 60.0) -> bool:
    """Stop the local server of ``home`` (SIGTERM to its process group, SIGKILL if it lingers).

    Returns:
        True if a server was running and was stopped; False if none was running.
    """
    state = _read_state(home)
    (home / STATE_FILE).unlink(missing_ok=True)
    if state is None or not _is_prefect_process(int(state["pid"])):
        return False
    pid = int(state["pid"])
    os.killpg(pid, signal.SIGTERM)  # started with its own session: the group is the server and its workers
    deadline = time.monotonic() + timeout
    while _is_prefect_process(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _is_prefect_process(pid):
        os.killpg(pid, signal.SIGKILL)
    return True
