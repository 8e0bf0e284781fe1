"""Embedded defaults: Prefect without a server and MLflow in a local SQLite file.

:func:`apply_environment_defaults` only fills environment variables that are not
already set, so a user's ``PREFECT_HOME``, ``PREFECT_API_URL`` or
``MLFLOW_TRACKING_URI`` always wins. When it chooses ``PREFECT_HOME`` itself it also
creates that folder (Prefect does not create missing parents and would otherwise
fail to start its temporary server).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["STATE_DIR_NAME", "apply_environment_defaults", "default_artifact_root", "tracking_uri"]

STATE_DIR_NAME = ".state"

_QUIET = {
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    # MLflow's HTTP client would otherwise retry a dead server for minutes; deltaflow retries a few times
    # with backoff itself and then queues the run in the outbox (flows/outbox.py).
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


def apply_environment_defaults(base_dir: Path | None = None) -> None:
    """Set telemetry off and ``PREFECT_HOME`` under ``<base_dir>/.state/prefect`` unless already set.

    ``base_dir`` defaults to the current working directory.
    """
    base = (base_dir or Path.cwd()).resolve()
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
    if "PREFECT_HOME" not in os.environ:
        home = base / STATE_DIR_NAME / "prefect"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(home)


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


def no_heartbeats_without_a_server() -> None:
    """Turn Prefect's flow-run heartbeats off when no Prefect server is configured (embedded defaults).

    Heartbeats let a real server mark crashed runs; a temporary local server has no one watching. And in
    Prefect 3.9 every flow run waits up to one second at exit for its heartbeat thread's one-second sleep:
    an empty flow costs 1.08 s with heartbeats, 0.09 s without (measured here). With ``PREFECT_API_URL`` or
    ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` set, nothing changes.
    """
    if os.environ.get("PREFECT_API_URL") or os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY"):
        return
    import prefect.context as context

    current = context.GLOBAL_SETTINGS_CONTEXT
    flows = current.settings.flows.model_copy(update={"heartbeat_frequency": None})
    settings = current.settings.model_copy(update={"flows": flows})
    context.GLOBAL_SETTINGS_CONTEXT = context.SettingsContext(profile=current.profile, settings=settings)
