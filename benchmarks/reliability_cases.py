"""The cases of ``benchmarks/reliability.py``: each writes its files into a folder and says what to run.

A case's ``setup(folder, env)`` writes the inputs (and may change ``env``) and returns the action to time:
``action(folder, env) -> (exit code, stderr, check)``; the check is a short case-specific verdict.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

Action = Callable[[Path, dict[str, str]], tuple[int | str, str, str]]
Setup = Callable[[Path, dict[str, str]], Action]
ROOT = Path(__file__).resolve().parent.parent

_FULL_OUTBOX = (
    "import errno, sys\n"
    "import flows.outbox as outbox\n"
    "def full(fd, data):\n"
    "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
    "outbox._os_write = full\n"
    "sys.argv = ['deltaflow', *sys.argv[1:]]\n"
    "from flows.cli import main\n"
    "main()\n"
)


@dataclass(frozen=True)
class Case:
    """One hostile input or fault: its id, the issue's item number, what it is, and how to set it up."""

    id: str
    item: int
    what: str
    setup: Setup
    seasoned: bool = True


def cli(*args: str, prelude: str | None = None, cwd: Path | None = None, timeout: float = 900) -> Action:
    """Run ``python -m flows ARGS`` (or ``python -c prelude ARGS``) in the folder; no check."""

    def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
        command = [sys.executable, "-m", "flows", *args] if prelude is None else [sys.executable, "-c", prelude, *args]
        process = subprocess.Popen(
            command, cwd=cwd or folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        try:
            _, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the CLI and the servers it started
            _, err = process.communicate()
            return "timeout", err, f"killed after {timeout:.0f} s"
        return process.returncode, err, ""

    return action


def write_config(folder: Path, name: str, config: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **config}, sort_keys=False))
    return path


def write_decay(folder: Path, name: str, rows: int = 100, seed: int = 0, **discovery: object) -> Path:
    """Noisy exponential decay ``u' = -u`` on [0, 5] in ``name.csv`` and a discovery config ``name.yaml``."""
    t = np.linspace(0, 5, rows)
    u = np.exp(-t) + 0.01 * np.random.default_rng(seed).standard_normal(rows)
    pd.DataFrame({"t": t, "u": u}).to_csv(folder / f"{name}.csv", index=False)
    config = {"data": {"path": f"{name}.csv"}, "discovery": {"n_bootstrap": 0, **discovery}}
    return write_config(folder, name, config | {"tracking": {"log_model": False}})


