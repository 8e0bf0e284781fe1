"""Many datasets in one go: a parent MLflow run with a child run per config; one failure stops nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow

from flows.discovery import code_version, discover_equations
from flows.outbox import RunRecord
from flows.provenance import file_sha256
from flows.sensitivity import analyze_sensitivity, index_summary
from flows.settings import data_roots
from flows.tracking import Tracker, retry_delays
from pipeline.config import AnyConfig, check_data_path, config_hash, load_config
from pipeline.errors import ConfigError, DeltaflowError, TrackingError

_log = logging.getLogger("deltaflow.batch")

__all__ = ["BatchItem", "BatchRun", "expand_configs", "run_batch"]


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


def expand_configs(paths: list[str | Path] | str | Path) -> list[Path]:
    """YAML configs named directly or found (sorted) in the given folders.

    Raises:
        ConfigError: a path does not exist or a folder holds no YAML config.
    """
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    configs: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted([*item.glob("*.yaml"), *item.glob("*.yml")])
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


def _run_item(
    path: Path, name: str, parent: RunRecord, tracker: Tracker, finished: dict[tuple[str, str, str], tuple[str, str]]
) -> BatchItem:
    nest = {"parent_run_id": parent.run_id} if parent.run_id else {"parent_record_id": parent.record_id}
    try:
        config = load_config(path)
        config = config.model_copy(
            update={"tracking": config.tracking.model_copy(update={"experiment": name, "enabled": True})}
        )
        data_path = check_data_path(config, data_roots())
        key = _item_key(config, data_path)
        if key in finished:  # same config, same data, same code: the earlier run is the answer
            run_id, summary = finished[key]
            return BatchItem(str(path), "REUSED", run_id, tuple(summary.split(" ; ")) if summary else ())
        if config.kind == "sensitivity":
            done = analyze_sensitivity(config, **nest)
            lines, run_id, queued = index_summary(done.result), done.mlflow_run_id, done.outbox
        else:
            outcome = discover_equations(config, **nest)
            lines, run_id, queued = tuple(outcome.result.equations), outcome.mlflow_run_id, outcome.outbox
        return BatchItem(str(path), "QUEUED" if queued else "FINISHED", run_id, lines)
    except DeltaflowError as exc:
        run_id = exc.run_id
        if not exc.recorded:  # failed before its flow could record it (bad config, missing file)
            record = RunRecord(experiment=name, run_name=Path(path).stem, tags={"config.path": str(path)}, **nest)
            record.fail(exc)
            run_id, _, _ = tracker.publish_or_queue(record, delays=retry_delays()[:1])
        return BatchItem(str(path), "FAILED", run_id, error=str(exc))


@flow(name="run-batch", validate_parameters=False)
def run_batch(paths: list[str | Path] | str | Path, name: str = "batch", resume: bool = True) -> BatchRun:
    """Run every config as a child of one parent MLflow run in the experiment ``name``.

    Each child is logged in the batch's experiment (MLflow nests runs within one
    experiment). An item that fails is marked FAILED with its error and the batch goes
    on; the parent holds the summary table (``summary.csv``) and the counts. With
    ``resume``, an item whose config, data and code are unchanged since a FINISHED run in
    this experiment is not recomputed: the batch points to that run (status REUSED). If
    MLflow goes down, items are queued in the outbox (status QUEUED) for ``python -m flows sync``.
    """
    configs = expand_configs(paths)
    tracker = Tracker()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parent = RunRecord(experiment=name, run_name=f"{name} {stamp}", tags={"deltaflow.kind": "batch"})
    parent.tags["deltaflow.record_id"] = parent.record_id
    finished: dict[tuple[str, str, str], tuple[str, str]] = {}
    try:
        tracker.start(parent)
        if resume:
            finished = _previous_results(tracker, parent.experiment_id)
    except TrackingError as exc:  # MLflow is down already: everything goes to the outbox, nested by record id
        _log.warning("batch '%s': MLflow unreachable at start (%s); queuing runs in the outbox", name, exc)
    items = [_run_item(path, name, parent, tracker, finished) for path in configs]
    batch = BatchRun(name, parent.run_id or "", tuple(items))
    counts = {
        status.lower(): sum(i.status == status for i in items) for status in ("FINISHED", "FAILED", "REUSED", "QUEUED")
    }
    parent.metrics |= {"items": len(items), **counts}
    parent.files["summary.csv"] = batch.summary().to_csv(index=False)
    tracker.publish_or_queue(parent)
    return batch
