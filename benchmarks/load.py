"""Load: many concurrent discovery flows logging to one local ``mlflow server`` process over HTTP.

    python benchmarks/load.py [--runs 50] [--concurrency 50]

Starts a real MLflow server on 127.0.0.1 (SQLite backend, one worker, job execution off) and
Prefect's temporary server, then runs ``--runs`` exp-decay discovery flows (100 samples each,
different data) from ``--concurrency`` threads at once, every one publishing its run over HTTP.
Counts errors, runs queued in the outbox (MLflow refused them), and FINISHED runs found in the
server afterwards (a lost run is one that neither finished nor was queued). Writes
benchmarks/results/load.md.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def make_configs(folder: Path, n: int) -> list[Path]:
    import numpy as np
    import pandas as pd
    import yaml

    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 100)
    paths = []
    for i in range(n):
        u = np.exp(-rng.uniform(0.3, 2.0) * t) * (1 + 0.01 * rng.standard_normal(100))
        pd.DataFrame({"t": t, "u": u}).to_csv(folder / f"d{i:03d}.csv", index=False)
        config = {
            "name": "load",
            "data": {"path": f"d{i:03d}.csv"},
            "discovery": {"library": {"degree": 2}, "n_bootstrap": 10},
            "tracking": {"log_model": False},
        }
        (folder / f"d{i:03d}.yaml").write_text(yaml.safe_dump(config))
        paths.append(folder / f"d{i:03d}.yaml")
    return paths


def run_load(n_runs: int, concurrency: int, folder: Path) -> dict[str, float]:
    """Run the load against a fresh MLflow server in ``folder``; returns the counts and timings."""
    from flows.local_stack import start_mlflow_server, stop_process

    server, uri = start_mlflow_server(folder / "server")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["DELTAFLOW_OUTBOX"] = str(folder / "outbox")
    try:
        from mlflow.tracking import MlflowClient

        from flows import discover_equations
        from flows.outbox import Outbox

        configs = make_configs(folder, n_runs)
        discover_equations(configs[0])  # warm: imports, Prefect server, experiment creation
        errors: list[str] = []

        def one(path: Path) -> str | None:
            try:
                return discover_equations(path).mlflow_run_id
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none may escape silently
                errors.append(f"{type(exc).__name__}: {exc}")
                return None

        # each flow runs in a copy of this thread's context: Prefect's settings (the caller's retries of a busy API,
        # say) are context variables, which a pool's threads would otherwise not see
        contexts = [contextvars.copy_context() for _ in configs]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            run_ids = list(pool.map(lambda context, path: context.run(one, path), contexts, configs))
        elapsed = time.perf_counter() - start
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("load")
        finished = {
            r.info.run_id for r in client.search_runs([experiment.experiment_id], max_results=5000)
            if r.info.status == "FINISHED"
        }  # fmt: skip
        published = [r for r in run_ids if r]
        queued = len(Outbox(folder / "outbox").pending())
        return {
            "runs": n_runs,
            "concurrency": concurrency,
            "errors": len(errors),
            "queued": queued,
            "published": len(published),
            "found_finished": len(set(published) & finished),
            "lost": n_runs - len(set(published) & finished) - queued - len(errors),
            "seconds": elapsed,
            "throughput": n_runs / elapsed,
            "first_error": errors[0] if errors else "",
        }
    finally:
        stop_process(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="deltaflow-load-"))
    os.chdir(folder)
    result = run_load(args.runs, args.concurrency, folder)
    lines = [
        "# Load: concurrent flows against one MLflow server",
        "",
        f"`python benchmarks/load.py --runs {args.runs} --concurrency {args.concurrency}`: a real `mlflow server`"
        " on 127.0.0.1 (SQLite backend, 1 worker), Prefect's temporary server; 2 cores.",
        "Each run: exp-decay discovery on 100 samples (10 bagging resamples), then one published MLflow run",
        "(params, metrics, 10 artifacts in one upload).",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in result.items()),
    ]
    (HERE / "results" / "load.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
