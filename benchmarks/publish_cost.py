"""One run's publish, timed against the bare MLflow calls it makes (issue 17, item "publishing cost").

    python benchmarks/publish_cost.py [--runs 7] [--profile]

For the exp-decay config (the core's result computed once, outside the timings), each repetition:

- **render**: ``flows.discovery.record_results`` on a fresh run record: metrics (coefficients and intervals),
  the four plots as PNG, the report, the tables;
- **publish**: ``Tracker.publish`` of that record: run, params, metrics, tags, dataset input, artifacts, the
  pyfunc model (signature, input example), terminate;
- **bare MLflow**: the same writes issued directly with ``MlflowClient`` and ``mlflow.pyfunc.log_model``
  (same params, metrics, tags, files and model arguments), no deltaflow code in between: the floor.

Both against a SQLite file and against a local ``mlflow server`` (SQLite behind it). Medians of ``--runs``
after one warm-up. ``--profile`` prints cProfile's top functions of the publish. Writes the "Publish cost"
section of benchmarks/results/pipeline.md (other sections kept; the previous table kept as "before").
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
SECTION = "## Publish cost"


def core_inputs() -> tuple[Any, Any, list[Any], Any]:
    """(config, series, derivatives, result) of configs/exp_decay.yaml, computed once."""
    from flows.inputs import read_timeseries
    from pipeline import discover, load_config
    from pipeline.differentiation import smooth_and_differentiate

    cfg = load_config(ROOT / "configs" / "exp_decay.yaml")
    cfg = cfg.model_copy(update={"tracking": cfg.tracking.model_copy(update={"log_model": True})})
    series = read_timeseries(cfg)
    method, params = cfg.differentiation.method, cfg.differentiation.params
    derivatives = [
        smooth_and_differentiate(t, x, method=method, **params) for t, x in zip(series.t_list(), series.x_list())
    ]
    result = discover(series.t_list(), series.x_list(), config=cfg.discovery, feature_names=series.names,
                      derivatives=derivatives)  # fmt: skip
    return cfg, series, derivatives, result


def ours(uri: str, inputs: tuple[Any, ...]) -> tuple[float, float]:
    """(render s, publish s) of one run through deltaflow's own code."""
    from flows.discovery import record_results
    from flows.records import new_record
    from flows.tracking import Tracker

    cfg, series, derivatives, result = inputs
    record = new_record(cfg, cfg.data.path, "exp_decay", None, None)
    t0 = time.perf_counter()
    record_results(record, cfg, series, derivatives, result)
    t1 = time.perf_counter()
    Tracker(uri).publish(record)
    return t1 - t0, time.perf_counter() - t1


def bare(uri: str, record: Any, model_args: dict[str, Any]) -> float:
    """Seconds for the same writes issued directly with the MLflow client: the floor of a publish."""
    import json

    import mlflow
    from mlflow.entities import Dataset, DatasetInput, Metric, Param
    from mlflow.tracking import MlflowClient

    from flows.tracking import DATASET_TAG

    t0 = time.perf_counter()
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("bare-mlflow")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("bare-mlflow")
    tags = {k: v for k, v in record.tags.items() if k != DATASET_TAG}
    run = client.create_run(experiment_id, run_name=record.run_name, tags=tags)
    run_id, now = run.info.run_id, int(time.time() * 1000)
    client.log_batch(
        run_id,
        params=[Param(k, str(v)) for k, v in record.params.items() if v is not None and v != "None"],
        metrics=[Metric(k, v, now, 0) for k, v in record.metrics.items()]
        + [Metric(k, v, now, s) for k, points in record.steps.items() for s, v in points],
    )
    dataset = Dataset(**json.loads(record.tags[DATASET_TAG]))
    client.log_inputs(run_id, datasets=[DatasetInput(dataset)])
    with tempfile.TemporaryDirectory() as folder:
        for name, content in record.files.items():
            target = Path(folder) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        client.log_artifacts(run_id, folder)
        model_json = Path(folder) / "model.json"
        model_json.write_text(json.dumps(record.model))
        mlflow.set_tracking_uri(uri)
        with mlflow.start_run(run_id=run_id):
            mlflow.pyfunc.log_model(**model_args, artifacts={"model": str(model_json)})
    client.set_terminated(run_id)
    return time.perf_counter() - t0


