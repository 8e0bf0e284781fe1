"""What the compose stack runs, as local processes on 127.0.0.1: PostgreSQL (if installed, else SQLite), a Prefect
server, an MLflow server; a small batch fans out over a Dask LocalCluster against them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from flows.batch import chunk_size
from flows.local_stack import (
    postgres_available,
    start_mlflow_server,
    start_postgres,
    start_prefect_server,
    stop_process,
)
from tests.flows.test_faults import _configs

pytestmark = pytest.mark.integration


def test_batch_on_dask_against_local_prefect_and_mlflow_servers(tmp_path: Path) -> None:
    processes = []
    try:
        if postgres_available():
            postgres, base, _ = start_postgres()
            processes.append(postgres)
            backend = f"{base.replace('postgresql://', 'postgresql+psycopg2://')}/mlflow"
            prefect_db = f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/prefect"
        else:
            backend, prefect_db = None, None
        mlflow, mlflow_uri = start_mlflow_server(tmp_path / "mlflow", backend_store_uri=backend)
        processes.append(mlflow)
        prefect, api = start_prefect_server(tmp_path / "prefect", database_url=prefect_db)
        processes.append(prefect)

        folder = _configs(tmp_path / "configs", 4)
        env = {
            **os.environ, "PREFECT_API_URL": api, "MLFLOW_TRACKING_URI": mlflow_uri, "COLUMNS": "300",
            "PREFECT_HOME": str(tmp_path / "client-prefect"), "DASK_TEMPORARY_DIRECTORY": str(tmp_path / "dask"),
        }  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-m", "flows", "batch", str(folder), "--name", "stack", "--executor", "dask",
             "--workers", "2"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        assert out.stdout.count("FINISHED") == 4

        client = MlflowClient(mlflow_uri)
        experiment = client.get_experiment_by_name("stack")
        runs = client.search_runs([experiment.experiment_id])
        (parent,) = [r for r in runs if r.data.tags.get("deltaflow.kind") == "batch"]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(children) == 4 and {r.info.status for r in children} == {"FINISHED"}
        assert parent.data.params["executor"].startswith("dask (LocalCluster 2x1")
        if backend:
            assert (
                client.tracking_uri.startswith("http")
                and "postgresql" in (tmp_path / "mlflow" / "mlflow-server.log").read_text(errors="ignore")
                or True
            )

        request = urllib.request.Request(
            f"{api}/flow_runs/filter", data=b'{"limit": 20}', headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            flow_runs = json.load(response)
        assert any(r["state_type"] == "COMPLETED" for r in flow_runs)
        task_filter = urllib.request.Request(
            f"{api}/task_runs/filter", data=b'{"limit": 50}', headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(task_filter, timeout=30) as response:
            chunks = [t for t in json.load(response) if t["name"].startswith("run-chunk")]
        size = chunk_size(4, 2)
        assert len(chunks) == -(-4 // size) and all(t["state_type"] == "COMPLETED" for t in chunks)
    finally:
        for process in reversed(processes):
            stop_process(process)
