"""One run's publish, timed against the bare MLflow calls it makes (issue 17, item "publishing cost").

    python benchmarks/publish_cost.py [--runs 7] [--profile]

For two runs, the exp-decay config (1 state, 100 samples) and a Lorenz series like the batch benchmark's
(3 states, 512 points on [0, 10], 1 % noise; ``benchmarks/scaling.py``), the core's result computed once
outside the timings, each repetition:

- **render**: ``flows.discovery.record_results`` on a fresh run record: metrics (coefficients and intervals),
  the four plots as PNG, the report, the tables;
- **publish**: ``Tracker.publish`` of that record: run, params, metrics, tags, dataset input, artifacts, the
  pyfunc model (signature, input example), terminate;
- **bare MLflow**: the same writes issued directly with ``MlflowClient`` and ``mlflow.pyfunc.log_model``
  (same params, metrics, tags, files and model arguments, the model's code as the same one archive), no
  deltaflow code in between: the floor. It runs in the same process after deltaflow's ``Tracker``, so it
  shares the once-per-process MLflow lookups that ``flows.tracking`` settles (until stop 24 it shipped the
  whole ``pipeline`` package as ``code_paths``, one upload per module).

Both against a SQLite file and against a local ``mlflow server`` (SQLite behind it). Medians of ``--runs``
after one warm-up. ``--profile`` prints cProfile's top functions of the publish. Writes the table of the
"Publish cost" section of benchmarks/results/pipeline.md: the rows already there (earlier measurements) are
kept and the new rows added below them, labelled with ``--note`` and the commit measured; the section's text
and the other sections are kept.
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


def core_inputs(config: Path) -> tuple[Any, Any, list[Any], Any]:
    """(config, series, derivatives, result) of the discovery config at ``config``, computed once."""
    from flows.inputs import read_timeseries
    from pipeline import discover, load_config
    from pipeline.differentiation import smooth_and_differentiate

    cfg = load_config(config)
    cfg = cfg.model_copy(update={"tracking": cfg.tracking.model_copy(update={"log_model": True})})
    series = read_timeseries(cfg)
    method, params = cfg.differentiation.method, cfg.differentiation.params
    derivatives = [
        smooth_and_differentiate(t, x, method=method, **params) for t, x in zip(series.t_list(), series.x_list())
    ]
    result = discover(series.t_list(), series.x_list(), config=cfg.discovery, feature_names=series.names,
                      derivatives=derivatives)  # fmt: skip
    return cfg, series, derivatives, result


def lorenz_config(folder: Path) -> Path:
    """A config and CSV of one Lorenz series as ``benchmarks/scaling.py`` makes them (512 points, 1 % noise)."""
    import yaml

    from pipeline.systems import sample_system

    folder.mkdir(parents=True, exist_ok=True)
    frame = sample_system("lorenz", n=512, noise=0.01, seed=0, t_end=10.0)
    frame.to_csv(folder / "lorenz512.csv", index=False, float_format="%.8g")
    config = {"name": "lorenz512", "description": "lorenz", "data": {"path": "lorenz512.csv"}}
    (folder / "lorenz512.yaml").write_text(yaml.safe_dump(config))
    return folder / "lorenz512.yaml"


def ours(uri: str, inputs: tuple[Any, ...]) -> tuple[float, float]:
    """(render s, publish s) of one run through deltaflow's own code."""
    from flows.discovery import record_results
    from flows.records import new_record
    from flows.tracking import Tracker

    cfg, series, derivatives, result = inputs
    record = new_record(cfg, cfg.data.path, cfg.name, None, None)
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

    from flows.model_code import model_code_archive
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
            mlflow.pyfunc.log_model(**model_args, artifacts={"model": str(model_json), "code": model_code_archive()})
    client.set_terminated(run_id)
    return time.perf_counter() - t0


def model_arguments(record: Any, name: str) -> dict[str, Any]:
    """The arguments ``Tracker.log_discovered_model`` passes to ``mlflow.pyfunc.log_model`` (bar the model file)."""
    import pandas as pd
    from mlflow.models import infer_signature

    from flows.model_files import model_requirements

    names = list(record.model["names"])
    example = pd.DataFrame([[1.0] * len(names)], columns=names)
    output = pd.DataFrame({f"d{n}/dt": [0.0] for n in names})
    return {
        "name": name, "input_example": example, "python_model": str(ROOT / "flows" / "pyfunc_model.py"),
        "pip_requirements": list(model_requirements()),
        "signature": infer_signature(example, output, params={"simulate": False, "t": [0.0, 1.0]}),
    }  # fmt: skip


