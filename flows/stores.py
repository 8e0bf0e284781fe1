"""Damaged local stores are named in one line with the fix, before a run starts.

deltaflow's embedded defaults keep two SQLite databases in the working folder: MLflow's ``mlflow.db`` and
Prefect's ``.state/prefect/prefect.db``. A truncated or overwritten one used to give tracebacks (MLflow)
or a temporary server that restarted on port after port until its 600 s timeout (Prefect).
:func:`check_local_stores` opens each existing one read-only and checks it first.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flows.settings import prefect_home, tracking_uri
from pipeline.errors import StoreCorruptError

__all__ = ["check_local_stores", "check_sqlite_file"]

_FULL_CHECK_BYTES = 64 * 2**20  # quick_check reads every page: only for stores up to this size
_HEADER = b"SQLite format 3\x00"
_BUSY_SECONDS = 60.0  # a store another process is writing (creating its tables, say) is waited for, not called damaged


def check_sqlite_file(path: Path, what: str) -> None:
    """Raise :class:`StoreCorruptError` naming ``path`` if the file is not an intact SQLite database.

    Checks: the header, the page count against the file size (a truncated copy; skipped while a ``-wal``
    file holds pages not yet copied back, as after a server that was stopped without a checkpoint: SQLite
    reads them from there), and for files up to 64 MB SQLite's ``quick_check`` (of the file and its WAL).
    Both are read inside one read transaction, so a store that another process is still creating is seen
    as it was at one commit, never as a header promising pages the file had not yet grown to.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
        if size == 0:
            return  # an empty file is a store not created yet: SQLite creates it
        if header[:16] != _HEADER:
            raise ValueError("not an SQLite database")
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=_BUSY_SECONDS) as db:
            db.execute("BEGIN")  # a read transaction: its shared lock keeps another process's commits out
            page_size, pages = (
                db.execute("PRAGMA page_size").fetchone()[0],
                db.execute("PRAGMA page_count").fetchone()[0],
            )
            size = path.stat().st_size  # measured under that lock: a store another process is creating has grown
            if page_size * pages > size and not _has_wal(path):
                raise ValueError(f"truncated: {size} bytes of {page_size * pages}")
            if size <= _FULL_CHECK_BYTES:
                verdict = db.execute("PRAGMA quick_check(1)").fetchone()[0]
                if verdict != "ok":
                    raise ValueError(verdict)
    except (ValueError, sqlite3.DatabaseError) as exc:
        raise StoreCorruptError(
            f"{path}: the {what} database is damaged ({exc}); move it aside (mv {path} {path}.damaged) and"
            " rerun: a fresh one is created (the history it held stays in the moved file)"
        ) from exc


def _has_wal(path: Path) -> bool:
    """A non-empty write-ahead log beside ``path``: the database's newest pages may live there."""
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def check_local_stores() -> None:
    """Check MLflow's SQLite store (when the tracking URI is one) and Prefect's (when no API URL is set)."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        mlflow_db = Path(uri.removeprefix("sqlite:///"))
        if mlflow_db.is_file():
            check_sqlite_file(mlflow_db, "MLflow")
    if not os.environ.get("PREFECT_API_URL"):
        prefect_db = prefect_home() / "prefect.db"
        if prefect_db.is_file():
            check_sqlite_file(prefect_db, "Prefect")
