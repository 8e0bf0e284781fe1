"""The deltaflow command line: ``python -m flows run CONFIG.yaml``.

Fail fast: every command first parses and validates the config and reads and validates the data
(:mod:`flows.inputs`), and only then imports Prefect and MLflow; ``--help``, ``--version``, ``list``
and every user error answer without importing either. Exit codes: 0 done; 1 a check failed, a batch
item failed or an unexpected error; 2 a mistake of the user's making (one line naming the key, file,
column or row; no experiment, no run); 3 the environment (Prefect's server could not start, no Dask scheduler
answers at the address given, the Prefect server ``serve`` works with stopped answering, the disk is full);
4 done, but MLflow was unreachable: the run, or some of a batch's, waits in the outbox for ``sync`` (a scheduler
can tell "computed but not tracked" from success). Tracebacks only with ``-v``.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from flows.interrupts import received
from flows.library_log import library_log
from flows.settings import command_name, prefect_home, prepare_environment
from flows.temporary_server import kill as kill_temporary_server
from flows.temporary_server import launch as launch_temporary_server
from pipeline.errors import (
    ConfigError,
    DeltaflowError,
    DiskWriteError,
    ExecutorError,
    OrchestrationError,
    StoreCorruptError,
)

# Configs, data and flows are imported inside the commands: `--help` and `--version` import none of them.

__all__ = ["EXIT_ENVIRONMENT", "EXIT_INTERRUPTED", "EXIT_USER_ERROR", "app", "main"]


class _PlainFlags:
    """Help that shows a flag as it is typed (``--verbose``), not as taking a value: Typer's help panels print a
    type after every option, ``<bool>`` for flags too (``--help <bool>``), as if ``--verbose true`` were meant."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # the help panel prints the metavar, when set, instead of the type
        return params


class _Command(_PlainFlags, TyperCommand):
    """A command whose help shows flags plainly."""


class _Group(_PlainFlags, TyperGroup):
    """A command group whose help shows flags plainly."""


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True, help="deltaflow: learn the laws behind data.")
server_app = typer.Typer(cls=_Group, no_args_is_help=True, help="A reusable local Prefect server for this folder.")
app.add_typer(server_app, name="server")
console = Console()
errors = Console(stderr=True)

EXIT_USER_ERROR = 2
EXIT_ENVIRONMENT = 3
EXIT_QUEUED = 4  # done, but the run (or some of a batch's) waits in the outbox: MLflow was unreachable
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 143
VERBOSE = typer.Option(False, "--verbose", "-v", help="Show Prefect's flow and task logs, and tracebacks.")


def _say_error(message: str) -> None:
    errors.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)


def _disk_error(exc: BaseException) -> DiskWriteError | None:
    """The :class:`DiskWriteError` in ``exc``'s chain, or one made from an OSError of a full/read-only disk."""
    from flows.disk import DISK_ERRNOS, disk_write_error

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DiskWriteError):
            return seen
        if isinstance(seen, OSError) and seen.errno in DISK_ERRNOS:
            where = Path(seen.filename).parent if seen.filename else Path.cwd()
            return disk_write_error(where, seen, "write")
        seen = seen.__cause__ or seen.__context__
    return None


def _close_unfinished_run(error: BaseException) -> None:
    """Mark FAILED the MLflow run a record that could not be published nor queued (``error.record``) had
    already opened (best effort: the store may be on the same full disk), so it is not left RUNNING."""
    run_id = getattr(getattr(error, "record", None), "run_id", None)
    if run_id is None:
        return
    try:
        from flows.tracking import Tracker

        Tracker().close_failed(run_id, str(error))
    except Exception:  # noqa: BLE001 - the disk error is the news; this is cleanup (the store may not open)
        pass


