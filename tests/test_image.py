"""deltaflow's image, built with podman and run for real (docker/build-local.sh; see docker/README.md).

One build per session (cached base and wheels outside the clone, cached layers: about 30 s when nothing changed,
minutes the first time). Then: a flow as user 10001 into a mounted work folder; the image as MLflow server and
as Prefect server (host network, loopback ports, SQLite) with a flow run from a third container against both; a
bad config ending with exit 2 and one line. Skipped, with the reason, where podman cannot build or run containers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from flows.local_stack import free_port, stop_process, wait_for_http

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("podman-image")]  # one build

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "docker" / "build-local.sh"
EXIT_UNSUPPORTED = 3  # build-local.sh: this machine cannot build or run containers
USER = 10001
# Host networking (services on 127.0.0.1). Podman's healthcheck timers need systemd, which these hosts lack (it
# logs an error line on each start otherwise): one-shot containers run without, servers without the timer; the
# HEALTHCHECK command itself is run explicitly below.
RUN = ("--network", "host", "--no-healthcheck")
SERVE = ("--network", "host", "--health-interval", "disable")


@dataclass(frozen=True)
class Image:
    """The built image and how to reach podman as the build did."""

    tag: str
    env: dict[str, str]

    def podman(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """``podman --runtime runc ARGS`` with the build's containers.conf; output captured as text."""
        return subprocess.run(
            ["podman", "--runtime", "runc", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )


@pytest.fixture(scope="module")
def image() -> Image:
    """Build the image with docker/build-local.sh (installs podman, runc and debootstrap when root and missing)."""
    env = {**os.environ, "IMAGE": "localhost/deltaflow:test", "PYTHON": sys.executable}
    out = subprocess.run(["bash", str(BUILD)], env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode == EXIT_UNSUPPORTED:
        pytest.skip((out.stderr.strip().splitlines() or ["docker/build-local.sh: unsupported here"])[-1])
    assert out.returncode == 0, out.stderr[-4000:]
    facts = dict(part.split("=", 1) for part in out.stdout.strip().splitlines()[-1].split())
    print(f"built {facts['image']}: {int(facts['size_bytes']) / 1e6:.0f} MB in {facts['build_seconds']} s")
    return Image(tag=facts["image"], env={**os.environ, "CONTAINERS_CONF": facts["containers_conf"]})


def _owned_by_container_user(folder: Path) -> Path:
    """A folder the image's user can write: chowned to it as root, else open to all."""
    folder.mkdir(parents=True)
    if os.geteuid() == 0:
        os.chown(folder, USER, USER)
    else:
        folder.chmod(0o777)
    return folder


def _api(url: str, body: dict | None = None) -> dict | list:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_flow_runs_as_user_10001_into_a_mounted_work_folder_and_the_healthcheck_passes(
    image: Image, tmp_path: Path
) -> None:
    work = _owned_by_container_user(tmp_path / "work")
    out = image.podman(
        "run", "--rm", *RUN, "--user", f"{USER}:{USER}", "-v", f"{work}:/work",
        "-e", "MLFLOW_TRACKING_URI=sqlite:////work/mlflow.db",
        image.tag, "python", "-m", "flows", "run", "configs/exp_decay.yaml",
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "u' = -" in out.stdout
    if os.geteuid() == 0:  # no user namespace: the container's user owns what it wrote
        assert (work / "mlflow.db").stat().st_uid == USER
    client = MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("exp_decay").experiment_id])
    assert [run.info.status for run in runs] == ["FINISHED"]
    assert runs[0].info.run_id in out.stdout

    inspected = image.podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}", image.tag)
    check = json.loads(inspected.stdout)["Test"]
    command = check[1:] if check[0] == "CMD" else ["sh", "-c", check[1]]
    assert check[0] in ("CMD", "CMD-SHELL") and command
    health = image.podman("run", "--rm", *RUN, image.tag, *command, timeout=300)
    assert health.returncode == 0, health.stderr[-2000:]


