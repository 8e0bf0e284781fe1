"""What a reviewer sees in MLflow (issue 17), on a real SQLite store: names, descriptions, datasets,
comparable coefficient metrics, honest cautions, a named model with an input example and an alias."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from flows import discover_equations
from flows.metric_keys import metric_key, metric_part
from tests.conftest import ROOT, runs_of

pytestmark = pytest.mark.usefixtures("prefect_harness")

_KEY = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


def _config(tmp_path: Path, name: str, **tracking: object) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "exp_decay.yaml").read_text())
    raw["data"]["path"] = str((ROOT / "data" / "exp_decay.csv").resolve())
    raw["discovery"]["n_bootstrap"] = 8
    raw["tracking"] = {"log_model": bool(tracking), **tracking}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_run_reads_as_its_config_with_data_coefficients_and_a_registered_alias(
    mlflow_uri: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, "decay", register_as="decay-model", alias="champion")
    first = discover_equations(config)
    second = discover_equations(_config(tmp_path, "again"))
    client = MlflowClient(mlflow_uri)
    experiment = client.get_experiment_by_name("exp_decay")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # the classic layout
    runs = {r.info.run_id: r for r in runs_of(mlflow_uri, "exp_decay")}
    run, other = runs[first.mlflow_run_id], runs[second.mlflow_run_id]

    assert run.info.run_name.startswith("exp_decay ") and run.data.tags["config.name"] == "exp_decay"
    note = run.data.tags["mlflow.note.content"]
    assert note.startswith("Exponential decay u' = -u") and first.result.equations[0] in note
    assert "None" not in run.data.params.values() and run.data.params["discovery.n_bootstrap"] == "8"
    assert all(_KEY.match(key) for key in run.data.metrics), sorted(run.data.metrics)

    (dataset,) = run.inputs.dataset_inputs
    assert dataset.dataset.name == "exp_decay.csv" and dataset.dataset.source_type == "local"
    assert dataset.dataset.digest == run.data.tags["data.sha256"][:12]
    assert "exp_decay.csv" in dataset.dataset.source and '"name": "u"' in dataset.dataset.schema

    coefs = {k: v for k, v in run.data.metrics.items() if k.startswith("coef.")}
    assert coefs["coef.u.u"] == pytest.approx(-1.0, rel=0.05)
    assert coefs["coef.u.u.ci_low"] <= coefs["coef.u.u"] <= coefs["coef.u.u.ci_high"]
    assert set(coefs) == {k for k in other.data.metrics if k.startswith("coef.")}  # comparable across runs

    version = client.get_model_version_by_alias("decay-model", "champion")
    assert first.model_uri == "models:/decay-model@champion" and version.run_id == run.info.run_id
    model = client.get_logged_model(version.source.removeprefix("models:/"))
    assert model.name == "exp_decay" and model.source_run_id == run.info.run_id
    assert model.params == run.data.params  # the model page shows the run's config, secrets masked alike
    assert model.experiment_id == run.info.experiment_id  # listed in its experiment's Models tab, not in Default
    assert str(model.status) == "READY" and [o.model_id for o in run.outputs.model_outputs] == [model.model_id]
    assert {a.path for a in client.list_logged_model_artifacts(model.model_id)} >= {
        "MLmodel", "input_example.json", "serving_input_example.json", "requirements.txt", "artifacts"}  # fmt: skip
    import mlflow

    mlflow.set_tracking_uri(mlflow_uri)
    info = mlflow.models.get_model_info(first.model_uri)
    assert info.saved_input_example_info is not None
    assert client.search_registered_models("name = 'exp_decay'") == []  # nothing registered unless asked

    import io

    from rich.console import Console

    from flows.console import show_discovery

    printed = io.StringIO()
    show_discovery(first, Console(file=printed, width=200))
    assert "Registered model: models:/decay-model@champion (mlflow.pyfunc.load_model)" in printed.getvalue()


def test_report_header_names_the_run_and_a_poor_fit_is_a_caution(mlflow_uri: str, tmp_path: Path) -> None:
    t = np.linspace(0.0, 10.0, 300)
    noise = np.random.default_rng(1).standard_normal(300)
    pd.DataFrame({"t": t, "u": noise}).to_csv(tmp_path / "noise.csv", index=False)
    config = tmp_path / "noise.yaml"
    config.write_text(
        "name: white_noise\nkind: discovery\ndescription: No law at all, to see the verdict\n"
        "data: {path: noise.csv, time_column: t}\ndiscovery: {n_bootstrap: 0}\ntracking: {log_model: false}\n"
    )
    done = discover_equations(config)
    client = MlflowClient(mlflow_uri)
    run = client.get_run(done.mlflow_run_id)
    assert "poor fit" in run.data.tags["deltaflow.caution"]
    assert "Caution" in run.data.tags["mlflow.note.content"]
    report = Path(client.download_artifacts(done.mlflow_run_id, "report.html")).read_text()
    header = report[: report.index("Discovered equations")]
    assert done.mlflow_run_id in header and "white_noise" in header and "No law at all" in header
    assert "poor fit" in header and "date (UTC)" in header


def test_metric_names_follow_one_scheme() -> None:
    assert metric_key("pareto.x (mol/l).cv_mse") == "pareto.x_mol_l.cv_mse"
    assert metric_key("fit.aicc, law-keeping") == "fit.aicc_law-keeping"
    assert metric_key("a b.c(d)") == "a_b.c_d"
    assert metric_part("x^2 y") == "xpow2_y" and metric_part("sin(x)") == "sin_x" and metric_part("1") == "1"


def test_a_saved_row_index_left_out_of_a_sensitivity_table_is_a_caution(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import analyze_sensitivity

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.uniform(-1, 1, 200), "b": rng.uniform(-1, 1, 200)})
    frame["y"] = 3 * frame["a"] + 0.5 * frame["b"]
    frame.to_csv(tmp_path / "samples.csv")  # with pandas' default unnamed index column
    config = tmp_path / "s.yaml"
    config.write_text(
        "name: saved_index\nkind: sensitivity\ndata: {path: samples.csv, outputs: [y]}\n"
        "gradient: {method: local_linear}\nindices: {enabled: false}\n"
    )
    done = analyze_sensitivity(config)
    assert done.result.features == ["a", "b"]
    assert any("'Unnamed: 0' is a saved row index" in caution for caution in done.cautions)
    run = MlflowClient(mlflow_uri).get_run(done.mlflow_run_id)
    assert "saved row index" in run.data.tags["deltaflow.caution"]


def test_a_saved_row_index_left_out_of_a_record_is_a_caution_of_the_discovery(mlflow_uri: str, tmp_path: Path) -> None:
    record = pd.read_csv(ROOT / "data" / "hudson-bay-lynx-hare.csv")
    record.to_csv(tmp_path / "pelts.csv")  # a notebook's to_csv: the row index becomes an unnamed first column
    config = tmp_path / "pelts.yaml"
    config.write_text(
        "name: pelts_saved_index\ndata: {path: pelts.csv, time_column: year}\n"
        "discovery: {n_bootstrap: 0, library: {degree: 2, include_bias: false}}\ntracking: {log_model: false}\n"
    )
    done = discover_equations(config)
    assert list(done.result.names) == ["lynx", "hare"]  # the row number is no third state
    assert "'Unnamed: 0' is a saved row index" in done.result.chosen["cautions"][0]
    run = MlflowClient(mlflow_uri).get_run(done.mlflow_run_id)
    assert "saved row index" in run.data.tags["deltaflow.caution"]