@contextmanager
def _reported(verbose: bool) -> Iterator[None]:
    """Errors end the command with one line on stderr and an exit code by cause (see the module docstring)."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        raise _interrupted() from None
    except Exception as exc:  # noqa: BLE001 - the command line reports; -v shows the traceback
        if verbose:
            errors.print_exception()
        if _received or _interrupt_caught_by_prefect(exc):  # the interrupt, hit between two of the engine's steps
            raise _interrupted() from None
        raise typer.Exit(_report(exc, verbose)) from None


def _interrupt_caught_by_prefect(exc: Exception) -> bool:
    """Whether an interrupt our handler never saw is behind ``exc``, and if so note its signal in ``_received``.

    While a flow runs, Prefect's own SIGTERM handler stands in for ours: it raises a ``TerminationSignal`` and
    hands the signal back to us when that leaves its engine. One that lands while the engine sets up a task leaves
    it as the engine's follow-on error instead (``ValueError: Task run is not set``), with the signal behind it.
    """
    from flows.outbox import interrupt_behind

    interrupt = interrupt_behind(exc)
    if interrupt is None:
        return False
    _received.append(int(getattr(interrupt, "signal", signal.SIGINT)))
    return True


def _interrupted() -> typer.Exit:
    """Say the command was interrupted (one line); the exit is 128 + the signal (130 Ctrl-C, 143 SIGTERM).

    By now the flow has recorded its run FAILED (MLflow) and Crashed (Prefect). Prefect's temporary server,
    if this process started one, is killed at exit rather than given its graceful shutdown: after Prefect's
    log and event workers have drained (they drain before ``atexit`` handlers run), nothing needs it.
    """
    signum = _received[0] if _received else signal.SIGINT
    _say_error(f"interrupted ({_signal_name(signum)}): stopped; a run that had started is recorded FAILED in MLflow")
    atexit.register(kill_temporary_server)  # before the server's graceful stop (atexit is last in, first out)
    return typer.Exit(128 + signum)


def _signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def _report(exc: Exception, verbose: bool) -> int:
    """Say what went wrong in one line; returns the exit code."""
    disk = _disk_error(exc)
    if disk is not None:
        _close_unfinished_run(disk)
        _say_error(str(disk))
        return EXIT_ENVIRONMENT
    if isinstance(exc, StoreCorruptError | ExecutorError | OrchestrationError):
        _say_error(str(exc))
        return EXIT_ENVIRONMENT
    if isinstance(exc, DeltaflowError):
        _close_unfinished_run(exc)
        _say_error(str(exc))
        return EXIT_USER_ERROR
    _say_error(f"unexpected {type(exc).__name__}: {exc}" + ("" if verbose else " (-v shows the traceback)"))
    return 1


def _say_nested_batches(paths: list[Any]) -> None:
    """One stderr note naming the batch configs a batch over a folder leaves out (a batch does not run batches)."""
    from flows.inputs import nested_batch_files

    nested = nested_batch_files(paths)
    if nested:
        names = ", ".join(str(p) for p in nested)
        errors.print(
            f"[yellow]note:[/] {escape(names)}: kind: batch, left out (a batch does not run batches; run it alone)",
            highlight=False,
            soft_wrap=True,
        )


def _say_library_warnings(log: Any) -> None:
    """One stderr line after a command that went well but whose libraries warned (the warnings are in the file)."""
    line = None if log is None else log.summary()
    if line is not None:
        errors.print(f"[yellow]note:[/] {escape(line)}", highlight=False, soft_wrap=True)


_received = received  # the signal that interrupts this command, if any (flows.interrupts)


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM interrupt the computation (a KeyboardInterrupt in the flow, which records the run
    FAILED); a second signal ends the process at once. Exit codes 130 and 143. A KeyboardInterrupt Python drops
    (raised in a callback it runs for C code) prints no "Exception ignored" traceback: the flow's next stage raises it
    again (:mod:`flows.interrupts`)."""

    def on_signal(signum: int, frame: object) -> None:
        if _received:
            os._exit(128 + _received[0])
        _received.append(signum)
        raise KeyboardInterrupt

    def drop_lost_interrupt(unraisable: Any) -> None:  # our KeyboardInterrupt, raised where Python ignores it
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    previous_hook, sys.unraisablehook = sys.unraisablehook, drop_lost_interrupt
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _quiet_run_logs(verbose: bool) -> None:
    """Keep Prefect's per-run tracebacks off the terminal: the CLI reports errors itself in one line."""
    level = logging.INFO if verbose else logging.CRITICAL
    for name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
        logging.getLogger(name).setLevel(level)
    for name in ("mlflow", "alembic", "distributed"):  # DB setup and cluster chatter are not news to a user
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


