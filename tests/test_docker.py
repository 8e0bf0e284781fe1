"""The container image and the compose stack, validated without a Docker engine: hadolint and Compose v2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent
COMPOSE = Path(__import__("compose").__file__).parent / "docker-compose"  # the binary: its Python wrapper exits 0


def _compose(*args: str, password: str | None = "s3cret-for-tests") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    if password is not None:
        env["POSTGRES_PASSWORD"] = password
    return subprocess.run(
        [str(COMPOSE), "-f", str(DOCKER / "compose.yaml"), *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def stack() -> dict:
    out = _compose("--profile", "dask", "config", "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_dockerfile_passes_hadolint() -> None:
    out = subprocess.run([str(BIN / "hadolint"), str(DOCKER / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dockerfile_is_multistage_slim_pinned_non_root_with_healthcheck() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    default_base = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, flags=re.M)  # a build argument, the public slim image
    assert default_base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", default_base.group(1))
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, flags=re.M)
    bases = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert len(bases) >= 2 and all(b == "${BASE_IMAGE}" or b in stages for b in bases)
    assert "python3.11 -m venv" in text and "/usr/local/bin" not in text  # works on any base with python3.11
    assert re.search(r"^USER \d+:\d+$", text, flags=re.M)
    assert re.search(r"^HEALTHCHECK ", text, flags=re.M)
    final = text.split("\nFROM ")[-1]
    assert "apt-get" not in final and "gcc" not in final  # no build tools in the runtime stage
    lock = [
        line for line in (DOCKER / "requirements.lock").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert lock and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+", line) for line in lock)


def test_compose_is_valid_and_needs_the_password_from_the_environment() -> None:
    assert _compose("config", "--quiet").returncode == 0
    missing = _compose("config", "--quiet", password=None)
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr
    raw = (DOCKER / "compose.yaml").read_text()
    assert not re.search(r"(?im)^\s*\w*password\w*:\s*(?!\$\{)\S", raw)  # no literal password value
    for credentials in re.findall(r"://[^/\s:@]+:([^@\s]+)@", raw):  # nor one inside a connection URL
        assert credentials.startswith("${POSTGRES_PASSWORD:?")


def test_every_service_has_an_api_healthcheck_and_publishes_only_loopback(stack: dict) -> None:
    services = stack["services"]
    assert {"postgres", "prefect-server", "mlflow", "worker", "dask-scheduler", "dask-worker"} <= set(services)
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert "/health" not in " ".join(service["healthcheck"]["test"]), f"{name} checks /health only"
        for port in service.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    assert not services["postgres"].get("ports")  # the database is reachable by the services only


def test_mlflow_service_allows_its_service_name_and_runs_no_jobs(stack: dict) -> None:
    mlflow = stack["services"]["mlflow"]
    command = " ".join(mlflow["command"])
    allowed = re.search(r"--allowed-hosts=(\S+)", command).group(1).split(",")
    assert "mlflow:5000" in allowed and "mlflow" in allowed
    assert "postgresql+psycopg2://" in command and "--artifacts-destination=/mlartifacts" in command
    assert mlflow["environment"]["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert "mlartifacts" in {v.get("source") for v in mlflow["volumes"]}
    worker = stack["services"]["worker"]
    assert worker["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert worker["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"


def test_prefect_yaml_deployments_point_at_real_flows_and_configs() -> None:
    import yaml

    spec = yaml.safe_load((DOCKER / "prefect.yaml").read_text())
    for deployment in spec["deployments"]:
        module, function = deployment["entrypoint"].split(":")
        assert (ROOT / module).is_file() and f"def {function}(" in (ROOT / module).read_text()
        assert (ROOT / deployment["parameters"]["config"]).is_file()
        assert deployment["work_pool"]["name"] == "deltaflow"