def run_config(name: str, **kwargs: object) -> Action:
    return cli("run", f"{name}.yaml", **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ 1. planted cache pickle
class _Planted:
    """Unpickling this creates the file PLANTED_RAN (what a crafted cache file could do)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (open, (self.target, "w"))


def planted_cache(folder: Path, env: dict[str, str]) -> Action:
    """A first run (the "attacker's" machine, its own cache secret) leaves stage results; each is replaced by a
    crafted pickle; the user's run in that folder must not load them."""
    write_decay(folder, "planted")
    attacker = env | {"XDG_CACHE_HOME": str(folder / ".attacker-cache")}
    subprocess.run([sys.executable, "-m", "flows", "run", "planted.yaml"], cwd=folder, env=attacker,
                   capture_output=True, timeout=1800)  # fmt: skip
    marker = folder / "PLANTED_RAN"
    payload = base64.b64encode(pickle.dumps(_Planted(str(marker)))).decode()
    storage = folder / ".state" / "prefect" / "storage"
    planted = 0
    for path in storage.iterdir() if storage.is_dir() else []:
        record = json.loads(path.read_text())
        record["result"] = payload
        path.write_text(json.dumps(record))
        planted += 1
    run = run_config("planted")

    def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
        code, err, _ = run(folder, env)
        return code, err, f"{planted} files planted; crafted code ran: {'YES' if marker.exists() else 'no'}"

    return action


# ------------------------------------------------------------------ 2. 2e5 rows
def big_file(folder: Path, env: dict[str, str]) -> Action:
    write_decay(folder, "rows200k", rows=200_000)
    return run_config("rows200k", timeout=600)


# ------------------------------------------------------------------ 3. disk full
def disk_full_publishing(folder: Path, env: dict[str, str]) -> Action:
    """MLflow cannot store the artifacts (a file where its folder goes) and the outbox's writes fail ENOSPC."""
    write_decay(folder, "diskfull")
    (folder / "mlartifacts").write_text("not a folder")
    env["DELTAFLOW_RETRY_DELAYS"] = "0"
    run = cli("run", "diskfull.yaml", prelude=_FULL_OUTBOX)

    def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
        code, err, _ = run(folder, env)
        outbox = folder / ".state" / "outbox"
        leftovers = [p.name for p in outbox.iterdir()] if outbox.is_dir() else []
        return code, err, f"outbox leftovers: {len(leftovers)}"

    return action


def disk_full_batch(folder: Path, env: dict[str, str]) -> Action:
    for i in range(2):
        write_decay(folder, f"item{i}", seed=i)
    (folder / "mlartifacts").write_text("not a folder")
    env["DELTAFLOW_RETRY_DELAYS"] = "0"
    return cli("batch", "item0.yaml", "item1.yaml", "--name", "fullbatch", prelude=_FULL_OUTBOX)


def disk_full_at_start(folder: Path, env: dict[str, str]) -> Action:
    write_decay(folder, "nospace")
    env["DELTAFLOW_MIN_FREE_MB"] = str(10**12)
    return run_config("nospace")


# ------------------------------------------------------------------ 4. gappy irregular sampling
def gappy(folder: Path, env: dict[str, str]) -> Action:
    """Two bursts of irregular samples (t in [0, 1.5] and [3.5, 5]) with nothing in between."""
    rng = np.random.default_rng(1)
    t = np.sort(np.concatenate([rng.uniform(0, 1.5, 60), rng.uniform(3.5, 5, 60)]))
    u = np.exp(-t) + 0.005 * rng.standard_normal(t.size)
    pd.DataFrame({"t": t, "u": u}).to_csv(folder / "gappy.csv", index=False)
    write_config(folder, "gappy", {"data": {"path": "gappy.csv"}, "tracking": {"log_model": False}})
    return run_config("gappy")


# ------------------------------------------------------------------ 5. interrupts
def _slow(folder: Path) -> None:
    t = np.linspace(0, 20, 6000)
    noise = 0.01 * np.random.default_rng(0).standard_normal((3, t.size))
    frame = {"t": t, "x": np.sin(t) + noise[0], "y": np.cos(t) + noise[1], "z": np.exp(-0.1 * t) + noise[2]}
    pd.DataFrame(frame).to_csv(folder / "slow.csv", index=False)
    config = {"data": {"path": "slow.csv"}, "discovery": {"library": {"degree": 3}, "n_bootstrap": 1000}}
    write_config(folder, "slow", config | {"tracking": {"log_model": False}})


def interrupted(signum: int) -> Setup:
    """Signal the process group (as a terminal does) once the first stage result is stored."""

    def setup(folder: Path, env: dict[str, str]) -> Action:
        _slow(folder)

        def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
            process = subprocess.Popen(
                [sys.executable, "-m", "flows", "run", "slow.yaml"], cwd=folder, env=env, start_new_session=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            storage = folder / ".state" / "prefect" / "storage"
            while not (storage.is_dir() and any(storage.iterdir())) and process.poll() is None:
                time.sleep(0.05)
            sent = time.monotonic()
            os.killpg(process.pid, signum)
            _, err = process.communicate(timeout=600)
            gone = time.monotonic() - sent
            try:
                os.killpg(process.pid, 0)
                left = "a process of the group is still alive"
            except ProcessLookupError:
                left = "no process left"
            return process.returncode, err, f"exited {gone:.1f} s after the signal; {left}"

        return action

    return setup


# ------------------------------------------------------------------ 6. config size
def alias_bomb(folder: Path, env: dict[str, str]) -> Action:
    lines = ["name: bomb", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 8)]
    lines.append("description: *l7")
    (folder / "bomb.yaml").write_text("\n".join(lines) + "\n")
    return run_config("bomb")


def oversize_config(folder: Path, env: dict[str, str]) -> Action:
    write_decay(folder, "huge")
    config = yaml.safe_load((folder / "huge.yaml").read_text())
    config["description"] = "x" * 600_000
    (folder / "huge.yaml").write_text(yaml.safe_dump(config))
    return run_config("huge")


def big_point_list(folder: Path, env: dict[str, str]) -> Action:
    """A sensitivity config asking for gradients at 20,000 points listed in the YAML."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (300, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": 2 * x[:, 0] - x[:, 1]}).to_csv(folder / "table.csv", index=False)
    points = np.round(rng.uniform(-1, 1, (20_000, 2)), 3).tolist()
    config = {"kind": "sensitivity", "data": {"path": "table.csv", "outputs": ["y"]}, "gradient": {"at": points}}
    write_config(folder, "points", config)
    return run_config("points")


# ------------------------------------------------------------------ 7. the outbox and sync
def _queue(folder: Path, n: int) -> list[Path]:
    """n valid run records queued in ``folder/.state/outbox`` (as runs made while MLflow was down)."""
    from flows.outbox import Outbox, RunRecord

    box = Outbox(folder / ".state" / "outbox")
    folders = []
    for i in range(n):
        record = RunRecord(
            experiment="queued", run_name=f"run {i}", params={"item": str(i)}, metrics={"score": float(i)},
            files={"notes.txt": f"item {i}\n"}, created=1000.0 + i,
        )  # fmt: skip
        record.tags["deltaflow.record_id"] = record.record_id
        folders.append(box.put(record))
    return folders


def _sync_check(folder: Path, n: int) -> Action:
    run = cli("sync")

    def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
        code, err, _ = run(folder, env)
        quarantine = folder / ".state" / "outbox" / ".quarantine"
        held = len(list(quarantine.iterdir())) if quarantine.is_dir() else 0
        return code, err, f"{n} records: {held} quarantined"

    return action


def outbox_invalid_value(folder: Path, env: dict[str, str]) -> Action:
    folders = _queue(folder, 3)
    meta = json.loads((folders[1] / "record.json").read_text())
    (folders[1] / "record.json").write_text(json.dumps(meta | {"params": {"a$": "1"}}))
    return _sync_check(folder, 3)


def outbox_unreadable(folder: Path, env: dict[str, str]) -> Action:
    folders = _queue(folder, 3)
    (folders[0] / "record.json").write_text("{not json")
    return _sync_check(folder, 3)


def outbox_missing_file(folder: Path, env: dict[str, str]) -> Action:
    folders = _queue(folder, 3)
    next((folders[2] / "files").iterdir()).unlink()
    return _sync_check(folder, 3)


def two_syncs(folder: Path, env: dict[str, str]) -> Action:
    _queue(folder, 6)

    def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "flows", "sync"],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for _ in range(2)
        ]
        errs = [proc.communicate(timeout=900)[1] for proc in procs]
        codes = "/".join(str(proc.returncode) for proc in procs)
        return codes, "".join(errs), "6 records queued, two syncs at once (runs made: see the runs column)"

    return action


# ------------------------------------------------------------------ 8. damaged stores
def truncated_mlflow_db(folder: Path, env: dict[str, str]) -> Action:
    write_decay(folder, "cutdb")
    database = folder / "mlflow.db"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    return run_config("cutdb")


def damaged_prefect_db(folder: Path, env: dict[str, str]) -> Action:
    write_decay(folder, "badprefect")
    database = folder / ".state" / "prefect" / "prefect.db"
    data = bytearray(database.read_bytes())
    data[8192:40960] = os.urandom(32768)  # pages in the middle overwritten
    database.write_bytes(bytes(data))
    return run_config("badprefect")


# ------------------------------------------------------------------ 9. tracebacks that were
def symlink_loop(folder: Path, env: dict[str, str]) -> Action:
    (folder / "a.csv").symlink_to(folder / "b.csv")
    (folder / "b.csv").symlink_to(folder / "a.csv")
    write_config(folder, "loop", {"data": {"path": "a.csv"}})
    return run_config("loop")


def dollar_column(folder: Path, env: dict[str, str]) -> Action:
    """A state column named like TeX maths with an unknown symbol (matplotlib parses ``$...$``)."""
    t = np.linspace(0, 5, 100)
    pd.DataFrame({"t": t, r"$\nope$": np.exp(-t)}).to_csv(folder / "dollar.csv", index=False)
    write_config(folder, "dollar", {"data": {"path": "dollar.csv"}, "tracking": {"log_model": False}})
    return run_config("dollar")


def law(rhs: str) -> Setup:
    """A residual check of the decay data against the law ``u' = rhs``."""

    def setup(folder: Path, env: dict[str, str]) -> Action:
        write_decay(folder, "decay")
        write_config(folder, "law", {"kind": "residual", "data": {"path": "decay.csv"}, "law": {"rhs": {"u": rhs}}})
        return run_config("law")

    return setup


def read_only(*args: str) -> Setup:
    """The command from a read-only current folder (``/sys``: read-only even for root)."""

    def setup(folder: Path, env: dict[str, str]) -> Action:
        write_decay(folder, "ro")
        return cli(*[str(folder / a) if a.endswith(".yaml") else a for a in args], cwd=Path("/sys"))

    return setup


# ------------------------------------------------------------------ 10. reasonable input
def iso_times(with_zone: bool) -> Setup:
    def setup(folder: Path, env: dict[str, str]) -> Action:
        stamps = pd.date_range("2024-01-01", periods=80, freq="h", tz="Europe/Paris" if with_zone else None)
        text = stamps.strftime("%Y-%m-%dT%H:%M:%S%z" if with_zone else "%Y-%m-%d %H:%M:%S")
        u = np.exp(-np.arange(80) / 20)
        pd.DataFrame({"t": text, "u": u}).to_csv(folder / "iso.csv", index=False)
        write_config(folder, "iso", {"data": {"path": "iso.csv"}, "tracking": {"log_model": False}})
        return run_config("iso")

    return setup


def iso_dates(folder: Path, env: dict[str, str]) -> Action:
    days = pd.date_range("2024-01-01", periods=80, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"t": days, "u": np.exp(-np.arange(80) / 20)}).to_csv(folder / "days.csv", index=False)
    write_config(folder, "days", {"data": {"path": "days.csv"}, "tracking": {"log_model": False}})
    return run_config("days")