def _run_kind(
    kind: Any,
    start: Callable[[], Any],
    name: str,
    total: int | None,
    verbose: bool,
    log: Any = None,
) -> int:
    """Run a flow under a spinner (a batch: under a progress bar), then print it with the kind's presenter; returns
    the command's exit code (the presenter's, else :data:`EXIT_QUEUED` when a run waits in the outbox).

    ``log``: the command's :class:`flows.library_log.LibraryLog`, re-installed once Prefect (which configures
    logging on import) is imported. The flow itself makes the checks that need MLflow (a sensitivity config's
    model) before it starts (:class:`flows.runtime.PreparedFlow`)."""
    from flows.console import BatchProgress, StageProgress, queued
    from flows.disk import check_free_space, check_writable, local_folders
    from flows.stores import check_local_stores

    folders = local_folders()
    check_writable(folders)
    for folder in folders:
        check_free_space(folder)
    prepare_environment()
    check_local_stores()
    launch_temporary_server()  # if needed: it starts on another core while Prefect and MLflow are imported
    if console.is_terminal:
        with console.status(f"[bold]{escape(name)}[/]: loading Prefect and MLflow…"):
            kind.flow()  # imports Prefect and MLflow, which set their loggers' levels on import: quiet them after
    else:  # a log: say why the first seconds are silent
        console.print(f"{name}: loading Prefect and MLflow…", highlight=False, markup=False)
        kind.flow()
    _quiet_run_logs(verbose)
    if log is not None:
        log.install()
    progress = BatchProgress(console, name, total) if kind.name == "batch" else StageProgress(console, name, kind.doing)
    with _interruptible(), progress:
        outcome = start()
    code = kind.presenter()(outcome, console) or (EXIT_QUEUED if queued(outcome) else 0)
    if _received:  # lost in the last stage, which then finished (flows.interrupts)
        errors.print(
            f"[yellow]note:[/] the interrupt ({_signal_name(_received[0])}) came as the run was finishing: it is"
            " recorded as above"
        )
    return code


