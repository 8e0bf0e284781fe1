"""Many datasets in one go: a parent MLflow run with a child run per config; one failure stops nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.batch_items import ITEMS_HEADING, BatchItem, BatchRun, item_counts, item_lines
from flows.executor import require_scheduler, task_runner
from flows.inputs import expand_configs
from flows.kinds import run_kind
from flows.outbox import RunRecord, queued_record_id
from flows.provenance import code_version, config_hash, file_sha256
from flows.records import describe_run, stamped
from flows.runtime import deltaflow_flow, prepare_run
from flows.settings import data_roots
from flows.tracking import Tracker, retry_delays
from pipeline.config import AnyConfig, BatchConfig, ExecutorConfig, check_data_path, load_config
from pipeline.errors import ConfigError, DeltaflowError, TrackingError

_log = logging.getLogger("deltaflow.batch")

__all__ = ["BatchItem", "BatchRun", "chunk_size", "expand_configs", "run_batch", "run_batch_config"]


def _as_batch_config(paths: object) -> BatchConfig | None:
    if isinstance(paths, BatchConfig):
        return paths
    if isinstance(paths, (str, Path)) and Path(paths).is_file():
        config = load_config(paths)
        return config if isinstance(config, BatchConfig) else None
    return None


@deltaflow_flow("run-batch-config")
def run_batch_config(config: str | BatchConfig) -> BatchRun:
    """A ``kind: batch`` YAML as one flow (what a served or scheduled batch deployment runs)."""
    return run_batch(config)


Previous = dict[tuple[str, str, str], tuple[str, str, str]]
"""FINISHED item runs by (config hash, data hash or model id, code hash) -> (run id, result summary, a check's
verdict tag ``check.passed``: 'True', 'False' or '')."""


def _previous_results(tracker: Tracker, experiment_id: str) -> Previous:
    """The FINISHED item runs of the experiment (:data:`Previous`), the newest of each key."""
    found: Previous = {}
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
            source = tags.get("data.sha256") or tags.get("model.id", "")
            key = (tags.get("config.sha256", ""), source, tags.get("code.sha256", ""))
            summary = tags.get("result.equations") or tags.get("result.summary", "")
            found.setdefault(key, (run.info.run_id, summary, tags.get("check.passed", "")))
        token = page.token
        if not token:
            return found


def _item_key(config: AnyConfig, data_path: Path | None, tracker: Tracker) -> tuple[str, str, str]:
    """(config hash, data hash or the id of the model version a model URI names now, code hash): an alias moved to
    another version is another model, whatever the config says."""
    model = getattr(config, "model", None)
    if data_path is not None:
        source = file_sha256(data_path)
    else:
        source = (tracker.logged_model_id(model.uri) if model is not None and tracker.uri else None) or ""
    return config_hash(config), source, code_version()


Runner = Callable[[AnyConfig, dict[str, str | None]], Any]


def _as_subflow(config: AnyConfig, nest: dict[str, str | None]) -> Any:
    """Local executor: the item's flow as a subflow (visible in the Prefect UI, stages cached)."""
    return run_kind(config.kind).flow()(config, **nest)


def _in_task(config: AnyConfig, nest: dict[str, str | None]) -> Any:
    """Distributed executor: the same flow body called as a plain function inside a chunk task."""
    return run_kind(config.kind).flow().fn(config, **nest)


def _prepare(path: Path, name: str, tracker: Tracker) -> tuple[AnyConfig, tuple[str, str, str]]:
    """The item's config with tracking pointed at the batch's experiment, and its resume key.

    Raises:
        ConfigError: the config is invalid, or is itself a batch (a batch holds no batches).
    """
    config = load_config(path)
    if not run_kind(config.kind).nests:
        raise ConfigError(f"{path}: a '{config.kind}' config cannot be an item of a batch")
    config = config.model_copy(
        update={"tracking": config.tracking.model_copy(update={"experiment": name, "enabled": True})}
    )
    return config, _item_key(config, check_data_path(config, data_roots()), tracker)


