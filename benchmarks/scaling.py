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
Writes benchmarks/results/scaling.md. Run ``--workers 1 16`` on a 16-core machine for the big case.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
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
        batch = run_batch(folder, name=f"scaling-{workers}", resume=False,
                          executor=ExecutorConfig(kind="dask", n_workers=workers))  # fmt: skip
        elapsed = time.perf_counter() - start
        statuses = [item.status for item in batch.items]
        return {
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
