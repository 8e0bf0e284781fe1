"""Schedules and served deployments: configs become deployments; a served one runs when triggered."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT, runs_of


def _config(folder: Path, name: str, schedule: dict | None) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "exp_decay.yaml").read_text())
    raw |= {"name": name, "data": {**raw["data"], "path": str(ROOT / "data" / "exp_decay.csv")}}
    raw["discovery"]["n_bootstrap"] = 0
    raw["tracking"] = {"log_model": False}
    if schedule:
        raw["schedule"] = schedule
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_schedules_become_deployment_schedules(tmp_path: Path) -> None:
    from flows.deployments import build_deployments, describe_schedule

    _config(tmp_path, "nightly", {"cron": "0 3 * * *", "timezone": "Europe/Oslo"})
    _config(tmp_path, "hourly", {"interval": 3600})
    _config(tmp_path, "adhoc", None)
    _config(tmp_path, "daily", {"cron": "@daily"})  # Prefect's nickname; it was refused as shorter than 9 characters
    found = {d.name: d for d in build_deployments(tmp_path)}
    assert describe_schedule(found["daily"]) == "cron @daily (UTC)"
    assert describe_schedule(found["nightly"]) == "cron 0 3 * * * (Europe/Oslo)"
    assert describe_schedule(found["hourly"]) == "every 3600 s"
    assert describe_schedule(found["adhoc"]) == "on demand"
    assert found["nightly"].parameters == {"config": str((tmp_path / "nightly.yaml").resolve())}
    assert {d.name for d in build_deployments(tmp_path, only_scheduled=True)} == {"nightly", "hourly", "daily"}


def test_bad_schedules_and_duplicate_names_are_config_errors(tmp_path: Path) -> None:
    from flows.deployments import build_deployments

    with pytest.raises(ConfigError, match="exactly one of 'cron' or 'interval'"):
        load_config(_config(tmp_path, "both", {"cron": "0 3 * * *", "interval": 60}))
    with pytest.raises(ConfigError, match="needs 5 fields"):
        load_config(_config(tmp_path, "short", {"cron": "0 3 * * * * *"}))
    with pytest.raises(ConfigError, match=r"field 'schedule.timezone': unknown time zone.*\(got 'Mars/Olympus'\)"):
        load_config(_config(tmp_path, "mars", {"cron": "0 3 * * *", "timezone": "Mars/Olympus"}))
    with pytest.raises(ConfigError, match=r"unknown time zone; did you mean 'Europe/Oslo'\?"):
        load_config(_config(tmp_path, "lower", {"cron": "0 3 * * *", "timezone": "europe/oslo"}))
    with pytest.raises(ConfigError, match=r"'@dialy' needs 5 fields .* or is one of @yearly"):
        load_config(_config(tmp_path, "typo", {"cron": "@dialy"}))
    out_of_range = tmp_path / "range"
    out_of_range.mkdir()
    config = _config(out_of_range, "minute-99", {"cron": "99 3 * * *"})
    expected = re.escape(f"{config}: schedule: cron expression '99 3 * * *': minute field '99': '99' is not between 0")
    with pytest.raises(ConfigError, match=expected):
        build_deployments(out_of_range)
    dup = tmp_path / "dups"
    dup.mkdir()
    _config(dup, "same", None)
    (dup / "copy.yaml").write_text((dup / "same.yaml").read_text())
    with pytest.raises(ConfigError, match="deployment names must differ"):
        build_deployments(dup)


def test_serving_without_a_prefect_server_says_how_to_start_one(tmp_path: Path) -> None:
    # Prefect's temporary server runs no scheduler and no other process can reach it: serving on it did nothing,
    # silently, for as long as the command ran.
    config = _config(tmp_path, "unserved", {"interval": 30})
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    try:
        out = subprocess.run(
            [sys.executable, "-m", "flows", "serve", str(config)], cwd=tmp_path, env=clean, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("serve kept serving on Prefect's temporary server, where nothing is ever scheduled")
    assert out.returncode == 2, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "python -m flows server start" in lines[0], out.stderr
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.integration
def test_served_deployment_runs_when_triggered(prefect_harness: None, mlflow_uri: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    config = _config(tmp_path, "served-decay", {"cron": "0 3 * * *"})
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "MLFLOW_TRACKING_URI": mlflow_uri}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "flows", "serve", str(config)], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    try:
        deployment = None
        deadline = time.monotonic() + 180
        with get_client(sync_client=True) as client:
            while deployment is None and time.monotonic() < deadline:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    deployment = client.read_deployment_by_name("discover-equations/served-decay")
                except Exception:  # noqa: BLE001 - not registered yet
                    time.sleep(1)
        assert deployment is not None, "the served deployment never appeared"
        assert deployment.schedules[0].schedule.cron == "0 3 * * *"
        flow_run = run_deployment("discover-equations/served-decay", timeout=300, poll_interval=1)
        assert flow_run.state.is_completed(), flow_run.state
        (run,) = runs_of(mlflow_uri, "served-decay")
        assert run.info.status == "FINISHED" and run.data.tags["prefect.flow_run_id"] == str(flow_run.id)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
