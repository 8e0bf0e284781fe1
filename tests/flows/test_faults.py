"""Faults survived: MLflow unreachable or killed mid-batch (outbox + sync), the batch process killed (resume)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import ROOT, free_port, runs_of, start_mlflow_server, stop_process

FAST_FAILURE = {"DELTAFLOW_RETRY_DELAYS": "0.2,0.2", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}


def _configs(folder: Path, n: int, bootstrap: int = 0) -> Path:
    """n small discovery configs (exp decay with different noise seeds), one data file each."""
    import numpy as np
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    t = np.linspace(0, 5, 100)
    for i in range(n):
        u = np.exp(-(0.5 + 0.1 * i) * t) + 0.01 * np.random.default_rng(i).standard_normal(100)
        pd.DataFrame({"t": t, "u": u}).to_csv(folder / f"item{i}.csv", index=False)
        config = {
            "name": f"item{i}",
            "data": {"path": f"item{i}.csv"},
            "discovery": {"library": {"degree": 2}, "n_bootstrap": bootstrap},
            "tracking": {"log_model": False},
        }
        (folder / f"item{i}.yaml").write_text(yaml.safe_dump(config))
    return folder


def _finished_children(uri: str, experiment: str) -> list:
    return [
        r
        for r in runs_of(uri, experiment)
        if r.info.status == "FINISHED" and r.data.tags.get("deltaflow.kind") != "batch"
    ]


def test_unreachable_mlflow_queues_the_run_and_sync_replays_it(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import discover_equations
    from flows.outbox import Outbox
    from flows.sync import sync_outbox
    from flows.tracking import Tracker

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("DELTAFLOW_OUTBOX", str(tmp_path / "outbox"))
    for key, value in FAST_FAILURE.items():
        monkeypatch.setenv(key, value)
    outcome = discover_equations(ROOT / "configs" / "exp_decay.yaml")
    assert outcome.mlflow_run_id is None and outcome.outbox is not None
    assert outcome.result.equations  # the science is not lost with the tracking
    box = Outbox(tmp_path / "outbox")
    (queued,) = box.pending()
    assert {"equations.txt", "report.html", "plots/pareto.png"} <= set(box.load(queued).files)

    store = f"sqlite:///{(tmp_path / 'later.db').as_posix()}"
    report = sync_outbox(Tracker(store), box)
    done = report.published
    assert len(done) == 1 and box.pending() == [] and report.skipped == [] and report.stopped_by is None
    (run,) = runs_of(store, "exp_decay")
    assert run.info.status == "FINISHED" and run.info.run_id == done[0][1]
    assert run.data.tags["result.equations"].startswith("u' = -")
    client = MlflowClient(store)
    assert (
        Path(client.download_artifacts(run.info.run_id, "equations.txt")).read_text()
        == "\n".join(outcome.result.equations) + "\n"
    )
    (model_output,) = run.outputs.model_outputs  # the pyfunc model was logged on replay too
    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(store)
    model = mlflow.pyfunc.load_model(f"models:/{model_output.model_id}")
    assert float(model.predict(pd.DataFrame({"u": [2.0]})).iloc[0, 0]) == pytest.approx(-2.0, rel=0.05)


def test_a_batch_queued_whole_is_synced_with_its_parent_linking_every_item(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow down for the whole batch: after sync the parent's summary.csv, counts and description name each
    item's run, not QUEUED without a link."""
    import pandas as pd

    from flows import run_batch
    from flows.outbox import Outbox
    from flows.records import NOTE_TAG
    from flows.sync import sync_outbox
    from flows.tracking import Tracker

    folder = _configs(tmp_path / "configs", 2)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("DELTAFLOW_OUTBOX", str(tmp_path / "outbox"))
    for key, value in FAST_FAILURE.items():
        monkeypatch.setenv(key, value)
    outcome = run_batch(folder, name="offline")
    assert [item.status for item in outcome.items] == ["QUEUED", "QUEUED"]
    box = Outbox(tmp_path / "outbox")
    assert len(box.pending()) == 3  # the parent and its two items

    store = f"sqlite:///{(tmp_path / 'later.db').as_posix()}"
    report = sync_outbox(Tracker(store), box)
    assert report.stopped_by is None and len(report.published) == 3 and box.pending() == []
    (parent,) = [r for r in runs_of(store, "offline") if r.data.tags.get("deltaflow.kind") == "batch"]
    assert report.parents_updated == [parent.info.run_id] and report.parents_not_updated == []
    finished = _finished_children(store, "offline")
    assert {r.data.tags["mlflow.parentRunId"] for r in finished} == {parent.info.run_id}  # nested, though queued
    children = {r.data.params["name"]: r.info.run_id for r in finished}
    assert set(children) == {"item0", "item1"}
    client = MlflowClient(store)
    summary = pd.read_csv(client.download_artifacts(parent.info.run_id, "summary.csv", str(tmp_path)))
    assert list(summary["status"]) == ["FINISHED", "FINISHED"]
    assert {Path(c).stem: r for c, r in zip(summary["config"], summary["mlflow_run_id"])} == children
    assert summary["queued_record_id"].isna().all()
    parent = client.get_run(parent.info.run_id)
    assert parent.data.metrics["finished"] == 2 and parent.data.metrics["queued"] == 0
    note = parent.data.tags[NOTE_TAG]
    assert "2 items: 2 finished." in note and "QUEUED" not in note and note.count("**Items**") == 1
    pages = [f"[{run_id[:8]}](#/experiments/{parent.info.experiment_id}/runs/{run_id}" for run_id in children.values()]
    assert all(page in note for page in pages)
    assert sync_outbox(Tracker(store), box).parents_updated == []  # nothing left to link


