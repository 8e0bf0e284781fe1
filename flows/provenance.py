"""What a run records about where it came from: data hash, git commit, package versions."""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from prefect.runtime import flow_run

from pipeline.config import config_hash

__all__ = ["file_sha256", "git_commit", "package_versions", "run_tags"]

_PACKAGES = ("deltaflow", "numpy", "scipy", "scikit-learn", "pandas", "pysindy", "prefect", "mlflow")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(cwd: Path | None = None) -> str:
    """The current git commit of ``cwd`` (or of this package's checkout), or ``unknown``."""
    where = cwd or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def package_versions() -> dict[str, str]:
    """Installed versions of deltaflow and its core dependencies."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_tags(config: Any, data_path: Path | None, parent_run_id: str | None = None) -> dict[str, str]:
    """Tags every run carries: kind, data path and sha256, config hash, git commit, versions, Prefect flow run."""
    tags = {
        "deltaflow.kind": config.kind,
        "config.sha256": config_hash(config),
        "git.commit": git_commit(),
        "prefect.flow_run_id": str(flow_run.id or ""),
        **{f"version.{name}": version for name, version in package_versions().items()},
    }
    if data_path is not None:
        tags |= {"data.path": str(data_path), "data.sha256": file_sha256(data_path)}
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    return tags
