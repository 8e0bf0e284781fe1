"""A truncated ``mlflow.db`` or a damaged ``.state/prefect/prefect.db`` is one line naming the file and the fix
(move it aside), exit 3, before anything starts: no traceback, no server restarting until a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def truncated_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The first half of a real MLflow SQLite store (as a copy interrupted half-way leaves it)."""
    from flows.tracking import Tracker

    folder = tmp_path_factory.mktemp("store")
    Tracker(f"sqlite:///{(folder / 'mlflow.db').as_posix()}").ensure_experiment("e")
    data = (folder / "mlflow.db").read_bytes()
    return data[: len(data) // 2]


def test_check_sqlite_file_names_a_truncated_or_garbage_store_and_passes_a_good_one(
    tmp_path: Path, truncated_store: bytes
) -> None:
    from flows.stores import check_sqlite_file
    from flows.tracking import Tracker
    from pipeline.errors import StoreCorruptError

    good = tmp_path / "good.db"
    Tracker(f"sqlite:///{good.as_posix()}")
    check_sqlite_file(good, "MLflow")
    for name, content, detail in [
        ("cut.db", truncated_store, "truncated|malformed"),
        ("junk.db", b"x" * 5000, "not an SQLite"),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(StoreCorruptError, match=detail) as caught:
            check_sqlite_file(path, "MLflow")
        assert str(path) in str(caught.value) and "move it aside" in str(caught.value)


@pytest.mark.parametrize("store", ["mlflow.db", ".state/prefect/prefect.db"])
def test_the_cli_names_a_damaged_store_in_one_line(tmp_path: Path, truncated_store: bytes, store: str) -> None:
    path = tmp_path / store
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(truncated_store)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    for command in (["run", str(ROOT / "configs" / "exp_decay.yaml")], ["sync"]):
        if command == ["sync"]:
            (tmp_path / ".state" / "outbox" / "0-x").mkdir(parents=True, exist_ok=True)  # something to sync
        out = subprocess.run(
            [sys.executable, "-m", "flows", *command], cwd=tmp_path, env=env | {"COLUMNS": "400"},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        if command == ["sync"] and store.endswith("prefect.db"):
            continue  # sync does not use Prefect's database
        assert out.returncode == 3, out.stdout + out.stderr
        assert len(lines) == 1 and str(path.resolve()) in lines[0] and "move it aside" in lines[0], out.stderr
    assert path.read_bytes() == truncated_store  # reported, not touched


def test_a_store_whose_newest_pages_are_still_in_its_write_ahead_log_is_not_damaged(tmp_path: Path) -> None:
    """A server stopped without a checkpoint (Prefect's, after Ctrl-C) leaves a short file and a long WAL."""
    import sqlite3

    from flows.stores import check_sqlite_file

    path = tmp_path / "prefect.db"
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE t (x TEXT)")
        writer.commit()
        writer.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(2000)])
        writer.commit()  # the pages are in prefect.db-wal; the main file still holds the first few
        assert path.stat().st_size < path.with_name("prefect.db-wal").stat().st_size
        check_sqlite_file(path, "Prefect")
    finally:
        writer.close()
