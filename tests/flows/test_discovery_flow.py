"""The discovery flow on real Prefect (test harness) and a real MLflow SQLite store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from flows import discover_equations
from pipeline.config import load_config
from pipeline.errors import ConfigError, DataError, DataFileNotFoundError
from pipeline.systems import sample_system
from tests.conftest import ROOT, run_as_scheduled, runs_of

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_flow_logs_params_metrics_and_artifacts(mlflow_uri: str) -> None:
    outcome = discover_equations(str(ROOT / "configs" / "exp_decay.yaml"))
    assert outcome.mlflow_run_id and outcome.tracking_uri == mlflow_uri
    assert outcome.result.terms() == {"u": pytest.approx({"u": -1.0}, rel=0.05)}

    client = MlflowClient(mlflow_uri)
    runs = runs_of(mlflow_uri, "exp_decay")
    assert [r.info.run_id for r in runs] == [outcome.mlflow_run_id]
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["differentiation.method"] == "auto"
    assert run.data.params["discovery.library.degree"] == "2"
    assert run.data.metrics["complexity"] == 1.0
    assert run.data.metrics["derivative_r2"] > 0.8
    assert len(run.data.tags["data.sha256"]) == 64 and run.data.tags["prefect.flow_run_id"]
    front = client.get_metric_history(run.info.run_id, "pareto.u.cv_mse")  # the Pareto sweep, step = terms
    assert len(front) > 1 and sorted(m.step for m in front) == [m.step for m in sorted(front, key=lambda m: m.step)]
    assert min(front, key=lambda m: m.step).step == 1
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    expected = {"equations.txt", "equations.tex", "equations.json", "coefficients.csv", "candidates.csv", "plots"}
    expected |= {"report.html", "judged_models.csv"}
    assert expected <= artifacts
    judged = Path(client.download_artifacts(run.info.run_id, "judged_models.csv")).read_text().splitlines()
    assert judged[0] == "label,terms,n_terms,function_terms,fit,shooting_error,law_keeping,chosen,rival"
    assert sum(line.endswith(",True,False") for line in judged[1:]) == 1  # chosen; no rival on this record
    assert not [key for key in run.data.metrics if key.startswith("shooting_error")]  # a table, not 20 metrics
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {"plots/data_vs_model.png", "plots/derivatives.png", "plots/pareto.png", "plots/inclusion.png"}
    table = Path(client.download_artifacts(run.info.run_id, "coefficients.csv")).read_text().splitlines()
    assert table[0] == "state,term,coefficient,ci_low,ci_high,inclusion_probability" and table[1].startswith("u,u,-")
    report = Path(client.download_artifacts(run.info.run_id, "report.html")).read_text()
    assert "u&#x27; = -" in report and report.count("data:image/png;base64,") == 4 and "95 % interval" in report
    assert re.search(r"<td>smoothing</td><td>u: [a-z+_]+, .*noise sd [0-9.e-]+</td>", report)  # a line per state
    local = Path(client.download_artifacts(run.info.run_id, "equations.json"))
    assert json.loads(local.read_text())["equations"] == outcome.result.equations
    assert client.download_artifacts(run.info.run_id, "equations.txt")


def test_flow_accepts_a_config_object_and_can_skip_tracking(mlflow_uri: str) -> None:
    config = load_config(ROOT / "configs" / "lotka_volterra.yaml")
    offline = config.model_copy(update={"tracking": config.tracking.model_copy(update={"enabled": False})})
    outcome = discover_equations(offline)
    assert outcome.mlflow_run_id is None
    assert set(outcome.result.terms()["hare"]) == {"hare", "hare lynx"}


def test_bad_data_fails_a_python_call_before_any_run_and_a_scheduled_run_is_marked_failed(
    mlflow_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "d.csv").write_text("t,u\n0,1\n1,2\n2,oops\n3,4\n4,5\n5,6\n")
    (tmp_path / "c.yaml").write_text("name: broken\ndata:\n  path: d.csv\n  state_columns: [u]\n")
    for config in (str(tmp_path / "c.yaml"), load_config(tmp_path / "c.yaml")):
        with pytest.raises(DataError, match="non-numeric value 'oops'"):  # checked first, as the CLI does
            discover_equations(config)
    assert not [r for r in caplog.records if r.name.startswith("prefect")]  # no flow run failed in Prefect's log
    assert runs_of(mlflow_uri, "broken") == []  # and no MLflow run
    (tmp_path / "c.yaml").write_text("name: broken\ndata:\n  path: d.csv\n  state_columns: [v]\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['v'\]"):
        discover_equations(str(tmp_path / "c.yaml"))
    assert runs_of(mlflow_uri, "broken") == []
    with pytest.raises(DataError, match=r"missing column\(s\) \['v'\]"):  # Prefect's own run: met once started
        run_as_scheduled(discover_equations, str(tmp_path / "c.yaml"))
    (run,) = runs_of(mlflow_uri, "broken")
    assert run.info.status == "FAILED" and "missing column(s) ['v']" in run.data.tags["error"]


def test_config_and_missing_file_errors_start_no_run(mlflow_uri: str, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("name: ghost\ndata:\n  path: absent.csv\n")
    with pytest.raises(DataFileNotFoundError, match="absent.csv: data file not found"):
        discover_equations(str(tmp_path / "c.yaml"))
    with pytest.raises(ConfigError, match="config file not found"):
        discover_equations(str(tmp_path / "nope.yaml"))
    assert MlflowClient(mlflow_uri).get_experiment_by_name("ghost") is None


def test_logged_pyfunc_model_loads_and_runs_in_a_fresh_process_elsewhere(mlflow_uri: str, tmp_path: Path) -> None:
    outcome = discover_equations(str(ROOT / "configs" / "lotka_volterra.yaml"))
    assert outcome.model_uri
    states = np.array([[30.0, 4.0], [10.0, 20.0]])
    times = [0.0, 1.0, 2.0, 5.0]
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        f"model = mlflow.pyfunc.load_model({outcome.model_uri!r})\n"
        f"frame = pd.DataFrame({states.tolist()!r}, columns=['hare', 'lynx'])\n"
        "rhs = model.predict(frame)\n"
        f"trajectory = model.predict(frame.iloc[:1], params={{'simulate': True, 't': {times!r}}})\n"
        "print(json.dumps({'rhs': rhs.to_numpy().tolist(), 'columns': list(rhs.columns),"
        " 'trajectory': trajectory[['hare', 'lynx']].to_numpy().tolist()}))\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_uri}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    assert payload["columns"] == ["dhare/dt", "dlynx/dt"]
    np.testing.assert_allclose(payload["rhs"], outcome.result.predict(states), rtol=1e-9)
    np.testing.assert_allclose(payload["trajectory"], outcome.result.simulate(states[0], np.array(times)), rtol=1e-6)
    assert list(workdir.iterdir()) == []  # loading a model leaves the working directory untouched


def test_unchanged_rerun_reuses_cached_stages_and_changed_smoothing_recomputes_downstream(
    mlflow_uri: str, tmp_path: Path
) -> None:
    frame = sample_system("lotka_volterra", n=300, noise=0.01, seed=11)
    frame.to_csv(tmp_path / "lv.csv", index=False)
    (tmp_path / "a.yaml").write_text("name: cache\ndata:\n  path: lv.csv\ntracking:\n  log_model: false\n")
    first = discover_equations(str(tmp_path / "a.yaml"))
    second = discover_equations(str(tmp_path / "a.yaml"))
    assert first.cached == {"differentiate": False, "discover": False}
    assert second.cached == {"differentiate": True, "discover": True}
    assert second.result.equations == first.result.equations
    (tmp_path / "b.yaml").write_text(
        "name: cache\ndata:\n  path: lv.csv\ndifferentiation:\n  method: kalman\ntracking:\n  log_model: false\n"
    )
    third = discover_equations(str(tmp_path / "b.yaml"))
    assert third.cached == {"differentiate": False, "discover": False}
    tags = MlflowClient(mlflow_uri).get_run(second.mlflow_run_id).data.tags
    assert tags["cache.differentiate"] == "hit" and tags["cache.discover"] == "hit"


def test_changed_control_values_recompute_the_cached_stages(mlflow_uri: str, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(ROOT / "data" / "forced_oscillator.csv")
    config = tmp_path / "forced.yaml"
    config.write_text(
        "name: forced_cache\ndata:\n  path: forced.csv\n  state_columns: [x, v]\n  control_columns: [force]\n"
        "discovery:\n  n_bootstrap: 0\n  library: {degree: 2}\ntracking:\n  log_model: false\n"
    )
    frame.to_csv(tmp_path / "forced.csv", index=False)
    first = discover_equations(str(config))
    frame.assign(force=2 * frame["force"]).to_csv(tmp_path / "forced.csv", index=False)  # same states, input doubled
    second = discover_equations(str(config))
    assert second.cached == {"differentiate": False, "discover": False}  # the model fitted to the old input was reused
    force_first, force_second = first.result.terms()["v"]["force"], second.result.terms()["v"]["force"]
    assert force_second == pytest.approx(force_first / 2, rel=0.02)


def test_a_model_with_a_control_input_is_logged_and_predicts_with_it(mlflow_uri: str) -> None:
    import mlflow
    import pandas as pd

    outcome = discover_equations(ROOT / "configs" / "forced_oscillator.yaml")
    assert outcome.result.controls == ("force",) and "force" in outcome.result.equations[1]
    (run,) = runs_of(mlflow_uri, "forced_oscillator")
    assert run.data.params["data.control_columns"] == '["force"]'
    report = Path(MlflowClient(mlflow_uri).download_artifacts(run.info.run_id, "report.html")).read_text()
    assert "<th>states</th><td>x, v</td>" in report and "<th>known inputs</th><td>force</td>" in report
    mlflow.set_tracking_uri(mlflow_uri)
    model = mlflow.pyfunc.load_model(outcome.model_uri)
    frame = pd.DataFrame({"x": [0.5, 1.0], "v": [0.0, -1.0], "force": [1.0, 0.0]})
    expected = outcome.result.predict(frame[["x", "v"]].to_numpy(), frame[["force"]].to_numpy())
    np.testing.assert_allclose(model.predict(frame).to_numpy(), expected, rtol=1e-9)
    with pytest.raises(Exception, match="force"):
        model.predict(frame[["x", "v"]])
    gap = pd.DataFrame({"x": [1.0] * 3, "v": [0.0] * 3, "force": [0.0, np.nan, 0.0]})  # a missing input reading
    with pytest.raises(DataError, match=r"input 'force' is nan at 0-based row 1 \(expected finite numbers\)"):
        model.predict(gap, params={"simulate": True, "t": [0.0, 0.5, 1.0]})  # was "simulation diverged"
    with pytest.raises(DataError, match=r"model input has no rows; to simulate, give the start state \['x', 'v'\]"):
        model.predict(gap.iloc[:0], params={"simulate": True, "t": [0.0, 0.5, 1.0]})


def test_dated_data_are_discovered_per_hour_and_the_run_says_so(mlflow_uri: str, tmp_path: Path) -> None:
    import pandas as pd
    import yaml
    from typer.testing import CliRunner

    from flows.cli import app

    hours = np.arange(40) * 1.0  # hourly over 40 h: "auto" measures the time in hours
    stamps = pd.Timestamp("2024-03-31T00:00:00+01:00") + pd.to_timedelta(hours, unit="h")
    u = 3.0 * np.exp(-0.2 * hours)
    text = [f"{s.tz_convert('Europe/Berlin').isoformat()},{v:.8g}" for s, v in zip(stamps, u)]  # a DST change inside
    (tmp_path / "d.csv").write_text("when,u\n" + "\n".join(text) + "\n")
    config = {"name": "dated", "data": {"path": "d.csv", "time_column": "when"}, "discovery": {"n_bootstrap": 0}}
    config["tracking"] = {"log_model": False}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "time: when (hours since 2024-03-30T23:00:00+00:00); rates are per h" in result.stdout, result.stdout
    (run,) = runs_of(mlflow_uri, "dated")
    assert run.data.params["data.time_unit"] == "auto"
    assert (run.data.tags["data.time_unit"], run.data.tags["data.time_origin"]) == ("h", "2024-03-30T23:00:00+00:00")
    assert "u' = -0.2" in run.data.tags["result.equations"]


def test_a_model_of_dated_data_carries_its_time_unit_and_origin(mlflow_uri: str, tmp_path: Path) -> None:
    """Daily samples measured in days, hourly in hours: a model loaded from the registry alone must say which, or its
    rates and simulation times are read in the wrong unit."""
    import mlflow
    import pandas as pd
    import yaml

    days = np.arange(30)
    stamps = pd.date_range("2024-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": stamps, "x": 10.0 * np.exp(-0.1 * days)}).to_csv(tmp_path / "d.csv", index=False)
    config = {"name": "daily", "data": {"path": "d.csv", "time_column": "date"}, "discovery": {"n_bootstrap": 0}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    outcome = discover_equations(str(tmp_path / "c.yaml"))
    mlflow.set_tracking_uri(mlflow_uri)
    model = mlflow.pyfunc.load_model(outcome.model_uri)
    assert model.metadata.metadata == {"time_unit": "d", "time_origin": "2024-01-01T00:00:00"}
    path = model.predict(pd.DataFrame({"x": [10.0]}), params={"simulate": True, "t": [0.0, 10.0]})
    assert path["x"].iloc[-1] == pytest.approx(10.0 * np.exp(-1.0), rel=1e-3)  # 10 days later
    with pytest.raises(DataError, match=r"strictly increasing .* entry 2 \(5.0\) follows 10.0"):
        model.predict(pd.DataFrame({"x": [10.0]}), params={"simulate": True, "t": [0.0, 10.0, 5.0]})  # not backwards
    with pytest.raises(DataError, match=r"at least two increasing times"):
        model.predict(pd.DataFrame({"x": [10.0]}), params={"simulate": True})  # no times: no silent [0, 1]
    with pytest.raises(DataError, match=r"to simulate, give one row: the start state \['x'\]; got 2 rows"):
        model.predict(pd.DataFrame({"x": [10.0, 5.0]}), params={"simulate": True, "t": [0.0, 10.0]})
    client = mlflow.MlflowClient(mlflow_uri)
    folder = client.download_artifacts(outcome.mlflow_run_id, "", str(tmp_path / "artifacts"))
    unit = "date (days since 2024-01-01T00:00:00); rates are per d"
    assert (Path(folder) / "equations.txt").read_text().endswith(f"# time: {unit}\n")
    report = (Path(folder) / "report.html").read_text()
    assert unit in report and re.search(r"forecast_horizon</td><td class='num'>[0-9.]+ d</td>", report)


def test_a_state_named_like_our_trajectory_label_is_logged_under_the_files_columns(
    mlflow_uri: str, tmp_path: Path
) -> None:
    import warnings

    import yaml

    t = np.linspace(0.0, 5.0, 40)
    rows = [f"{tk:.6g},{k},{x0 * np.exp(-0.5 * tk):.10g}" for k, x0 in enumerate((1.0, 2.0, 3.0)) for tk in t]
    (tmp_path / "d.csv").write_text("t,run,trajectory\n" + "\n".join(rows) + "\n")
    config = {"name": "named", "data": {"path": "d.csv", "trajectory_column": "run", "state_columns": ["trajectory"]}}
    config |= {"discovery": {"n_bootstrap": 0}, "tracking": {"log_model": False}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*integer column", category=UserWarning)  # labels logged as text
        discover_equations(str(tmp_path / "c.yaml"))
    (run,) = runs_of(mlflow_uri, "named")
    assert "trajectory' = -0.5" in run.data.tags["result.equations"]
    (dataset,) = [item.dataset for item in run.inputs.dataset_inputs]
    assert [field["name"] for field in json.loads(dataset.schema)["mlflow_colspec"]] == ["t", "run", "trajectory"]


def test_a_spike_in_the_file_is_replaced_and_the_run_says_so_or_refuses_it(mlflow_uri: str, tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from flows.cli import app

    t = np.linspace(0, 10, 300)
    u = 3 * np.exp(-0.7 * t) * (1 + 0.01 * np.random.default_rng(0).standard_normal(300))
    u[151] = 30.0  # a typo: the decay is near 0.09 there
    (tmp_path / "d.csv").write_text("t,u\n" + "\n".join(f"{a:.6g},{b:.8g}" for a, b in zip(t, u)) + "\n")
    config = {"name": "spiked", "data": {"path": "d.csv"}, "discovery": {"n_bootstrap": 0}}
    config["tracking"] = {"log_model": False}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml")], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())  # the console wraps long lines
    assert "caution: " in said and "data row 152 of 'u' is 30" in said, result.stdout
    (run,) = runs_of(mlflow_uri, "spiked")
    assert "1 spike" in run.data.tags["deltaflow.caution"] and run.data.params["data.outliers"] == "replace"
    assert re.fullmatch(r"u' = -0\.69\d* u|u' = -0\.70\d* u", run.data.tags["result.equations"])

    config["data"]["outliers"] = "raise"
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml")], env={"COLUMNS": "300"})
    assert result.exit_code != 0 and "data row 152 of 'u' is 30" in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output and len(runs_of(mlflow_uri, "spiked")) == 1  # no run started