def _version(value: bool) -> None:
    if value:
        console.print(f"deltaflow {metadata.version('deltaflow')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """deltaflow: learn the laws behind data."""


@app.command(cls=_Command)
def run(
    config: Path = typer.Argument(..., help="YAML run config, e.g. configs/exp_decay.yaml"),
    verbose: bool = VERBOSE,
) -> None:
    """Run the pipeline a config describes and print what it found."""
    with _reported(verbose):
        _run_config(config, verbose)


def _run_config(
    config: Path, verbose: bool, overrides: dict[str, Any] | None = None, executor: dict[str, Any] | None = None
) -> None:
    """``run``'s body; for a kind: batch config given to ``batch``, with the options typed there applied
    (:func:`_with_options`)."""
    from flows.inputs import checked_already, expand_configs, load_checked
    from flows.kinds import run_kind

    with library_log(verbose) as log:
        cfg = load_checked(config)
        if overrides or executor:
            cfg = _with_options(cfg, overrides or {}, executor or {})
        kind = run_kind(cfg.kind)
        total = len(expand_configs(cfg.configs)) if cfg.kind == "batch" else None
        if cfg.kind == "batch":
            _say_nested_batches(cfg.configs)
        with checked_already(cfg):
            code = _run_kind(kind, lambda: kind.flow()(cfg), cfg.name, total, verbose, log)
    _say_library_warnings(log)
    if code:
        raise typer.Exit(code)


@app.command(cls=_Command)
def batch(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="YAML configs and/or folders of them, or one kind: batch config"),
    name: str = typer.Option(
        "batch", "--name", "-n", help="MLflow experiment of the batch (overrides a batch config's name)."
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Reuse items unchanged since a finished run (overrides a batch config's)."
    ),
    executor: str = typer.Option(
        "local", "--executor", "-e", help="local, or dask (a LocalCluster or --address); overrides a batch config's."
    ),
    workers: int = typer.Option(2, "--workers", "-w", help="Dask LocalCluster worker processes."),
    address: str = typer.Option(None, "--address", help="Scheduler of an existing Dask cluster (tcp://host:8786)."),
    chunk: int = typer.Option(None, "--chunk-size", help="Items per Dask task (default: about 16 chunks per worker)."),
    verbose: bool = VERBOSE,
) -> None:
    """Run many configs under one parent MLflow run; failures are reported, not fatal.

    Given one kind: batch config, the options typed here take the place of its fields (name, resume, executor)."""
    with _reported(verbose):
        from flows.inputs import expand_configs
        from flows.kinds import run_kind
        from pipeline.config import load_config

        given = {"kind": executor, "n_workers": workers, "address": address, "chunk_size": chunk}
        typed = {field for field, option in _EXECUTOR_PARAMS.items() if _typed(ctx, option)}
        if len(paths) == 1 and paths[0].is_file() and load_config(paths[0]).kind == "batch":
            overrides = {"name": name} if _typed(ctx, "name") else {}
            overrides |= {"resume": resume} if _typed(ctx, "resume") else {}
            _run_config(paths[0], verbose, overrides, {field: given[field] for field in typed})
            return
        spec = _executor_options(given)
        items = [str(p) for p in expand_configs(list(paths))]
        _say_nested_batches(list(paths))

        def start() -> Any:
            from flows.batch import run_batch

            return run_batch(items, name=name, resume=resume, executor=spec)

        with library_log(verbose) as log:
            code = _run_kind(run_kind("batch"), start, name, len(items), verbose, log)
        _say_library_warnings(log)
        if code:
            raise typer.Exit(code)


def _typed(ctx: typer.Context, param: str) -> bool:
    """Whether the option ``param`` was given on the command line (not left at its default). Compared by name: Typer
    vendors its own click, whose ``ParameterSource`` is not ``click.core.ParameterSource``."""
    return getattr(ctx.get_parameter_source(param), "name", None) == "COMMANDLINE"


_EXECUTOR_PARAMS = {"kind": "executor", "n_workers": "workers", "address": "address", "chunk_size": "chunk"}
"""The ``batch`` command's parameter behind each field of :class:`pipeline.config.ExecutorConfig`."""
_EXECUTOR_OPTIONS = {
    "kind": "--executor", "n_workers": "--workers", "address": "--address", "chunk_size": "--chunk-size"
}  # fmt: skip
"""The batch option behind each field of :class:`pipeline.config.ExecutorConfig`."""


def _executor_options(given: dict[str, Any]) -> Any:
    """The batch's :class:`~pipeline.config.ExecutorConfig` from its options (``given``: field -> value).

    Raises:
        ConfigError: naming each option at fault, the value given and what it should be.
    """
    from pydantic import ValidationError

    from pipeline.config import ExecutorConfig

    address = given.get("address")
    try:
        return ExecutorConfig.model_validate(given)  # pydantic's errors, each mapped to its option below
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "address"  # the model's own checks are the address's
            message = str(error["msg"]).removeprefix("Value error, ").replace(f"executor.address {address!r} ", "")
            message = message.replace("executor.address ", "").replace("kind: dask", "--executor dask")
            problems.append(f"{_EXECUTOR_OPTIONS[field]} {given.get(field)!r}: {message[:1].lower()}{message[1:]}")
        raise ConfigError(f"batch option {'; '.join(problems)}") from None


def _with_options(cfg: Any, overrides: dict[str, Any], executor: dict[str, Any]) -> Any:
    """A kind: batch config with the ``batch`` options typed on the command line in place of its own fields: name
    and resume (``overrides``), and executor fields (``executor``; ``--executor local`` drops the config's Dask
    settings).

    Raises:
        ConfigError: an option's value is invalid, named with the option.
    """
    if "name" in overrides:
        from pydantic import ValidationError

        try:
            type(cfg).model_validate({**cfg.model_dump(), "name": overrides["name"]})
        except ValidationError:
            raise ConfigError(
                f"batch option --name {overrides['name']!r}: expected letters, digits, '_', '.', '-' or spaces,"
                " starting with a letter or digit"
            ) from None
    if executor:
        base = {} if executor.get("kind") == "local" else cfg.executor.model_dump(exclude_defaults=True)
        overrides = {**overrides, "executor": _executor_options({**base, **executor})}
    return cfg.model_copy(update=overrides) if overrides else cfg


def _require_server_for_serving() -> None:
    """End ``serve`` with exit 2 and the fix when no Prefect server is configured (no ``PREFECT_API_URL``, no local
    server running for this folder): the temporary server a run starts runs no scheduler service (no scheduled run
    is ever created) and no other process can reach it to trigger a deployment, so serving on it does nothing."""
    if os.environ.get("PREFECT_API_URL"):
        return
    _say_error(
        "serve needs a Prefect server that runs schedules and takes triggers, and Prefect's temporary server does"
        f" neither. Fix: start this folder's with `{command_name()} server start` (or set PREFECT_API_URL), then serve"
        " again."
    )
    raise typer.Exit(EXIT_USER_ERROR)


@app.command(cls=_Command)
def serve(
    paths: list[Path] = typer.Argument(..., help="YAML configs and/or folders of them"),
    only_scheduled: bool = typer.Option(False, "--only-scheduled", help="Serve only configs with a schedule."),
    limit: int = typer.Option(None, "--limit", help="Most flow runs at once (default: no limit)."),
) -> None:
    """Serve each config as a Prefect deployment; configs with `schedule:` run on it, all can be triggered."""
    from rich.table import Table

    with _reported(False):
        prepare_environment()
        from flows.deployments import build_deployments, describe_schedule

        deployments = build_deployments(list(paths), only_scheduled=only_scheduled)
        _require_server_for_serving()
        table = Table(show_header=True, header_style="bold", title="serving (Ctrl-C to stop)")
        table.add_column("deployment")
        table.add_column("schedule")
        for deployment in deployments:
            table.add_row(f"{deployment.flow_name}/{deployment.name}", describe_schedule(deployment))
        console.print(table)
        _serve_until_stopped(deployments, limit)


SERVER_CHECK_SECONDS = 5.0
"""How often ``serve`` checks that its Prefect server still listens."""
SERVER_REFUSALS = 3
"""Checks in a row whose connection the server's port refuses (nothing listens: it was stopped) that end ``serve``;
a slow answer (a busy machine) is no refusal."""


def _server_gone(url: str) -> OrchestrationError:
    return OrchestrationError(
        f"the Prefect server at {url} stopped answering (`{command_name()} server stop`, or it ended), so serving"
        f" ended. Fix: start it again (`{command_name()} server start`, or the server PREFECT_API_URL names), then"
        " serve again."
    )


def _serve_until_stopped(deployments: list[Any], limit: int | None) -> None:
    """Serve until Ctrl-C; a Prefect server that stops answering (``server stop``, a crash) ends serving with one
    line naming it, exit 3. Prefect's runner may raise its client's connection error, or log it and retry for
    minutes (and then take a signal's graceful shutdown as long, asking the missing server to pause schedules): a
    watch on the server's port ends the process once nothing listens there (:data:`SERVER_REFUSALS`)."""
    import threading

    from prefect.settings import PREFECT_API_URL

    from flows.deployments import serve_deployments
    from flows.server import answers, refuses, serving

    url = str(PREFECT_API_URL.value() or "")
    stop = threading.Event()

    def watch(marker: Path) -> None:
        refused = 0
        while not stop.wait(SERVER_CHECK_SECONDS):
            refused = refused + 1 if refuses(url) else 0
            if refused >= SERVER_REFUSALS:
                _say_error(str(_server_gone(url)))
                marker.unlink(missing_ok=True)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_ENVIRONMENT)  # the runner's own shutdown would wait on the missing server

    try:
        with serving(prefect_home()) as marker:
            if url:
                threading.Thread(target=watch, args=(marker,), name="deltaflow-server-watch", daemon=True).start()
            serve_deployments(deployments, limit=limit)
    except Exception as exc:  # noqa: BLE001 - Prefect's client errors (httpx's): translated only if the server is gone
        if not url or answers(url.removesuffix("/"), timeout=10.0):
            raise
        raise _server_gone(url) from exc
    finally:
        stop.set()


