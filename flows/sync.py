"""``python -m flows sync``: replay the outbox into MLflow once, whatever else runs or is broken.

- One sync at a time per outbox: a second ``sync`` waits on a file lock, then finds the records the
  first published gone, so no run is published twice.
- Idempotent across crashes: a record whose run (tag ``deltaflow.record_id``) is already FINISHED in
  its experiment is not published again, only removed.
- A record that cannot be read, or holds a value MLflow refuses, is moved to ``<outbox>/.quarantine/``
  and reported in one line; the others are still replayed. A store that cannot be reached keeps every
  record queued for it (in order, so a batch parent still goes before its items); the records for other
  stores are replayed.
- Each record goes to the store it was queued for (its ``tracking_uri``), whatever ``MLFLOW_TRACKING_URI``
  says now: a run queued while a tracking server was down belongs on that server, not in the local
  SQLite file a plain shell would default to. Records queued by earlier versions, which did not note
  their store, go to the current one. ``sync --to URI`` sends every record to ``URI`` instead.
- A batch parent whose items were queued is brought up to date once they are published: its ``summary.csv``,
  counts and description table link each such item to its run (:func:`flows.batch_items.refresh_parent`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlflow.exceptions import MlflowException

from flows.batch_items import refresh_parent
from flows.locks import file_lock
from flows.outbox import Outbox, RunRecord, validate_record, without_password
from flows.settings import tracking_uri
from flows.stores import check_sqlite_file
from flows.tracking import Tracker, refusal
from pipeline.errors import InvalidRecordError, TrackingError

__all__ = ["SyncReport", "sync_outbox", "target_uri"]


@dataclass
class SyncReport:
    """What a sync did: published (folder name, run id), the store each was written to (folder name -> tracking
    URI, without a password), skipped (folder name, reason, quarantine folder), the stores that could not be
    reached (URI without a password -> the error naming it) and how many records still wait for each, and the
    batch parents whose items it linked (run ids; those it could not update with the reason)."""

    published: list[tuple[str, str]] = field(default_factory=list)
    stores: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str, Path]] = field(default_factory=list)
    unreachable: dict[str, TrackingError] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    parents_updated: list[str] = field(default_factory=list)
    parents_not_updated: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stopped_by(self) -> TrackingError | None:
        """The first store's error that left records queued, if any."""
        return next(iter(self.unreachable.values()), None)


def target_uri(record: RunRecord, current: str) -> str:
    """The tracking URI ``record`` is replayed into: the store it was queued for, or ``current`` (the configured
    one) when the record does not say (an earlier version queued it) or names the same store (``current`` may
    carry the password the record was written without)."""
    if record.tracking_uri is None or record.tracking_uri == without_password(current):
        return current
    return record.tracking_uri


class _Trackers:
    """One :class:`Tracker` per store a sync writes to, made on first use; a local SQLite store is checked first
    (:func:`flows.stores.check_sqlite_file`), as the current one is before a sync starts."""

    def __init__(self, redirect: Tracker | None) -> None:
        self.redirect = redirect
        self.current = tracking_uri()
        self.made: dict[str, Tracker] = {}

    def uri_for(self, record: RunRecord) -> str:
        """The store ``record`` goes to, without a password."""
        return without_password(self.redirect.uri if self.redirect is not None else target_uri(record, self.current))

    def for_record(self, record: RunRecord) -> Tracker:
        if self.redirect is not None:
            return self.redirect
        uri = target_uri(record, self.current)
        if uri not in self.made:
            database = Path(uri.removeprefix("sqlite:///"))
            if uri.startswith("sqlite:///") and database.is_file():
                check_sqlite_file(database, "MLflow")
            try:
                self.made[uri] = Tracker(uri)
            except TrackingError:
                raise
            except Exception as exc:  # noqa: BLE001 - MLflow refusing the URI itself: the store cannot be reached
                raise TrackingError(f"MLflow at {without_password(uri)}: cannot open the store ({exc})") from exc
        return self.made[uri]


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


