"""An inter-process lock on a file: two runs started at once in a fresh folder must not both create a store.

Prefect's SQLite database and MLflow's are created by whichever process touches them first; two
doing it at once broke them here (Prefect: ``duplicate column name``; MLflow: alembic ``CommandError``).
Creating a store is therefore done under :func:`file_lock`; using an existing one is not.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["file_lock"]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created with its folder) for the block; waits while another
    process holds it. The lock dies with its process, so a killed run never leaves it held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
