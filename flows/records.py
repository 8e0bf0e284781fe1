"""The run record every flow fills: started with provenance, published once complete, or failed.

A flow's body reads::

    tracker = tracker_for(cfg)
    with recorded_run(tracker, cfg, data_path, source, parent_run_id, parent_record_id) as record:
        ...stages...
        tracker.describe(lambda: put_results_on(record, ...))
    run_id, model_uri, queued = publish(tracker, record)

Any exception inside the ``with`` marks the run FAILED with its error, publishes (or queues) it and
propagates; a :class:`~flows.tracking.NullTracker` makes all of it a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.outbox import RunRecord, interrupt_behind
from flows.provenance import flatten_config, run_tags
from flows.runtime import run_stage
from flows.tracking import DATASET_TAG, Tracker, dataset_input, retry_delays

__all__ = [
    "NOTE_TAG", "describe_run", "fail_and_publish", "new_record", "publish", "publish_run", "record_dataset",
    "recorded_run", "run_name", "utc_stamp",
]  # fmt: skip


def utc_stamp() -> str:
    """Now, as ``2026-12-02T13:24:11Z`` (report headers)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_name(cfg: Any) -> str:
    """A run's display name: the config's ``name`` and a short UTC time, ``lorenz 12-02 13.24.11``."""
    return stamped(cfg.name)


def stamped(name: str) -> str:
    """``name`` and a short UTC time, ``nightly 12-02 13.24.11``: how every run deltaflow starts is named."""
    return f"{name} {datetime.now(UTC).strftime('%m-%d %H.%M.%S')}"


NOTE_TAG = "mlflow.note.content"
"""The run's description in the MLflow UI (rendered Markdown)."""


def new_record(
    cfg: Any, data_path: Path | None, source: str, parent_run_id: str | None, parent_record_id: str | None
) -> RunRecord:
    """The run record every flow starts from: experiment, run name from the config's name, its description as
    the run's description, provenance tags, params (None-valued settings left out)."""
    record = RunRecord(
        experiment=cfg.experiment_name,
        run_name=run_name(cfg),
        tags=run_tags(cfg, data_path),
        params=flatten_config(cfg),
        parent_run_id=parent_run_id,
        parent_record_id=parent_record_id,
    )
    record.tags |= {"deltaflow.record_id": record.record_id, "config.name": cfg.name, "deltaflow.source": source}
    if getattr(cfg, "description", ""):
        record.tags[NOTE_TAG] = cfg.description.strip()
    return record


def describe_run(record: RunRecord, sections: dict[str, list[str]]) -> None:
    """Append Markdown sections (heading -> lines) to the run's description, after the config's own text."""
    text = [record.tags.get(NOTE_TAG, "")]
    for heading, lines in sections.items():
        if lines:
            text.append(f"**{heading}**\n\n" + "\n".join(lines))
    record.tags[NOTE_TAG] = "\n\n".join(part for part in text if part)[:5000]


def record_dataset(record: RunRecord, frame: Any, *, name: str, source: Path | str | None) -> None:
    """Note the run's input data (rows x columns as read) so publishing logs it with ``mlflow.log_input``:
    the Datasets column shows it, with the file as source and its sha256 prefix as digest."""
    digest = record.tags.get("data.sha256", "")[:12] or None
    record.tags[DATASET_TAG] = dataset_input(frame, name=name, source=str(source) if source else None, digest=digest)


def time_axis_tags(series: Any) -> dict[str, str]:
    """``data.time_unit`` and ``data.time_origin`` tags of a series whose time column held dates (else none):
    the unit its derivatives and coefficients are per, and the timestamp its t = 0 stands for."""
    axis = getattr(series, "time_axis", None)
    return {} if axis is None else {"data.time_unit": axis.unit, "data.time_origin": axis.origin}


def fail_and_publish(tracker: Tracker, record: RunRecord, exc: BaseException) -> None:
    """Record the failure on the run (FAILED + error), publish or queue it, and attach the run id to the error.

    Any exception gets ``run_id``, ``recorded`` and ``queued_as`` (the outbox record id when the run was queued, else
    "") attributes: a batch reads them to point at the run.
    An interrupt (Ctrl-C, SIGTERM: not an ``Exception``) is published in one attempt, queued at once if
    MLflow does not answer: the user is waiting for the process to stop.
    """
    record.fail(exc)
    delays = retry_delays()[:1] if isinstance(exc, Exception) else ()
    run_id, _, queued = tracker.publish_or_queue(record, delays=delays)
    with suppress(AttributeError):  # an exception type without a __dict__ has nothing to attach to
        exc.run_id, exc.recorded = run_id, True  # type: ignore[attr-defined]
        exc.queued_as = record.record_id if queued else ""  # type: ignore[attr-defined]


@contextmanager
def recorded_run(
    tracker: Tracker,
    cfg: Any,
    data_path: Path | None,
    source: str,
    parent_run_id: str | None = None,
    parent_record_id: str | None = None,
) -> Iterator[RunRecord]:
    """A new run record; an exception inside the block fails and publishes it, then propagates."""
    record = new_record(cfg, data_path, source, parent_run_id, parent_record_id)
    try:
        yield record
    except BaseException as exc:
        fail_and_publish(tracker, record, exc)
        raise


@task(name="publish-run", cache_policy=NO_CACHE)
def publish_run(tracker: Tracker, record: RunRecord) -> tuple[str | None, str | None, Path | None]:
    """Write the run to MLflow (retries with backoff); queue it in the outbox if MLflow stays down."""
    return tracker.publish_or_queue(record)


def publish(tracker: Tracker, record: RunRecord) -> tuple[str | None, str | None, Path | None]:
    """Publish the completed record (a task run inside a flow): (run id, model URI, outbox folder or None).

    An interrupt (Ctrl-C, SIGTERM) while it is written closes the run FAILED (:func:`fail_and_publish`: the MLflow run
    already created is reopened by its id); it was left RUNNING, though the CLI said FAILED."""
    try:
        return run_stage(publish_run, tracker, record)[0]
    except BaseException as exc:
        if interrupt_behind(exc) is not None:
            fail_and_publish(tracker, record, exc)
        raise