def duplicate_header(folder: Path, env: dict[str, str]) -> Action:
    t = np.linspace(0, 5, 50)
    rows = "".join(f"{a:.5g},{np.exp(-a):.5g},{np.exp(-2 * a):.5g}\n" for a in t)
    (folder / "dup.csv").write_text("t,u,u\n" + rows)
    write_config(folder, "dup", {"data": {"path": "dup.csv"}})
    return run_config("dup")


def gzip_csv(folder: Path, env: dict[str, str]) -> Action:
    write_decay(folder, "zipped")
    (folder / "zipped.csv.gz").write_bytes(gzip.compress((folder / "zipped.csv").read_bytes()))
    (folder / "zipped.csv").unlink()
    write_config(folder, "zipped", {"data": {"path": "zipped.csv.gz"}, "discovery": {"n_bootstrap": 0},
                                    "tracking": {"log_model": False}})  # fmt: skip
    return run_config("zipped")


def fifty_states(folder: Path, env: dict[str, str]) -> Action:
    t = np.linspace(0, 5, 200)
    frame = {"t": t} | {f"x{i}": np.exp(-(0.2 + 0.02 * i) * t) for i in range(50)}
    pd.DataFrame(frame).to_csv(folder / "wide.csv", index=False)
    write_config(folder, "wide", {"data": {"path": "wide.csv"}, "tracking": {"log_model": False}})
    return run_config("wide")


