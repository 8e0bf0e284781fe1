"""Ctrl-C (SIGINT to the whole process group, as a terminal sends it) and SIGTERM stop a running CLI
promptly: exit 130 / 143, one line, and the MLflow run recorded FAILED, never FINISHED."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, runs_of


def _slow_config(folder: Path) -> Path:
    """A discovery that takes far longer than the test waits (1000 bootstrap fits of 35 terms, 3 states)."""
    import numpy as np
    import pandas as pd

    t = np.linspace(0, 20, 6000)
    noise = 0.01 * np.random.default_rng(0).standard_normal((3, t.size))
    pd.DataFrame(
        {"t": t, "x": np.sin(t) + noise[0], "y": np.cos(t) + noise[1], "z": np.exp(-0.1 * t) + noise[2]}
    ).to_csv(folder / "slow.csv", index=False)
    config = {
        "name": "slow",
        "data": {"path": "slow.csv"},
        "discovery": {"library": {"degree": 3}, "n_bootstrap": 1000},
        "tracking": {"log_model": False},
    }
    (folder / "slow.yaml").write_text(yaml.safe_dump(config))
    return folder / "slow.yaml"


def _wait_for(condition: object, process: subprocess.Popen, what: str, limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, f"the CLI ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within {limit} s"
        time.sleep(0.1)


def _temporary_servers_of(parent: int) -> list[int]:
    """Process ids of the temporary Prefect servers (``uvicorn`` serving Prefect's app) whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            parent_id = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent_id == parent and b"prefect.server.api.server:create_app" in command:
            found.append(int(entry.name))
    return found


def _ended(pid: int) -> bool:
    """The process is gone, or a zombie nobody reaps (a container's init may not)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize(("signum", "code", "word"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_stops_the_run_marks_it_failed_and_exits_in_one_line(
    prefect_harness: None, tmp_path: Path, signum: int, code: int, word: str
) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.tracking import Tracker

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    Tracker(uri)  # the store exists, as in any folder after its first run
    config = _slow_config(tmp_path)
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    env |= {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(home), "COLUMNS": "400"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flows", "run", str(config)], cwd=tmp_path, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        storage = home / "storage"  # the first stage's cached result: the computation is under way
        _wait_for(lambda: storage.is_dir() and any(storage.iterdir()), process, "cached stage result")
        os.killpg(process.pid, signum)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == code, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in out + err, err
    (run,) = runs_of(uri, "slow")
    # SIGTERM reaches the flow as Prefect's TerminationSignal (its engine's own handler), SIGINT as ours
    assert run.info.status == "FAILED" and run.data.tags["error"].startswith(("KeyboardInterrupt", "TerminationSignal"))


@pytest.mark.slow
@pytest.mark.integration
def test_ctrl_c_with_the_temporary_server_records_both_runs_ended_and_leaves_no_server(tmp_path: Path) -> None:
    """The user's path: no server configured, so the CLI starts Prefect's temporary server. After Ctrl-C the
    MLflow run is FAILED, the Prefect flow run is not left RUNNING, no process of the group is left (the
    server is killed, not orphaned), and the folder's stores pass the next run's check."""
    import sqlite3

    from flows.stores import check_sqlite_file

    config = _slow_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "flows", "run", str(config)], cwd=tmp_path, env=env | {"COLUMNS": "400"},
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    home = tmp_path / ".state" / "prefect"
    try:
        storage = home / "storage"
        _wait_for(lambda: storage.is_dir() and any(storage.iterdir()), process, "cached stage result", 600.0)
        (server,) = _temporary_servers_of(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Ctrl-C" in lines[0], err
    with pytest.raises(ProcessLookupError):  # no process of the group is left
        os.killpg(process.pid, 0)
    assert _ended(server)  # nor the temporary server (in its own session: the group's signals do not reach it)
    (run,) = runs_of(f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}", "slow")
    assert run.info.status == "FAILED" and run.data.tags["error"].startswith("KeyboardInterrupt")
    with sqlite3.connect(home / "prefect.db") as db:
        states = [row[0] for row in db.execute("SELECT state_type FROM flow_run")]
    assert states and "RUNNING" not in states and set(states) <= {"CRASHED", "FAILED", "CANCELLED"}, states
    check_sqlite_file(home / "prefect.db", "Prefect")
    check_sqlite_file(tmp_path / "mlflow.db", "MLflow")


@pytest.mark.integration
def test_a_cli_killed_outright_leaves_no_temporary_server_behind(tmp_path: Path) -> None:
    """SIGKILL (or a SIGTERM before the CLI's handlers are in place) ends the CLI without its exit handlers: the
    temporary server it started notices that its parent is gone and stops itself (it was left running, orphaned)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "flows", "run", str(_slow_config(tmp_path))], cwd=tmp_path, env=env,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(lambda: _temporary_servers_of(process.pid), process, "temporary server process")
        (server,) = _temporary_servers_of(process.pid)
        process.kill()
        process.wait(timeout=60)
        deadline = time.monotonic() + 120.0
        while not _ended(server):
            assert time.monotonic() < deadline, "the temporary server outlived its CLI by 120 s"
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_an_error_raised_because_of_an_interrupt_is_reported_as_the_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C that lands between two steps of Prefect's engine can surface as another error (seen:
    ``ValueError: Task run is not set``): once a signal was received, the command ends as interrupted."""
    import typer

    from flows import cli

    monkeypatch.setattr(cli, "_received", [signal.SIGINT])
    with pytest.raises(typer.Exit) as caught, cli._reported(verbose=False):
        raise ValueError("Task run is not set")
    assert caught.value.exit_code == 130
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Ctrl-C" in lines[0] and "ValueError" not in lines[0]


def test_a_sigterm_prefect_caught_itself_is_reported_as_the_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """While a flow runs, Prefect's own SIGTERM handler stands in for ours: a SIGTERM that lands while its engine
    sets up a task leaves as ``ValueError: Task run is not set`` with Prefect's ``TerminationSignal`` behind it,
    and our handler never sees it (the test above hit it once in a full run on a busy machine: exit 1)."""
    import typer
    from prefect.exceptions import TerminationSignal

    from flows import cli

    monkeypatch.setattr(cli, "_received", [])
    with pytest.raises(typer.Exit) as caught, cli._reported(verbose=False):
        try:
            raise TerminationSignal(signal.SIGTERM)
        except TerminationSignal:
            raise ValueError("Task run is not set")  # noqa: B904 - as the engine raises it: the signal is its context
    assert caught.value.exit_code == 143
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "SIGTERM" in lines[0] and "ValueError" not in lines[0]


def test_an_interrupt_while_the_run_is_written_to_mlflow_closes_it_failed(
    prefect_harness: None, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C during "logging to MLflow": the run MLflow had already created was left RUNNING (new-user review),
    though the CLI says it is recorded FAILED. The interrupt is raised where the finished run's parts are written."""
    from flows import discover_equations
    from flows.tracking import Tracker

    write = Tracker._write_run

    def interrupted(self: Tracker, record: object, tags: dict[str, str], dataset: str | None) -> str | None:
        if getattr(record, "status", None) == "FINISHED":
            raise KeyboardInterrupt
        return write(self, record, tags, dataset)  # type: ignore[arg-type]

    monkeypatch.setattr(Tracker, "_write_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        discover_equations(ROOT / "configs" / "exp_decay.yaml")
    (run,) = runs_of(mlflow_uri, "exp_decay")
    assert run.info.status == "FAILED" and run.data.tags["error"].startswith("KeyboardInterrupt")


def test_an_interrupt_whose_keyboard_interrupt_was_lost_stops_the_run_at_its_next_stage(
    prefect_harness: None, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's handler noted a Ctrl-C but its KeyboardInterrupt was dropped (raised inside a weakref callback of an
    import lock, which Python ignores): the run went on and finished (1 Ctrl-C in 3, new-user review)."""
    from flows import discover_equations, interrupts

    monkeypatch.setattr(interrupts, "received", [signal.SIGINT])
    with pytest.raises(KeyboardInterrupt):
        discover_equations(ROOT / "configs" / "exp_decay.yaml")
    (run,) = runs_of(mlflow_uri, "exp_decay")
    assert run.info.status == "FAILED" and run.data.tags["error"].startswith("KeyboardInterrupt")


def test_a_keyboard_interrupt_python_drops_prints_no_traceback_and_other_lost_errors_still_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The handler's KeyboardInterrupt raised inside a weakref callback: Python printed "Exception ignored in ..." and
    a traceback under the CLI's one line (new-user review); the flow's next stage raises it again instead."""
    import weakref

    from flows import cli

    seen: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)

    class Thing:
        pass

    def dropped(error: BaseException) -> None:
        thing = Thing()
        reference = weakref.ref(thing, lambda _: (_ for _ in ()).throw(error))
        del thing  # the callback runs now; what it raises goes to sys.unraisablehook
        assert reference() is None

    with cli._interruptible():
        dropped(KeyboardInterrupt())
        dropped(ValueError("a real bug"))
    assert [type(u.exc_value) for u in seen] == [ValueError]  # type: ignore[attr-defined]
