"""The behaviour table of issue 16: each class of hostile input or fault, as a user meets it.

    flock /tmp/heavy.lock python benchmarks/reliability.py [--only ID,ID] [--keep]

Every case is a real ``python -m flows ...`` process in its own temporary folder on the embedded defaults
(no ``PREFECT_*``, ``MLFLOW_TRACKING_URI`` or ``DELTAFLOW_*`` from outside: Prefect's temporary server,
``./mlflow.db``, ``./.state/outbox``). Folders start "seasoned" (a copy of the stores of a folder that
has done one run), as a user's folder is after its first run, except where the case is about the stores.
Recorded: exit code, number of non-empty stderr lines, the stderr line itself (cut), the MLflow runs the
case created and their final state (read from ``./mlflow.db`` with sqlite3), wall seconds, and a
case-specific check. Writes benchmarks/results/reliability.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks import reliability_cases as cases  # noqa: E402 - after the path is set

RESULT = HERE / "results" / "reliability.md"
SHOWN = 150  # characters of the stderr line shown


@dataclass
class Outcome:
    """What one case did."""

    case: cases.Case
    code: int | str
    lines: list[str]
    runs: str
    seconds: float
    note: str = ""


def base_env(folder: Path) -> dict[str, str]:
    """The environment of a user's shell: nothing of ours set; the cache secret kept in the case folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING", "DELTAFLOW_"))}
    return env | {"PYTHONPATH": str(ROOT), "COLUMNS": "400", "XDG_CACHE_HOME": str(folder / ".victim-cache")}


def season(template: Path) -> None:
    """One run of the bundled exponential-decay example in ``template``: its stores then exist."""
    template.mkdir(parents=True, exist_ok=True)
    cases.write_decay(template, "seed")
    out = subprocess.run(
        [sys.executable, "-m", "flows", "run", "seed.yaml"], cwd=template, env=base_env(template),
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"seasoning run failed: {out.stderr[-2000:]}")


def prepare(case: cases.Case, root: Path, template: Path) -> Path:
    """The case's folder: a copy of the template's stores (when the case wants them), then its own setup."""
    path = root / case.id
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    if case.seasoned:
        shutil.copy2(template / "mlflow.db", path / "mlflow.db")
        shutil.copytree(template / ".state" / "prefect", path / ".state" / "prefect", ignore=_no_storage)
    return path


def _no_storage(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in {"storage", "local-server.json"}]


def run_ids(folder: Path) -> set[str]:
    """The ids of the runs in ``folder/mlflow.db`` (empty when there is no readable store)."""
    try:
        with sqlite3.connect(f"file:{folder / 'mlflow.db'}?mode=ro", uri=True, timeout=5) as db:
            return {row[0] for row in db.execute("SELECT run_uuid FROM runs")}
    except sqlite3.Error:
        return set()


def mlflow_runs(folder: Path, before: set[str]) -> str:
    """The runs in ``folder/mlflow.db`` not in ``before``, by final state: '2 FAILED, 1 FINISHED', or 'none'."""
    database = folder / "mlflow.db"
    if not database.is_file():
        return "no store"
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            rows = db.execute("SELECT run_uuid, status FROM runs").fetchall()
    except sqlite3.Error as exc:
        return f"store unreadable ({str(exc)[:40]})"
    counts: dict[str, int] = {}
    for run_id, status in rows:
        if run_id not in before:
            counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"


def run_case(case: cases.Case, root: Path, template: Path) -> Outcome:
    """Prepare, run and record one case."""
    folder = prepare(case, root, template)
    env = base_env(folder)
    action = case.setup(folder, env)
    before = run_ids(folder)
    start = time.perf_counter()
    code, stderr, note = action(folder, env)
    seconds = time.perf_counter() - start
    lines = [line for line in stderr.splitlines() if line.strip()]
    return Outcome(case, code, lines, mlflow_runs(folder, before), seconds, note)


def table(outcomes: list[Outcome]) -> str:
    """The markdown table, one row per case."""
    rows = [
        "| # | case | exit | stderr lines | stderr (first line, cut) | MLflow runs made (final state) | s | check |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        shown = o.lines[0][:SHOWN] + ("…" if len(o.lines[0]) > SHOWN else "") if o.lines else ""
        shown = shown.replace("|", "\\|").replace("`", "'")
        rows.append(
            f"| {o.case.item} | {o.case.id}: {o.case.what} | {o.code} | {len(o.lines)} | {shown} | {o.runs} |"
            f" {o.seconds:.1f} | {o.note} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated case ids")
    parser.add_argument("--keep", action="store_true", help="keep the case folders")
    args = parser.parse_args()
    chosen = [c for c in cases.CASES if not args.only or c.id in args.only.split(",")]
    root = Path(tempfile.mkdtemp(prefix="deltaflow-reliability-"))
    template = root / "_template"
    begun = time.perf_counter()
    if any(case.seasoned for case in chosen):
        season(template)
    outcomes = []
    for case in chosen:
        outcome = run_case(case, root, template)
        print(f"{case.id}: exit {outcome.code}, {len(outcome.lines)} lines, runs {outcome.runs},"
              f" {outcome.seconds:.1f} s, {outcome.note}", flush=True)  # fmt: skip
        outcomes.append(outcome)
    header = (
        "# Reliability: hostile input and faults (issue 16), as a user meets them\n\n"
        f"`benchmarks/reliability.py` ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {len(outcomes)} cases,"
        f" {time.perf_counter() - begun:.0f} s in all): each case a real CLI process in a fresh folder on the"
        " embedded defaults (Prefect's temporary server, `./mlflow.db`). '#' is the item of the issue's list."
        " 'MLflow runs made' counts the runs the case's command created, by final state, read from the store"
        " itself; 'none' means no run was started (the input was refused before anything ran).\n\n"
    )
    if not args.only:
        RESULT.write_text(header + table(outcomes) + "\n")
    print(header + table(outcomes))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"folders kept in {root}")


if __name__ == "__main__":
    main()