# ------------------------------------------------------------------ 11. stray warnings
def mlflow_down(folder: Path, env: dict[str, str]) -> Action:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_decay(folder, "down")
    env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{port}"  # nothing listens there
    run = run_config("down")

    def action(folder: Path, env: dict[str, str]) -> tuple[int | str, str, str]:
        code, err, _ = run(folder, env)
        outbox = folder / ".state" / "outbox"
        found = outbox.iterdir() if outbox.is_dir() else []
        queued = len([p for p in found if p.is_dir() and not p.name.startswith(".")])
        return code, err, f"queued in the outbox: {queued}"

    return action


def overflowing(folder: Path, env: dict[str, str]) -> Action:
    """Values near 1e100 with a cubic library: products overflow float64 (numpy RuntimeWarnings)."""
    t = np.linspace(0, 5, 100)
    pd.DataFrame({"t": t, "u": 1e100 * np.exp(-t)}).to_csv(folder / "big.csv", index=False)
    config = {"data": {"path": "big.csv"}, "discovery": {"library": {"degree": 3}, "n_bootstrap": 0}}
    write_config(folder, "big", config | {"tracking": {"log_model": False}})
    return run_config("big")


CASES = [
    Case("planted-cache", 1, "stage results replaced by crafted pickles", planted_cache),
    Case("rows-2e5", 2, "200,000 rows, default config", big_file),
    Case("disk-full-publish", 3, "artifacts and outbox unwritable while publishing", disk_full_publishing),
    Case("disk-full-batch", 3, "the same under `batch` (2 items)", disk_full_batch),
    Case("disk-full-start", 3, "disk full before anything starts", disk_full_at_start),
    Case("gappy", 4, "irregular sampling in two bursts", gappy),
    Case("sigint", 5, "Ctrl-C to the process group mid-run", interrupted(signal.SIGINT)),
    Case("sigterm", 5, "SIGTERM to the process group mid-run", interrupted(signal.SIGTERM)),
    Case("alias-bomb", 6, "540-byte YAML of nested aliases", alias_bomb),
    Case("oversize-config", 6, "600 KB description", oversize_config),
    Case("point-list", 6, "gradient.at with 20,000 points in the YAML", big_point_list),
    Case("outbox-invalid", 7, "queued record with param key 'a$', then sync", outbox_invalid_value),
    Case("outbox-unreadable", 7, "queued record.json not JSON, then sync", outbox_unreadable),
    Case("outbox-missing-file", 7, "queued artifact file gone, then sync", outbox_missing_file),
    Case("two-syncs", 7, "two syncs at once on 6 records", two_syncs),
    Case("truncated-mlflow-db", 8, "mlflow.db cut to half", truncated_mlflow_db),
    Case("damaged-prefect-db", 8, "prefect.db pages overwritten", damaged_prefect_db),
    Case("symlink-loop", 9, "data path a.csv -> b.csv -> a.csv", symlink_loop),
    Case("dollar-column", 9, "state column named $\\nope$", dollar_column),
    Case("deep-expression", 9, "law u' = ((((…-u…)))) nested 600 deep", law("(" * 600 + "-u" + ")" * 600)),
    Case("huge-expression", 9, "law u' = ------…u (100,000 minus signs)", law("-" * 100_000 + "u")),
    Case("readonly-help", 9, "--help from a read-only folder", read_only("--help"), seasoned=False),
    Case("readonly-run", 9, "run from a read-only folder", read_only("run", "ro.yaml"), seasoned=False),
    Case("iso-dates", 10, "time column of ISO dates (daily)", iso_dates),
    Case("iso-datetimes", 10, "ISO date-times, no zone (hourly)", iso_times(False)),
    Case("iso-datetimes-tz", 10, "ISO date-times with a UTC offset", iso_times(True)),
    Case("duplicate-header", 10, "header t,u,u", duplicate_header),
    Case("gzip", 10, "data.csv.gz", gzip_csv),
    Case("fifty-states", 10, "50 state columns, default library", fifty_states),
    Case("mlflow-down", 11, "MLFLOW_TRACKING_URI on a closed port", mlflow_down),
    Case("overflow", 11, "values near 1e100, cubic library", overflowing),
    Case("sin-two-args", 11, "residual law sin(u, u)", law("sin(u, u)")),
]
