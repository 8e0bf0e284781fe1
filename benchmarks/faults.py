"""How fast an interrupted run stops: Ctrl-C (SIGINT to the process group) or SIGTERM to a running CLI.

    flock /tmp/heavy.lock python benchmarks/faults.py [--repeats 3] [--delays 0,4,10] [--stacks]

Each measurement is a new ``python -m flows run`` of a slow discovery (6,000 rows, three states, degree 3,
1,000 bootstrap fits) on the embedded defaults: Prefect's temporary server, a SQLite MLflow store, in one
temporary folder reused across measurements (so only the first creates the stores; each measurement uses
other data, so no stage result comes from the cache). Once the first stage's result is stored, the script
waits ``delay`` seconds, sends the signal as a terminal does (to the whole process group), and records:

- seconds until the MLflow run is FAILED (read from the SQLite file directly, every 50 ms);
- seconds until the process has exited, its exit code, and its stderr lines.

``--stacks`` samples the CLI's Python stacks every 0.5 s after the signal (``faulthandler`` on SIGUSR1) into
``<folder>/stacks-N.txt``: where the time goes. Writes benchmarks/results/faults.md (median and max).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULT = HERE / "results" / "faults.md"
POLL = 0.05  # seconds between looks at the store and the process


@dataclass
class Stop:
    """One interrupted run: seconds from the signal to the run FAILED (None: never) and to the exit."""

    signal_name: str
    delay: float
    failed_s: float | None
    exit_s: float
    code: int
    stderr_lines: list[str]


def write_inputs(folder: Path, seed: int) -> Path:
    """The slow config and its data (noise seeded by ``seed``, so no cached stage result applies)."""
    import numpy as np
    import pandas as pd
    import yaml

    t = np.linspace(0, 20, 6000)
    noise = 0.01 * np.random.default_rng(seed).standard_normal((3, t.size))
    frame = {"t": t, "x": np.sin(t) + noise[0], "y": np.cos(t) + noise[1], "z": np.exp(-0.1 * t) + noise[2]}
    pd.DataFrame(frame).to_csv(folder / f"slow{seed}.csv", index=False)
    config = {
        "name": f"slow{seed}",
        "data": {"path": f"slow{seed}.csv"},
        "discovery": {"library": {"degree": 3}, "n_bootstrap": 1000},
        "tracking": {"log_model": False},
    }
    path = folder / f"slow{seed}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_status(folder: Path, name: str) -> str | None:
    """The status of the MLflow run of config ``name`` (run name ``"<name> <date time>"``) in ``folder``'s SQLite
    store, or None (no store or run yet)."""
    database = folder / "mlflow.db"
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.2) as db:
            row = db.execute("SELECT status FROM runs WHERE name LIKE ?", (f"{name} %",)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def start_cli(folder: Path, config: Path, stacks: Path | None) -> subprocess.Popen[str]:
    """``python -m flows run config`` in its own process group (a terminal's foreground job)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    env |= {"PYTHONPATH": str(ROOT), "COLUMNS": "300"}
    if stacks is None:
        command = [sys.executable, "-m", "flows", "run", config.name]
    else:
        code = (
            "import faulthandler, signal, sys;"
            f"faulthandler.register(signal.SIGUSR1, file=open({str(stacks)!r}, 'a'), all_threads=True);"
            f"sys.argv = ['flows', 'run', {config.name!r}];"
            "from flows.cli import main; main()"
        )
        command = [sys.executable, "-c", code]
    return subprocess.Popen(
        command, cwd=folder, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def wait_under_way(folder: Path, process: subprocess.Popen[str], limit: float = 600.0) -> None:
    """Wait until the run's first stage result is stored (the computation is under way)."""
    storage = folder / ".state" / "prefect" / "storage"
    deadline = time.monotonic() + limit
    while not (storage.is_dir() and any(storage.iterdir())):
        if process.poll() is not None:
            raise RuntimeError(f"the CLI ended before its computation started: {process.communicate()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no stage result within {limit} s")
        time.sleep(POLL)


def interrupt(folder: Path, seed: int, signum: int, delay: float, stacks: bool) -> Stop:
    """Start a slow run, signal it ``delay`` s into its computation, and time its stop (see module doc)."""
    import shutil

    shutil.rmtree(folder / ".state" / "prefect" / "storage", ignore_errors=True)
    config = write_inputs(folder, seed)
    trace = folder / f"stacks-{seed}.txt" if stacks else None
    process = start_cli(folder, config, trace)
    try:
        wait_under_way(folder, process)
        time.sleep(delay)
        sent = time.monotonic()
        os.killpg(process.pid, signum)
        failed_s, exit_s = watch(folder, config.stem, process, sent, trace)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    lines = [line for line in err.splitlines() if line.strip()]
    return Stop(signal.Signals(signum).name, delay, failed_s, exit_s, process.returncode, lines)


def watch(
    folder: Path, name: str, process: subprocess.Popen[str], sent: float, trace: Path | None
) -> tuple[float | None, float]:
    """Seconds from ``sent`` to run ``name`` FAILED (None if not within 30 s of the exit) and to the exit;
    with ``trace``, a stack sample of the CLI every 0.5 s until it exits."""
    failed_s: float | None = None
    exit_s: float | None = None
    next_sample = sent + 0.5
    while failed_s is None or exit_s is None:
        now = time.monotonic()
        if exit_s is None and process.poll() is not None:
            exit_s = now - sent
        if failed_s is None and run_status(folder, name) == "FAILED":
            failed_s = now - sent
        if exit_s is not None and now - sent > exit_s + 30:
            break
        if trace is not None and exit_s is None and now >= next_sample:
            with trace.open("a") as out:
                out.write(f"\n===== t+{now - sent:.1f} s\n")
            os.kill(process.pid, signal.SIGUSR1)
            next_sample += 0.5
        time.sleep(POLL)
    return failed_s, exit_s if exit_s is not None else float("nan")


def table(stops: list[Stop]) -> str:
    """Markdown: one row per measurement, then median and max per signal."""
    rows = [
        "| signal | delay (s) | run FAILED after (s) | exited after (s) | exit code | stderr lines |",
        "|---|---|---|---|---|---|",
    ]
    for stop in stops:
        failed = "never" if stop.failed_s is None else f"{stop.failed_s:.1f}"
        rows.append(
            f"| {stop.signal_name} | {stop.delay:g} | {failed} | {stop.exit_s:.1f} | {stop.code} |"
            f" {len(stop.stderr_lines)} |"
        )
    rows += [
        "",
        "| signal | n | FAILED median / max (s) | exit median / max (s) | never FAILED |",
        "|---|---|---|---|---|",
    ]
    for name in sorted({stop.signal_name for stop in stops}):
        group = [stop for stop in stops if stop.signal_name == name]
        failed = [stop.failed_s for stop in group if stop.failed_s is not None]
        exits = [stop.exit_s for stop in group]
        fail_text = f"{statistics.median(failed):.1f} / {max(failed):.1f}" if failed else "–"
        rows.append(
            f"| {name} | {len(group)} | {fail_text} | {statistics.median(exits):.1f} / {max(exits):.1f} |"
            f" {len(group) - len(failed)} |"
        )
    lines = {line for stop in stops for line in stop.stderr_lines}
    rows += ["", "stderr lines seen: " + "; ".join(f"`{line[:160]}`" for line in sorted(lines))]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--delays", default="0,4,10", help="seconds into the computation to send the signal")
    parser.add_argument("--signals", default="SIGINT,SIGTERM")
    parser.add_argument("--stacks", action="store_true", help="sample the CLI's stacks after the signal")
    parser.add_argument("--folder", type=Path, default=None, help="work folder (default: a new temporary one)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="deltaflow-faults-"))
    folder.mkdir(parents=True, exist_ok=True)
    delays = [float(d) for d in args.delays.split(",")]
    stops, seed = [], 0
    for _ in range(args.repeats):
        for name in args.signals.split(","):
            for delay in delays:
                seed += 1
                stop = interrupt(folder, seed, signal.Signals[name], delay, args.stacks)
                print(stop, flush=True)
                stops.append(stop)
    header = (
        "# Interrupted runs: how fast a signalled CLI records its run FAILED and exits\n\n"
        "`benchmarks/faults.py` (" + f"{args.repeats} repeats, delays {args.delays} s; {time.strftime('%Y-%m-%d')}"
        "): a slow discovery under `python -m flows run` on the embedded defaults (Prefect's temporary server,"
        " SQLite MLflow store), signalled to its process group once its first stage result is stored plus the"
        " delay. Times from the signal. Target: FAILED and exited within 5 s.\n\n"
    )
    RESULT.write_text(header + table(stops) + "\n")
    print(RESULT.read_text())
    print(f"work folder: {folder}")


if __name__ == "__main__":
    main()