@app.command(cls=_Command)
def sync(
    to: str = typer.Option(
        None, "--to", help="Replay every queued run into this tracking URI instead of the store it was queued for."
    ),
    verbose: bool = VERBOSE,
) -> None:
    """Replay runs queued in the outbox (MLflow was unreachable) into the store each was queued for, oldest first.

    Damaged records and values MLflow refuses are moved to the outbox's .quarantine/ and reported;
    exit 1 if any was, or if a store is still unreachable.
    """
    with _reported(verbose):
        from flows.outbox import default_outbox

        box = default_outbox()
        if not box.pending():
            console.print(f"outbox {box.root} is empty: nothing to sync")
            return
        prepare_environment()
        from flows.stores import check_local_stores
        from flows.sync import sync_outbox
        from flows.tracking import Tracker

        check_local_stores()
        with library_log(verbose) as log:
            if log is not None:
                log.install()  # after the imports above configured logging
            report = sync_outbox(Tracker(to) if to else None, box)
        _say_synced(report, box, redirected=bool(to))
        if report.skipped or report.stopped_by is not None:
            raise typer.Exit(1)
        _say_library_warnings(log)


def _say_synced(report: Any, box: Any, redirected: bool) -> None:
    """What a sync did: each run and its store, a count per store, a note for runs written to a store other than
    the current one (the store they were queued for), the batch parents it updated, each record skipped, and each
    store that could not be reached with the runs still queued for it."""
    from flows.outbox import without_password
    from flows.settings import tracking_uri

    for folder, run_id in report.published:
        console.print(f"synced {folder} -> run {run_id} in {report.stores[folder]}", highlight=False, soft_wrap=True)
    stores = list(dict.fromkeys(report.stores.values()))
    counts = [f"{list(report.stores.values()).count(uri)} run(s) written to {uri}" for uri in stores]
    console.print("; ".join(counts) or "0 runs written", highlight=False, soft_wrap=True)
    current = without_password(tracking_uri())
    elsewhere = [uri for uri in stores if uri != current]
    if elsewhere and not redirected:
        errors.print(
            f"[yellow]note:[/] replayed into {escape(', '.join(elsewhere))}, the store(s) those runs were queued for,"
            f" not the current tracking URI {escape(current)} (--to URI chooses another)",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    for run_id in report.parents_updated:
        console.print(f"batch parent {run_id}: its queued items now link to their runs", highlight=False)
    for run_id, reason in report.parents_not_updated:
        errors.print(
            f"[yellow]note:[/] batch parent {run_id} still lists its items as queued ({escape(reason)}); their runs"
            " are published", highlight=False, soft_wrap=True,
        )  # fmt: skip
    for _folder, reason, moved in report.skipped:
        _say_error(f"{reason}; skipped, moved to {moved}")
    for uri, exc in report.unreachable.items():
        _say_error(
            f"{exc}; {report.waiting[uri]} run(s) for {uri} still queued in {box.root} (run sync again once that"
            " store answers, or replay them elsewhere with --to URI)"
        )


@app.command(name="list", cls=_Command)
def list_configs(folder: Path = typer.Argument(Path("configs"), help="Folder of YAML run configs")) -> None:
    """List the run configs in a folder with their kind and description."""
    from rich.table import Table

    with _reported(False):
        if not folder.is_dir():
            raise ConfigError(f"{folder}: no such folder (expected a folder of YAML run configs)")
    rows = [_listed(path) for path in sorted(folder.glob("*.y*ml"))]
    if console.width >= LIST_TABLE_WIDTH:
        table = Table(show_header=True, header_style="bold")
        for column in ("config", "name", "kind", "data"):
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=40)
        table.add_column("description", ratio=1)
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)
        return
    for file, name, kind, source, description in rows:  # narrow: a block per config, nothing cut or folded
        console.print(f"[bold]{escape(file)}[/]  {escape(name)} ({escape(kind)}; {escape(source)})", soft_wrap=True)
        if description:
            console.print(f"    {escape(description)}", highlight=False)


