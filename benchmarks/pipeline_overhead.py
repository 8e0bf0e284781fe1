"""Overhead of the orchestration and tracking layers over the bare core call.

    python benchmarks/pipeline_overhead.py [--runs 5]

(Not ``benchmarks/pipeline.py``: a script of that name shadows the ``pipeline`` package for
every script in this folder.)

In a fresh temporary folder (embedded defaults: Prefect's temporary server, MLflow in
SQLite), for the bundled exp-decay config: the bare core call (load, differentiate,
discover), then the flow (the same plus Prefect and MLflow logging of params, metrics,
7 artifacts and 3 plots), with and without the pyfunc model; the first flow of the
process is the cold one. Also times the cold CLI (`python -m flows run`, a new process
and a new store) and a batch of 200 small datasets through ``run_batch`` (full
discovery and tracking per item, no cache hits). Then one run's publish against the bare
MLflow calls it makes, on SQLite and a local ``mlflow server`` (``benchmarks/publish_cost.py``,
``--publish-runs`` repetitions; 0 skips it). Writes benchmarks/results/pipeline.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_small_batch(folder: Path, n: int) -> tuple[float, int]:
    """n exp-decay datasets (100 samples, 1 % noise, rates 0.2-2) with their configs, through one run_batch."""
    import numpy as np
    import pandas as pd
    import yaml

    from flows import run_batch

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 100)
    for i in range(n):
        rate = rng.uniform(0.2, 2.0)
        u = np.exp(-rate * t) * (1 + 0.01 * rng.standard_normal(t.size))
        pd.DataFrame({"t": t, "u": u}).to_csv(folder / f"decay_{i:03d}.csv", index=False)
        config = {
            "name": f"decay-{i:03d}",
            "data": {"path": f"decay_{i:03d}.csv", "state_columns": ["u"]},
            "discovery": {"library": {"degree": 2}},
            "tracking": {"log_model": False},
        }
        (folder / f"decay_{i:03d}.yaml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    batch = run_batch(folder, name="bench-batch")
    return time.perf_counter() - start, batch.n_failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=200, help="datasets in the batch measurement (0: skip)")
    parser.add_argument("--publish-runs", type=int, default=7, help="repetitions of the publish measurement (0: skip)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="deltaflow-bench-"))
    os.chdir(workdir)
    os.environ.pop("MLFLOW_TRACKING_URI", None)

    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    cli = subprocess.run(
        [sys.executable, "-m", "flows", "run", str(ROOT / "configs" / "exp_decay.yaml")],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    cold_cli = time.perf_counter() - start
    assert cli.returncode == 0, cli.stderr[-2000:]

    from flows import discover_equations
    from pipeline import discover, load_config, load_timeseries

    config = load_config(ROOT / "configs" / "exp_decay.yaml")
    no_model = config.model_copy(update={"tracking": config.tracking.model_copy(update={"log_model": False})})

    def core() -> None:
        series = load_timeseries(config.data.path, time_column="t", state_columns=["u"])
        discover(series.t, series.x, config=config.discovery, feature_names=series.names)

    core()
    core_times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        core()
        core_times.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    discover_equations(no_model)
    cold_flow = time.perf_counter() - t0
    flow_times, model_times = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        discover_equations(no_model)
        flow_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        discover_equations(config)
        model_times.append(time.perf_counter() - t0)

    def med(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    batch_rows = []
    if args.batch:
        batch_total, n_failed = run_small_batch(workdir / "batch", args.batch)
        batch_rows = [
            f"| batch of {args.batch} small datasets (`run_batch`, one parent + {args.batch} child runs), total |"
            f" {batch_total:.1f} |",
            f"| ... per dataset | {batch_total / args.batch:.2f} |",
            f"| ... failed items | {n_failed} |",
        ]

    lines = [
        "# Pipeline overhead",
        "",
        f"`python benchmarks/pipeline_overhead.py --runs {args.runs}`; exp-decay config (100 samples);"
        f" medians of {args.runs} runs.",
        "Repeated flows hit the stage cache (data and config unchanged), so they measure the layers, not the numerics.",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| bare core call (load + differentiate + discover) | {med(core_times):.3f} |",
        f"| cold first flow in a fresh process and store (no pyfunc model) | {cold_flow:.2f} |",
        f"| warm flow + tracking, no pyfunc model | {med(flow_times):.2f} |",
        f"| warm flow + tracking + pyfunc model | {med(model_times):.2f} |",
        f"| warm overhead over the core, no model | {med(flow_times) - med(core_times):.2f} |",
        f"| warm overhead over the core, with model | {med(model_times) - med(core_times):.2f} |",
        f"| cold CLI `python -m flows run` (new process, new store, with model) | {cold_cli:.1f} |",
        *batch_rows,
    ]
    out = HERE / "results" / "pipeline.md"
    kept = out.read_text().partition("\n## ") if out.exists() else ("", "", "")
    cli_section = "\n" + kept[1].lstrip("\n") + kept[2] if kept[1] else ""  # cli_latency.py's and publish_cost.py's
    out.write_text("\n".join(lines) + "\n" + cli_section)
    print("\n".join(lines))
    if args.publish_runs:
        from publish_cost import run as measure_publish

        print(measure_publish(args.publish_runs))


if __name__ == "__main__":
    main()