@pytest.mark.integration
def test_mlflow_server_killed_mid_batch_loses_nothing(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    folder = _configs(tmp_path / "configs", 6)
    port = free_port()
    server, uri = start_mlflow_server(tmp_path / "server", port=port)
    watcher = f"sqlite:///{(tmp_path / 'server' / 'server.db').as_posix()}"  # read the server's store directly
    env = {
        **os.environ, **FAST_FAILURE, "MLFLOW_TRACKING_URI": uri, "DELTAFLOW_OUTBOX": str(tmp_path / "outbox"),
        "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "300",
    }  # fmt: skip
    batch = subprocess.Popen(
        [sys.executable, "-m", "flows", "batch", str(folder), "--name", "nightly"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while len(_finished_children(watcher, "nightly")) < 1 and time.monotonic() < deadline:
            assert batch.poll() is None, batch.communicate()
            time.sleep(0.2)
        stop_process(server)  # MLflow dies in the middle of the batch
        out, err = batch.communicate(timeout=600)
    finally:
        stop_process(server)
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 4, err[-3000:]  # done, but some items wait in the outbox
    assert "QUEUED" in out
    before = len(_finished_children(watcher, "nightly"))
    assert 1 <= before < 6

    server, uri = start_mlflow_server(tmp_path / "server", port=port)  # back, same store
    try:
        sync = subprocess.run(
            [sys.executable, "-m", "flows", "sync"], cwd=tmp_path, env={**env, "MLFLOW_TRACKING_URI": uri},
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert sync.returncode == 0, sync.stderr[-3000:]
        children = _finished_children(uri, "nightly")
        assert sorted(r.data.params["name"] for r in children) == [f"item{i}" for i in range(6)]  # all, once each
        (parent,) = [r for r in runs_of(uri, "nightly") if r.data.tags.get("deltaflow.kind") == "batch"]
        assert parent.info.status == "FINISHED" and parent.data.metrics["items"] == 6
        assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
        assert not list((tmp_path / "outbox").glob("*-*"))
        summary = MlflowClient(uri).download_artifacts(parent.info.run_id, "summary.csv", str(tmp_path))
        assert "QUEUED" not in Path(summary).read_text()  # sync linked the items queued mid-batch to their runs
        assert "batch parent" in sync.stdout
    finally:
        stop_process(server)


@pytest.mark.integration
def test_batch_killed_mid_way_resumes_without_recomputing(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    folder = _configs(tmp_path / "configs", 6, bootstrap=40)
    store = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "300"}
    err = tmp_path / "batch.stderr"
    with err.open("w") as stderr:
        batch = subprocess.Popen(
            [sys.executable, "-m", "flows", "batch", str(folder), "--name", "resumable"],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 240
    while len(_finished_children(store, "resumable")) < 2 and time.monotonic() < deadline:
        assert batch.poll() is None, f"the batch ended before it could be killed: {err.read_text()[-2000:]}"
        time.sleep(0.1)
    os.killpg(batch.pid, signal.SIGKILL)  # a real, unclean kill
    batch.wait(timeout=30)
    done_before = {r.data.params["name"]: r.info.run_id for r in _finished_children(store, "resumable")}
    assert 2 <= len(done_before) < 6

    rerun = subprocess.run(
        [sys.executable, "-m", "flows", "batch", str(folder), "--name", "resumable"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stdout.count("REUSED") == len(done_before)
    after = _finished_children(store, "resumable")
    assert sorted(r.data.params["name"] for r in after) == [f"item{i}" for i in range(6)]  # no item run twice
    assert {r.data.params["name"]: r.info.run_id for r in after if r.data.params["name"] in done_before} == done_before
