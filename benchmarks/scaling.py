"""Scale-out: many series through full discovery with tracking on a Dask LocalCluster, 1 and N workers.

    python benchmarks/scaling.py [--series 1000] [--workers 1 2]

Generates ``--series`` datasets of 3-D systems (the 11 three-state systems of ``pipeline.systems``
in turn, 512 points on [0, 10], 1 % noise, a different seed each), one config each, then runs the
whole set as one batch (``run_batch`` with ``ExecutorConfig(kind="dask", n_workers=N)``) once per
worker count, each against a fresh tracking store: a local ``mlflow server`` (PostgreSQL backend
when PostgreSQL is installed, so no single-writer SQLite lock sits in the middle). Every item runs
differentiation, discovery with 40 bagging resamples, and publishes its MLflow run (params,
metrics, equations, tables, three plots and the HTML report); the pyfunc model is not logged
(1.5 s of MLflow work per run that a scaled batch would not pay; ``equations.json`` is the model).
Throughput = series per second of the batch; parallel efficiency = throughput(N) / (N × throughput(1)).
Also the CPU seconds per series of every process of the run (workers, servers, PostgreSQL, this one), which
say where the work goes and compare across days when the machine's speed does not.
Writes benchmarks/results/scaling.md. Run ``--workers 1 16`` on a 16-core machine for the big case.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def make_series(folder: Path, n: int) -> Path:
    import yaml

    from pipeline.systems import SYSTEMS, sample_system

    systems = [name for name, s in SYSTEMS.items() if len(s.names) == 3]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        name = systems[i % len(systems)]
        frame = sample_system(name, n=512, noise=0.01, seed=i, t_end=10.0)
        frame.to_csv(folder / f"s{i:05d}.csv", index=False, float_format="%.8g")
        config = {
            "name": f"s{i:05d}",
            "description": name,
            "data": {"path": f"s{i:05d}.csv"},
            "tracking": {"log_model": False},
        }
        (folder / f"s{i:05d}.yaml").write_text(yaml.safe_dump(config))
    return folder


CPU_GROUPS = {
    "PostgreSQL": ("postgres",),  # first: its backends' command lines name the database, "mlflow"
    "Dask workers": ("multiprocessing", "distributed"),
    "MLflow server": ("mlflow",),
    "Prefect server": ("prefect.server",),
}
"""Process groups of :class:`CpuAccount`, by a word of their command line (the first group that matches); anything
else counts as "other"."""


class CpuAccount:
    """CPU seconds (user + system) used during the ``with`` block by this process and every process below it (Dask
    workers and nannies, the MLflow and Prefect servers, PostgreSQL), sampled every second in a thread; what a process
    started before the block had used by then is not counted.

    The wall time of a batch depends on how fast the machine is that day; the CPU seconds per series say where the work
    goes, and compare across days. A process that ends between two samples loses at most its last second.
    """

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self._seen: dict[int, tuple[str, float]] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _own_seconds(self) -> float:
        times = self._me.cpu_times()
        return times.user + times.system

    def _loop(self) -> None:
        while not self._done.wait(1.0):
            self._sample()

    def _sample(self) -> None:
        import psutil

        for process in self._me.children(recursive=True):
            try:
                command, times = " ".join(process.cmdline()), process.cpu_times()
            except psutil.Error:
                continue
            group = next((g for g, words in CPU_GROUPS.items() if any(w in command for w in words)), "other")
            self._seen[process.pid] = (group, times.user + times.system)

    def __enter__(self) -> CpuAccount:
        self._start = self._own_seconds()
        self._sample()
        self._before = {pid: seconds for pid, (_, seconds) in self._seen.items()}  # servers started earlier
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        self._done.set()
        self._thread.join()
        self._end = self._own_seconds()

    def by_group(self) -> dict[str, float]:
        """CPU seconds per group, and ``this process`` (the flow run, the Dask scheduler, Prefect's client)."""
        totals = {"this process": self._end - self._start}
        for pid, (group, seconds) in self._seen.items():
            totals[group] = totals.get(group, 0.0) + seconds - self._before.get(pid, 0.0)
        return totals


def run(folder: Path, workers: int, work: Path) -> dict[str, float]:
    from flows.local_stack import postgres_available, start_mlflow_server, start_postgres, stop_process

    processes = []
    try:
        backend = None
        if postgres_available():
            postgres, base, _ = start_postgres(databases=("mlflow",))
            processes.append(postgres)
            backend = f"{base.replace('postgresql://', 'postgresql+psycopg2://')}/mlflow"
        server, uri = start_mlflow_server(work / f"mlflow-{workers}", backend_store_uri=backend)
        processes.append(server)
        os.environ["MLFLOW_TRACKING_URI"] = uri
        from flows import run_batch
        from pipeline.config import ExecutorConfig

        start = time.perf_counter()
        with CpuAccount() as cpu:
            batch = run_batch(folder, name=f"scaling-{workers}", resume=False,
                              executor=ExecutorConfig(kind="dask", n_workers=workers))  # fmt: skip
        elapsed = time.perf_counter() - start
        statuses = [item.status for item in batch.items]
        return {
            "cpu": {group: seconds / max(1, len(statuses)) for group, seconds in cpu.by_group().items()},
            "workers": workers,
            "series": len(statuses),
            "finished": statuses.count("FINISHED"),
            "failed": statuses.count("FAILED"),
            "queued": statuses.count("QUEUED"),
            "seconds": elapsed,
            "throughput": len(statuses) / elapsed,
            "backend": "PostgreSQL" if backend else "SQLite",
        }
    finally:
        for process in reversed(processes):
            stop_process(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deltaflow-scaling-"))
    os.chdir(work)
    folder = make_series(work / "series", args.series)
    rows = []
    for workers in args.workers:
        rows.append(run(folder, workers, work))
        print(rows[-1], flush=True)
    base = next((r for r in rows if r["workers"] == 1), None)
    lines = [
        "# Scale-out: discovery with tracking on a Dask LocalCluster",
        "",
        f"## {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, commit {_commit()}",
        "",
        f"`python benchmarks/scaling.py --series {args.series} --workers {' '.join(map(str, args.workers))}`"
        f" on {os.cpu_count()} cores; tracking to a local `mlflow server` ({rows[0]['backend']} backend, 1 process).",
        "Each series: 3-D system, 512 points, full discovery (40 bagging resamples), run published with artifacts.",
        "",
        "| workers | series | finished | failed | queued | wall time (s) | series/s | parallel efficiency |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        efficiency = f"{r['throughput'] / (r['workers'] * base['throughput']):.0%}" if base else "n/a"
        lines.append(
            f"| {r['workers']} | {r['series']} | {r['finished']} | {r['failed']} | {r['queued']} |"
            f" {r['seconds']:.0f} | {r['throughput']:.2f} | {efficiency} |"
        )
    groups = [*CPU_GROUPS, "this process", "other"]
    lines += [
        "",
        "CPU seconds per series during the batch (every process of the run, sampled each second; compares across days",
        "when the machine's speed does not):",
        "",
        "| workers | " + " | ".join(groups) + " | all |",
        "|---:|" + "---:|" * (len(groups) + 1),
    ]
    for r in rows:
        cells = [f"{r['cpu'].get(group, 0.0):.3f}" for group in groups]
        lines.append(f"| {r['workers']} | " + " | ".join(cells) + f" | {sum(r['cpu'].values()):.3f} |")
    path = HERE / "results" / "scaling.md"
    earlier = path.read_text().split("\n", 1)[1] if path.exists() else ""  # every earlier measurement, kept below
    path.write_text("\n".join(lines) + "\n" + earlier)
    print("\n".join(lines))


def _commit() -> str:
    """The short hash of the code measured."""
    import subprocess

    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
