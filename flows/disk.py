"""Full, read-only or over-quota disks: recognised, and reported in one line naming the folder and the fix.

deltaflow writes to the working folder (``.state/``, ``mlflow.db``, ``mlartifacts/``, the outbox). A
command first checks the disk has room (:func:`check_free_space`), so a full disk is one line before
anything starts; a write that fails later is translated by :func:`disk_write_error`.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.errors import DiskWriteError

__all__ = ["DISK_ERRNOS", "MIN_FREE_MB", "check_free_space", "check_writable", "disk_write_error", "local_folders"]

# Errors that mean "this disk cannot take more": full, over quota, read-only, over the file size limit.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
MIN_FREE_MB = 50.0  # a run writes a few MB (stores, figures, report); below this it would fail half-way


def disk_write_error(
    folder: Path, exc: OSError, what: str, elsewhere: str = "run from a folder on another disk"
) -> DiskWriteError:
    """A one-line :class:`DiskWriteError`: ``folder``: cannot ``what`` (the cause); what to free, or ``elsewhere``."""
    cause = os.strerror(exc.errno) if exc.errno else str(exc)
    if exc.errno == errno.EROFS:
        fix = f"{folder} is on a read-only file system: {elsewhere}"
    elif exc.errno in DISK_ERRNOS:
        fix = f"free space on the disk holding {folder} (df -h {folder}) or {elsewhere}"
    else:
        fix = f"make {folder} writable or {elsewhere}"
    return DiskWriteError(f"{folder}: cannot {what} ({cause}); {fix}, then rerun")


def check_free_space(folder: Path) -> None:
    """Refuse to start when ``folder``'s disk has less than ``$DELTAFLOW_MIN_FREE_MB`` (default 50) MB free.

    Raises:
        DiskWriteError: naming the folder, the free and the needed space.
    """
    try:
        needed = float(os.environ.get("DELTAFLOW_MIN_FREE_MB", MIN_FREE_MB))
    except ValueError:
        needed = MIN_FREE_MB
    free = shutil.disk_usage(folder).free / 2**20
    if free < needed:
        raise DiskWriteError(
            f"{folder}: only {free:.0f} MB free on its disk, a run needs at least {needed:.0f} MB"
            f" (DELTAFLOW_MIN_FREE_MB); free space on it (df -h {folder}) or run from a folder on another disk"
        )


def local_folders() -> list[Path]:
    """The folders a run writes to on this machine: Prefect's home, the SQLite tracking store's folder (when
    the tracking URI is one), the outbox."""
    from flows.outbox import default_outbox
    from flows.settings import prefect_home, tracking_uri

    folders = [prefect_home(), default_outbox().root]
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        folders.append(Path(uri.removeprefix("sqlite:///")).parent)
    return list(dict.fromkeys(folders))


def check_writable(folders: list[Path]) -> None:
    """Create each folder (with parents) and a probe file in it, or raise a one-line :class:`DiskWriteError`
    (a read-only working folder, a folder of another user, a read-only file system)."""
    elsewhere = (
        "run from a writable folder, or point PREFECT_HOME, MLFLOW_TRACKING_URI and DELTAFLOW_OUTBOX to writable places"
    )
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise disk_write_error(folder, exc, "write deltaflow's local state there", elsewhere) from exc
