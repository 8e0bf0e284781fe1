"""Many datasets in one go: a parent MLflow run with a child run per config; one failure stops nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.discovery import (
    code_version,
    differentiate_series,
    discover_equations,
    discover_model,
    fail_and_publish,
    load_data,
    new_record,
    record_results,
)
from flows.executor import task_runner
from flows.outbox import RunRecord
from flows.provenance import file_sha256
from flows.sensitivity import analyze, analyze_sensitivity, index_summary, load_samples, record_sensitivity
from flows.settings import data_roots
from flows.tracking import Tracker, retry_delays
from pipeline.config import AnyConfig, BatchConfig, ExecutorConfig, check_data_path, config_hash, load_config
from pipeline.errors import ConfigError, DeltaflowError, TrackingError

_log = logging.getLogger("deltaflow.batch")

__all__ = ["BatchItem", "BatchRun", "chunk_size", "expand_configs", "run_batch", "run_batch_config"]


@dataclass(frozen=True)
class BatchItem:
    """One config's outcome: ``FINISHED``, ``REUSED`` (unchanged since a finished run), ``QUEUED`` (in the
    outbox, MLflow down) or ``FAILED``; and what it found or why not."""

    config: str
    status: str
    mlflow_run_id: str | None
    equations: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class BatchRun:
    """What :func:`run_batch` returns: the parent run and one item per config."""

    name: str
    parent_run_id: str
    items: tuple[BatchItem, ...]

    @property
    def n_failed(self) -> int:
        """Items that failed."""
        return sum(item.status == "FAILED" for item in self.items)

    def summary(self) -> pd.DataFrame:
        """One row per item: config, status, run id, equations or error."""
        return pd.DataFrame(
            [
                {
                    "config": item.config,
                    "status": item.status,
                    "mlflow_run_id": item.mlflow_run_id or "",
                    "result": item.error if item.status == "FAILED" else " ; ".join(item.equations),
                }
                for item in self.items
            ]
        )


def _is_batch_file(path: Path) -> bool:
    """A folder's batch configs are not items of a batch over that folder (no recursion)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # not readable as a config: it becomes a FAILED item with its own error
    return isinstance(raw, dict) and raw.get("kind") == "batch"


def _as_batch_config(paths: object) -> BatchConfig | None:
    if isinstance(paths, BatchConfig):
        return paths
    if isinstance(paths, (str, Path)) and Path(paths).is_file():
        config = load_config(paths)
        return config if isinstance(config, BatchConfig) else None
    return None


@flow(name="run-batch-config", validate_parameters=False)
def run_batch_config(config: str) -> BatchRun:
    """A ``kind: batch`` YAML as one flow (what a served or scheduled batch deployment runs)."""
    return run_batch(config)


def expand_configs(paths: list[str | Path] | str | Path) -> list[Path]:
    """YAML configs named directly or found (sorted) in the given folders.

    Raises:
        ConfigError: a path does not exist or a folder holds no YAML config.
    """
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    configs: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = [p for p in sorted([*item.glob("*.yaml"), *item.glob("*.yml")]) if not _is_batch_file(p)]
            if not found:
                raise ConfigError(f"{item}: folder holds no .yaml configs")
            configs += found
        elif item.is_file():
            configs.append(item)
        else:
            raise ConfigError(f"{item}: no such config file or folder")
    return configs


