"""The MLflow adapter on a real SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from flows.tracking import Tracker, sanitize_name
from pipeline.errors import InvalidRecordError, TrackingError
from tests.conftest import ROOT


def test_secrets_are_masked_and_names_sanitised(mlflow_uri: str) -> None:
    tracker = Tracker(mlflow_uri)
    experiment = tracker.ensure_experiment("secrets")
    with tracker.run(experiment, run_name="../../etc/passwd") as run_id:
        tracker.log_params(run_id, {"db.password": "hunter2", "api_key": "abc", "discovery.threshold": "0.1"})
        tracker.set_tags(run_id, {"service.token": "xyz", "owner": "me"})
    run = MlflowClient(mlflow_uri).get_run(run_id)
    assert run.data.params == {"db.password": "***", "api_key": "***", "discovery.threshold": "0.1"}
    assert run.data.tags["service.token"] == "***" and run.data.tags["owner"] == "me"
    assert "/" not in run.info.run_name and ".." not in run.info.run_name


def test_a_failing_block_marks_the_run_failed_with_its_error(mlflow_uri: str) -> None:
    tracker = Tracker(mlflow_uri)
    experiment = tracker.ensure_experiment("failing")
    with pytest.raises(RuntimeError, match="boom"), tracker.run(experiment, run_name="x") as run_id:
        raise RuntimeError("boom")
    run = MlflowClient(mlflow_uri).get_run(run_id)
    assert run.info.status == "FAILED" and run.data.tags["error"] == "RuntimeError: boom"


@pytest.mark.parametrize(("raw", "clean"), [("a/b", "a_b"), ("..", "unnamed"), ("ok name-1.2", "ok name-1.2")])
def test_sanitize_name(raw: str, clean: str) -> None:
    assert sanitize_name(raw) == clean


@pytest.fixture(scope="module")
def result() -> Any:
    """The discovered model of configs/exp_decay.yaml (u' = -u)."""
    from pipeline import discover, load_config, load_timeseries

    config = load_config(ROOT / "configs" / "exp_decay.yaml")
    series = load_timeseries(config.data.path, time_column="t", state_columns=["u"])
    return discover(series.t, series.x, config=config.discovery, feature_names=series.names)


def test_a_logged_model_carries_only_the_code_it_imports_and_runs_without_deltaflow_installed(
    mlflow_uri: str, tmp_path: Path, result: Any
) -> None:
    import mlflow

    from flows.model_code import ARCHIVE_NAME, pipeline_modules

    tracker = Tracker(mlflow_uri)
    with tracker.run(tracker.ensure_experiment("model-code"), run_name="m") as run_id:
        uri = tracker.log_discovered_model(run_id, result, name="decay")
    mlflow.set_tracking_uri(mlflow_uri)
    local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "model")))
    assert not (local / "code").exists()  # the modules travel as one archive: one upload, not one per module
    with zipfile.ZipFile(local / "artifacts" / ARCHIVE_NAME) as archive:
        shipped = set(archive.namelist())
    assert shipped == {m.replace(".", "/") + (".py" if (ROOT / m.replace(".", "/")).with_suffix(".py").is_file()
                       else "/__init__.py") for m in pipeline_modules()}  # fmt: skip
    assert len(shipped) < 20 and "pipeline/discovery/result.py" in shipped
    code = (
        "import sys, mlflow, pandas as pd; m = mlflow.pyfunc.load_model(sys.argv[1]);"
        "assert sys.argv[2] not in [p.rstrip('/') for p in sys.path];"  # the checkout itself (its venv may lie inside)
        "print(float(m.predict(pd.DataFrame({'u': [2.0]})).iloc[0, 0]));"
        "out = m.predict(pd.DataFrame({'u': [1.0]}), params={'simulate': True, 't': [0.0, 1.0]});"
        "print(float(out['u'].iloc[-1]));"
        "import pipeline.discovery.simulate as s; assert s.__file__.startswith(sys.argv[1]), s.__file__;"
        "assert '.zip' in s.__file__, s.__file__"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # no deltaflow but the model's own code
    done = subprocess.run(
        [sys.executable, "-c", code, str(local), str(ROOT)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rate, end = (float(v) for v in done.stdout.split()[-2:])
    assert rate == pytest.approx(-2.0, rel=0.05) and end == pytest.approx(0.368, rel=0.05)


def test_a_model_that_cannot_be_stored_is_a_tracking_error_and_its_logged_model_is_failed(
    mlflow_uri: str, tmp_path: Path, result: Any
) -> None:
    tracker = Tracker(mlflow_uri)
    experiment_id = tracker.ensure_experiment("unwritable")
    (tmp_path / "mlartifacts" / "unwritable").mkdir(parents=True)
    (tmp_path / "mlartifacts" / "unwritable" / "models").write_text("a file where the models' folder should be")
    with tracker.run(experiment_id, run_name="m") as run_id, pytest.raises(TrackingError, match="cannot log the model"):
        tracker.log_discovered_model(run_id, result, name="decay")
    (model,) = MlflowClient(mlflow_uri).search_logged_models(experiment_ids=[experiment_id])
    assert str(model.status) == "FAILED" and model.source_run_id == run_id


def test_mlflow_lookups_that_cannot_change_within_a_process_are_made_once(mlflow_uri: str) -> None:
    """Before each REST request MLflow asks whether it runs on Databricks by importing Databricks' runtime (a
    failed import is not cached); after a Tracker exists, the answer is kept and nothing is imported again."""
    from mlflow.tracking.request_header.registry import resolve_request_headers
    from mlflow.utils import requirements_utils

    Tracker(mlflow_uri)
    wanted: list[str] = []

    class Recorder:
        @staticmethod
        def find_spec(name: str, path: object = None, target: object = None) -> None:
            if name.split(".")[0] in ("dbruntime", "pyspark", "databricks"):
                wanted.append(name)

    sys.meta_path.insert(0, Recorder)
    try:
        headers = [resolve_request_headers() for _ in range(3)]
    finally:
        sys.meta_path.remove(Recorder)
    assert wanted == [] and all("User-Agent" in h for h in headers)
    version = requirements_utils._get_installed_version("numpy")
    hits = requirements_utils._get_installed_version.cache_info().hits
    assert requirements_utils._get_installed_version("numpy") == version
    assert requirements_utils._get_installed_version.cache_info().hits == hits + 1


def test_two_metrics_with_one_key_are_refused_not_overwritten(tmp_path: Path) -> None:
    """Keys are cleaned for MLflow ('y %.cv_rmse' -> 'y.cv_rmse'): two that clean up alike were logged under one key,
    the second value silently replacing the first. Now a refusal, raised at once: neither retried nor queued."""
    from flows.outbox import Outbox, RunRecord
    from flows.tracking import _metric_items

    assert [m.key for m in _metric_items({"a/b.cv_rmse": 1.0, "y.cv_rmse": 2.0})] == ["a_b.cv_rmse", "y.cv_rmse"]
    with pytest.raises(InvalidRecordError, match=r"metrics 'y %.cv_rmse' and 'y #.cv_rmse' would both be logged"):
        _metric_items({"y %.cv_rmse": 1.0, "y #.cv_rmse": 2.0})
    record = RunRecord(experiment="e", run_name="r", metrics={"y %.cv_rmse": 1.0, "y #.cv_rmse": 2.0})
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(InvalidRecordError, match="would both be logged as 'y.cv_rmse'") as caught:
        tracker.publish_or_queue(record, Outbox(tmp_path / "outbox"), delays=(0.0,))
    assert caught.value.record is record and not (tmp_path / "outbox").exists()