def _failed_item(path: Path, name: str, nest: dict[str, str | None], tracker: Tracker, exc: Exception) -> BatchItem:
    """Any error of an item, typed or not, makes it a FAILED child run carrying its error in one line.

    A run the item opened but could neither complete nor queue (``exc.record``: a full disk, a refused value)
    is closed FAILED, never left RUNNING; an item that failed before its flow recorded anything (bad config,
    missing file) gets a FAILED run of its own, if even that can be written.
    """
    message = " ".join(str(exc).split())
    error = message if isinstance(exc, DeltaflowError) else f"{type(exc).__name__}: {message}"
    run_id, queued_as = getattr(exc, "run_id", None), getattr(exc, "queued_as", "")
    opened = getattr(getattr(exc, "record", None), "run_id", None)
    if opened:
        tracker.close_failed(opened, f"{type(exc).__name__}: {message}")
        run_id = opened
    elif not getattr(exc, "recorded", False):
        record = RunRecord(experiment=name, run_name=Path(path).stem, tags={"config.path": str(path)}, **nest)
        record.fail(exc)
        try:
            run_id, _, queued = tracker.publish_or_queue(record, delays=retry_delays()[:1])
            queued_as = record.record_id if queued else ""
        except TrackingError as lost:  # not even the failure can be written (the disk): the batch says so
            _log.warning("batch '%s': item %s failed and could not be recorded (%s)", name, path, lost)
    return BatchItem(str(path), "FAILED", run_id, error=error, queued_as=queued_as)


def _run_item(
    path: Path,
    name: str,
    nest: dict[str, str | None],
    tracker: Tracker,
    finished: Previous,
    runner: Runner,
) -> BatchItem:
    try:
        config, key = _prepare(path, name, tracker)
        if key in finished:  # same config, same data, same code: the earlier run is the answer
            run_id, summary, verdict = finished[key]
            lines = tuple(summary.split(" ; ")) if summary else ()
            return BatchItem(str(path), "REUSED", run_id, lines, passed={"True": True, "False": False}.get(verdict))
        done = runner(config, nest)
        status, passed = "QUEUED" if done.outbox else "FINISHED", getattr(done, "passed", None)
        queued_as = queued_record_id(done.outbox) if done.outbox else ""
        return BatchItem(
            str(path), status, done.mlflow_run_id, done.summary_lines(), passed=passed, queued_as=queued_as
        )
    except Exception as exc:  # noqa: BLE001 - one item, whatever it raised, must not sink the batch
        return _failed_item(path, name, nest, tracker, exc)


@task(name="run-chunk", cache_policy=NO_CACHE)
def run_chunk(
    paths: list[str],
    name: str,
    nest: dict[str, str | None],
    tracking_uri: str,
    finished: Previous,
) -> list[BatchItem]:
    """A chunk of items on one worker: one task amortises the scheduler's per-task overhead over many items."""
    tracker = Tracker(tracking_uri)  # explicit URI and run ids: no fluent MLflow state crosses processes
    return [_run_item(Path(p), name, nest, tracker, finished, _in_task) for p in paths]


def _progress(done: int, total: int, message: str) -> None:
    """A progress record for whoever listens (the CLI draws a bar from it)."""
    _log.info(message, extra={"items_done": done, "items_total": total})


CHUNKS_PER_WORKER = 16
"""Chunks per worker when the config does not size them. The last chunk of a batch keeps one worker busy while the
others idle, so a chunk should be a small share of a worker's items (with 4 chunks a worker, 1,000 series on 2 workers
came in chunks of 125 items, about 2 minutes each); it also sets how often the batch reports progress. A chunk task's
own bookkeeping (~0.1 s) stays under 1 % of a chunk of 1-s items."""