LIST_TABLE_WIDTH = 120
"""``list`` prints a table on an output at least this wide, and a block per config on a narrower one."""


def _listed(path: Path) -> tuple[str, str, str, str, str]:
    """What ``list`` shows of a config file: its file name, name, kind, data (or model, points, configs) and
    description; for an invalid one, its error."""
    from pipeline.config import load_config

    try:
        cfg = load_config(path)
    except DeltaflowError as exc:
        return path.name, "invalid", "", "", str(exc).removeprefix(f"{path}: ")
    if cfg.kind == "gradient_check":
        source = cfg.points.name if isinstance(cfg.points, Path) else f"{len(cfg.points)} point(s)"
    elif cfg.kind == "batch":
        where = cfg.executor.describe() if cfg.executor.kind == "dask" else "local"
        source = f"{len(cfg.configs)} config path(s), {where}"
    else:
        source = cfg.data.path.name if cfg.data is not None else cfg.model.uri
    return path.name, cfg.name, cfg.kind, source, cfg.description or ""


@server_app.command("start", cls=_Command)
def server_start(port: int = typer.Option(None, "--port", help="Port on 127.0.0.1 (default: a free one).")) -> None:
    """Start Prefect's server in the background for this folder (same .state/prefect database)."""
    from flows.server import start_local_server

    with _reported(False):
        state = start_local_server(prefect_home(), port=port)
    console.print(f"Prefect server running (pid {state['pid']}): API {state['url']}, UI {state['ui']}", highlight=False)
    stop = f"{command_name()} server stop"
    console.print(f"Runs started in this folder now use it; stop it with: {stop}", highlight=False)


