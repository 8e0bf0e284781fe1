"""A full disk loses nothing: the outbox leaves no half-written record, the CLI says which folder to free in
one line (exit 3), and the MLflow run it had opened is closed FAILED, never left RUNNING."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, runs_of

# ``python -c`` prelude: the outbox's one OS write call fails as on a full disk (nothing else is touched).
_FULL_OUTBOX = (
    "import errno, sys\n"
    "import flows.outbox as outbox\n"
    "def full(fd, data):\n"
    "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
    "outbox._os_write = full\n"
    "sys.argv = ['deltaflow', *sys.argv[1:]]\n"
    "from flows.cli import main\n"
    "main()\n"
)


def _no_space(fd: int, data: object) -> int:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_outbox_on_a_full_disk_raises_a_typed_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.outbox import Outbox, RunRecord
    from pipeline.errors import DiskWriteError

    monkeypatch.setattr("flows.outbox._os_write", _no_space)
    box = Outbox(tmp_path / "outbox")
    record = RunRecord(experiment="e", run_name="r", files={"a.txt": "x" * 1000})
    with pytest.raises(DiskWriteError, match="No space left on device") as caught:
        box.put(record)
    assert str(tmp_path / "outbox") in str(caught.value) and "free space" in str(caught.value)
    assert caught.value.record is record and isinstance(caught.value, OSError)
    assert list((tmp_path / "outbox").iterdir()) == []  # no .tmp-* folder, nothing pending
    monkeypatch.undo()
    assert box.load(box.put(record)).files == {"a.txt": "x" * 1000}  # the same record once there is room


def test_a_full_disk_before_anything_starts_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    env["DELTAFLOW_MIN_FREE_MB"] = str(10**12)  # more than any disk here has: the disk is "full"
    out = subprocess.run(
        [sys.executable, "-m", "flows", "run", str(ROOT / "configs" / "exp_decay.yaml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 3, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(tmp_path) in lines[0] and "MB free" in lines[0], out.stderr
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / ".state" / "prefect" / "prefect.db").exists()


def test_full_disk_while_publishing_closes_the_run_failed_and_says_what_to_free(
    prefect_harness: None, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    (tmp_path / "mlartifacts").write_text("not a folder")  # MLflow cannot store the artifacts: publish fails
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env |= {"PREFECT_API_URL": PREFECT_API_URL.value(), "DELTAFLOW_RETRY_DELAYS": "0", "COLUMNS": "400"}
    out = subprocess.run(
        [sys.executable, "-c", _FULL_OUTBOX, "run", str(ROOT / "configs" / "exp_decay.yaml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 3, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    outbox = tmp_path / ".state" / "outbox"
    assert len(lines) == 1 and str(outbox) in lines[0] and "free space" in lines[0], out.stderr
    assert not [p for p in outbox.iterdir() if p.name.startswith(".tmp-")] if outbox.exists() else True
    (run,) = runs_of(f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}", "exp_decay")
    assert run.info.status == "FAILED" and "No space left" in run.data.tags["error"]


def _small_configs(folder: Path, n: int) -> list[Path]:
    """n tiny discovery configs (exponential decay, 100 rows), no model logged."""
    import numpy as np
    import pandas as pd
    import yaml

    t = np.linspace(0, 5, 100)
    paths = []
    for i in range(n):
        pd.DataFrame({"t": t, "u": np.exp(-(0.5 + 0.1 * i) * t)}).to_csv(folder / f"item{i}.csv", index=False)
        config = {"name": f"item{i}", "data": {"path": f"item{i}.csv"}, "tracking": {"log_model": False}}
        (folder / f"item{i}.yaml").write_text(yaml.safe_dump(config))
        paths.append(folder / f"item{i}.yaml")
    return paths


def test_a_full_disk_in_a_batch_leaves_no_run_running(
    prefect_harness: None, tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every item's run and the parent's end FAILED (their artifacts and the outbox cannot be written), and
    the batch ends with the disk error naming the outbox."""
    from flows.batch import run_batch
    from pipeline.errors import DiskWriteError

    paths = _small_configs(tmp_path, 2)
    (tmp_path / "mlartifacts").write_text("not a folder")  # MLflow cannot store artifacts: every publish fails
    monkeypatch.setattr("flows.outbox._os_write", _no_space)  # ... and the outbox is on a full disk
    monkeypatch.setenv("DELTAFLOW_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("DELTAFLOW_RETRY_DELAYS", "0")
    with pytest.raises(DiskWriteError, match="outbox"):
        run_batch([str(p) for p in paths], name="full")
    runs = runs_of(mlflow_uri, "full")
    assert {run.info.status for run in runs} == {"FAILED"}, [(r.info.run_name, r.info.status) for r in runs]
    parents = [run for run in runs if run.data.tags.get("deltaflow.kind") == "batch"]
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId")]
    assert len(parents) == 1 and len(children) == 2 and len(runs) == 3
    assert all("No space left" in run.data.tags["error"] for run in runs)
    assert {run.data.tags["mlflow.parentRunId"] for run in children} == {parents[0].info.run_id}
