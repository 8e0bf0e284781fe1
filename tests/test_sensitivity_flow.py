"""The sensitivity flow with real Prefect and real MLflow stores: tables, a real model URI, typed failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient

from pipeline.errors import ConfigError, ModelError
from tests.conftest import ROOT, run_as_scheduled, runs_of

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _artifacts(uri: str, run_id: str, path: str = "") -> set[str]:
    client = MlflowClient(uri)
    out = set()
    for item in client.list_artifacts(run_id, path):
        out |= _artifacts(uri, run_id, item.path) if item.is_dir else {item.path}
    return out


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def test_table_analysis_logs_gradients_indices_and_plots(mlflow_uri: str) -> None:
    from flows import analyze_sensitivity

    done = analyze_sensitivity(ROOT / "configs" / "rosenbrock.yaml")
    assert np.abs(done.result.gradients[:, 0, :]).max() > 0
    (run,) = runs_of(mlflow_uri, "rosenbrock-landscape")
    assert run.info.status == "FINISHED" and run.info.run_id == done.mlflow_run_id
    assert run.data.params["gradient.hessian"] == "True" and run.data.tags["deltaflow.kind"] == "sensitivity"
    assert len(run.data.tags["data.sha256"]) == 64
    assert {"loss.S1.x", "loss.ST.y", "loss.cv_rmse", "loss.mean_abs_gradient.x"} <= set(run.data.metrics)
    files = _artifacts(mlflow_uri, run.info.run_id)
    expected = {"gradients.csv", "hessians.csv", "indices_loss.csv", "sensitivity.json"}
    assert expected | {"plots/gradients_loss.png", "plots/indices_loss.png"} <= files
    local = MlflowClient(mlflow_uri).download_artifacts(run.info.run_id, "sensitivity.json")
    summary = json.loads(Path(local).read_text(), parse_constant=_refuse)  # strict JSON, as a browser reads it
    assert summary["features"] == ["x", "y"] and "indices" in summary["loss"]
    assert {row["DGSM_step"] for row in summary["loss"]["indices"]} == {None}  # no step from data: null
    assert "report.html" in files and "loss is driven most by" in run.data.tags["mlflow.note.content"]


def test_registered_sklearn_model_is_analysed_by_its_uri(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import analyze_sensitivity
    from flows.examples import train_diabetes_model

    model_uri = train_diabetes_model()
    assert model_uri == "models:/diabetes-regressor@champion"
    raw = yaml.safe_load((ROOT / "configs" / "diabetes_model.yaml").read_text())
    raw["model"]["n_samples"] = 512
    raw["indices"]["n_base"] = 256
    config = tmp_path / "diabetes.yaml"
    config.write_text(yaml.safe_dump(raw))
    done = analyze_sensitivity(config)
    run = MlflowClient(mlflow_uri).get_run(done.mlflow_run_id)
    (model_input,) = run.inputs.model_inputs  # lineage: the analysed model is the run's input
    version = MlflowClient(mlflow_uri).get_model_version_by_alias("diabetes-regressor", "champion")
    assert version.source == f"models:/{model_input.model_id}"
    (samples,) = run.inputs.dataset_inputs
    assert samples.dataset.name == "samples of models:/diabetes-regressor@champion"
    table = done.result.indices["prediction"]
    assert set(table.sort_values("rank").index[:2]) == {"bmi", "s5"}  # the dataset's well-known drivers
    assert done.result.gradients.shape == (512, 1, 10)
    (run,) = runs_of(mlflow_uri, "diabetes-model-sensitivity")
    assert run.info.status == "FINISHED" and run.data.tags["model.uri"] == model_uri
    metrics = run.data.metrics  # the tree model's DGSM bound is logged above its visible ST bars, not at 0
    for feature, row in table.iterrows():
        bound = metrics[f"prediction.DGSM_bound.{feature}"]
        assert bound > 0 and bound >= metrics[f"prediction.ST.{feature}"] - row["ST_conf"], feature
    report = Path(MlflowClient(mlflow_uri).download_artifacts(run.info.run_id, "report.html")).read_text()
    head = report[: report.index("Sensitivity of prediction")]
    assert run.info.run_id in head and "diabetes-model-sensitivity" in head and "clinical inputs" in head
    assert "prediction is driven most by" in head and model_input.model_id in head and "date (UTC)" in head
    top = table.sort_values("rank").index[0]
    assert f"{table.loc[top, 'ST']:.3f} ± {table.loc[top, 'ST_conf']:.3f}" in report
    assert report.count("data:image/png;base64,") == 2  # indices and gradients embedded
    from flows.sensitivity import MlflowPredictor, check_model
    from flows.tracking import Tracker
    from pipeline.config import parse_config

    names = list(raw["model"]["inputs"])
    wrong = {**{n: raw["model"]["inputs"][n] for n in names[1:]}, "age_years": raw["model"]["inputs"][names[0]]}
    message = rf"model.inputs: the model '{model_uri}' takes .*missing \['{names[0]}'\]; not inputs .*\['age_years'\]"
    with pytest.raises(ModelError, match=message):  # from the signature, before any prediction
        model = {key: value for key, value in raw["model"].items() if key != "example"}  # trained: check it
        check_model(parse_config({**raw, "model": {**model, "inputs": wrong}}))
    with pytest.raises(ModelError, match=message):
        MlflowPredictor(Tracker().load_model(model_uri), list(wrong), None, model_uri)


def test_missing_model_uri_is_a_typed_error_and_a_failed_run(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import analyze_sensitivity

    config = tmp_path / "missing.yaml"
    config.write_text(
        "name: missing-model\nkind: sensitivity\n"
        "model: {uri: 'models:/no-such-model/1', inputs: {a: {low: 0, high: 1}, b: {low: 0, high: 1}}}\n"
    )
    with pytest.raises(ModelError, match="models:/no-such-model/1"):  # from Python: checked before the run starts
        analyze_sensitivity(config)
    assert not runs_of(mlflow_uri, "missing-model")
    with pytest.raises(ModelError, match="models:/no-such-model/1"):
        run_as_scheduled(analyze_sensitivity, config)
    (run,) = runs_of(mlflow_uri, "missing-model")  # a scheduled run: a FAILED run says what happened
    assert run.info.status == "FAILED" and "ModelError" in run.data.tags["error"]
    config.write_text(config.read_text().replace("name: missing-model", "name: missing-model-cli"))
    out = subprocess.run(
        [sys.executable, "-m", "flows", "run", str(config)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 2 and "model.uri 'models:/no-such-model/1': no model there" in out.stderr, out.stderr
    assert not runs_of(mlflow_uri, "missing-model-cli")  # from the CLI, a user error: no run


def test_discovery_config_is_refused_by_the_sensitivity_flow(mlflow_uri: str) -> None:
    from flows import analyze_sensitivity

    with pytest.raises(ConfigError, match="not a sensitivity config"):
        analyze_sensitivity(ROOT / "configs" / "exp_decay.yaml")


def test_cli_prints_the_sensitivity_table(mlflow_uri: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "flows", "run", str(ROOT / "configs" / "sensitivity_linear.yaml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr
    assert "sensitivity of y" in out.stdout and "MLflow run id" in out.stdout
    assert "y is driven most by x1" in out.stdout and "S1: share of the output's variance" in out.stdout
    assert "estimator: " in out.stdout and "np.float64" not in out.stdout and "Choice(" not in out.stdout
    row = next(line for line in out.stdout.splitlines() if line.strip().startswith("x1"))
    assert float(row.split()[1]) == pytest.approx(2.0, abs=0.02)


def test_points_outside_the_samples_are_a_caution_on_the_run(mlflow_uri: str, tmp_path: Path) -> None:
    import pandas as pd

    from flows import analyze_sensitivity

    grid = np.linspace(0, 1, 12)
    a, b = (v.ravel() for v in np.meshgrid(grid, grid))
    pd.DataFrame({"a": a, "b": b, "y": 2 * a + 3 * b**2}).to_csv(tmp_path / "ab.csv", index=False)
    config = {
        "name": "outside",
        "kind": "sensitivity",
        "data": {"path": "ab.csv", "outputs": ["y"]},
        "gradient": {"at": [[0.5, 0.5], [0.5, 1.5]], "method": "local_linear"},
        "indices": {"enabled": False},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    done = analyze_sensitivity(tmp_path / "c.yaml")
    # a local line fitted at the edge says dy/db ≈ 5.7 at b = 1.5 (truth 9), with a standard error of a few %
    (caution,) = [c for c in done.cautions if "outside" in c]
    assert "1 of 2 gradient.at points (first: point 2) lie outside the samples' range (b 0 to 1)" in caution
    (run,) = runs_of(mlflow_uri, "outside")
    assert "extrapolated" in run.data.tags["deltaflow.caution"]
    report = MlflowClient(mlflow_uri).download_artifacts(run.info.run_id, "report.html", str(tmp_path))
    report = Path(report).read_text()
    assert "<h3>Gradient of y at each point of gradient.at</h3>" in report  # each named point, not only their mean
    g, s = done.result.gradients[1, 0, 1], done.result.gradient_std[1, 0, 1]
    assert "<td class='num'>0.5</td><td class='num'>1.5</td><td class='num'>" in report
    assert f"{g:.4g} ± {s:.2g}" in report


def test_an_output_named_with_a_slash_keeps_its_artifacts_beside_the_others(mlflow_uri: str, tmp_path: Path) -> None:
    """'a/b' made indices_a/b.csv, which MLflow put in a subfolder 'indices_a'; the file names now keep only safe
    characters (a_b), and the report's captions still name the output as it is."""
    import pandas as pd

    from flows import analyze_sensitivity

    grid = np.linspace(0, 1, 12)
    a, b = (v.ravel() for v in np.meshgrid(grid, grid))
    pd.DataFrame({"a": a, "b": b, "a/b": 2 * a + 3 * b**2}).to_csv(tmp_path / "ab.csv", index=False)
    config = {"name": "slash", "kind": "sensitivity", "data": {"path": "ab.csv", "outputs": ["a/b"]},
              "gradient": {"method": "local_linear"}, "indices": {"method": "hdmr"}}  # fmt: skip
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    done = analyze_sensitivity(tmp_path / "c.yaml")
    files = _artifacts(mlflow_uri, done.mlflow_run_id)
    assert {"indices_a_b.csv", "plots/indices_a_b.png", "plots/gradients_a_b.png"} <= files
    assert not any(name.startswith("indices_a/") or name.count("/") > 1 for name in files), files
    report = Path(MlflowClient(mlflow_uri).download_artifacts(done.mlflow_run_id, "report.html")).read_text()
    assert "Global sensitivity of a/b" in report and "Local sensitivity of a/b" in report


