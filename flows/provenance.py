"""What a run records about where it came from: the config (flat params, hash), data and code hashes,
git commit, package versions and the Prefect flow run."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel

__all__ = [
    "code_version",
    "config_hash",
    "file_sha256",
    "flatten_config",
    "git_commit",
    "package_versions",
    "run_tags",
    "source_digest",
]

_PACKAGES = ("deltaflow", "numpy", "scipy", "scikit-learn", "pandas", "pysindy", "prefect", "mlflow")


def flatten_config(config: BaseModel) -> dict[str, str]:
    """The config as flat, namespaced string params: ``{"differentiation.method": "auto", ...}``; settings
    left at None are left out (a param reading 'None' says nothing)."""

    def walk(prefix: str, value: Any, out: dict[str, str]) -> None:
        if value is None:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item, out)
        else:
            out[prefix] = json.dumps(value) if isinstance(value, list) else str(value)

    flat: dict[str, str] = {}
    walk("", config.model_dump(mode="json"), flat)
    return flat


def _point_files(config: BaseModel) -> list[Path]:
    """The files of points a config names (``gradient.at``, a gradient check's ``points``)."""
    named = (getattr(getattr(config, "gradient", None), "at", None), getattr(config, "points", None))
    return [value for value in named if isinstance(value, Path)]


def config_hash(config: BaseModel) -> str:
    """A stable sha256 of the resolved config (hex), the content of the point files it names included: the points
    are part of what was asked, so a batch does not reuse a run made at other points (the data file has its own
    hash, ``data.sha256``)."""
    payload = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    points = [file_sha256(path) for path in _point_files(config) if path.is_file()]
    return hashlib.sha256((payload + "".join(points)).encode()).hexdigest()


_NUMERICS = ("numpy", "scipy", "scikit-learn", "pandas", "pysindy")
"""The packages (of :data:`_PACKAGES`) whose versions the numbers depend on: part of :func:`code_version`."""


@functools.cache
def code_version() -> str:
    """sha256 of the code behind a run's results (read once, on first use): the source of the core (``pipeline/``)
    and of the flows (``flows/``: checks' verdicts, what a run records), and the versions of the numerical packages.
    A cached stage, and a batch item's earlier run, are reused only by the same code: a fix in the flows or an
    upgraded scipy recomputes them."""
    versions = package_versions()
    numerics = {name: versions[name] for name in _NUMERICS}
    return source_digest(Path(__file__).resolve().parents[1], ("pipeline", "flows"), numerics)


def source_digest(root: Path, folders: tuple[str, ...], versions: dict[str, str]) -> str:
    """Hex sha256 of every ``*.py`` file under ``root``'s ``folders`` (by path relative to ``root``, then content) and
    of the ``versions`` ({package: version})."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(versions, sort_keys=True).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def git_commit(cwd: Path | None = None) -> str:
    """The git commit of ``cwd`` (or of this package's checkout), or ``unknown``; asked once per process, like
    :func:`code_version` (a batch worker spawned ``git`` once per item)."""
    where = cwd or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def package_versions() -> dict[str, str]:
    """Installed versions of deltaflow and its core dependencies (read once per process)."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def run_tags(config: Any, data_path: Path | None, parent_run_id: str | None = None) -> dict[str, str]:
    """Tags every run carries: kind, data path and sha256, config and code hashes (and the config file's path, when it
    was read from one), git commit, versions, Prefect flow run."""
    from prefect.runtime import flow_run

    tags = {
        "deltaflow.kind": config.kind,
        "config.sha256": config_hash(config),
        "code.sha256": code_version(),
        "git.commit": git_commit(),
        "prefect.flow_run_id": str(flow_run.id or ""),
        **{f"version.{name}": version for name, version in package_versions().items()},
    }
    if data_path is not None:
        tags |= {"data.path": str(data_path), "data.sha256": file_sha256(data_path)}
    if getattr(config, "source_path", None):
        tags["config.path"] = config.source_path
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    return tags