def model_arguments(record: Any) -> dict[str, Any]:
    """The arguments ``Tracker.log_discovered_model`` passes to ``mlflow.pyfunc.log_model`` (bar the model file)."""
    import pandas as pd
    from mlflow.models import infer_signature

    from flows.tracking import _model_requirements

    names = list(record.model["names"])
    example = pd.DataFrame([[1.0] * len(names)], columns=names)
    output = pd.DataFrame({f"d{n}/dt": [0.0] for n in names})
    return {
        "name": "exp_decay", "input_example": example, "python_model": str(ROOT / "flows" / "pyfunc_model.py"),
        "code_paths": [str(ROOT / "pipeline")], "pip_requirements": list(_model_requirements()),
        "signature": infer_signature(example, output, params={"simulate": False, "t": [0.0, 1.0]}),
    }  # fmt: skip


def measure(uri: str, inputs: tuple[Any, ...], runs: int, profile: bool) -> dict[str, float]:
    """Medians (seconds) of render, publish, their sum and the bare calls on the store ``uri``."""
    from flows.discovery import record_results
    from flows.records import new_record

    cfg, series, derivatives, result = inputs
    record = new_record(cfg, cfg.data.path, "exp_decay", None, None)
    record_results(record, cfg, series, derivatives, result)
    args = model_arguments(record)
    ours(uri, inputs), bare(uri, record, args)  # warm-up: experiments exist, imports done
    renders, publishes, totals, floors = [], [], [], []
    profiler = cProfile.Profile() if profile else None
    for _ in range(runs):
        if profiler:
            profiler.enable()
        render, publish = ours(uri, inputs)
        if profiler:
            profiler.disable()
        renders.append(render)
        publishes.append(publish)
        totals.append(render + publish)
        floors.append(bare(uri, record, args))
    if profiler:
        print(f"--- cProfile of {runs} render + publish on {uri.split(':')[0]}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    med = statistics.median
    return {"render": med(renders), "publish": med(publishes), "total": med(totals), "bare": med(floors)}


def write(rows: dict[str, dict[str, float]], runs: int, note: str) -> str:
    """Replace the Publish cost section of results/pipeline.md; the previous table is kept under "before"."""
    out = HERE / "results" / "pipeline.md"
    text = out.read_text() if out.exists() else "# Pipeline overhead\n"
    head, _, rest = text.partition(SECTION)
    old_table, _, tail = rest.partition("\n## ")
    previous = [line for line in old_table.splitlines() if line.startswith("| ") and "store" not in line]
    lines = [
        SECTION, "",
        f"`python benchmarks/publish_cost.py --runs {runs}`: one exp-decay run's publish, medians of {runs}"
        " (seconds; 2 shared cores, timings swing about 2x). render = metrics, 4 plots, report and tables onto the"
        " record; publish = `Tracker.publish` (run, params, metrics, tags, dataset, artifacts, pyfunc model);"
        " bare = the same MLflow writes issued directly with the client. Target: render + publish <= 0.3 s.",
        "", f"{note}", "",
        "| store | render | publish | render + publish | bare MLflow calls |", "|---|---|---|---|---|",
        *(f"| {store} | {r['render']:.3f} | {r['publish']:.3f} | {r['total']:.3f} | {r['bare']:.3f} |"
          for store, r in rows.items()),
    ]  # fmt: skip
    if previous:
        lines += ["", "Before (previous measurement):", "", "| store | render | publish | render + publish | bare |",
                  "|---|---|---|---|---|", *previous]  # fmt: skip
    out.write_text(head.rstrip() + "\n\n" + "\n".join(lines) + "\n" + (f"\n## {tail}" if tail else ""))
    return "\n".join(lines)


def run(runs: int, profile: bool = False, note: str = "") -> str:
    """Measure on a fresh SQLite file and on a fresh local ``mlflow server``; write and return the section."""
    work = Path(tempfile.mkdtemp(prefix="deltaflow-publish-"))
    here = Path.cwd()
    os.chdir(work)
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect"))
    try:
        from flows.settings import prepare_environment

        prepare_environment()
        from flows.local_stack import start_mlflow_server, stop_process

        inputs = core_inputs()
        rows = {"SQLite file": measure(f"sqlite:///{work / 'mlflow.db'}", inputs, runs, profile)}
        process, uri = start_mlflow_server(work / "server")
        try:
            rows["local `mlflow server`"] = measure(uri, inputs, runs, profile)
        finally:
            stop_process(process)
    finally:
        os.chdir(here)
    return write(rows, runs, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print cProfile's view of the publish")
    parser.add_argument("--note", default="", help="a line saying what code was measured")
    args = parser.parse_args()
    print(run(args.runs, args.profile, args.note))


if __name__ == "__main__":
    main()
