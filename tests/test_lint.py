"""Style is part of the build: ruff must pass on the whole tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    ruff = str(Path(sys.executable).parent / "ruff")  # installed by the dev extra
    out = subprocess.run(
        [ruff, "check", "pipeline", "flows", "tests", "benchmarks", "data"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
