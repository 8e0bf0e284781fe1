"""``python -m flows`` as a user runs it: real subprocesses, embedded defaults in a temp folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import runs_of

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    env["COLUMNS"] = "400"  # rich folds wide tables to the terminal; CI has none
    return subprocess.run(
        [sys.executable, "-m", "flows", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_run_prints_equations_run_id_and_ui_command_and_uses_the_local_store(tmp_path: Path) -> None:
    out = _cli("run", str(ROOT / "configs" / "exp_decay.yaml"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert re.search(r"u' = -(0\.9[5-9]\d*|1\.0[0-4]\d*) u\n", out.stdout) and "MLflow run id:" in out.stdout
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    assert f"ui --backend-store-uri {uri}" in out.stdout
    assert (tmp_path / ".state" / "prefect").is_dir()
    runs = runs_of(uri, "exp_decay")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].info.run_id in out.stdout
    assert (tmp_path / "mlartifacts").is_dir()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("name: a\ndata:\n  path: d.csv\nbogus: 1\n", "unknown key 'bogus'"),
        ("name: a\ndata:\n  path: missing.csv\n", "missing.csv: data file not found"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_no_traceback(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(config)
    out = _cli("run", "c.yaml", cwd=tmp_path)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_bad_data_inside_the_flow_exits_2_and_leaves_a_failed_run(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("t,u\n0,1\n1,2\n2,1\n3,1\n4,inf\n5,1\n")
    (tmp_path / "c.yaml").write_text("name: bad\ndata:\n  path: d.csv\n")
    out = _cli("run", "c.yaml", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "column 'u' has inf at row 5" in out.stderr
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    runs = runs_of(uri, "bad")
    assert [r.info.status for r in runs] == ["FAILED"]


def test_list_shows_the_shipped_configs() -> None:
    out = _cli("list", "configs", cwd=ROOT)
    assert out.returncode == 0
    for name in ("exp_decay", "lorenz", "lotka_volterra", "lynx_hare"):
        assert name in out.stdout


def test_batch_reports_each_item_and_exits_1_when_one_failed(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\ndata:\n  path: missing.csv\n")
    out = _cli("batch", str(ROOT / "configs" / "exp_decay.yaml"), "bad.yaml", "--name", "nightly", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "FINISHED" in out.stdout and "FAILED" in out.stdout and "missing.csv" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    assert len(runs_of(uri, "nightly")) == 3  # the parent, a finished child, a failed child
