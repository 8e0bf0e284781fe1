"""The MLflow adapter on a real SQLite store."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from flows.tracking import Tracker, sanitize_name


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