def chunk_size(n_items: int, n_workers: int, requested: int | None = None) -> int:
    """Items per task: as asked, else about :data:`CHUNKS_PER_WORKER` chunks per worker, never empty chunks."""
    if requested:
        return max(1, requested)
    return max(1, -(-n_items // (CHUNKS_PER_WORKER * max(1, n_workers))))


def _start_parent(tracker: Tracker, name: str, resume: bool) -> tuple[RunRecord, Previous]:
    parent = RunRecord(experiment=name, run_name=stamped(name), tags={"deltaflow.kind": "batch"})
    parent.tags["deltaflow.record_id"] = parent.record_id
    finished: Previous = {}
    try:
        tracker.start(parent)  # creates the store and experiment once, before anything fans out
        if resume:
            finished = _previous_results(tracker, parent.experiment_id)
    except TrackingError as exc:  # MLflow is down already: everything goes to the outbox, nested by record id
        tracker.found_unreachable()
        _log.warning("batch '%s': MLflow unreachable at start (%s); queuing runs in the outbox", name, exc)
    return parent, finished


@dataclass
class _ParentRun:
    """The batch's parent run while it runs: its record, what finished before (resume), items so far."""

    record: RunRecord
    finished: Previous
    items: list[BatchItem]
    executor: str
    paths: tuple[str, ...] = ()

    @property
    def nest(self) -> dict[str, str | None]:
        """How children nest under it: its run id, or its record id while it waits in the outbox."""
        if self.record.run_id:
            return {"parent_run_id": self.record.run_id}
        return {"parent_record_id": self.record.record_id}


@contextmanager
def _parent_run(tracker: Tracker, name: str, resume: bool, executor: str, paths: list[str]) -> Iterator[_ParentRun]:
    """The parent run, always ended: FINISHED with ``summary.csv`` and the counts, or, if the batch itself
    broke (not one of its items: those are FAILED children) or was interrupted, FAILED with the error, how many
    items ended, and the summary so far, where the items that did not end are NOT RUN rows."""
    record, finished = _start_parent(tracker, name, resume)
    parent = _ParentRun(record, finished, [], executor, tuple(paths))
    try:
        yield parent
    except BaseException as exc:
        record.fail(exc)
        raise
    finally:
        _close_parent(tracker, parent, name)


def _not_run(parent: _ParentRun) -> list[BatchItem]:
    """A NOT RUN row for each planned item without an outcome, when the batch stopped (interrupt, error) before it
    ended; the note on the parent's error says how far it got."""
    if parent.record.status != "FAILED":
        return []
    ended = {item.config for item in parent.items}
    left = [path for path in parent.paths if path not in ended]
    if left:
        why = " ".join(parent.record.error.split(":")[0].split("(")[0].split())  # the error's type
        note = f"the batch stopped ({why}) before this item ended; a rerun with resume runs it"
        parent.record.tags["error"] = parent.record.error = (
            f"{parent.record.error.rstrip(': ')} [after {len(parent.items)} of {len(parent.paths)} items;"
            f" {len(left)} not run]"
        )[:5000]
        return [BatchItem(path, "NOT RUN", None, error=note) for path in left]
    return []


def _close_parent(tracker: Tracker, parent: _ParentRun, name: str) -> None:
    items = [*parent.items, *_not_run(parent)]
    summary = BatchRun(name, parent.record.run_id or "", tuple(items)).summary()
    counts = item_counts(items)
    parent.record.metrics |= {"items": len(items), **counts}
    parent.record.params["executor"] = parent.executor
    parent.record.files["summary.csv"] = summary.to_csv(index=False)
    describe_run(parent.record, {ITEMS_HEADING.strip("*"): item_lines(items, counts, parent.record.experiment_id)})
    try:
        tracker.publish_or_queue(parent.record)
    except TrackingError as exc:  # neither published nor queued (a full disk): the parent must not stay RUNNING
        if parent.record.run_id:
            tracker.close_failed(parent.record.run_id, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        raise


@deltaflow_flow("run-batch")
def batch_flow(paths: list[str], name: str = "batch", resume: bool = True) -> BatchRun:
    """The local batch: items one after another, each a subflow (see :func:`run_batch`)."""
    tracker = Tracker()
    with _parent_run(tracker, name, resume, "local", paths) as parent:
        for path in paths:
            parent.items.append(_run_item(Path(path), name, parent.nest, tracker, parent.finished, _as_subflow))
            _progress(len(parent.items), len(paths), f"{parent.items[-1].status.lower()}: {Path(path).name}")
    return BatchRun(name, parent.record.run_id or "", tuple(parent.items))


@deltaflow_flow("run-batch-distributed")
def distributed_batch_flow(paths: list[str], name: str, resume: bool, executor: ExecutorConfig) -> BatchRun:
    """The distributed batch: chunks of items as tasks on the flow's task runner (Dask)."""
    tracker = Tracker()
    size = chunk_size(len(paths), executor.n_workers, executor.chunk_size)
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    with _parent_run(tracker, name, resume, f"dask ({executor.describe()}, chunks of {size})", paths) as parent:
        futures = [run_chunk.submit(chunk, name, parent.nest, tracker.uri, parent.finished) for chunk in chunks]
        for future in futures:
            parent.items.extend(future.result())
            _progress(len(parent.items), len(paths), f"chunk done ({len(chunks)} chunks of {size})")
    return BatchRun(name, parent.record.run_id or "", tuple(parent.items))


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
    require_scheduler(executor)
    prepare_run()  # with_options makes a plain Flow, which does not prepare itself
    return distributed_batch_flow.with_options(task_runner=task_runner(executor))(paths, name, resume, executor)
