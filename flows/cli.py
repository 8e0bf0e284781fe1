"""The deltaflow command line: ``python -m flows run CONFIG.yaml``.

Errors of the user's making (a bad config, missing or malformed data) end with one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows.settings import data_roots
from pipeline.config import check_data_path, load_config
from pipeline.errors import ConfigError, DeltaflowError

__all__ = ["app", "main", "mlflow_ui_command"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="deltaflow: learn the laws behind data.")
console = Console()
errors = Console(stderr=True)

EXIT_USER_ERROR = 2


def mlflow_ui_command(uri: str) -> str:
    """The exact shell command that opens the MLflow UI on the store ``uri`` (loopback only)."""
    mlflow = Path(sys.executable).parent / "mlflow"
    executable = str(mlflow) if mlflow.exists() else "mlflow"
    return (
        f"MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false {shlex.quote(executable)} ui"
        f" --backend-store-uri {shlex.quote(uri)} --host 127.0.0.1 --port 5000"
    )


def _fail(exc: DeltaflowError) -> typer.Exit:
    message = " ".join(str(exc).split())  # one line, whatever the message holds
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_USER_ERROR)


def _quiet_run_logs(verbose: bool) -> None:
    """Keep Prefect's per-run tracebacks off the terminal: the CLI reports errors itself in one line."""
    level = logging.INFO if verbose else logging.CRITICAL
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(level)
    for name in ("mlflow", "alembic", "distributed"):  # DB setup and cluster chatter are not news to a user
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


