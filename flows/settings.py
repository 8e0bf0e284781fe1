"""Embedded defaults: Prefect without a server of its own and MLflow in a local SQLite file.

Nothing here runs at import. :func:`prepare_environment` (called by the CLI's entry point and by
every flow's first call) fills the environment variables the user has not set, so a user's
``PREFECT_HOME``, ``PREFECT_API_URL`` or ``MLFLOW_TRACKING_URI`` always wins; it creates
``PREFECT_HOME`` when it chose it (Prefect does not create missing parents), points Prefect at a
local server started with ``python -m flows server start`` when one is running, and, if Prefect
was imported before, rebuilds Prefect's settings from the environment so they take effect.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "STARTUP_TIMEOUT_VARIABLE",
    "STATE_DIR_NAME",
    "apply_environment_defaults",
    "command_name",
    "data_roots",
    "default_artifact_root",
    "prefect_home",
    "prepare_environment",
    "tracking_uri",
    "use_temporary_server",
]

STATE_DIR_NAME = ".state"


def command_name() -> str:
    """How the user started this process, for the commands a message suggests: ``deltaflow`` (the console script),
    else ``python -m flows``."""
    return "deltaflow" if Path(sys.argv[0]).name == "deltaflow" else "python -m flows"


STARTUP_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
"""Seconds to wait for the temporary Prefect server (:mod:`flows.temporary_server`): Prefect's own setting."""

_QUIET = {
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    # Prefect waits 20 s for its temporary server by default; a cold start on a busy 2-core machine took
    # longer (issue 15). Waiting longer costs nothing when the server is quick.
    STARTUP_TIMEOUT_VARIABLE: "600",
    # MLflow's HTTP client would otherwise retry a dead server for minutes; deltaflow retries a few times
    # with backoff itself and then queues the run in the outbox (flows/outbox.py).
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    # Closing a run on a tracking server makes MLflow fetch the whole run back (every metric and tag) only to
    # print "View run ... at": one more request per run, two lines per run of a batch. The CLI prints its own links.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}

_prepared: set[str] = set()  # what prepare_environment has done in this process: "environment", "prefect"
_temporary_api_url: list[str] = []  # this process's temporary server's, once it answers (flows.temporary_server)


def prefect_home(base_dir: Path | None = None) -> Path:
    """``$PREFECT_HOME`` if set, else ``<base_dir or cwd>/.state/prefect`` (nothing is created)."""
    configured = os.environ.get("PREFECT_HOME")
    if configured:
        return Path(configured).expanduser()
    return (base_dir or Path.cwd()).resolve() / STATE_DIR_NAME / "prefect"


def apply_environment_defaults(base_dir: Path | None = None) -> None:
    """Set telemetry off, a long temporary-server start timeout and ``PREFECT_HOME`` unless already set.

    ``base_dir`` defaults to the current working directory; the chosen ``PREFECT_HOME`` is created.
    """
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
    if "PREFECT_HOME" not in os.environ:
        home = prefect_home(base_dir)
        home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(home)


def prepare_environment(base_dir: Path | None = None) -> None:
    """The embedded defaults and a running local Prefect server if any (once), then Prefect's settings (once
    Prefect is imported).

    Idempotent and cheap after the first call. The CLI calls it before importing Prefect, every flow on
    its first call; so the second step happens when the first flow runs.
    """
    if "environment" not in _prepared:
        apply_environment_defaults(base_dir)
        if not os.environ.get("PREFECT_API_URL"):
            from flows.server import running_server_url

            url = running_server_url(prefect_home())
            if url:
                os.environ["PREFECT_API_URL"] = url
        _prepared.add("environment")
    if "prefect" not in _prepared and "prefect" in sys.modules:
        _rebuild_prefect_settings()
        _prepared.add("prefect")


def _rebuild_prefect_settings() -> None:
    """Prefect read its settings when it was imported: rebuild its root settings from the environment now.

    Also turns flow-run heartbeats off when no Prefect server is configured: a temporary server has no one
    watching them, and in Prefect 3.9 every flow run waits up to one second at exit for the heartbeat
    thread (an empty flow: 1.08 s with heartbeats, 0.09 s without, measured here). With
    ``PREFECT_API_URL`` (other than this process's temporary server's) or ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` set,
    heartbeats stay as configured.
    """
    import prefect.context as context

    root = context.root_settings_context()
    configured = os.environ.get("PREFECT_API_URL") not in (None, "", *_temporary_api_url)
    if not (configured or os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY")):
        flows = root.settings.flows.model_copy(update={"heartbeat_frequency": None})
        settings = root.settings.model_copy(update={"flows": flows})
        root = context.SettingsContext(profile=root.profile, settings=settings)
    context.GLOBAL_SETTINGS_CONTEXT = root


def use_temporary_server(api_url: str) -> None:
    """Point this process, and the processes it starts, at its temporary Prefect server (``PREFECT_API_URL``); if
    Prefect is imported, its settings are rebuilt (heartbeats stay off: see :func:`_rebuild_prefect_settings`)."""
    _temporary_api_url[:] = [api_url]
    os.environ["PREFECT_API_URL"] = api_url
    if "prefect" in sys.modules:
        _rebuild_prefect_settings()
        _prepared.add("prefect")


def tracking_uri(base_dir: Path | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<abs base_dir>/mlflow.db``."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    return f"sqlite:///{((base_dir or Path.cwd()).resolve() / 'mlflow.db').as_posix()}"


def default_artifact_root(uri: str) -> str | None:
    """Artifacts beside a SQLite store (``<db folder>/mlartifacts``); None lets a server decide."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").as_uri()
    return None


def data_roots() -> list[Path] | None:
    """Folders data files must lie under: ``$DELTAFLOW_DATA_ROOTS`` (os.pathsep-separated), or None (anywhere)."""
    raw = os.environ.get("DELTAFLOW_DATA_ROOTS", "")
    roots = [Path(part.strip()).expanduser() for part in raw.split(os.pathsep) if part.strip()]
    return roots or None
