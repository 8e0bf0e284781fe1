"""Run records and the local outbox: nothing a flow computed is lost when MLflow is down.

A flow accumulates everything it will log for one MLflow run in a :class:`RunRecord` (tags,
params, metrics, stepped metrics, artifact files, the discovered model) and publishes it at the
end in a handful of batched calls. If MLflow stays unreachable after the tracker's retries, the
record is written to the outbox folder (``record.json`` plus the artifact files, and the tracking URI it
was meant for) and ``python -m flows sync`` replays it later, in creation order, into a fresh run in that
store. A run that was left half-written by the failure is marked FAILED and points to its replacement.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flows.disk import disk_write_error
from pipeline.errors import InvalidRecordError

__all__ = [
    "Outbox", "RunRecord", "default_outbox", "interrupt_behind", "queued_record_id", "validate_record",
    "without_password",
]  # fmt: skip

_os_write = os.write  # the one OS write call of the outbox (tests make it fail as a full disk would)


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` and flush it to the disk (a full disk fails here, not later)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[_os_write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class RunRecord:
    """Everything one MLflow run will hold, built up locally before it is published.

    Attributes:
        experiment: experiment name (created on publish if missing).
        run_name: display name.
        tags, params: strings; metrics: finite floats at step 0; steps: key -> [(step, value)].
        files: artifact path -> text or bytes.
        model: a discovery result's ``to_dict()`` to log as the pyfunc model, if any.
        register_as: register that model under this name.
        status: FINISHED or FAILED; error: the failure's message.
        run_id: an existing run to complete instead of creating one (a batch parent).
        parent_run_id / parent_record_id: nest under a published run, or under a record still queued.
        record_id: stable identity across retries and syncs; created: creation time (s since epoch).
        experiment_id: set when published.
        tracking_uri: the MLflow store the run is for (without a password), set when it is queued: ``sync``
            replays it there. None in records queued by earlier versions: replayed into the current store.
    """

    experiment: str
    run_name: str
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    steps: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    files: dict[str, str | bytes] = field(default_factory=dict)
    model: dict[str, Any] | None = None
    register_as: str | None = None
    status: str = "FINISHED"
    error: str = ""
    run_id: str | None = None
    parent_run_id: str | None = None
    parent_record_id: str | None = None
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time)
    experiment_id: str | None = None
    tracking_uri: str | None = None

    def fail(self, exc: BaseException) -> None:
        """Mark the record FAILED with the error recorded (``error`` tag and field).

        An interrupt (Ctrl-C, SIGTERM) behind ``exc`` is named first: one that lands while Prefect's engine sets up
        a task surfaces as the engine's own follow-on error (``ValueError: Task run is not set``), which says
        nothing about why the run stopped."""
        self.status = "FAILED"
        error = _described(exc)
        interrupt = interrupt_behind(exc)
        if interrupt is not None and interrupt is not exc:
            error = f"{_described(interrupt)} (then {error})"
        self.error = error[:5000]
        self.tags["error"] = self.error


def _described(exc: BaseException) -> str:
    """``Type: message``; an interrupt without a message says what it was (``KeyboardInterrupt: ...`` read as a
    message cut off)."""
    if str(exc):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt (the run was interrupted: Ctrl-C or SIGINT)"
    return type(exc).__name__


def without_password(uri: str) -> str:
    """``uri`` without the password of a ``user:password@`` part, as it is written to the outbox and printed
    (``https://me:secret@host`` -> ``https://me@host``); other URIs unchanged."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}" if parts.username else host))


def interrupt_behind(exc: BaseException) -> BaseException | None:
    """The KeyboardInterrupt or Prefect ``TerminationSignal`` in ``exc``'s chain of causes and contexts, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt) or type(current).__name__ == "TerminationSignal":
            return current
        current = current.__cause__ or current.__context__
    return None


# MLflow's own limits (mlflow/utils/validation.py): a value breaking one is refused however often it is retried.
_MAX_EXPERIMENT_NAME = 500
_MAX_KEY = 250
_KEY = re.compile(r"^[\w\-. :/]*$")  # alphanumerics, underscores, dashes, periods, spaces, colons, slashes


def validate_record(record: RunRecord) -> None:
    """Check the record holds only values MLflow accepts, so a refusal is not mistaken for MLflow being down.

    Raises:
        InvalidRecordError: naming the field (experiment name, param or tag key) and what MLflow expects.
    """
    if not record.experiment or len(record.experiment) > _MAX_EXPERIMENT_NAME:
        raise InvalidRecordError(
            f"experiment name '{record.experiment[:60]}…' has {len(record.experiment)} characters:"
            f" MLflow accepts 1 to {_MAX_EXPERIMENT_NAME}"
        )
    for kind, keys in (("param", record.params), ("tag", record.tags)):
        for key in keys:
            if len(key) > _MAX_KEY or not _KEY.match(key) or key.startswith("/") or ".." in key.split("/"):
                raise InvalidRecordError(
                    f"{kind} key '{key[:80]}': MLflow accepts only letters, digits and _ - . space : / (at most"
                    f" {_MAX_KEY} characters, not starting with / nor holding ..); rename the config field or"
                    " state it comes from"
                )


class Outbox:
    """A folder of queued run records: ``<root>/<created>-<record_id>/record.json`` plus ``files/``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, record: RunRecord) -> Path:
        """Write the record atomically (a temp folder renamed into place); returns its folder.

        Raises:
            InvalidRecordError: the record holds a value MLflow refuses (queuing it would not help); the
                error carries the record (``exc.record``).
            DiskWriteError: the folder cannot take the record (disk full, quota, read-only, ...); nothing
                half-written is left behind, and the error carries the record (``exc.record``).
        """
        try:
            validate_record(record)
        except InvalidRecordError as exc:
            exc.record = record  # type: ignore[attr-defined]
            raise
        final = self.root / f"{record.created:017.6f}-{record.record_id}"
        staging = self.root / f".tmp-{record.record_id}-{os.getpid()}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
            self._stage(record, staging)
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            error = disk_write_error(
                self.root, exc, f"queue run '{record.run_name}' in the outbox", "set DELTAFLOW_OUTBOX to another disk"
            )
            error.record = record
            raise error from exc
        return final

    @staticmethod
    def _stage(record: RunRecord, staging: Path) -> None:
        (staging / "files").mkdir(parents=True)
        meta = asdict(record)
        files = meta.pop("files")
        meta["file_kinds"] = {}
        for i, (name, content) in enumerate(files.items()):
            stored = f"{i:04d}"
            _write_file(staging / "files" / stored, content if isinstance(content, bytes) else content.encode())
            meta["file_kinds"][name] = [stored, "bytes" if isinstance(content, bytes) else "text"]
        _write_file(staging / "record.json", json.dumps(meta, default=str).encode("utf-8"))

    def pending(self) -> list[Path]:
        """Queued record folders, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def load(self, folder: Path) -> RunRecord:
        """The record queued in ``folder``.

        Raises:
            InvalidRecordError: one line naming the folder and what is wrong (unreadable or damaged
                ``record.json``, a missing or unreadable artifact file).
        """
        try:
            meta = json.loads((folder / "record.json").read_text(encoding="utf-8"))
            kinds = meta.pop("file_kinds")
            files: dict[str, str | bytes] = {}
            for name, (stored, kind) in kinds.items():
                data = (folder / "files" / stored).read_bytes()
                files[name] = data if kind == "bytes" else data.decode("utf-8")
            meta["steps"] = {k: [tuple(p) for p in v] for k, v in meta["steps"].items()}
            return RunRecord(files=files, **meta)
        except OSError as exc:
            raise InvalidRecordError(f"{folder}: unreadable outbox record ({exc.strerror}: {exc.filename})") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidRecordError(f"{folder}: damaged outbox record ({type(exc).__name__}: {exc})") from exc

    def quarantine(self, folder: Path) -> Path:
        """Move a record that cannot be published aside, to ``<root>/.quarantine/``, so it blocks nothing."""
        target = self.root / ".quarantine" / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
        return target

    def remove(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def published(self) -> dict[str, str]:
        """record_id -> run_id of records already replayed (children look their parents up here)."""
        path = self.root / "published.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def mark_published(self, record_id: str, run_id: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        table = self.published() | {record_id: run_id}
        tmp = self.root / ".published.json.tmp"
        tmp.write_text(json.dumps(table))
        tmp.replace(self.root / "published.json")


def queued_record_id(folder: Path) -> str:
    """The record id of the record queued in ``folder`` (named ``<created>-<record_id>`` by :meth:`Outbox.put`)."""
    return Path(folder).name.partition("-")[2]


def default_outbox() -> Outbox:
    """``$DELTAFLOW_OUTBOX`` or ``./.state/outbox``."""
    return Outbox(Path(os.environ.get("DELTAFLOW_OUTBOX", Path.cwd() / ".state" / "outbox")))