def _previous_results(tracker: Tracker, experiment_id: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """FINISHED item runs of the experiment by (config hash, data hash, code hash) -> (run id, result summary)."""
    found: dict[tuple[str, str, str], tuple[str, str]] = {}
    token = None
    while True:
        page = tracker.client.search_runs(
            [experiment_id],
            filter_string="attributes.status = 'FINISHED' and tags.`deltaflow.kind` != 'batch'",
            max_results=1000,
            page_token=token,
        )
        for run in page:
            tags = run.data.tags
            key = (tags.get("config.sha256", ""), tags.get("data.sha256", ""), tags.get("code.sha256", ""))
            found.setdefault(key, (run.info.run_id, tags.get("result.equations") or tags.get("result.summary", "")))
        token = page.token
        if not token:
            return found


def _item_key(config: AnyConfig, data_path: Path | None) -> tuple[str, str, str]:
    return config_hash(config), file_sha256(data_path) if data_path else "", code_version()


Runner = Callable[[AnyConfig, dict[str, str | None], Tracker], tuple[tuple[str, ...], str | None, Path | None]]


def _run_check(config: AnyConfig, plain: bool):
    from flows.checks import check_gradient_flow, check_residual

    flow_fn = check_residual if config.kind == "residual" else check_gradient_flow
    done = flow_fn.fn(config) if plain else flow_fn(config)
    return ("passed" if done.passed else "check failed",), done.mlflow_run_id, done.outbox


def _run_as_flows(config: AnyConfig, nest: dict[str, str | None], tracker: Tracker):
    """Local executor: each item is a subflow (visible in the Prefect UI, stages cached)."""
    if config.kind in ("residual", "gradient_check"):
        return _run_check(config, plain=False)
    if config.kind == "sensitivity":
        done = analyze_sensitivity(config, **nest)
        return index_summary(done.result), done.mlflow_run_id, done.outbox
    outcome = discover_equations(config, **nest)
    return tuple(outcome.result.equations), outcome.mlflow_run_id, outcome.outbox


def _run_in_task(config: AnyConfig, nest: dict[str, str | None], tracker: Tracker):
    """Distributed executor: the same stage functions called directly inside a chunk task (no nested runs)."""
    if config.kind in ("residual", "gradient_check"):
        return _run_check(config, plain=True)
    data_path = check_data_path(config, data_roots())
    source = data_path.stem if data_path is not None else config.model.uri.replace("/", "_")
    record = new_record(config, data_path, source, nest.get("parent_run_id"), nest.get("parent_record_id"))
    try:
        if config.kind == "sensitivity":
            table, model, space = load_samples.fn(config, tracker)
            result = analyze.fn(config, table, model, space)
            lines = index_summary(result)
            record.tags["result.summary"] = " ; ".join(lines)[:5000]
            record_sensitivity.fn(record, result)
        else:
            series = load_data.fn(config)
            derivatives = differentiate_series.fn(series, config.differentiation)
            result = discover_model.fn(series, derivatives, config.discovery)
            lines = tuple(result.equations)
            record_results(record, config, series, derivatives, result)
    except BaseException as exc:
        fail_and_publish(tracker, record, exc)
        raise
    run_id, _, queued = tracker.publish_or_queue(record)
    return lines, run_id, queued


def _prepare(path: Path, name: str) -> tuple[AnyConfig, tuple[str, str, str]]:
    """The item's config with tracking pointed at the batch's experiment, and its resume key."""
    config = load_config(path)
    config = config.model_copy(
        update={"tracking": config.tracking.model_copy(update={"experiment": name, "enabled": True})}
    )
    return config, _item_key(config, check_data_path(config, data_roots()))


def _run_item(
    path: Path,
    name: str,
    nest: dict[str, str | None],
    tracker: Tracker,
    finished: dict[tuple[str, str, str], tuple[str, str]],
    runner: Runner,
) -> BatchItem:
    try:
        config, key = _prepare(path, name)
        if key in finished:  # same config, same data, same code: the earlier run is the answer
            run_id, summary = finished[key]
            return BatchItem(str(path), "REUSED", run_id, tuple(summary.split(" ; ")) if summary else ())
        lines, run_id, queued = runner(config, nest, tracker)
        return BatchItem(str(path), "QUEUED" if queued else "FINISHED", run_id, lines)
    except DeltaflowError as exc:
        run_id = exc.run_id
        if not exc.recorded:  # failed before its flow could record it (bad config, missing file)
            record = RunRecord(experiment=name, run_name=Path(path).stem, tags={"config.path": str(path)}, **nest)
            record.fail(exc)
            run_id, _, _ = tracker.publish_or_queue(record, delays=retry_delays()[:1])
        return BatchItem(str(path), "FAILED", run_id, error=str(exc))


@task(name="run-chunk", cache_policy=NO_CACHE)
def run_chunk(
    paths: list[str],
    name: str,
    nest: dict[str, str | None],
    tracking_uri: str,
    finished: dict[tuple[str, str, str], tuple[str, str]],
) -> list[BatchItem]:
    """A chunk of items on one worker: one task amortises the scheduler's per-task overhead over many items."""
    tracker = Tracker(tracking_uri)  # explicit URI and run ids: no fluent MLflow state crosses processes
    return [_run_item(Path(p), name, nest, tracker, finished, _run_in_task) for p in paths]


def _progress(done: int, total: int, message: str) -> None:
    """A progress record for whoever listens (the CLI draws a bar from it)."""
    _log.info(message, extra={"items_done": done, "items_total": total})


def chunk_size(n_items: int, n_workers: int, requested: int | None = None) -> int:
    """Items per task: as asked, else about four chunks per worker (load balance) and never empty chunks."""
    if requested:
        return max(1, requested)
    return max(1, -(-n_items // (4 * max(1, n_workers))))


def _start_parent(tracker: Tracker, name: str, resume: bool) -> tuple[RunRecord, dict]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parent = RunRecord(experiment=name, run_name=f"{name} {stamp}", tags={"deltaflow.kind": "batch"})
    parent.tags["deltaflow.record_id"] = parent.record_id
    finished: dict[tuple[str, str, str], tuple[str, str]] = {}
    try:
        tracker.start(parent)  # creates the store and experiment once, before anything fans out
        if resume:
            finished = _previous_results(tracker, parent.experiment_id)
    except TrackingError as exc:  # MLflow is down already: everything goes to the outbox, nested by record id
        _log.warning("batch '%s': MLflow unreachable at start (%s); queuing runs in the outbox", name, exc)
    return parent, finished


def _finish_parent(tracker: Tracker, parent: RunRecord, name: str, items: list[BatchItem], executor: str) -> BatchRun:
    batch = BatchRun(name, parent.run_id or "", tuple(items))
    counts = {
        status.lower(): sum(i.status == status for i in items) for status in ("FINISHED", "FAILED", "REUSED", "QUEUED")
    }
    parent.metrics |= {"items": len(items), **counts}
    parent.params["executor"] = executor
    parent.files["summary.csv"] = batch.summary().to_csv(index=False)
    tracker.publish_or_queue(parent)
    return batch


@flow(name="run-batch", validate_parameters=False)
def batch_flow(paths: list[str], name: str = "batch", resume: bool = True) -> BatchRun:
    """The local batch: items one after another, each a subflow (see :func:`run_batch`)."""
    tracker = Tracker()
    parent, finished = _start_parent(tracker, name, resume)
    nest = {"parent_run_id": parent.run_id} if parent.run_id else {"parent_record_id": parent.record_id}
    items = []
    for path in paths:
        items.append(_run_item(Path(path), name, nest, tracker, finished, _run_as_flows))
        _progress(len(items), len(paths), f"{items[-1].status.lower()}: {Path(path).name}")
    return _finish_parent(tracker, parent, name, items, "local")


@flow(name="run-batch-distributed", validate_parameters=False)
def distributed_batch_flow(paths: list[str], name: str, resume: bool, executor: ExecutorConfig) -> BatchRun:
    """The distributed batch: chunks of items as tasks on the flow's task runner (Dask)."""
    tracker = Tracker()
    parent, finished = _start_parent(tracker, name, resume)
    nest = {"parent_run_id": parent.run_id} if parent.run_id else {"parent_record_id": parent.record_id}
    size = chunk_size(len(paths), executor.n_workers, executor.chunk_size)
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    futures = [run_chunk.submit(chunk, name, nest, tracker.uri, finished) for chunk in chunks]
    items: list[BatchItem] = []
    for future in futures:
        items += future.result()
        _progress(len(items), len(paths), f"chunk done ({len(chunks)} chunks of {size})")
    return _finish_parent(tracker, parent, name, items, f"dask ({executor.describe()}, chunks of {size})")


def run_batch(
    paths: list[str | Path] | str | Path | BatchConfig,
    name: str = "batch",
    resume: bool = True,
    executor: ExecutorConfig | None = None,
) -> BatchRun:
    """Run every config as a child of one parent MLflow run in the experiment ``name``.

    Each child is logged in the batch's experiment (MLflow nests runs within one
    experiment). An item that fails is marked FAILED with its error and the batch goes
    on; the parent holds the summary table (``summary.csv``) and the counts. With
    ``resume``, an item whose config, data and code are unchanged since a FINISHED run in
    this experiment is not recomputed: the batch points to that run (status REUSED). If
    MLflow goes down, items are queued in the outbox (status QUEUED) for ``python -m flows sync``.

    ``executor`` chooses where items run: locally one after another (default), or in chunks on a
    Dask cluster (``ExecutorConfig(kind="dask", n_workers=N)`` or ``address="tcp://..."``).
    A :class:`BatchConfig` (or the path of a ``kind: batch`` YAML) supplies configs, name, executor
    and resume itself.
    """
    batch_config = _as_batch_config(paths)
    if batch_config is not None:
        paths, name, resume, executor = (
            batch_config.configs,
            batch_config.name,
            batch_config.resume,
            batch_config.executor,
        )
    paths = [str(p) for p in expand_configs(paths)]
    executor = executor or ExecutorConfig()
    if executor.kind == "local":
        return batch_flow(paths, name, resume)
    return distributed_batch_flow.with_options(task_runner=task_runner(executor))(paths, name, resume, executor)
