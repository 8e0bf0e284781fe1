"""Many datasets in one go: a parent MLflow run with a child run per config; one failure stops nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow

from flows.discovery import discover_equations
from flows.sensitivity import analyze_sensitivity
from flows.tracking import Tracker
from pipeline.config import load_config
from pipeline.errors import ConfigError, DeltaflowError
from pipeline.sensitivity import SensitivityResult

__all__ = ["BatchItem", "BatchRun", "expand_configs", "run_batch"]


@dataclass(frozen=True)
class BatchItem:
    """The outcome of one config in a batch: status ``FINISHED`` or ``FAILED``, and what it found or why not."""

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
        """Items that did not finish."""
        return sum(item.status != "FINISHED" for item in self.items)

    def summary(self) -> pd.DataFrame:
        """One row per item: config, status, run id, equations or error."""
        return pd.DataFrame(
            [
                {
                    "config": item.config,
                    "status": item.status,
                    "mlflow_run_id": item.mlflow_run_id or "",
                    "result": " ; ".join(item.equations) if item.status == "FINISHED" else item.error,
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


@flow(name="run-batch", validate_parameters=False)
def run_batch(paths: list[str | Path] | str | Path, name: str = "batch") -> BatchRun:
    """Run every config as a child of one parent MLflow run in the experiment ``name``.

    Each child is logged in the batch's experiment (MLflow nests runs within one
    experiment). An item that fails is marked FAILED with its error and the batch goes
    on; the parent holds the summary table (``summary.csv``) and the counts.
    """
    configs = expand_configs(paths)
    tracker = Tracker()
    experiment_id = tracker.ensure_experiment(name)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items: list[BatchItem] = []
    with tracker.run(experiment_id, run_name=f"{name} {stamp}", tags={"deltaflow.kind": "batch"}) as parent_id:
        for path in configs:
            try:
                config = load_config(path)
                config = config.model_copy(
                    update={"tracking": config.tracking.model_copy(update={"experiment": name, "enabled": True})}
                )
                if config.kind == "sensitivity":
                    done = analyze_sensitivity(config, parent_run_id=parent_id)
                    items.append(BatchItem(str(path), "FINISHED", done.mlflow_run_id, _index_summary(done.result)))
                else:
                    outcome = discover_equations(config, parent_run_id=parent_id)
                    items.append(
                        BatchItem(str(path), "FINISHED", outcome.mlflow_run_id, tuple(outcome.result.equations))
                    )
            except DeltaflowError as exc:
                known = {item.mlflow_run_id for item in items}
                failed = [r for r in _failed_children(tracker, experiment_id, parent_id) if r not in known]
                run_id = (
                    failed[0]
                    if failed
                    else tracker.record_failure(
                        experiment_id,
                        run_name=Path(path).stem,
                        error=f"{type(exc).__name__}: {exc}",
                        tags={"mlflow.parentRunId": parent_id, "config.path": str(path)},
                    )
                )
                items.append(BatchItem(str(path), "FAILED", run_id, error=str(exc)))
        batch = BatchRun(name, parent_id, tuple(items))
        tracker.log_metrics(
            parent_id, {"items": len(items), "failed": batch.n_failed, "finished": len(items) - batch.n_failed}
        )
        tracker.log_text(parent_id, batch.summary().to_csv(index=False), "summary.csv")
    return batch


def _index_summary(result: SensitivityResult) -> tuple[str, ...]:
    """One line per output: features by rank with their total (or first-order) index."""
    lines = []
    for out, table in result.indices.items():
        column = "ST" if table["ST"].notna().all() else "S1"
        ranked = table.sort_values("rank")
        lines.append(f"{out}: " + ", ".join(f"{f} {column}={v:.2f}" for f, v in ranked[column].items()))
    return tuple(lines) or tuple(f"{out}: gradients at {len(result.points)} points" for out in result.outputs)


def _failed_children(tracker: Tracker, experiment_id: str, parent_id: str) -> list[str]:
    """Run ids of the parent's children that ended FAILED, newest first."""
    runs = tracker.client.search_runs(
        [experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}' and attributes.status = 'FAILED'",
        order_by=["attributes.start_time DESC"],
    )
    return [r.info.run_id for r in runs]
