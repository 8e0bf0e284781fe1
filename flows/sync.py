"""``python -m flows sync``: replay the outbox into MLflow once, whatever else runs or is broken.

- One sync at a time per outbox: a second ``sync`` waits on a file lock, then finds the records the
  first published gone, so no run is published twice.
- Idempotent across crashes: a record whose run (tag ``deltaflow.record_id``) is already FINISHED in
  its experiment is not published again, only removed.
- A record that cannot be read, or holds a value MLflow refuses, is moved to ``<outbox>/.quarantine/``
  and reported in one line; the others are still replayed. MLflow being unreachable stops the sync
  (the rest stay queued, in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.locks import file_lock
from flows.outbox import Outbox, RunRecord, validate_record
from flows.tracking import Tracker, refusal
from pipeline.errors import InvalidRecordError, TrackingError

__all__ = ["SyncReport", "sync_outbox"]


@dataclass
class SyncReport:
    """What a sync did: published (folder name, run id), skipped (folder name, reason, quarantine folder),
    and the error that stopped it (MLflow unreachable), if any."""

    published: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str, Path]] = field(default_factory=list)
    stopped_by: TrackingError | None = None


def _already_published(tracker: Tracker, record: RunRecord) -> str | None:
    """The id of a FINISHED run of this record (a sync that died after publishing), or None."""
    experiment = tracker.client.get_experiment_by_name(record.experiment)
    if experiment is None:
        return None
    runs = tracker.client.search_runs(
        [experiment.experiment_id], f"tags.`deltaflow.record_id` = '{record.record_id}'", max_results=5
    )
    finished = [run.info.run_id for run in runs if run.info.status == "FINISHED"]
    return finished[0] if finished else None


def _replay(tracker: Tracker, box: Outbox, folder: Path) -> tuple[str, str]:
    """Publish one queued record (or find it published already); returns (its record id, its run id)."""
    record = box.load(folder)
    validate_record(record)
    if record.parent_record_id and not record.parent_run_id:
        record.parent_run_id = box.published().get(record.parent_record_id)
    try:
        done = _already_published(tracker, record)
    except Exception as exc:  # noqa: BLE001 - MLflow's errors: unreachable, treated as such
        raise TrackingError(f"MLflow at {tracker.uri}: cannot search runs ({exc})") from exc
    if done is None:
        if record.run_id is not None and not tracker._run_exists(record.run_id):
            record.run_id = None  # the half-written run is gone (a new store): start a fresh one
        try:
            done, _ = tracker.publish(record)
        except TrackingError as exc:
            if refusal(exc) == "invalid":
                raise InvalidRecordError(f"{folder}: MLflow refused the record ({exc})") from exc
            raise
    return record.record_id, done


def sync_outbox(tracker: Tracker, box: Outbox) -> SyncReport:
    """Replay ``box`` oldest first under its sync lock; see the module docstring for what is skipped."""
    report = SyncReport()
    with file_lock(box.root / ".sync.lock"):
        for folder in box.pending():
            if not folder.is_dir():
                continue
            try:
                record_id, run_id = _replay(tracker, box, folder)
            except InvalidRecordError as exc:  # damaged, or refused by MLflow: retrying cannot help
                report.skipped.append((folder.name, str(exc), box.quarantine(folder)))
                continue
            except TrackingError as exc:
                report.stopped_by = exc
                break
            box.mark_published(record_id, run_id)
            box.remove(folder)
            report.published.append((folder.name, run_id))
    return report
