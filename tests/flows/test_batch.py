"""Batches: children nested under one parent; no item, whatever it raises, sinks the batch or leaves a run RUNNING."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from pipeline.errors import ConfigError
from tests.conftest import ROOT, runs_of

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _decay(folder: Path, name: str, state: str = "u", rate: float = 0.7) -> Path:
    """A small, fast discovery config (exp decay of ``state``) and its data."""
    t = np.linspace(0, 5, 80)
    x = np.exp(-rate * t) + 0.005 * np.random.default_rng(1).standard_normal(t.size)
    pd.DataFrame({"t": t, state: x}).to_csv(folder / f"{name}.csv", index=False)
    config = {
        "name": name,
        "data": {"path": f"{name}.csv"},
        "discovery": {"library": {"degree": 1}, "n_bootstrap": 0},
        "tracking": {"log_model": False},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class _Weighted(mlflow.pyfunc.PythonModel):
    """y = weights · (a, b): a registered model whose versions differ."""

    def __init__(self, weights: tuple[float, float]) -> None:
        self.weights = weights

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> np.ndarray:
        return model_input[["a", "b"]].to_numpy() @ np.asarray(self.weights)


def _register_champion(uri: str, weights: tuple[float, float]) -> None:
    """A new version of the registered model 'weighted', with the alias 'champion' moved to it."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_Weighted(weights), registered_model_name="weighted",
            input_example=pd.DataFrame({"a": [0.1], "b": [0.2]}),
        )  # fmt: skip
    MlflowClient(uri).set_registered_model_alias("weighted", "champion", info.registered_model_version)


def _crash_on_state_boom(monkeypatch: pytest.MonkeyPatch) -> None:
    """An untyped error deep inside discovery for data whose state is named 'boom' (as a core bug would raise)."""
    import flows.discovery

    real = flows.discovery.discover

    def discover(*args: Any, **kwargs: Any) -> Any:
        if tuple(kwargs.get("feature_names", ())) == ("boom",):
            raise ValueError("min() arg is an empty sequence")
        return real(*args, **kwargs)

    monkeypatch.setattr(flows.discovery, "discover", discover)