_UNREACHABLE_CAUSES = (
    ("Connection refused", "connection refused: no server listens there"),
    ("timed out", "timed out"),
    ("Name or service not known", "unknown host"),
    ("nodename nor servname", "unknown host"),
    ("Temporary failure in name resolution", "unknown host"),
)
"""Phrases of urllib3's and MLflow's connection errors, and what each says in plain words."""


def _why_unreachable(exc: Exception) -> str:
    """Why a store did not answer, in a few words (urllib3's own message runs to 500 characters); the start of the
    error's text when it is none of :data:`_UNREACHABLE_CAUSES`."""
    text = " ".join(str(exc).split())
    return next((said for phrase, said in _UNREACHABLE_CAUSES if phrase in text), text[:200])


def _replay(trackers: _Trackers, box: Outbox, record: RunRecord, folder: Path) -> tuple[str, Tracker]:
    """Publish one queued record (or find it published already) into its store; returns its run id and the store's
    tracker."""
    tracker = trackers.for_record(record)
    if record.parent_record_id and not record.parent_run_id:
        record.parent_run_id = box.published().get(record.parent_record_id)
    try:
        done = _already_published(tracker, record)
    except Exception as exc:  # noqa: BLE001 - MLflow's errors: unreachable, treated as such
        uri = without_password(tracker.uri)
        raise TrackingError(f"MLflow at {uri} does not answer ({_why_unreachable(exc)})") from exc
    if done is None:
        if record.run_id is not None and not tracker._run_exists(record.run_id):
            record.run_id = None  # the half-written run is gone (a new store): start a fresh one
        try:
            done, _ = tracker.publish(record)
        except TrackingError as exc:
            if refusal(exc) == "invalid":
                raise InvalidRecordError(f"{folder}: MLflow refused the record ({exc})") from exc
            raise
    return done, tracker


def sync_outbox(tracker: Tracker | None, box: Outbox) -> SyncReport:
    """Replay ``box`` oldest first under its sync lock; see the module docstring for what is skipped.

    Args:
        tracker: None replays each record into the store it was queued for (the current store for a record that
            does not name one); a :class:`Tracker` replays every record into its store instead.
        box: the outbox.
    """
    report = SyncReport()
    trackers = _Trackers(tracker)
    parents: dict[str, Tracker] = {}  # parent run id -> its store, for every parent of a record replayed
    with file_lock(box.root / ".sync.lock"):
        for folder in box.pending():
            if not folder.is_dir():
                continue
            try:
                record = box.load(folder)
                validate_record(record)
                uri = trackers.uri_for(record)
                if uri in report.unreachable:  # its store is down: it waits, behind the records before it
                    report.waiting[uri] += 1
                    continue
                run_id, store = _replay(trackers, box, record, folder)
            except InvalidRecordError as exc:  # damaged, or refused by MLflow: retrying cannot help
                report.skipped.append((folder.name, str(exc), box.quarantine(folder)))
                continue
            except TrackingError as exc:
                report.unreachable[uri], report.waiting[uri] = exc, 1
                continue
            box.mark_published(record.record_id, run_id)
            box.remove(folder)
            report.published.append((folder.name, run_id))
            report.stores[folder.name] = without_password(store.uri)
            if record.parent_run_id:
                parents[record.parent_run_id] = store
        _update_parents(parents, box.published(), report)
    return report


def _update_parents(parents: dict[str, Tracker], published: dict[str, str], report: SyncReport) -> None:
    """Link the queued items of each batch parent in ``parents`` (run id -> store) to the runs now ``published``
    (record id -> run id); a parent that cannot be updated is noted, not fatal (its children are published)."""
    for parent_run_id, store in sorted(parents.items()):
        try:
            if refresh_parent(store, parent_run_id, published):
                report.parents_updated.append(parent_run_id)
        except (MlflowException, TrackingError, OSError) as exc:
            report.parents_not_updated.append((parent_run_id, " ".join(str(exc).split())[:300]))
