"""What the MLflow UI shows a reviewer, read the way the UI reads it: through a real ``mlflow server``'s REST API.

Two nightly-like discovery runs of one config are tracked over HTTP (the first registers its model under an
alias); every assertion then goes through ``/api/2.0/mlflow/...`` (and the UI's ``/ajax-api`` route for a
logged model's files), never through the MLflow client, so what is checked is what the browser gets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def _nightly(folder: Path, name: str, **tracking: object) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "exp_decay.yaml").read_text())
    raw["data"]["path"] = str((ROOT / "data" / "exp_decay.csv").resolve())
    raw["discovery"]["n_bootstrap"] = 8
    raw["tracking"] = {"log_model": True, **tracking}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _get(uri: str, route: str, **query: str) -> dict[str, Any]:
    response = requests.get(f"{uri}/api/2.0/mlflow/{route}", params=query, timeout=30)
    assert response.status_code == 200, f"{route}: {response.status_code} {response.text[:500]}"
    return response.json()


def _search(uri: str, experiment_id: str) -> list[dict[str, Any]]:
    body = {"experiment_ids": [experiment_id], "max_results": 10, "order_by": ["attributes.start_time ASC"]}
    response = requests.post(f"{uri}/api/2.0/mlflow/runs/search", json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json()["runs"]


def _logged_model_file(uri: str, model_id: str, path: str) -> str:
    response = requests.get(
        f"{uri}/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
        params={"artifact_file_path": path}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, f"{path} of {model_id}: {response.status_code} {response.text[:300]}"
    return response.text


def test_two_nightly_runs_read_through_the_rest_api(mlflow_server: str, tmp_path: Path) -> None:
    from flows import discover_equations

    first = discover_equations(_nightly(tmp_path, "night1", register_as="decay-nightly", alias="champion"))
    second = discover_equations(_nightly(tmp_path, "night2", register_as="decay-nightly", alias="champion"))
    uri = mlflow_server

    experiment = _get(uri, "experiments/get-by-name", experiment_name="exp_decay")["experiment"]
    tags = {t["key"]: t["value"] for t in experiment.get("tags", [])}
    assert tags["mlflow.experimentKind"] == "custom_model_development"

    runs = _search(uri, experiment["experiment_id"])
    assert [r["info"]["run_id"] for r in runs] == [first.mlflow_run_id, second.mlflow_run_id]
    coef_names = [{m["key"] for m in r["data"]["metrics"] if m["key"].startswith("coef.")} for r in runs]
    assert "coef.u.u" in coef_names[0] and "coef.u.u.ci_low" in coef_names[0]
    assert coef_names[0] == coef_names[1]  # the compare view lines the coefficients up across nights

    run = _get(uri, "runs/get", run_id=first.mlflow_run_id)["run"]
    run_tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    description = run_tags["mlflow.note.content"]
    assert description.startswith("Exponential decay") and first.result.equations[0] in description
    (dataset,) = run["inputs"]["dataset_inputs"]
    assert dataset["dataset"]["name"] == "exp_decay.csv" and "exp_decay.csv" in dataset["dataset"]["source"]
    assert dataset["dataset"]["digest"] == run_tags["data.sha256"][:12]

    (output,) = run["outputs"]["model_outputs"]
    model = _get(uri, f"logged-models/{output['model_id']}")["model"]
    assert model["info"]["name"] == "exp_decay" and model["info"]["source_run_id"] == first.mlflow_run_id
    assert "coef.u.u" in {m["key"] for m in model.get("data", {}).get("metrics", [])}  # the model page shows them
    mlmodel = yaml.safe_load(_logged_model_file(uri, output["model_id"], "MLmodel"))
    example_file = mlmodel["saved_input_example_info"]["artifact_path"]
    assert '"u"' in _logged_model_file(uri, output["model_id"], example_file)  # one row of the states

    version = _get(uri, "registered-models/alias", name="decay-nightly", alias="champion")["model_version"]
    assert version["version"] == "2" and version["run_id"] == second.mlflow_run_id  # the alias moved on
    assert second.model_uri == "models:/decay-nightly@champion"


def test_the_cli_links_the_run_and_experiment_pages_in_the_classic_layout(mlflow_server: str, tmp_path: Path) -> None:
    from rich.console import Console

    from flows import discover_equations
    from flows.console import show_discovery

    done = discover_equations(_nightly(tmp_path, "linked", log_model=False))
    console = Console(record=True, width=400)
    assert show_discovery(done, console) == 0
    lines = console.export_text().splitlines()
    run_page = f"{mlflow_server}/#/experiments/{done.experiment_id}/runs/{done.mlflow_run_id}"
    assert f"Run: {run_page}?workflowType=machine_learning" in lines
    assert f"Experiment: {mlflow_server}/#/experiments/{done.experiment_id}/runs?workflowType=machine_learning" in lines
    assert not any("mlflow ui" in line for line in lines)  # a server is already there to open
    page = requests.get(f"{mlflow_server}/", timeout=30)  # the UI's single page the links' hash routes live in
    assert page.status_code == 200 and "<html" in page.text.lower()