@dataclass(frozen=True)
class Server:
    """A server container started attached (its podman client is the process), with its URL and log."""

    name: str
    process: subprocess.Popen
    url: str
    log: Path


def _start_server(image: Image, name: str, state: Path, command: list[str], probe: str, port: int) -> Server:
    """``podman run`` the image with ``command`` (state in ``/state``); return once ``probe`` answers 200."""
    log = state.parent / f"{name}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            ["podman", "--runtime", "runc", "run", "--rm", "--name", name, *SERVE, "-v", f"{state}:/state",
             "-e", "PREFECT_HOME=/state/prefect", image.tag, *command],
            env=image.env, stdout=sink, stderr=sink, start_new_session=True,
        )  # fmt: skip
    server = Server(name=name, process=process, url=f"http://127.0.0.1:{port}", log=log)
    wait_for_http(server.url + probe, process, timeout=600, log=log)  # a busy machine: bounded, generous
    return server


@pytest.fixture
def servers(image: Image, tmp_path: Path) -> Iterator[dict[str, Server]]:
    """The image as MLflow server and as Prefect server on loopback ports (host network), SQLite stores."""
    state = _owned_by_container_user(tmp_path / "state")
    tag = f"deltaflow-test-{os.getpid()}"
    started: dict[str, Server] = {}
    try:
        port = free_port()
        started["mlflow"] = _start_server(
            image, f"{tag}-mlflow", state,
            ["mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", "sqlite:////state/mlflow.db", "--artifacts-destination", "/state/mlartifacts"],
            "/api/2.0/mlflow/experiments/search?max_results=1", port,
        )  # fmt: skip
        port = free_port()
        started["prefect"] = _start_server(
            image, f"{tag}-prefect", state,
            ["prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)], "/api/health", port,
        )  # fmt: skip
        yield started
    finally:
        for server in started.values():
            image.podman("stop", "--time", "20", server.name, timeout=120)
            stop_process(server.process)
        for suffix in ("mlflow", "prefect"):
            image.podman("rm", "--force", "--ignore", f"{tag}-{suffix}", timeout=120)


def test_flow_from_a_third_container_is_tracked_by_the_mlflow_and_prefect_server_containers(
    image: Image, servers: dict[str, Server]
) -> None:
    mlflow, prefect = servers["mlflow"].url, servers["prefect"].url
    health = image.podman("healthcheck", "run", servers["mlflow"].name, timeout=300)
    assert health.returncode == 0, health.stdout + health.stderr  # the image's HEALTHCHECK in a running container

    out = image.podman(
        "run", "--rm", *RUN, "-e", f"MLFLOW_TRACKING_URI={mlflow}", "-e", f"PREFECT_API_URL={prefect}/api",
        image.tag, "python", "-m", "flows", "run", "configs/exp_decay.yaml",
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]

    name = urllib.parse.quote("exp_decay")
    experiment = _api(f"{mlflow}/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}")["experiment"]
    found = _api(f"{mlflow}/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment["experiment_id"]]})
    (run,) = found["runs"]
    assert run["info"]["status"] == "FINISHED" and run["info"]["run_id"] in out.stdout
    tags = {tag["key"]: tag["value"] for tag in run["data"]["tags"]}

    flow_run = _api(f"{prefect}/api/flow_runs/{tags['prefect.flow_run_id']}")
    assert flow_run["state_type"] == "COMPLETED"
    assert _api(f"{prefect}/api/flows/{flow_run['flow_id']}")["name"] == "discover-equations"


def test_bad_config_in_the_container_ends_with_exit_2_and_one_line(image: Image, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "configs" / "exp_decay.yaml").read_text() + "smoothing_window: 7\n")
    bad.chmod(0o644)
    out = image.podman("run", "--rm", *RUN, "-v", f"{bad}:/work/bad.yaml:ro", image.tag,
                       "python", "-m", "flows", "run", "/work/bad.yaml", timeout=300)  # fmt: skip
    assert out.returncode == 2, out.stdout[-2000:] + out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(r"error: .*smoothing_window", lines[0]), out.stderr
