"""Logging over HTTP to a real ``mlflow server`` process on 127.0.0.1, and loading the model back from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import ROOT, runs_of

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def test_flow_logs_over_http_and_the_model_loads_elsewhere(mlflow_server: str, tmp_path: Path) -> None:
    from flows import discover_equations

    outcome = discover_equations(ROOT / "configs" / "exp_decay.yaml")
    assert outcome.tracking_uri == mlflow_server
    (run,) = runs_of(mlflow_server, "exp_decay")
    assert run.info.status == "FINISHED"
    client = MlflowClient(mlflow_server)
    assert {"equations.txt", "report.html", "coefficients.csv"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    assert Path(client.download_artifacts(run.info.run_id, "equations.txt")).read_text().startswith("u' = -")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import mlflow, pandas as pd, sys; m = mlflow.pyfunc.load_model(sys.argv[1]);"
        "print(float(m.predict(pd.DataFrame({'u': [2.0]})).iloc[0, 0]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, outcome.model_uri],
        cwd=elsewhere, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "MLFLOW_TRACKING_URI": mlflow_server},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) == pytest.approx(-2.0, rel=0.05)
