"""A batch's items and how its parent run shows them: ``summary.csv``, the counts, the table in its description;
and the same brought up to date once ``sync`` has published the items that were queued (:func:`refresh_parent`).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException

from flows.console import CLASSIC_LAYOUT
from flows.records import NOTE_TAG
from flows.tracking import Tracker

__all__ = ["BatchItem", "BatchRun", "DESCRIBED_ITEMS", "ITEMS_HEADING", "item_counts", "item_lines", "refresh_parent"]


@dataclass(frozen=True)
class BatchItem:
    """One config's outcome: ``FINISHED``, ``REUSED`` (unchanged since a finished run), ``QUEUED`` (in the
    outbox, MLflow down) or ``FAILED``; and what it found or why not. ``passed`` is a check's verdict (a residual
    or gradient check that ran to the end and failed is FINISHED with ``passed`` False), None for other kinds.
    ``queued_as`` is a QUEUED item's outbox record id, which ``sync`` uses to link the item to its run."""

    config: str
    status: str
    mlflow_run_id: str | None
    equations: tuple[str, ...] = ()
    error: str = ""
    passed: bool | None = None
    queued_as: str = ""


@dataclass(frozen=True)
class BatchRun:
    """What :func:`flows.batch.run_batch` returns: the parent run and one item per config."""

    name: str
    parent_run_id: str
    items: tuple[BatchItem, ...]

    @property
    def n_failed(self) -> int:
        """Items that failed."""
        return sum(item.status == "FAILED" for item in self.items)

    @property
    def n_checks_failed(self) -> int:
        """Check items that ran (or were reused) and whose check failed: not FAILED runs, but no success either."""
        return sum(item.passed is False for item in self.items)

    def summary(self) -> pd.DataFrame:
        """One row per item: config, status, run id, equations or error, a check's verdict, and a queued item's
        outbox record id."""
        return pd.DataFrame(
            [
                {
                    "config": item.config,
                    "status": item.status,
                    "mlflow_run_id": item.mlflow_run_id or "",
                    "result": item.error if item.status in ("FAILED", "NOT RUN") else " ; ".join(item.equations),
                    "check_passed": "" if item.passed is None else str(item.passed),
                    "queued_record_id": item.queued_as,
                }
                for item in self.items
            ],
            columns=["config", "status", "mlflow_run_id", "result", "check_passed", "queued_record_id"],
        )


STATUSES = ("FINISHED", "FAILED", "REUSED", "QUEUED", "NOT RUN")
"""Every status an item can end with, in the order the counts name them."""
DESCRIBED_ITEMS = 15
"""The parent's description lists at most this many items (failures first; a run's description holds 5,000
characters); ``summary.csv`` holds them all."""
ITEMS_HEADING = "**Items**"
"""The heading of the items' section in the parent's description (what a refresh replaces)."""

_FOLDERS = re.compile(r"(?<![^\s'\"(=])(?:/[^/\s:'\"]+)+/(?=[^/\s])")
"""The folders of an absolute path in a message (the table names files; summary.csv and the run keep the paths)."""


def item_counts(items: list[BatchItem]) -> dict[str, int]:
    """The parent's metrics: how many items per status (``not_run`` for NOT RUN) and failed checks."""
    counts = {status.lower().replace(" ", "_"): sum(item.status == status for item in items) for status in STATUSES}
    counts["checks_failed"] = sum(item.passed is False for item in items)
    return counts


def item_lines(items: list[BatchItem], counts: dict[str, int], experiment_id: str | None) -> list[str]:
    """The parent run's description in the MLflow UI: the counts, then a Markdown table of the items (failed and not
    run first), each with a link to its run (for a reused item the earlier run, which is not nested under this
    parent), its equations or its error."""
    said = ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in counts.items() if count)
    order = {"FAILED": 0, "NOT RUN": 1, "QUEUED": 2, "FINISHED": 3, "REUSED": 4}
    shown = sorted(items, key=lambda item: order.get(item.status, 5))[:DESCRIBED_ITEMS]
    lines = [f"{len(items)} items: {said or 'none'}.", "", "| config | status | run | result |", "|---|---|---|---|"]
    for item in shown:
        run = item.mlflow_run_id or ""
        page = f"#/experiments/{experiment_id}/runs/{run}?{CLASSIC_LAYOUT}"  # relative: the UI may sit under a prefix
        link = f"[{run[:8]}]({page})" if run and experiment_id else run[:8]
        if item.status == "REUSED":
            link += " (earlier run)"
        result = item.error if item.status in ("FAILED", "NOT RUN") else " ; ".join(item.equations)
        result = _FOLDERS.sub("", " ".join(result.split())).replace("|", "\\|")  # /tmp/x/bad.csv: bad.csv
        lines.append(f"| {Path(item.config).name} | {item.status} | {link} | {result[:90]} |")
    if len(items) > len(shown):
        lines.append(f"\n{len(items) - len(shown)} more in summary.csv.")
    return lines


def _items_from_summary(frame: pd.DataFrame) -> list[BatchItem]:
    """The items a parent's ``summary.csv`` holds (the inverse of :meth:`BatchRun.summary`)."""
    frame = frame.fillna("").astype(str)
    items = []
    for row in frame.to_dict("records"):
        failed = row["status"] in ("FAILED", "NOT RUN")
        items.append(
            BatchItem(
                row["config"], row["status"], row["mlflow_run_id"] or None,
                equations=() if failed or not row["result"] else tuple(row["result"].split(" ; ")),
                error=row["result"] if failed else "",
                passed={"True": True, "False": False}.get(row.get("check_passed", "")),
                queued_as=row.get("queued_record_id", ""),
            )
        )  # fmt: skip
    return items


def refresh_parent(tracker: Tracker, parent_run_id: str, published: dict[str, str]) -> bool:
    """Rewrite one parent's ``summary.csv``, counts and description with the run ids of its queued items that
    ``published`` (outbox record id -> run id) now holds: a QUEUED item becomes FINISHED with a link to its run.
    Returns whether anything changed (False for a run that is no batch parent or has no such item)."""
    with tempfile.TemporaryDirectory(prefix="deltaflow-parent-") as folder:
        try:
            path = tracker.client.download_artifacts(parent_run_id, "summary.csv", folder)
        except MlflowException:
            return False  # not a batch parent (a child nested under a run of the user's own)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "queued_record_id" not in frame.columns:
        return False  # written before items noted their outbox record
    items = _items_from_summary(frame)
    linked = [
        replace(item, status="FINISHED" if item.status == "QUEUED" else item.status,
                mlflow_run_id=published[item.queued_as], queued_as="")
        if item.queued_as in published else item
        for item in items
    ]  # fmt: skip
    if linked == items:
        return False
    run = tracker.client.get_run(parent_run_id)
    counts = item_counts(linked)
    note = run.data.tags.get(NOTE_TAG, "").split(ITEMS_HEADING)[0].rstrip()
    table = ITEMS_HEADING + "\n\n" + "\n".join(item_lines(linked, counts, run.info.experiment_id))
    summary = BatchRun("", parent_run_id, tuple(linked)).summary()
    tracker.log_files(parent_run_id, {"summary.csv": summary.to_csv(index=False)})
    tracker.log_metrics(parent_run_id, {"items": float(len(linked)), **{k: float(v) for k, v in counts.items()}})
    tracker.set_tags(parent_run_id, {NOTE_TAG: "\n\n".join(part for part in (note, table) if part)[:5000]})
    return True
