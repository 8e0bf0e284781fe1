"""Load: 50 concurrent flow runs against one local MLflow server process (loopback): 0 errors, 0 lost runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.integration
def test_fifty_concurrent_flows_against_one_mlflow_server(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("load_benchmark", ROOT / "benchmarks" / "load.py")
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    monkeypatch.chdir(tmp_path)
    for key in ("MLFLOW_TRACKING_URI", "DELTAFLOW_OUTBOX"):  # run_load sets them; undone after the test
        monkeypatch.setenv(key, "")
    result = load.run_load(50, 50, tmp_path)
    assert result["errors"] == 0, result["first_error"]
    assert result["lost"] == 0 and result["queued"] == 0
    assert result["found_finished"] == 50