@server_app.command("stop", cls=_Command)
def server_stop() -> None:
    """Stop this folder's background Prefect server."""
    from flows.server import serving_processes, stop_local_server

    serving = serving_processes(prefect_home())
    stopped = stop_local_server(prefect_home())
    console.print("Prefect server stopped" if stopped else "no Prefect server was running for this folder")
    if stopped and serving:
        errors.print(
            f"[yellow]note:[/] `serve` (pid {', '.join(map(str, serving))}) used this server and ends with it; start"
            " the server and serve again to go on serving", highlight=False, soft_wrap=True,
        )  # fmt: skip


@server_app.command("status", cls=_Command)
def server_status() -> None:
    """Say whether this folder's background Prefect server runs (exit 1 if not)."""
    from flows.server import server_status as status

    state = status(prefect_home())
    if state is None:
        console.print("no Prefect server running for this folder: runs start Prefect's temporary server")
        raise typer.Exit(1)
    console.print(f"Prefect server running (pid {state['pid']}): API {state['url']}, UI {state['ui']}", highlight=False)


def main() -> None:
    """Entry point of ``python -m flows`` and the ``deltaflow`` script.

    When the command ends, every object alive is moved out of the garbage collector's reach
    (``gc.freeze``): the interpreter's final collection over Prefect's, MLflow's and the run's objects took
    3.5 to 4.6 s after every command (measured with ``benchmarks/faults.py --stacks``), and at exit it
    frees nothing the operating system does not. ``atexit`` handlers still run.

    Without ``--verbose``, what libraries log after the command's own last line (Prefect's log and event
    workers draining at exit: "Still processing items: ...") is dropped instead of reaching the terminal
    through logging's last-resort handler: the command has already said what happened in one line.
    """
    try:
        app()
    finally:
        gc.freeze()
        if not {"-v", "--verbose"} & set(sys.argv[1:]):
            logging.lastResort = logging.NullHandler()