def test_batch_logs_children_under_a_parent_and_survives_a_bad_item(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import run_batch

    (tmp_path / "bad.csv").write_text("t,u\n0,1\n1,2\n2,x\n3,4\n4,5\n5,6\n")
    (tmp_path / "bad.yaml").write_text("name: bad\ndata:\n  path: bad.csv\n")
    good = ROOT / "configs" / "exp_decay.yaml"
    outcome = run_batch([str(good), str(tmp_path / "bad.yaml")], name="nightly")
    assert [item.status for item in outcome.items] == ["FINISHED", "FAILED"]
    assert "non-numeric value 'x'" in outcome.items[1].error
    client = MlflowClient(mlflow_uri)
    runs = {r.info.run_id: r for r in runs_of(mlflow_uri, "nightly")}
    parent = runs[outcome.parent_run_id]
    assert parent.info.status == "FINISHED" and parent.data.metrics["failed"] == 1.0
    children = [r for r in runs.values() if r.data.tags.get("mlflow.parentRunId") == outcome.parent_run_id]
    assert sorted(r.info.status for r in children) == ["FAILED", "FINISHED"]
    paths = sorted(Path(r.data.tags["config.path"]).name for r in children)  # which file made each run, either way
    assert paths == ["bad.yaml", "exp_decay.yaml"]
    assert outcome.items[1].mlflow_run_id in {r.info.run_id for r in children if r.info.status == "FAILED"}
    summary = Path(client.download_artifacts(outcome.parent_run_id, "summary.csv")).read_text()
    assert "FAILED" in summary and "u' = -" in summary
    note = parent.data.tags["mlflow.note.content"].splitlines()  # the failure first, then the finished item
    rows = [line for line in note if line.startswith(("| bad.yaml", "| exp_decay.yaml"))]
    assert rows[0].startswith("| bad.yaml | FAILED |") and "bad.csv: column 'u' has a non-numeric value" in rows[0]
    assert rows[1].startswith("| exp_decay.yaml | FINISHED |") and "u' = -" in rows[1]


def test_a_crashing_item_and_a_bad_data_item_fail_alone_and_every_kind_nests_under_the_parent(
    mlflow_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import run_batch

    _crash_on_state_boom(monkeypatch)
    folder = tmp_path / "configs"
    folder.mkdir()
    _decay(folder, "a-good")
    _decay(folder, "b-crash", state="boom")
    (folder / "c-bad.csv").write_text("t,u\n0,1\n1,2\n2,x\n3,4\n4,5\n5,6\n")
    (folder / "c-bad.yaml").write_text("name: c-bad\ndata:\n  path: c-bad.csv\n")
    for shipped in ("gradient_check.yaml", "physics_residual.yaml"):
        raw = yaml.safe_load((ROOT / "configs" / shipped).read_text())
        if "data" in raw:
            raw["data"]["path"] = str(ROOT / "data" / Path(raw["data"]["path"]).name)
        (folder / f"d-{shipped}").write_text(yaml.safe_dump(raw))
    outcome = run_batch([str(folder)], name="mixed")

    status = {Path(item.config).stem: item.status for item in outcome.items}
    assert status == {"a-good": "FINISHED", "b-crash": "FAILED", "c-bad": "FAILED", "d-gradient_check": "FINISHED",
                      "d-physics_residual": "FINISHED"}  # fmt: skip
    errors = {Path(item.config).stem: item.error for item in outcome.items if item.error}
    assert errors["b-crash"] == "ValueError: min() arg is an empty sequence"
    assert "non-numeric value 'x'" in errors["c-bad"] and "\n" not in errors["c-bad"]
    runs = runs_of(mlflow_uri, "mixed")
    (parent,) = [r for r in runs if r.info.run_id == outcome.parent_run_id]
    assert parent.info.status == "FINISHED" and parent.data.metrics["failed"] == 2.0
    children = [r for r in runs if r is not parent]
    assert len(children) == 5 and {r.data.tags.get("mlflow.parentRunId") for r in children} == {parent.info.run_id}
    assert sorted(r.data.tags["deltaflow.kind"] for r in children if r.info.status == "FINISHED") == [
        "discovery", "gradient_check", "residual"]  # fmt: skip
    assert "ValueError: min() arg is an empty sequence" in {r.data.tags.get("error") for r in children}
    assert not [r for r in runs if r.info.status == "RUNNING"]
    summary = pd.read_csv(MlflowClient(mlflow_uri).download_artifacts(parent.info.run_id, "summary.csv"))
    assert sorted(summary["status"]) == ["FAILED", "FAILED", "FINISHED", "FINISHED", "FINISHED"]


def test_a_missing_model_is_a_failed_child_with_a_one_line_reason_and_a_batch_config_is_no_item(
    mlflow_uri: str, tmp_path: Path
) -> None:
    from flows import run_batch

    (tmp_path / "missing.yaml").write_text(
        "name: missing-model\nkind: sensitivity\n"
        "model: {uri: 'models:/no-such-model/1', inputs: {a: {low: 0, high: 1}, b: {low: 0, high: 1}}}\n"
    )
    (tmp_path / "inner.yaml").write_text(
        f"name: inner\nkind: batch\nconfigs: [{ROOT / 'configs' / 'exp_decay.yaml'}]\n"
    )
    outcome = run_batch([str(tmp_path / "missing.yaml"), str(tmp_path / "inner.yaml")], name="models")
    assert [item.status for item in outcome.items] == ["FAILED", "FAILED"]
    assert "models:/no-such-model/1" in outcome.items[0].error and "\n" not in outcome.items[0].error
    assert "cannot be an item of a batch" in outcome.items[1].error
    runs = runs_of(mlflow_uri, "models")
    assert sorted(r.info.status for r in runs) == ["FAILED", "FAILED", "FINISHED"]  # two children, the parent


def test_the_example_model_config_trains_its_model_on_a_fresh_store(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import run_batch

    raw = yaml.safe_load((ROOT / "configs" / "diabetes_model.yaml").read_text())
    raw["model"]["n_samples"] = 256
    raw["indices"]["n_base"] = 128
    (tmp_path / "diabetes.yaml").write_text(yaml.safe_dump(raw))
    # A discovery item logging its pyfunc model after the training: training must leave no fluent MLflow state
    # behind (an active experiment made the next item's model logging fail and the run go to the outbox).
    outcome = run_batch([str(tmp_path / "diabetes.yaml"), str(ROOT / "configs" / "exp_decay.yaml")], name="examples")
    assert [item.status for item in outcome.items] == ["FINISHED", "FINISHED"], outcome.items
    assert MlflowClient(mlflow_uri).get_registered_model("diabetes-regressor").name == "diabetes-regressor"


def test_a_batch_that_breaks_itself_ends_its_parent_failed_with_the_summary_so_far(
    mlflow_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.batch
    from flows import run_batch

    def progress(done: int, total: int, message: str) -> None:
        raise RuntimeError("the progress listener broke")

    monkeypatch.setattr(flows.batch, "_progress", progress)
    with pytest.raises(RuntimeError, match="progress listener broke"):
        run_batch([str(_decay(tmp_path, "only"))], name="broken")
    (parent,) = [r for r in runs_of(mlflow_uri, "broken") if r.data.tags.get("deltaflow.kind") == "batch"]
    assert parent.info.status == "FAILED" and "progress listener broke" in parent.data.tags["error"]
    assert parent.data.metrics["finished"] == 1.0
    assert not [r for r in runs_of(mlflow_uri, "broken") if r.info.status == "RUNNING"]


def test_check_items_nest_under_the_parent_named_after_their_configs_and_reused_rows_keep_their_result(
    mlflow_uri: str, tmp_path: Path
) -> None:
    from flows import run_batch

    folder = tmp_path / "checks"
    folder.mkdir()
    for shipped in ("gradient_check.yaml", "physics_residual.yaml"):
        raw = yaml.safe_load((ROOT / "configs" / shipped).read_text())
        if "data" in raw:
            raw["data"]["path"] = str(ROOT / "data" / Path(raw["data"]["path"]).name)
        (folder / shipped).write_text(yaml.safe_dump(raw))
    first = run_batch([str(folder)], name="checks")
    children = [r for r in runs_of(mlflow_uri, "checks") if r.info.run_id != first.parent_run_id]
    assert {r.data.tags.get("mlflow.parentRunId") for r in children} == {first.parent_run_id}
    assert sorted(r.info.run_name.split(" ")[0] for r in children) == ["gradient-check", "physics-residual"]
    assert all(r.data.tags["result.summary"] == "passed" for r in children)
    (parent,) = [r for r in runs_of(mlflow_uri, "checks") if r.info.run_id == first.parent_run_id]
    stamp = r"\d\d-\d\d \d\d\.\d\d\.\d\d"  # the parent is named as its children are, name and a short UTC time
    assert re.fullmatch(rf"checks {stamp}", parent.info.run_name)
    assert all(re.fullmatch(rf"(gradient-check|physics-residual) {stamp}", r.info.run_name) for r in children)

    again = run_batch([str(folder)], name="checks")
    assert [item.status for item in again.items] == ["REUSED", "REUSED"]
    assert [item.equations for item in again.items] == [item.equations for item in first.items] == [("passed",)] * 2
    # the rerun's parent has no children (the earlier runs are nested under the first parent): its description in
    # the MLflow UI lists them, each linked to the run it reused
    parent = MlflowClient(mlflow_uri).get_run(again.parent_run_id)
    note = parent.data.tags["mlflow.note.content"]
    assert "2 items: 2 reused." in note
    for item in first.items:
        experiment = parent.info.experiment_id
        page = f"#/experiments/{experiment}/runs/{item.mlflow_run_id}?workflowType=machine_learning"
        assert f"({page}) (earlier run) | passed |" in note


def test_an_item_whose_points_file_changed_is_recomputed_not_reused(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import run_batch

    grid = np.linspace(0, 1, 12)
    a, b = (v.ravel() for v in np.meshgrid(grid, grid))
    pd.DataFrame({"a": a, "b": b, "y": 2 * a + 3 * b**2}).to_csv(tmp_path / "ab.csv", index=False)
    (tmp_path / "points.csv").write_text("a,b\n0.5,0.2\n")
    config = {
        "name": "at-points",
        "kind": "sensitivity",
        "data": {"path": "ab.csv", "outputs": ["y"]},
        "gradient": {"at": "points.csv", "method": "local_quadratic"},
        "indices": {"enabled": False},
    }
    (tmp_path / "at.yaml").write_text(yaml.safe_dump(config))
    first = run_batch([str(tmp_path / "at.yaml")], name="points")
    (tmp_path / "points.csv").write_text("a,b\n0.5,0.9\n")  # same config text, other points
    again = run_batch([str(tmp_path / "at.yaml")], name="points")
    assert [item.status for item in first.items] == [item.status for item in again.items] == ["FINISHED"]
    assert again.items[0].mlflow_run_id != first.items[0].mlflow_run_id
    path = MlflowClient(mlflow_uri).download_artifacts(again.items[0].mlflow_run_id, "gradients.csv", str(tmp_path))
    gradients = pd.read_csv(path)
    assert gradients[["a", "b"]].values.tolist() == [[0.5, 0.9]]
    assert np.allclose(gradients[["dy/da", "dy/db"]].to_numpy(), [[2.0, 5.4]], atol=1e-3)  # y = 2a + 3b²


def test_an_item_whose_model_alias_moved_is_recomputed_not_reused(mlflow_uri: str, tmp_path: Path) -> None:
    from flows import run_batch

    config = {
        "name": "champion",
        "kind": "sensitivity",
        "model": {"uri": "models:/weighted@champion", "n_samples": 64, "inputs": {"a": {"low": 0, "high": 1},
                  "b": {"low": 0, "high": 1}}},
        "gradient": {"at": [[0.5, 0.5]], "method": "local_linear"},
        "indices": {"n_base": 64},
    }  # fmt: skip
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(config))
    _register_champion(mlflow_uri, (1.0, 0.0))
    first = run_batch([str(tmp_path / "m.yaml")], name="models")
    _register_champion(mlflow_uri, (0.0, 1.0))  # same config, another model behind the alias
    second = run_batch([str(tmp_path / "m.yaml")], name="models")
    third = run_batch([str(tmp_path / "m.yaml")], name="models")
    assert [i.status for b in (first, second, third) for i in b.items] == ["FINISHED", "FINISHED", "REUSED"]
    assert first.items[0].equations[0].startswith("prediction: a ST=") and "b ST=0.00" in first.items[0].equations[0]
    assert second.items[0].equations[0].startswith("prediction: b ST=") and "a ST=0.00" in second.items[0].equations[0]
    assert third.items[0].mlflow_run_id == second.items[0].mlflow_run_id


def test_a_check_that_fails_is_counted_and_makes_the_batch_exit_1_also_when_reused(
    mlflow_uri: str, tmp_path: Path
) -> None:
    """A failing check ran to the end (FINISHED), but it is no success: ``run`` of it alone exits 1, so must the
    batch, and the parent must count it, on the first run and when the rerun reuses it."""
    from rich.console import Console

    from flows import run_batch
    from flows.console import show_batch

    check = {"kind": "gradient_check", "variables": ["x"], "function": "x^2", "points": [[1.0]]}
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump({**check, "name": "wrong", "gradient": {"x": "3*x"}}))
    (tmp_path / "right.yaml").write_text(yaml.safe_dump({**check, "name": "right", "gradient": {"x": "2*x"}}))
    for expected in ("FINISHED", "REUSED"):
        outcome = run_batch([str(tmp_path)], name="verdicts")
        assert [(i.status, i.passed) for i in outcome.items] == [(expected, True), (expected, False)]
        assert outcome.n_failed == 0 and outcome.n_checks_failed == 1
        console = Console(record=True, width=200)
        assert show_batch(outcome, console) == 1
        assert "1 check(s) failed" in console.export_text()
        parent = MlflowClient(mlflow_uri).get_run(outcome.parent_run_id)
        assert parent.data.metrics["checks_failed"] == 1.0
        folder = tmp_path / expected
        folder.mkdir()
        summary = pd.read_csv(
            MlflowClient(mlflow_uri).download_artifacts(outcome.parent_run_id, "summary.csv", str(folder))
        )
        assert summary["check_passed"].tolist() == [True, False]


def _batch_file(folder: Path) -> Path:
    """A kind: batch config (name 'fromfile', resume on) of one fast gradient check."""
    check = {"name": "square", "kind": "gradient_check", "variables": ["x"], "function": "x^2", "points": [[1.0]]}
    (folder / "square.yaml").write_text(yaml.safe_dump({**check, "gradient": {"x": "2*x"}}))
    (folder / "nightly.yaml").write_text(
        yaml.safe_dump({"name": "fromfile", "kind": "batch", "configs": ["square.yaml"]})
    )
    return folder / "nightly.yaml"


def test_options_given_with_a_batch_config_take_the_place_of_its_fields(mlflow_uri: str, tmp_path: Path) -> None:
    """``batch nightly.yaml --no-resume`` recomputes and ``-n other`` logs to 'other': neither is silently ignored."""
    from typer.testing import CliRunner

    from flows.cli import app

    path = _batch_file(tmp_path)

    def statuses(*options: str, experiment: str) -> list[str]:
        result = CliRunner().invoke(app, ["batch", str(path), *options], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        parents = [r for r in runs_of(mlflow_uri, experiment) if r.data.tags.get("deltaflow.kind") == "batch"]
        summary = MlflowClient(mlflow_uri).download_artifacts(parents[0].info.run_id, "summary.csv", str(tmp_path))
        return pd.read_csv(summary)["status"].tolist()

    assert statuses(experiment="fromfile") == ["FINISHED"]
    assert statuses("--no-resume", experiment="fromfile") == ["FINISHED"]  # the config says resume: true
    assert statuses("--resume", experiment="fromfile") == ["REUSED"]
    assert statuses("-n", "other", experiment="other") == ["FINISHED"]


def test_executor_options_given_with_a_batch_config_merge_with_its_executor(tmp_path: Path) -> None:
    from flows.cli import _with_options
    from pipeline.config import load_config

    path = _batch_file(tmp_path)
    raw = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**raw, "executor": {"kind": "dask", "n_workers": 4, "chunk_size": 3}}))
    config = load_config(path)
    merged = _with_options(config, {}, {"n_workers": 2}).executor
    assert (merged.kind, merged.n_workers, merged.chunk_size) == ("dask", 2, 3)
    assert _with_options(config, {}, {"kind": "local"}).executor.kind == "local"
    assert _with_options(config, {"resume": False}, {}).resume is False
    with pytest.raises(ConfigError, match="--name 'bad/name'"):
        _with_options(config, {"name": "bad/name"}, {})


def test_a_batch_in_a_log_prints_a_line_per_item(mlflow_uri: str, tmp_path: Path) -> None:
    """Without a terminal (cron, nohup) the progress bar draws nothing: each item is a plain line as it ends."""
    import io

    from rich.console import Console

    from flows import run_batch
    from flows.console import BatchProgress

    check = {"kind": "gradient_check", "variables": ["x"], "function": "x^2", "points": [[1.0]]}
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({**check, "name": name, "gradient": {"x": "2*x"}}))
    (tmp_path / "three.yaml").write_text("name: three\ndata:\n  path: missing.csv\n")
    log = io.StringIO()
    with BatchProgress(Console(file=log, force_terminal=False, width=200), "logged", 3):
        run_batch([str(tmp_path)], name="logged")
    lines = log.getvalue().splitlines()
    assert [line.split(" (at ")[0] for line in lines] == [
        "logged: 1/3 finished: one.yaml",
        "logged: 2/3 failed: three.yaml",
        "logged: 3/3 finished: two.yaml",
    ], lines