def test_two_outputs_with_one_metric_key_are_refused_before_any_run(mlflow_uri: str, tmp_path: Path) -> None:
    """'y %' and 'y #' are both the MLflow metric 'y': one's metrics overwrote the other's silently."""
    import pandas as pd

    from flows import analyze_sensitivity
    from flows.metric_keys import file_parts

    grid = np.linspace(0, 1, 12)
    pd.DataFrame({"a": grid, "y %": grid**2, "y #": 3 * grid}).to_csv(tmp_path / "t.csv", index=False)
    config = {"name": "clash", "kind": "sensitivity", "data": {"path": "t.csv", "outputs": ["y %", "y #"]}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    message = r"t.csv: output columns 'y %' and 'y #' would both be logged to MLflow as 'y'"
    with pytest.raises(ConfigError, match=message):
        analyze_sensitivity(tmp_path / "c.yaml")
    assert runs_of(mlflow_uri, "clash") == []
    assert file_parts(["y %", "y #", "a/b", "a_b"]) == {"y %": "y", "y #": "y_2", "a/b": "a_b", "a_b": "a_b_2"}


def test_a_model_with_a_constant_output_is_named_by_its_uri(mlflow_uri: str, tmp_path: Path) -> None:
    """The error began 'the samples: output column 'prediction' is constant', naming neither the model nor its URI."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.dummy import DummyRegressor

    from flows import analyze_sensitivity
    from pipeline.errors import DataError

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0]})
    model = DummyRegressor().fit(X, [1.0, 2.0, 3.0])  # predicts 2 everywhere
    mlflow.set_tracking_uri(mlflow_uri)
    mlflow.set_registry_uri(mlflow_uri)  # not one an earlier test in this process set
    with mlflow.start_run():
        signature = infer_signature(X, model.predict(X))
        mlflow.sklearn.log_model(
            model, name="m", signature=signature, registered_model_name="constant", pip_requirements=["scikit-learn"]
        )  # listed: inferring them takes seconds
    inputs = {"a": {"low": 0.0, "high": 2.0}, "b": {"low": 0.0, "high": 1.0}}
    config = {"name": "constant-model", "kind": "sensitivity", "model": {"uri": "models:/constant/1", "inputs": inputs,
              "n_samples": 64}, "indices": {"method": "sobol", "n_base": 64}}  # fmt: skip
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    message = r"^model 'models:/constant/1' \(sampled 64 times over model.inputs\): output column 'prediction' is const"
    with pytest.raises(DataError, match=message):
        analyze_sensitivity(tmp_path / "c.yaml")
    (run,) = runs_of(mlflow_uri, "constant-model")
    assert run.info.status == "FAILED" and "models:/constant/1" in run.data.tags["error"]


def test_a_model_with_several_output_columns_needs_model_output_before_any_run(mlflow_uri: str, tmp_path: Path) -> None:
    """A pyfunc model returning columns a and b, without model.output: refused from its signature before the run
    (it left an experiment with a FAILED run, from the CLI too); a name not among its columns is refused the same."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from flows import analyze_sensitivity

    class TwoColumns(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # noqa: ANN001, ANN201 - MLflow's interface
            return pd.DataFrame({"a": model_input["x"] * 2.0, "b": model_input["x"] ** 2})

    X = pd.DataFrame({"x": [0.0, 0.5, 1.0]})
    mlflow.set_tracking_uri(mlflow_uri)
    mlflow.set_registry_uri(mlflow_uri)
    with mlflow.start_run():
        signature = infer_signature(X, TwoColumns().predict(None, X))
        mlflow.pyfunc.log_model(name="m", python_model=TwoColumns(), signature=signature,
                                registered_model_name="two-columns", pip_requirements=["pandas"])  # fmt: skip
    config = {"name": "two-columns", "kind": "sensitivity", "model": {"uri": "models:/two-columns/1",
              "inputs": {"x": {"low": 0.0, "high": 1.0}}, "n_samples": 64}, "indices": {"n_base": 64}}  # fmt: skip
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(config))
    refused = r"two.yaml: model.output: .* returns columns \['a', 'b'\] \(its signature\); set"
    with pytest.raises(ModelError, match=refused):
        analyze_sensitivity(tmp_path / "two.yaml")
    config["model"]["output"] = "c"
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(config))
    out = subprocess.run([sys.executable, "-m", "flows", "run", str(tmp_path / "two.yaml")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 2 and "returns no column 'c' (its signature: ['a', 'b'])" in out.stderr, out.stderr
    assert not runs_of(mlflow_uri, "two-columns")
    config["model"]["output"] = "b"
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(config))
    result = analyze_sensitivity(tmp_path / "two.yaml").result
    assert result.gradients[0, 0, 0] == pytest.approx(2 * result.points[0, 0], abs=0.05)
