"""A read-only working folder: ``--help``, ``list`` and an empty ``sync`` still answer, and a run ends with
one line naming the folder it cannot write (exit 3), no traceback.

``/sys`` is the read-only folder: even root cannot create files there, so no root tricks are needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

READ_ONLY = Path("/sys")


def _writable(folder: Path) -> bool:
    try:
        (folder / ".deltaflow-probe").mkdir()
    except OSError:
        return False
    (folder / ".deltaflow-probe").rmdir()
    return True


pytestmark = pytest.mark.skipif(not READ_ONLY.is_dir() or _writable(READ_ONLY), reason="needs a read-only /sys")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING", "DELTAFLOW_"))}
    env |= {"COLUMNS": "400", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "flows", *args], cwd=READ_ONLY, env=env, capture_output=True, text=True, timeout=300
    )


def test_help_list_and_an_empty_sync_answer_in_a_read_only_folder() -> None:
    for args, expected in [
        (["--help"], "Usage"),
        (["sync"], "nothing to sync"),
        (["list", str(ROOT / "configs")], "exp_decay"),
    ]:
        out = _cli(*args)
        assert out.returncode == 0 and expected in out.stdout and not out.stderr.strip(), (args, out.stderr)


def test_a_run_in_a_read_only_folder_is_one_line_naming_it() -> None:
    out = _cli("run", str(ROOT / "configs" / "exp_decay.yaml"))
    assert out.returncode == 3, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(READ_ONLY / ".state") in lines[0] and "writable" in lines[0], out.stderr
    assert "Traceback" not in out.stdout + out.stderr