@app.command()
def run(
    config: Path = typer.Argument(..., help="YAML run config, e.g. configs/exp_decay.yaml"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's flow and task logs."),
) -> None:
    """Run the pipeline a config describes and print what it found."""
    _quiet_run_logs(verbose)
    try:
        cfg = load_config(config)
        check_data_path(cfg, data_roots())
    except DeltaflowError as exc:
        raise _fail(exc) from None

    if cfg.kind == "sensitivity":
        _run_sensitivity(cfg)
        return
    if cfg.kind == "batch":
        _run_and_print_batch(config, cfg.name, cfg.resume)
        return
    if cfg.kind in ("residual", "gradient_check"):
        _run_check(cfg)
        return
    from flows.discovery import discover_equations

    outcome = _run_flow(discover_equations, cfg, "differentiating, discovering and logging")
    result = outcome.result
    console.rule(f"[bold]{cfg.name}[/]")
    console.print("[bold]Discovered equations[/]")
    for equation in result.equations:
        console.print(f"  {equation}", highlight=False)
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("derivative_r2", "trajectory_r2", "trajectory_r2_heldout", "complexity", "aicc"):
        if key in result.metrics:
            table.add_row(key, f"{result.metrics[key]:.4g}")
    console.print(table)
    if "simulation_error" in result.chosen:
        console.print(f"[yellow]note:[/] {result.chosen['simulation_error']}")
    _print_tracking(outcome, cfg.experiment_name)


def _print_tracking(outcome: object, experiment: str) -> None:
    run_id, uri = getattr(outcome, "mlflow_run_id", None), getattr(outcome, "tracking_uri", None)
    queued = getattr(outcome, "outbox", None)
    if queued:
        console.print(f"[yellow]MLflow at {uri} was unreachable:[/] the run is queued in {queued}", highlight=False)
        console.print("Replay it when MLflow is back with: python -m flows sync", highlight=False)
    if run_id:
        console.print(f"MLflow run id: [bold]{run_id}[/] (experiment '{experiment}')")
        console.print(f"Tracking store: {uri}", highlight=False)
        console.print("Open the MLflow UI with:", highlight=False)
        console.print(f"  {mlflow_ui_command(uri or '')}", highlight=False, soft_wrap=True)


def _run_flow(flow: Callable[[Any], Any], cfg: Any, doing: str) -> Any:
    """Run a flow under a spinner; a user error ends the command with one line and exit 2."""
    try:
        with console.status(f"[bold]{cfg.name}[/]: {doing}…"):
            return flow(cfg)
    except DeltaflowError as exc:
        raise _fail(exc) from None


def _run_check(cfg: Any) -> None:
    from flows.checks import check_gradient_flow, check_residual

    if cfg.kind == "residual":
        outcome = _run_flow(check_residual, cfg, "differentiating and checking the law")
        table = Table(show_header=True, header_style="bold", box=None, title="residual of the data against the law")
        for column in ("state", "law", "R²", "relative RMS", "mean", "max |r|"):
            table.add_column(column, justify="left" if column in ("state", "law") else "right")
        report = outcome.report
        for j, name in enumerate(report.names):
            table.add_row(
                name, f"d{name}/dt = {cfg.law.rhs[name]}", f"{report.r2[j]:.4f}", f"{report.relative_rms[j]:.4f}",
                f"{report.mean[j]:.3g}", f"{report.max_abs[j]:.3g}",
            )  # fmt: skip
    else:
        outcome = _run_flow(check_gradient_flow, cfg, "checking the gradient")
        table = Table(show_header=True, header_style="bold", box=None, title="analytic against numerical gradient")
        for column in ("point", "analytic", "numerical", "max rel. error", "passed"):
            table.add_column(column)
        for point, check in zip(cfg.points, outcome.report):
            table.add_row(
                str(point), np.array2string(check.analytic, precision=6), np.array2string(check.numerical, precision=6),
                f"{check.max_rel_error:.2e}", "yes" if check.passed else "[red]no[/]",
            )  # fmt: skip
    console.rule(f"[bold]{cfg.name}[/]")
    console.print(table)
    console.print("[green]passed[/]" if outcome.passed else "[red]failed[/]")
    _print_tracking(outcome, cfg.experiment_name)
    if not outcome.passed:
        raise typer.Exit(1)


def _run_sensitivity(cfg: object) -> None:
    from flows.sensitivity import analyze_sensitivity

    outcome = _run_flow(analyze_sensitivity, cfg, "sampling, estimating gradients and indices")
    result = outcome.result
    console.rule(f"[bold]{cfg.name}[/]")
    for j, out in enumerate(result.outputs):
        table = Table(show_header=True, header_style="bold", box=None, title=f"sensitivity of {out}")
        for column in ("feature", "mean d/dx", "mean |d/dx|", "S1", "±95%", "ST", "±95%", "rank"):
            table.add_column(column, justify="left" if column == "feature" else "right")
        indices = result.indices.get(out)
        for i, feat in enumerate(result.features):
            g = result.gradients[:, j, i]
            row = indices.loc[feat] if indices is not None else None
            cells = [""] * 5
            if row is not None:
                cells = [f"{row[c]:.3f}" for c in ("S1", "S1_conf", "ST", "ST_conf")]
                cells.append(str(int(row["rank"])) + ("*" if row.get("clipped", False) else ""))
            table.add_row(feat, f"{g.mean():.4g}", f"{np.abs(g).mean():.4g}", *cells)
        console.print(table)
        if indices is not None and indices["clipped"].any():
            console.print("  * an index estimated below 0 was set to 0", highlight=False)
        console.print(f"  estimator: {result.chosen[out]}", highlight=False, soft_wrap=True)
    _print_tracking(outcome, cfg.experiment_name)


@app.command()
def batch(
    paths: list[Path] = typer.Argument(..., help="YAML configs and/or folders of them, or one kind: batch config"),
    name: str = typer.Option("batch", "--name", "-n", help="MLflow experiment of the batch"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Reuse items unchanged since a finished run."),
    executor: str = typer.Option("local", "--executor", "-e", help="local, or dask (a LocalCluster or --address)."),
    workers: int = typer.Option(2, "--workers", "-w", help="Dask LocalCluster worker processes."),
    address: str = typer.Option(None, "--address", help="Scheduler of an existing Dask cluster (tcp://host:8786)."),
    chunk: int = typer.Option(None, "--chunk-size", help="Items per Dask task (default: about 4 chunks per worker)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's flow and task logs."),
) -> None:
    """Run many configs under one parent MLflow run; failures are reported, not fatal."""
    _quiet_run_logs(verbose)
    from pydantic import ValidationError

    from pipeline.config import ExecutorConfig

    try:
        spec = ExecutorConfig(kind=executor, n_workers=workers, address=address, chunk_size=chunk)
    except ValidationError as exc:
        raise _fail(ConfigError(f"batch options: {exc.errors()[0]['msg']}")) from None
    if len(paths) == 1 and paths[0].is_file():
        try:
            cfg = load_config(paths[0])
        except DeltaflowError as exc:
            raise _fail(exc) from None
        if cfg.kind == "batch":
            _run_and_print_batch(paths[0], cfg.name, cfg.resume)
            return
    _run_and_print_batch([str(p) for p in paths], name, resume, spec)


def _run_and_print_batch(target: object, name: str, resume: bool, executor: object = None) -> None:
    from flows.batch import expand_configs, run_batch

    try:
        n_items = len(expand_configs(target)) if not str(target).endswith((".yaml", ".yml")) else None
    except DeltaflowError as exc:
        raise _fail(exc) from None
    with _BatchProgress(console, name, n_items):
        try:
            outcome = run_batch(target, name=name, resume=resume, executor=executor)
        except DeltaflowError as exc:
            raise _fail(exc) from None
    table = Table(
        show_header=True, header_style="bold", title=f"batch '{outcome.name}' (parent run {outcome.parent_run_id})"
    )
    table.add_column("config", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("result", overflow="fold")
    styles = {"FINISHED": "green", "REUSED": "cyan", "QUEUED": "yellow", "FAILED": "red"}
    for item in outcome.items:
        result = item.error if item.status == "FAILED" else " ; ".join(item.equations)
        table.add_row(item.config, f"[{styles[item.status]}]{item.status}[/]", result)
    console.print(table)
    counts = {status: sum(i.status == status for i in outcome.items) for status in styles}
    console.print(", ".join(f"{n} {status.lower()}" for status, n in counts.items() if n), highlight=False)
    if outcome.n_failed:
        raise typer.Exit(1)


class _BatchProgress(logging.Handler):
    """A rich progress bar fed by the batch's ``deltaflow.batch`` progress log records."""

    def __init__(self, console: Console, name: str, total: int | None) -> None:
        super().__init__(logging.INFO)
        self.progress = Progress(
            SpinnerColumn(), TextColumn(f"[bold]{name}[/]"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.description}"), console=console, transient=True,
        )  # fmt: skip
        self.task = self.progress.add_task("starting…", total=total)

    def emit(self, record: logging.LogRecord) -> None:
        done = getattr(record, "items_done", None)
        if done is not None:
            self.progress.update(self.task, completed=done, total=record.items_total, description=record.getMessage())

    def __enter__(self) -> _BatchProgress:
        logger = logging.getLogger("deltaflow.batch")
        logger.addHandler(self)
        logger.setLevel(logging.INFO)
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        logging.getLogger("deltaflow.batch").removeHandler(self)


@app.command()
def serve(
    paths: list[Path] = typer.Argument(..., help="YAML configs and/or folders of them"),
    only_scheduled: bool = typer.Option(False, "--only-scheduled", help="Serve only configs with a schedule."),
    limit: int = typer.Option(None, "--limit", help="Most flow runs at once (default: no limit)."),
) -> None:
    """Serve each config as a Prefect deployment; configs with `schedule:` run on it, all can be triggered."""
    from flows.deployments import build_deployments, describe_schedule, serve_deployments

    try:
        deployments = build_deployments(list(paths), only_scheduled=only_scheduled)
    except DeltaflowError as exc:
        raise _fail(exc) from None
    table = Table(show_header=True, header_style="bold", title="serving (Ctrl-C to stop)")
    table.add_column("deployment")
    table.add_column("schedule")
    for deployment in deployments:
        table.add_row(f"{deployment.flow_name}/{deployment.name}", describe_schedule(deployment))
    console.print(table)
    serve_deployments(deployments, limit=limit)


@app.command()
def sync() -> None:
    """Replay runs queued in the outbox (MLflow was unreachable) into the tracking store, oldest first."""
    from flows.outbox import default_outbox
    from flows.tracking import Tracker

    box = default_outbox()
    pending = box.pending()
    if not pending:
        console.print(f"outbox {box.root} is empty: nothing to sync")
        return
    tracker = Tracker()
    try:
        done = tracker.sync(box)
    except DeltaflowError as exc:
        errors.print(f"[bold red]error:[/] {escape(' '.join(str(exc).split()))}", highlight=False, soft_wrap=True)
        errors.print(f"{len(box.pending())} run(s) still queued in {box.root}", highlight=False)
        raise typer.Exit(1) from None
    for folder, run_id in done:
        console.print(f"synced {folder} -> run {run_id}", highlight=False)
    console.print(f"{len(done)} run(s) written to {tracker.uri}", highlight=False)


@app.command(name="list")
def list_configs(folder: Path = typer.Argument(Path("configs"), help="Folder of YAML run configs")) -> None:
    """List the run configs in a folder with their kind and description."""
    table = Table(show_header=True, header_style="bold")
    for column in ("config", "name", "kind", "data", "description"):
        table.add_column(column)
    for path in sorted(folder.glob("*.y*ml")):
        try:
            cfg = load_config(path)
        except DeltaflowError as exc:
            table.add_row(str(path), "[red]invalid[/]", "", "", str(exc)[:80])
            continue
        if cfg.kind == "gradient_check":
            source = f"{len(cfg.points)} point(s)"
        elif cfg.kind == "batch":
            where = cfg.executor.describe() if cfg.executor.kind == "dask" else "local"
            source = f"{len(cfg.configs)} config path(s), {where}"
        else:
            source = cfg.data.path.name if cfg.data is not None else cfg.model.uri
        table.add_row(str(path), cfg.name, cfg.kind, source, cfg.description)
    console.print(table)


def main() -> None:
    """Entry point of ``python -m flows`` and the ``deltaflow`` script."""
    app()
