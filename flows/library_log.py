"""Where the libraries' own warnings go during a CLI command: a log file, not the terminal.

The command line promises one line on stderr for an error and none for a clean run. Libraries do not
know that: urllib3 logs a retry warning per attempt while MLflow is down, numpy emits
``RuntimeWarning``s (overflow, invalid value) from deep inside a fit, Prefect's console handler prints
whatever reaches the root logger. While a command runs (without ``-v``), every logging handler that
writes to the terminal is swapped for one that appends to ``.state/deltaflow.log``, and Python warnings
are routed into logging (``logging.captureWarnings``). Nothing is silenced: each record is in the file,
and the command ends with one line saying how many there were and where. With ``-v`` nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LibraryLog", "default_log_path", "library_log"]

FORMAT = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"


def default_log_path(base_dir: Path | None = None) -> Path:
    """``<base_dir or cwd>/.state/deltaflow.log`` (nothing is created)."""
    from flows.settings import STATE_DIR_NAME

    return (base_dir or Path.cwd()) / STATE_DIR_NAME / "deltaflow.log"


class _LazyFile(logging.FileHandler):
    """A file handler that creates its folder (and the file) only when the first record arrives: a command
    that logs nothing (or fails on a config error) leaves no file behind."""

    broken = False
    """Set when a record could not be written (a read-only or full folder)."""

    def _open(self):  # type: ignore[no-untyped-def]  # logging's own signature
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def emit(self, record: logging.LogRecord) -> None:
        """Append the record; an unwritable folder is reported by the command itself (one line), so the
        record is dropped here rather than printing logging's own traceback."""
        try:
            super().emit(record)
        except OSError:
            self.broken = True

    def handleError(self, record: logging.LogRecord) -> None:
        """See :meth:`emit`: no traceback on the terminal."""


class _Counting(logging.Handler):
    """Counts the records of WARNING and above it sees and keeps the first one's message."""

    def __init__(self, owner: LibraryLog) -> None:
        super().__init__(level=logging.WARNING)
        self.owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        self.owner.count += 1
        if self.owner.first is None:
            with suppress(Exception):
                self.owner.first = f"{record.name}: {' '.join(record.getMessage().split())}"


@dataclass
class LibraryLog:
    """The capture of one command: the file, how many warnings went to it, and the first of them.

    Attributes:
        path: the log file (appended to).
        count: records of WARNING and above written to it.
        first: ``logger: message`` of the first of them.
    """

    path: Path
    count: int = 0
    first: str | None = None
    _handlers: list[logging.Handler] = field(default_factory=list, repr=False)

    def install(self) -> None:
        """Swap every terminal handler (root's and each logger's) for the file; call again after a library
        (Prefect, on import) configured logging anew."""
        if not self._handlers:
            to_file = _LazyFile(self.path, encoding="utf-8", delay=True)
            to_file.setFormatter(logging.Formatter(FORMAT))
            self._handlers = [to_file, _Counting(self)]
        logging.captureWarnings(True)
        loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
        for logger in loggers:
            terminal = [h for h in logger.handlers if _writes_to_terminal(h)]
            if not terminal:
                continue
            for handler in terminal:
                logger.removeHandler(handler)
            for handler in self._handlers:
                if handler not in logger.handlers:
                    logger.addHandler(handler)
        root = logging.getLogger()
        for handler in self._handlers:  # what propagates to the root (urllib3, py.warnings) ends here too
            if handler not in root.handlers:
                root.addHandler(handler)

    def summary(self) -> str | None:
        """One line for the end of the command, or None when nothing was written."""
        if not self.count:
            return None
        first = self.first if self.first is None or len(self.first) <= 160 else self.first[:157] + "..."
        where = "could not be written to" if any(getattr(h, "broken", False) for h in self._handlers) else "written to"
        return f"{self.count} library warning(s) {where} {self.path} (first: {first})"


def _writes_to_terminal(handler: logging.Handler) -> bool:
    """A stream handler on a terminal stream (stderr/stdout), not a file or Prefect's API handler."""
    return isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)


@contextmanager
def library_log(verbose: bool, path: Path | None = None) -> Iterator[LibraryLog | None]:
    """Route library logging and warnings to ``path`` (default :func:`default_log_path`) while the block runs.

    Yields None (and changes nothing) with ``verbose``. The file and its folder are created with the first
    record. Restores every logger's handlers afterwards.
    """
    if verbose:
        yield None
        return
    saved = {name: list(logging.getLogger(name).handlers) for name in ["", *logging.root.manager.loggerDict]}
    capture = LibraryLog(path or default_log_path())
    capture.install()
    try:
        yield capture
    finally:
        logging.captureWarnings(False)
        for handler in capture._handlers:
            handler.close()
        for name in ["", *logging.root.manager.loggerDict]:
            logger = logging.getLogger(name)
            for handler in [h for h in logger.handlers if h in capture._handlers]:
                logger.removeHandler(handler)
            for handler in saved.get(name, []):
                if handler not in logger.handlers:
                    logger.addHandler(handler)