def measure(uri: str, inputs: tuple[Any, ...], runs: int, profile: bool) -> dict[str, float]:
    """Medians (seconds) of render, publish, their sum and the bare calls on the store ``uri``."""
    from flows.discovery import record_results
    from flows.records import new_record

    cfg, series, derivatives, result = inputs
    record = new_record(cfg, cfg.data.path, cfg.name, None, None)
    record_results(record, cfg, series, derivatives, result)
    args = model_arguments(record, cfg.name)
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


HEADER = (
    "| code | store | render | publish | render + publish | bare MLflow calls | publish / bare |",
    "|---|---|---|---|---|---|---|",
)
INTRO = (
    "`python benchmarks/publish_cost.py --runs N`: one run's publish, medians of N after a warm-up, seconds of wall"
    " time on 2 cores shared with other jobs (timings swing about 2x between measurements: compare columns within"
    " a row, and each row with its bare column). **render** = `record_results`: metrics (coefficients and"
    " intervals), the 4 plots as PNG, the report and the tables onto the run record. **publish** ="
    " `Tracker.publish`: run, params, metrics, tags, dataset input, artifacts, the pyfunc model (signature, input"
    " example), terminate. **bare** = the same writes issued directly with `MlflowClient` and"
    " `mlflow.pyfunc.log_model`. exp-decay: 1 state, 100 samples; Lorenz: 3 states, 512 points (the batch"
    " benchmark's series). Target: render + publish <= 0.3 s."
)


def commit_label() -> str:
    """The measured code's short commit, ``+changes`` when the work tree differs from it."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "--", "pipeline", "flows")
                                                   else "")  # fmt: skip


def table_rows(rows: dict[str, dict[str, float]], label: str) -> list[str]:
    """The new measurement as table rows: the first labelled ``label``, the others "same"."""
    lines = []
    for k, (store, r) in enumerate(rows.items()):
        ratio = r["publish"] / r["bare"] if r["bare"] else float("nan")
        lines.append(f"| {label if k == 0 else 'same'} | {store} | {r['render']:.3f} | {r['publish']:.3f} |"
                     f" {r['total']:.3f} | {r['bare']:.3f} | {ratio:.2f} |")  # fmt: skip
    return lines


def kept_rows(table: list[str]) -> list[str]:
    """Rows of an earlier table, in today's 7 columns (a row of the old 5-column format gets a code cell and
    its publish / bare ratio); header and separator lines dropped."""
    kept = []
    for line in table:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or set(line) <= set("|- ") or cells[0] in ("code", "store"):
            continue
        if len(cells) == 5:  # | store | render | publish | total | bare |
            ratio = float(cells[2]) / float(cells[4]) if float(cells[4]) else float("nan")
            cells = ["earlier", *cells, f"{ratio:.2f}"]
        kept.append("| " + " | ".join(cells) + " |")
    return kept


def write(rows: dict[str, dict[str, float]], runs: int, note: str) -> str:
    """Add the new rows to the (first) table of the Publish cost section in results/pipeline.md, below the rows
    already there; the section's text and other tables around it and the other sections are kept. Returns the
    section."""
    out = HERE / "results" / "pipeline.md"
    text = out.read_text() if out.exists() else "# Pipeline overhead\n"
    head, found, rest = text.partition(SECTION)
    body, sep, tail = rest.partition("\n## ")
    lines = body.strip("\n").splitlines() if found else [INTRO, ""]
    first = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    last = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))  # the first table
    label = f"{note + ' ' if note else ''}({commit_label()}, --runs {runs})"
    new_table = [*HEADER, *kept_rows(lines[first:last]), *table_rows(rows, label)]
    section = "\n".join([SECTION, "", *lines[:first], *new_table, *lines[last:]])
    out.write_text(head.rstrip() + "\n\n" + section.rstrip() + "\n" + (f"\n## {tail}" if sep else ""))
    return section


def run(runs: int, profile: bool = False, note: str = "") -> str:
    """Measure both runs on a fresh SQLite file and on a fresh local ``mlflow server``; write and return the
    section."""
    work = Path(tempfile.mkdtemp(prefix="deltaflow-publish-"))
    here = Path.cwd()
    os.chdir(work)
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect"))
    try:
        from flows.settings import prepare_environment

        prepare_environment()
        from flows.local_stack import start_mlflow_server, stop_process

        systems = {"exp-decay": core_inputs(ROOT / "configs" / "exp_decay.yaml"),
                   "Lorenz": core_inputs(lorenz_config(work / "lorenz"))}  # fmt: skip
        rows = {f"SQLite file, {name}": measure(f"sqlite:///{work / 'mlflow.db'}", inputs, runs, profile)
                for name, inputs in systems.items()}  # fmt: skip
        process, uri = start_mlflow_server(work / "server")
        try:
            rows |= {f"local `mlflow server`, {name}": measure(uri, inputs, runs, profile)
                     for name, inputs in systems.items()}  # fmt: skip
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
