"""Uploading a folder of artifacts with several requests in flight, not one after another.

MLflow's artifact repositories upload a folder file by file, each waiting for the last. Against an
``mlflow server`` each file is an HTTP request whose time is mostly the server's: a run's 10 files
and a model's 9 were 19 round trips in a row, about a quarter of a publish. Side by side, on a
few threads, the client prepares the next request while the server handles the last. A local
file store copies files, for which the threads change little.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
from pathlib import Path
from typing import Any

__all__ = ["UPLOAD_THREADS", "upload_folder"]

UPLOAD_THREADS = 4
"""Requests in flight at once: MLflow's HTTP session keeps up to 10 connections per host open."""


def upload_folder(repository: Any, folder: Path) -> None:
    """Every file under ``folder`` to the artifact ``repository`` (an MLflow ``ArtifactRepository``), at the same
    relative path, on up to :data:`UPLOAD_THREADS` threads; returns when all are stored.

    Raises:
        The first upload's error (``MlflowException``, ``OSError``), once every upload has finished.
    """
    files = sorted(path for path in folder.rglob("*") if path.is_file())

    def upload(path: Path) -> None:
        relative = path.parent.relative_to(folder).as_posix()
        repository.log_artifact(str(path), None if relative == "." else relative)

    if len(files) <= 1:
        for path in files:
            upload(path)
        return
    with concurrent.futures.ThreadPoolExecutor(min(UPLOAD_THREADS, len(files)), "deltaflow-upload") as pool:
        futures = [pool.submit(contextvars.copy_context().run, upload, path) for path in files]
    for future in futures:
        future.result()
