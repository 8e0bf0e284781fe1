"""``python -m flows`` as a user runs it: real subprocesses, embedded defaults in a temp folder."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, runs_of


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, python_flags: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m flows ARGS`` in ``cwd`` on the embedded defaults; with ``python_flags`` the first two
    arguments are interpreter flags (``-X importtime``)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    clean |= {"COLUMNS": "400", **(env or {})}  # rich folds wide tables to the terminal; CI has none
    flags, args = (args[:2], args[2:]) if python_flags else ((), args)
    return subprocess.run(
        [sys.executable, *flags, "-m", "flows", *args], cwd=cwd, env=clean, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def test_run_prints_equations_run_id_and_ui_command_and_uses_the_local_store(tmp_path: Path) -> None:
    out = _cli("-X", "importtime", "run", str(ROOT / "configs" / "exp_decay.yaml"), cwd=tmp_path, python_flags=True)
    assert out.returncode == 0, out.stderr
    modules = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if "|" in line}
    assert "prefect.server.api.server" not in modules  # the temporary server runs it in its own process only
    assert re.search(r"u' = -(0\.9[5-9]\d*|1\.0[0-4]\d*) u\n", out.stdout) and "MLflow run id:" in out.stdout
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    assert f"ui --backend-store-uri {uri}" in out.stdout
    assert re.search(r"^ u +u +-(0\.9[5-9]\d*|1\.0[0-4]\d*) +-?[\d.]+ to -?[\d.]+ *$", out.stdout, flags=re.MULTILINE)
    assert re.search(r"^ complexity +1 +terms in the model", out.stdout, flags=re.MULTILINE), out.stdout
    stages = re.findall(r"^exp_decay: (.+)… \(at \d+ s\)$", out.stdout, flags=re.MULTILINE)  # progress in a log, too
    assert stages == [
        "starting the flow", "reading the data", "smoothing and differentiating", "discovering the model",
        "logging to MLflow",
    ]  # fmt: skip
    assert out.stdout.startswith("exp_decay: loading Prefect and MLflow…\n")  # the first seconds are not silent
    (run_line,) = [line for line in out.stdout.splitlines() if line.startswith("then the run: ")]
    assert re.fullmatch(r"then the run: http://127\.0\.0\.1:5000/#/experiments/\d+/runs/\w{32}\?workflowType=machine_learning",
                        run_line)  # fmt: skip
    with sqlite3.connect(tmp_path / ".state" / "prefect" / "prefect.db") as db:  # the flow run, on its server
        assert [row[0] for row in db.execute("SELECT state_type FROM flow_run")] == ["COMPLETED"]
    runs = runs_of(uri, "exp_decay")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].info.run_id in out.stdout
    assert (tmp_path / "mlartifacts").is_dir()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("name: a\ndata:\n  path: d.csv\nbogus: 1\n", "unknown key 'bogus'"),
        ("name: a\ndata:\n  path: missing.csv\n", "missing.csv: data file not found"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_no_traceback(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(config)
    out = _cli("run", "c.yaml", cwd=tmp_path)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_bad_data_is_reported_before_any_run_exits_2_and_leaves_no_run(tmp_path: Path) -> None:
    # The CLI reads and validates the data before it starts anything (issue 15): a user error creates no
    # experiment and no run. (From Python too; a scheduled run records a FAILED run: test_discovery_flow.py.)
    (tmp_path / "d.csv").write_text("t,u\n0,1\n1,2\n2,1\n3,1\n4,inf\n5,1\n")
    (tmp_path / "c.yaml").write_text("name: bad\ndata:\n  path: d.csv\n")
    out = _cli("run", "c.yaml", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "column 'u' has inf at data row 5" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "d.csv"]  # no store, no experiment, no run


@pytest.mark.parametrize(
    ("data", "settings", "message"),
    [
        ("irregular", "{method: spectral}", r"field 'differentiation.method': method 'spectral' on .*irregular.csv:"
         r" needs uniformly sampled t"),
        ("lorenz", "{method: savgol, params: {window: -4, polyorder: 9}}", r"field 'differentiation.params.window':"
         r" method 'savgol' on .*lorenz.csv: window must be odd, > polyorder \(9\) .*\(2000\); got -4$"),
        ("lorenz", "{method: savgol, params: {window: 100000}}", r"field 'differentiation.params.window': .*100000$"),
    ],
)  # fmt: skip
def test_derivative_settings_the_data_refuse_are_named_by_field_before_any_run(
    tmp_path: Path, data: str, settings: str, message: str
) -> None:
    times = np.sort(np.random.default_rng(0).uniform(0, 10, 200))
    (tmp_path / "irregular.csv").write_text("t,u\n" + "".join(f"{t},{np.exp(-t / 3)}\n" for t in times))
    path = tmp_path / "irregular.csv" if data == "irregular" else ROOT / "data" / "lorenz.csv"
    (tmp_path / "c.yaml").write_text(f"name: probe\ndata: {{path: {path}}}\ndifferentiation: {settings}\n")
    out = _cli("run", "c.yaml", cwd=tmp_path)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert re.search(r"^error: config 'probe': " + message, lines[0]), lines[0]
    assert "SavitzkyGolay" not in lines[0]  # the config's words, not a class name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "irregular.csv"]  # no store, no run


def test_a_run_not_tracked_says_so(tmp_path: Path) -> None:
    raw = (ROOT / "configs" / "exp_decay.yaml").read_text().replace("../data/", f"{ROOT / 'data'}/")
    (tmp_path / "c.yaml").write_text(raw + "\ntracking: {enabled: false}\n")
    out = _cli("run", "c.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Not logged to MLflow (tracking.enabled: false)." in out.stdout and "MLflow run id" not in out.stdout


def test_list_shows_the_shipped_configs() -> None:
    out = _cli("list", "configs", cwd=ROOT)
    assert out.returncode == 0
    for name in ("exp_decay", "lorenz", "lotka_volterra", "lynx_hare"):
        assert name in out.stdout
    narrow = _cli("list", "configs", cwd=ROOT, env={"COLUMNS": "80"})  # a block per config, no folded table
    assert "exp_decay.yaml  exp_decay (discovery; exp_decay.csv)\n    Exponential decay" in narrow.stdout
    assert "┃" not in narrow.stdout


def test_a_folder_that_is_missing_or_given_as_a_config_is_a_one_line_error(tmp_path: Path) -> None:
    listed = _cli("list", "nosuchdir", cwd=tmp_path)
    assert (listed.returncode, listed.stdout) == (2, "")
    assert listed.stderr.strip() == "error: nosuchdir: no such folder (expected a folder of YAML run configs)"
    run = _cli("run", ".", cwd=tmp_path)
    assert run.returncode == 2 and "a folder, not a config file" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-w", "0", "-e", "dask"], "batch option --workers 0: input should be greater than or equal to 1"),
        (["--chunk-size", "-1"], "batch option --chunk-size -1: input should be greater than or equal to 1"),
        (["-e", "dsk"], "batch option --executor 'dsk': input should be 'local' or 'dask'"),
        (["--address", "tcp://h:8786"], "batch option --address 'tcp://h:8786': needs --executor dask"),
    ],
)
def test_a_bad_batch_option_is_named_with_the_value_given(tmp_path: Path, options: list[str], message: str) -> None:
    out = _cli("batch", str(ROOT / "configs" / "exp_decay.yaml"), *options, cwd=tmp_path)
    assert (out.returncode, out.stderr.strip(), out.stdout) == (2, f"error: {message}", "")
    assert list(tmp_path.iterdir()) == []


def test_batch_reports_each_item_and_exits_1_when_one_failed(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\ndata:\n  path: missing.csv\n")
    out = _cli("batch", str(ROOT / "configs" / "exp_decay.yaml"), "bad.yaml", "--name", "nightly", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "FINISHED" in out.stdout and "FAILED" in out.stdout and "missing.csv" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    assert len(runs_of(uri, "nightly")) == 3  # the parent, a finished child, a failed child


@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("batch", "--help"), ("server", "--help")])
def test_help_shows_flags_as_typed_not_as_taking_a_value(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = _cli(*args, cwd=tmp_path)
    assert out.returncode == 0 and "<bool>" not in out.stdout, out.stdout
    flags = re.findall(r"(--help|--version|--verbose +-v|--resume +--no-resume) *(\S*)", out.stdout)
    assert flags and all(after[:1] != "<" for _, after in flags), flags  # the help text follows, no type
    assert re.search(r"--name +-n +<str>", out.stdout) or args[0] != "batch"  # options with a value keep their type


def _imported(importtime_stderr: str) -> set[str]:
    """Top-level packages named in ``python -X importtime`` output."""
    return {line.split("|")[-1].strip().split(".")[0] for line in importtime_stderr.splitlines() if "|" in line}


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("run", "--help"), ("server", "--help")])
def test_help_and_version_answer_without_prefect_or_mlflow(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = _cli("-X", "importtime", *args, cwd=tmp_path, python_flags=True)
    assert out.returncode == 0, out.stderr
    assert not {"prefect", "mlflow"} & _imported(out.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_column_is_reported_before_prefect_or_mlflow_is_imported(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("t,u\n0,1\n1,2\n2,3\n3,4\n4,5\n5,6\n6,7\n")
    (tmp_path / "c.yaml").write_text("name: a\ndata:\n  path: d.csv\n  state_columns: [nope]\n")
    out = _cli("-X", "importtime", "run", "c.yaml", cwd=tmp_path, python_flags=True)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip() and "|" not in line]
    assert lines == [
        f"error: {(tmp_path / 'd.csv').resolve()}: missing column(s) ['nope'] (data.state_columns);"
        " the file has ['t', 'u']"
    ]
    assert not {"prefect", "mlflow"} & _imported(out.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "d.csv"]  # no store, no experiment, no run


def test_a_temporary_server_that_cannot_start_is_one_line_with_the_fix_and_exit_3(tmp_path: Path) -> None:
    # A start timeout of 0 s makes Prefect give up at once: the failure a busy machine produced, deterministically.
    out = _cli("run", str(ROOT / "configs" / "exp_decay.yaml"), cwd=tmp_path,
               env={"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "0"})  # fmt: skip
    assert out.returncode == 3, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "temporary server did not start" in lines[0], out.stderr
    assert "python -m flows server start" in lines[0] and "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in lines[0]
    assert "Traceback" not in out.stdout + out.stderr


def test_a_start_timeout_that_is_not_whole_seconds_is_named_before_prefect_is_imported(tmp_path: Path) -> None:
    """Prefect reads the variable too and, on import, fails with a page of validation output (exit 1)."""
    out = _cli("-X", "importtime", "run", str(ROOT / "configs" / "exp_decay.yaml"), cwd=tmp_path, python_flags=True,
               env={"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "2.5"})  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip() and "|" not in line]
    assert lines == [
        "error: PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is '2.5': expected a whole number of seconds, e.g. 600"
    ]
    assert "prefect" not in _imported(out.stderr)


def test_a_dask_scheduler_that_does_not_answer_is_one_line_exit_3_and_no_run(tmp_path: Path) -> None:
    """A closed port refuses at once; Dask retries until its connect timeout (2 s here, 30 s by default) and the
    batch stops before its parent run is opened (it used to leave a FAILED parent and say 'unexpected OSError')."""
    with socket.socket() as probe:  # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    out = _cli("batch", str(ROOT / "configs" / "exp_decay.yaml"), "--executor", "dask", "--address", address,
               cwd=tmp_path, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2"})  # fmt: skip
    assert out.returncode == 3, out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"executor.address {address}: no Dask scheduler answers there" in lines[0], out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    assert not (tmp_path / "mlflow.db").exists() or runs_of(uri, "batch") == []


@pytest.mark.integration
def test_a_local_server_is_started_used_by_later_runs_and_stopped(tmp_path: Path) -> None:
    import json
    import urllib.request

    started = _cli("server", "start", cwd=tmp_path)
    try:
        assert started.returncode == 0, started.stderr
        assert _cli("server", "status", cwd=tmp_path).returncode == 0
        state = json.loads((tmp_path / ".state" / "prefect" / "local-server.json").read_text())
        out = _cli("run", str(ROOT / "configs" / "exp_decay.yaml"), cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        (run,) = runs_of(f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}", "exp_decay")
        flow_run_id = run.data.tags["prefect.flow_run_id"]
        with urllib.request.urlopen(f"{state['url']}/flow_runs/{flow_run_id}", timeout=30) as response:
            assert json.loads(response.read())["state_type"] == "COMPLETED"  # the run is on the local server
        assert not (tmp_path / ".state" / "prefect" / ".deltaflow-database-ready").exists()  # no temporary server
    finally:
        stopped = _cli("server", "stop", cwd=tmp_path)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert _cli("server", "status", cwd=tmp_path).returncode == 1


@pytest.mark.integration
def test_stopping_the_server_under_serve_is_named_by_both_commands(tmp_path: Path) -> None:
    """``server stop`` says which serve process ends with the server; that serve ends with one line naming the
    server and how to go on (exit 3), not Prefect's connection error, and leaves no note of itself behind."""
    import time

    started = _cli("server", "start", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    serve = subprocess.Popen(
        [sys.executable, "-m", "flows", "serve", str(ROOT / "configs" / "exp_decay.yaml")], cwd=tmp_path,
        env=clean | {"COLUMNS": "400"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    marker = tmp_path / ".state" / "prefect" / "serving" / str(serve.pid)
    try:
        deadline = time.monotonic() + 300  # a generous bound for a busy machine, not a timing
        while not marker.exists() and serve.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), serve.communicate()
    finally:
        stopped = _cli("server", "stop", cwd=tmp_path)
    assert stopped.returncode == 0 and "Prefect server stopped" in stopped.stdout
    assert f"`serve` (pid {serve.pid}) used this server and ends with it" in stopped.stderr, stopped.stderr
    try:
        out, err = serve.communicate(timeout=600)
    finally:
        serve.kill()
    assert serve.returncode == 3, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the Prefect server at http://127.0.0.1:") and "stopped answering" in last, err
    assert "server start" in last and "Traceback" not in err and not marker.exists()


def test_a_serve_process_killed_without_cleaning_up_is_not_named_by_server_stop(tmp_path: Path) -> None:
    from flows.server import serving, serving_processes

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / "serving" / gone.stdout.strip()
    stale.parent.mkdir()
    stale.touch()  # left by a serve that was killed with SIGKILL
    with serving(tmp_path):
        assert serving_processes(tmp_path) == [os.getpid()]
    assert serving_processes(tmp_path) == [] and list(stale.parent.iterdir()) == []


@pytest.mark.integration
def test_two_runs_started_at_once_in_a_fresh_folder_create_each_store_once(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    command = [sys.executable, "-m", "flows", "run", str(ROOT / "configs" / "exp_decay.yaml")]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=900) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    finished = runs_of(f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}", "exp_decay")
    assert sorted(r.info.status for r in finished) == ["FINISHED", "FINISHED"]


def _huge_decay(folder: Path) -> Path:
    """u = 1e140 exp(-t): valid data whose library's unused powers overflow (u^3 = inf)."""
    import numpy as np

    t = np.linspace(0, 10, 200)
    u = 1e140 * np.exp(-t) * (1 + 0.01 * np.random.default_rng(0).standard_normal(t.size))
    (folder / "huge.csv").write_text("t,u\n" + "".join(f"{a:.6g},{b:.8g}\n" for a, b in zip(t, u)))
    (folder / "huge.yaml").write_text(
        "name: huge\ndata: {path: huge.csv}\ndiscovery: {n_bootstrap: 0}\ntracking: {log_model: false}\n"
    )
    return folder / "huge.yaml"


def test_library_warnings_go_to_the_log_file_and_stderr_keeps_one_line(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(tmp_path / "prefect-home")}
    env["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:9"  # urllib3 logs a retry warning per attempt
    out = _cli("run", str(ROOT / "configs" / "exp_decay.yaml"), cwd=tmp_path, env=env)
    assert out.returncode == 4, out.stdout + out.stderr  # 4: queued, not published
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    log = tmp_path / ".state" / "deltaflow.log"
    assert len(lines) == 1 and lines[0].startswith("note: ") and str(log) in lines[0], out.stderr
    assert "urllib3.connectionpool" in log.read_text()
    assert "Discovered equations" in out.stdout


def test_huge_valid_data_run_without_a_numpy_warning(prefect_harness: None, tmp_path: Path) -> None:
    """The library's unused u^3 is inf on 1e140 data; predict multiplied it by its zero coefficient (a NaN and
    numpy's RuntimeWarning in every such run, noted on stderr). It now evaluates only the model's terms."""
    from prefect.settings import PREFECT_API_URL

    env = {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(tmp_path / "prefect-home")}
    out = _cli("run", str(_huge_decay(tmp_path)), cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert not out.stderr.strip(), out.stderr
    assert "u' = -1.001 u" in out.stdout


def test_a_batch_over_a_folder_names_the_batch_configs_it_leaves_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch does not run batches: a kind: batch config in the folder was skipped without a word."""
    from flows.cli import _say_nested_batches
    from flows.inputs import expand_configs, nested_batch_files

    (tmp_path / "a.yaml").write_text("name: a\ndata: {path: d.csv}\n")
    (tmp_path / "inner.yaml").write_text("name: inner\nkind: batch\nconfigs: [a.yaml]\n")
    assert expand_configs([tmp_path]) == [tmp_path / "a.yaml"]
    assert nested_batch_files([tmp_path]) == [tmp_path / "inner.yaml"]
    assert nested_batch_files([tmp_path / "a.yaml"]) == []  # a file named directly is an item, not a folder's
    _say_nested_batches([tmp_path])
    assert f"{tmp_path / 'inner.yaml'}: kind: batch, left out" in " ".join(capsys.readouterr().err.split())
