"""How fast the command line answers: help, user errors, and a run with and without a reusable local server.

    python benchmarks/cli_latency.py [--repeats 3] [--burn 0]

Every measurement is a new ``python -m flows`` process on the embedded defaults, in a fresh
temporary folder (no ``PREFECT_*``, no ``MLFLOW_TRACKING_URI``):

- ``--help``, an unknown config key, and a wrong column name (with ``python -X importtime``: the
  table says whether Prefect or MLflow was imported; the fail-fast CLI imports neither);
- ``run configs/exp_decay.yaml`` cold (Prefect's temporary server starts, both stores are created),
  then again in the same folder (stores exist; the temporary server still starts);
- the same two runs in a folder where ``python -m flows server start`` runs (its own start timed).

``--burn N`` keeps N CPU-burning processes running throughout (a busy machine). Medians (and the
range) of ``--repeats``. Writes the "CLI latency" section of benchmarks/results/pipeline.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "## CLI latency"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACKING"))}
    return env | {"PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def cli(folder: Path, *args: str, flags: tuple[str, ...] = ()) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds and result of ``python [flags] -m flows ARGS`` in ``folder``."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, *flags, "-m", "flows", *args], cwd=folder, env=_env(), capture_output=True, text=True
    )
    return time.perf_counter() - start, out


def heavy_imports(importtime: str) -> str:
    """'none', or which of prefect / mlflow the process imported (from ``-X importtime`` output)."""
    found = {line.split("|")[-1].strip().split(".")[0] for line in importtime.splitlines() if "|" in line}
    return ", ".join(sorted(found & {"prefect", "mlflow"})) or "none"


def user_errors(folder: Path) -> dict[str, tuple[float, int, str]]:
    """``--help``, a config typo, a wrong column: (seconds, exit code, heavy imports) each."""
    (folder / "d.csv").write_text("t,u\n0,1\n1,2\n2,3\n3,4\n4,5\n5,6\n6,7\n")
    (folder / "typo.yaml").write_text("name: a\ndata:\n  path: d.csv\nbogus: 1\n")
    (folder / "column.yaml").write_text("name: a\ndata:\n  path: d.csv\n  state_columns: [nope]\n")
    cases = {
        "`--help`": ("--help",),
        "unknown config key": ("run", "typo.yaml"),
        "wrong column": ("run", "column.yaml"),
    }
    found = {}
    for label, args in cases.items():
        seconds, out = cli(folder, *args, flags=("-X", "importtime"))
        found[label] = (seconds, out.returncode, heavy_imports(out.stderr))
    return found


def runs(folder: Path, with_server: bool) -> list[float]:
    """[server start (if any), first run, second run] seconds in a fresh folder."""
    folder.mkdir(parents=True)
    times = []
    if with_server:
        seconds, out = cli(folder, "server", "start")
        assert out.returncode == 0, out.stderr[-2000:]
        times.append(seconds)
    try:
        for _ in range(2):
            seconds, out = cli(folder, "run", str(ROOT / "configs" / "exp_decay.yaml"))
            assert out.returncode == 0, out.stderr[-2000:]
            times.append(seconds)
    finally:
        if with_server:
            cli(folder, "server", "stop")
    return times


def _burn() -> None:
    while True:
        sum(i * i for i in range(10_000))


def _row(label: str, values: list[float], note: str = "") -> str:
    span = f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 else ""
    return f"| {label} | {statistics.median(values):.2f} | {span} | {note} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--burn", type=int, default=0, help="CPU-burning processes kept running meanwhile")
    args = parser.parse_args()
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.burn)]
    for process in burners:
        process.start()
    base = Path(tempfile.mkdtemp(prefix="deltaflow-cli-"))
    try:
        errors = [user_errors(Path(tempfile.mkdtemp(dir=base))) for _ in range(args.repeats)]
        cold = [runs(base / f"cold{i}", with_server=False) for i in range(args.repeats)]
        served = [runs(base / f"served{i}", with_server=True) for i in range(args.repeats)]
    finally:
        for process in burners:
            process.terminate()
    rows = [_row(f"{label} (exit {errors[0][label][1]})", [e[label][0] for e in errors],
                 f"imports Prefect/MLflow: {errors[0][label][2]}") for label in errors[0]]  # fmt: skip
    rows += [
        _row("cold `run` (temporary server starts, both stores created)", [c[0] for c in cold]),
        _row("second `run` in that folder (temporary server starts again)", [c[1] for c in cold]),
        _row("`server start` (once per folder, in the background)", [s[0] for s in served]),
        _row("first `run` with the local server running (MLflow store created)", [s[1] for s in served]),
        _row("second `run` with the local server running", [s[2] for s in served]),
    ]
    lines = [
        SECTION, "",
        f"`python benchmarks/cli_latency.py --repeats {args.repeats} --burn {args.burn}`: each a new `python -m flows`"
        f" process in a fresh folder, {args.burn} CPU-burning processes running meanwhile; config"
        " `configs/exp_decay.yaml` (pyfunc model logged). Seconds of wall time, median and range of"
        f" {args.repeats}; {os.cpu_count()} cores.", "",
        "| what | median s | range | note |", "|---|---|---|---|", *rows,
    ]  # fmt: skip
    out = HERE / "results" / "pipeline.md"
    text = out.read_text() if out.exists() else "# Pipeline overhead\n"
    before, _, after = text.partition(SECTION)
    rest = after[after.find("\n## ") :] if "\n## " in after else ""  # the sections after this one stay
    out.write_text(before.rstrip() + "\n\n" + "\n".join(lines) + "\n" + rest)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