def test_a_batch_stopped_part_way_names_the_items_it_did_not_run(
    mlflow_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted (or broken) batch's parent said 'KeyboardInterrupt: ' and listed only the items that ended, as
    if the batch had held no others: it must say how far it got and list the rest as NOT RUN."""
    import flows.batch
    from flows import run_batch

    def progress(done: int, total: int, message: str) -> None:
        raise RuntimeError("stopped here")

    monkeypatch.setattr(flows.batch, "_progress", progress)
    check = {"kind": "gradient_check", "variables": ["x"], "function": "x^2", "points": [[1.0]]}
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({**check, "name": name, "gradient": {"x": "2*x"}}))
    with pytest.raises(RuntimeError, match="stopped here"):
        run_batch([str(tmp_path)], name="stopped")
    (parent,) = [r for r in runs_of(mlflow_uri, "stopped") if r.data.tags.get("deltaflow.kind") == "batch"]
    assert parent.info.status == "FAILED"
    assert parent.data.tags["error"] == "RuntimeError: stopped here [after 1 of 3 items; 2 not run]"
    assert (parent.data.metrics["items"], parent.data.metrics["finished"], parent.data.metrics["not_run"]) == (3, 1, 2)
    summary = pd.read_csv(MlflowClient(mlflow_uri).download_artifacts(parent.info.run_id, "summary.csv", str(tmp_path)))
    assert summary["status"].tolist() == ["FINISHED", "NOT RUN", "NOT RUN"]
    assert [Path(c).name for c in summary["config"]] == ["a.yaml", "b.yaml", "c.yaml"]
    assert summary["result"][1].startswith("the batch stopped (RuntimeError) before this item ended")


def test_a_config_named_and_found_in_a_folder_given_too_is_one_item(tmp_path: Path) -> None:
    """``batch configs/ configs/a.yaml`` ran a.yaml twice in one batch."""
    from flows.inputs import expand_configs

    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\ndata: {{path: d.csv}}\n")
    items = expand_configs([tmp_path, tmp_path / "a.yaml", tmp_path / ".." / tmp_path.name / "b.yaml"])
    assert [p.name for p in items] == ["a.yaml", "b.yaml"]
