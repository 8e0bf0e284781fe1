"""What the CLI prints: one presenter per run kind (named in :mod:`flows.kinds`), the tracking footer,
and the batch's progress bar. Presenters take the flow's outcome and return the command's exit code."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows.outbox import without_password
from flows.settings import command_name
from pipeline.config import at_every_sample
from pipeline.sensitivity.analysis import partial_name

__all__ = [
    "BatchProgress",
    "StageProgress",
    "mlflow_run_links",
    "mlflow_ui_command",
    "show_batch",
    "show_discovery",
    "show_gradient_check",
    "show_residual",
    "show_sensitivity",
]


def mlflow_ui_command(uri: str) -> str:
    """The exact shell command that opens the MLflow UI on the store ``uri`` (loopback only)."""
    mlflow = Path(os.path.abspath(sys.executable)).parent / "mlflow"  # '..' folded, symlinks kept (a venv's python)
    executable = str(mlflow) if mlflow.exists() else "mlflow"
    return (
        f"MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false {shlex.quote(executable)} ui"
        f" --backend-store-uri {shlex.quote(uri)} --host 127.0.0.1 --port 5000"
    )


def _table(title: str | None, columns: list[str], left: tuple[str, ...] = ()) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, title=title)
    for column in columns:
        table.add_column(escape(column), justify="left" if column in left else "right")  # a column named [x]
    return table


CLASSIC_LAYOUT = "workflowType=machine_learning"
"""Query string that opens MLflow 3's UI in its classic model-training layout: the 3.17 UI reads
``workflowType`` from the page URL before the experiment's kind tag (and otherwise remembers the GenAI layout)."""
LOCAL_UI = "http://127.0.0.1:5000"
"""Where :func:`mlflow_ui_command` serves the UI."""


def mlflow_run_links(base: str, experiment_id: str | None, run_id: str) -> tuple[str, str | None]:
    """Links to a run's page and its experiment's runs list in the MLflow UI at ``base`` (classic layout).

    Returns:
        (run page URL, experiment page URL or None when the experiment id is unknown).
    """
    base = base.rstrip("/")
    if not experiment_id:
        return f"{base}/#/runs/{run_id}?{CLASSIC_LAYOUT}", None
    return (
        f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{CLASSIC_LAYOUT}",
        f"{base}/#/experiments/{experiment_id}/runs?{CLASSIC_LAYOUT}",
    )


def _print_tracking(console: Console, outcome: Any) -> None:
    run_id, uri, queued = outcome.mlflow_run_id, getattr(outcome, "tracking_uri", None), outcome.outbox
    if queued:
        shown = escape(without_password(uri or ""))
        console.print(f"[yellow]MLflow at {shown} was unreachable:[/] the run is queued in {queued}", highlight=False)
        console.print(f"Replay it into {shown} when that store is back with: {command_name()} sync", highlight=False)
    if not run_id:
        if not queued and not outcome.config.tracking.enabled:
            console.print("Not logged to MLflow (tracking.enabled: false).", highlight=False)
        return
    uri = uri or ""
    experiment = escape(outcome.config.experiment_name)
    console.print(f"MLflow run id: [bold]{run_id}[/] (experiment '{experiment}')", highlight=False, soft_wrap=True)
    console.print(f"Tracking store: {uri}", highlight=False, soft_wrap=True)
    server = uri.startswith(("http://", "https://"))
    if not server:
        console.print("Open the MLflow UI with:", highlight=False)
        console.print(f"  {mlflow_ui_command(uri)}", highlight=False, soft_wrap=True)
    run_page, experiment_page = mlflow_run_links(
        uri if server else LOCAL_UI, getattr(outcome, "experiment_id", None), run_id
    )
    console.print(f"{'Run' if server else 'then the run'}: {run_page}", highlight=False, soft_wrap=True)
    if experiment_page:
        console.print(
            f"{'Experiment' if server else 'and its experiment'}: {experiment_page}", highlight=False, soft_wrap=True
        )


METRIC_MEANINGS = {
    "derivative_r2": "R² against the smoothed derivatives",
    "trajectory_r2": "R² of the simulation against the record",
    "trajectory_r2_short": "the same over each trajectory's first 20 %",
    "forecast_horizon": "time the simulation follows the record",
    "trajectory_r2_heldout": "R² on the last 20 %, refitted on the rest",
    "complexity": "terms in the model",
    "aicc": "lower is better, on the same data only",
}
"""The metrics the CLI's summary shows, in order, and what each says."""
R2_METRICS = frozenset({"derivative_r2", "trajectory_r2", "trajectory_r2_short", "trajectory_r2_heldout"})
"""Summary metrics that are R² values (at most 1)."""
COEFFICIENT_ROWS = 30
"""Coefficients printed in the summary; a longer model's are in the run's coefficients.csv."""


def _metric_cell(key: str, metrics: dict[str, float], meaning: str) -> tuple[str, str]:
    """A summary metric's value as printed, and its meaning: an R² short of 1 never rounds to 1 (0.99996, not 1),
    a horizon as long as the record says so (>= 20: the simulation did not depart within it), and a missing value
    says why."""
    value = metrics[key]
    if np.isnan(value):
        held_out = key == "trajectory_r2_heldout"
        why = "the model refitted on the first 80 % cannot be simulated" if held_out else "the simulation failed"
        return "n/a", f"{meaning} ({why})"
    if key == "forecast_horizon" and value >= metrics.get("record_span", np.inf):
        return f">= {value:.4g}", f"{meaning} (all of it)"
    digits = 4
    while key in R2_METRICS and value < 1.0 and float(f"{value:.{digits}g}") == 1.0 and digits < 12:
        digits += 1
    return f"{value:.{digits}g}", meaning


def _print_coefficients(console: Console, result: Any) -> None:
    """The model's coefficients with their 95 % intervals (when bagged), up to :data:`COEFFICIENT_ROWS` rows."""
    rows = result.coefficient_table()
    intervals = any("ci_low" in row for row in rows)
    columns = ["state", "term", "coefficient", *(["95 % interval"] if intervals else [])]
    table = _table(None, columns, left=("state", "term"))
    for row in rows[:COEFFICIENT_ROWS]:
        cells = [escape(str(row["state"])), escape(str(row["term"])), f"{row['coefficient']:.4g}"]
        if intervals:
            cells.append(f"{row['ci_low']:.4g} to {row['ci_high']:.4g}" if "ci_low" in row else "")
        table.add_row(*cells)
    if rows:
        console.print(table)
    if len(rows) > COEFFICIENT_ROWS:
        console.print(f"  ... {len(rows) - COEFFICIENT_ROWS} more coefficients in the run's coefficients.csv")


def show_discovery(outcome: Any, console: Console) -> int:
    """The equations, the key metrics and where the run was logged."""
    result = outcome.result
    console.rule(f"[bold]{escape(outcome.config.name)}[/]")
    console.print("[bold]Discovered equations[/]")
    for equation in result.equations:  # a state named "conc (mM)" is written [conc (mM)]: text, not rich markup
        console.print(f"  {escape(equation)}", highlight=False)
    for law in result.chosen.get("conservation_laws", []):
        console.print(f"  kept exactly: {escape(str(law))}", highlight=False)
    axis = getattr(outcome, "time_axis", None)
    if axis is not None:
        time = axis.describe(outcome.config.data.time_column)
        console.print(f"  time: {escape(time)}; rates are per {axis.unit}", highlight=False)
    _print_coefficients(console, result)
    table = _table(None, ["metric", "value", "meaning"], left=("metric", "meaning"))
    for key, meaning in METRIC_MEANINGS.items():
        if key in result.metrics:
            unit = f" {axis.unit}" if key == "forecast_horizon" and axis is not None else ""  # else: the time column's
            value, meaning = _metric_cell(key, result.metrics, meaning)
            table.add_row(key, f"{value}{unit}", meaning)
    console.print(table)
    if "simulation_error" in result.chosen:
        console.print(f"[yellow]note:[/] {escape(str(result.chosen['simulation_error']))}", highlight=False)
    for caution in result.cautions:
        console.print(f"[yellow]caution:[/] {escape(caution)}", highlight=False)
    _print_tracking(console, outcome)
    model_uri = getattr(outcome, "model_uri", None)
    if model_uri:
        registered = outcome.config.tracking.register_as
        what = "Registered model" if registered else "Logged model"
        console.print(f"{what}: {model_uri} (mlflow.pyfunc.load_model)", highlight=False, soft_wrap=True)
    return 0


def show_sensitivity(outcome: Any, console: Console) -> int:
    """The verdict, then per output: mean gradient, mean |gradient|, first and total indices and rank of every
    feature; a key to the columns, the cautions and where the run was logged."""
    result = outcome.result
    console.rule(f"[bold]{escape(outcome.config.name)}[/]")
    for line in getattr(outcome, "verdict", ()):
        console.print(escape(line), highlight=False)
    for j, out in enumerate(result.outputs):
        columns = ["feature", "mean d/dx", "mean |d/dx|", "S1", "±95%", "ST", "±95%", "rank"]
        table = _table(f"sensitivity of {escape(out)}", columns, left=("feature",))
        indices = result.indices.get(out)
        for i, feat in enumerate(result.features):
            g = result.gradients[:, j, i]
            row = indices.loc[feat] if indices is not None else None
            cells = [""] * 5
            if row is not None:
                cells = [_index_cell(row[c]) for c in ("S1", "S1_conf", "ST", "ST_conf")]
                cells.append(str(int(row["rank"])) + ("*" if row.get("clipped", False) else ""))
            table.add_row(escape(feat), f"{g.mean():.4g}", f"{np.abs(g).mean():.4g}", *cells)
        console.print(table)
        if indices is not None and "clipped" in indices and indices["clipped"].any():
            console.print("  * an index estimated below 0 was set to 0", highlight=False)
        points = _point_table(outcome, j)
        if points is not None:
            console.print(f"  gradient of {escape(out)} at each point of gradient.at:", highlight=False)
            console.print(points)
        console.print(f"  estimator: {escape(str(result.chosen[out]))}", highlight=False, soft_wrap=True)
    for line in _sensitivity_key(outcome):
        console.print(f"  {line}", highlight=False)
    for caution in getattr(outcome, "cautions", ()):
        console.print(f"[yellow]caution:[/] {escape(caution)}", highlight=False)
    _print_tracking(console, outcome)
    return 0


POINTS_SHOWN = 10
"""Named gradient points (``gradient.at``) up to this many, of up to as many features, are shown one by one."""


def _named_points(outcome: Any) -> bool:
    """Whether the gradients were taken at points the config names, few enough to show one by one."""
    result = outcome.result
    named = not at_every_sample(outcome.config.gradient.at)
    return named and len(result.points) <= POINTS_SHOWN and len(result.features) <= POINTS_SHOWN


def _point_table(outcome: Any, j: int) -> Table | None:
    """Output j's gradient at each named point (:func:`_named_points`), each partial ± its standard error."""
    if not _named_points(outcome):
        return None
    result, out = outcome.result, outcome.result.outputs[j]
    columns = [*result.features, *(partial_name(out, feat) for feat in result.features)]
    table = _table(None, columns)
    for point, g, s in zip(result.points, result.gradients[:, j, :], result.gradient_std[:, j, :]):
        table.add_row(*(f"{v:.4g}" for v in point), *(f"{gi:.4g} ± {si:.2g}" for gi, si in zip(g, s)))
    return table


def _index_cell(value: float) -> str:
    """An index or its half-width to 3 decimals; blank where the route gives none (ST of rbd_fast)."""
    return "" if np.isnan(value) else f"{value:.3f}"


def _sensitivity_key(outcome: Any) -> list[str]:
    """What the sensitivity table's columns mean, where its gradients were taken, and where the Hessians are."""
    result = outcome.result
    every = at_every_sample(outcome.config.gradient.at)
    count = len(result.points)
    where = "every sample" if every else (f"the {count} points" if count > 1 else "the point") + " of gradient.at"
    lines = [
        f"mean d/dx, mean |d/dx|: the gradient and its size, averaged over {where} (output units per feature unit)",
        "S1: share of the output's variance due to the feature alone; ST: with all its interactions;"
        " ±95%: half-width of the 95 % interval; rank: 1 = most influential by ST (S1 where ST is missing)",
    ]
    if _named_points(outcome):
        lines.append("at each point: the partial derivative ± its standard error (also in the run's gradients.csv)")
    if result.hessians is not None:
        lines.append("Hessians (second derivatives, mixed ones included) at each point: the run's hessians.csv")
    return lines


def _show_check(outcome: Any, console: Console, table: Table) -> int:
    console.rule(f"[bold]{escape(outcome.config.name)}[/]")
    console.print(table)
    console.print("[green]passed[/]" if outcome.passed else "[red]failed[/]")
    for caution in outcome.cautions:
        console.print(f"[yellow]caution:[/] {escape(caution)}", highlight=False)
    _print_tracking(console, outcome)
    return 0 if outcome.passed else 1


def show_residual(outcome: Any, console: Console) -> int:
    """Per state: the law, R², relative RMS, mean and largest residual; exit 1 if the law fails."""
    columns = ["state", "law", "R²", "relative RMS", "mean", "max |r|"]
    table = _table("residual of the data against the law", columns, left=("state", "law"))
    report, rhs = outcome.report, outcome.config.law.rhs
    for j, name in enumerate(report.names):
        table.add_row(
            escape(name), escape(f"d{name}/dt = {rhs[name]}"), f"{report.r2[j]:.4f}", f"{report.relative_rms[j]:.4f}",
            f"{report.mean[j]:.3g}", f"{report.max_abs[j]:.3g}",
        )  # fmt: skip
    return _show_check(outcome, console, table)


def show_gradient_check(outcome: Any, console: Console) -> int:
    """Per point, a row per variable: its value, the claimed (analytic) and numerical partial derivative; the point's
    largest relative error and verdict on its first row. Exit 1 if a point fails."""
    columns = ["point", "variable", "value", "analytic", "numerical", "max rel. error", "passed"]
    table = _table("analytic against numerical gradient", columns, left=("point", "variable", "passed"))
    names = list(outcome.config.variables)
    for k, (point, check) in enumerate(zip(outcome.config.points, outcome.report), start=1):
        for i, name in enumerate(names):
            first = i == 0
            table.add_row(
                str(k) if first else "", escape(name), f"{point[i]:.6g}", f"{check.analytic[i]:.6g}",
                f"{check.numerical[i]:.6g}", f"{check.max_rel_error:.2e}" if first else "",
                ("yes" if check.passed else "[red]no[/]") if first else "",
                end_section=i == len(names) - 1 and k < len(outcome.report) and len(names) > 1,
            )  # fmt: skip
    return _show_check(outcome, console, table)


def show_batch(outcome: Any, console: Console) -> int:
    """One row per item (config, status, equations or error) and the counts; exit 1 if an item failed or a check
    item's check failed (as ``run`` of that check alone exits 1)."""
    parent = f"parent run {outcome.parent_run_id}" if outcome.parent_run_id else "parent run queued in the outbox"
    table = Table(show_header=True, header_style="bold", title=f"batch '{outcome.name}' ({parent})")
    table.add_column("config", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("result", overflow="fold")
    styles = {"FINISHED": "green", "REUSED": "cyan", "QUEUED": "yellow", "FAILED": "red"}
    for item in outcome.items:
        result = escape(item.error if item.status == "FAILED" else " ; ".join(item.equations))
        shown = f"[red]{result}[/]" if item.passed is False else result  # a check that failed: no success either
        table.add_row(escape(item.config), f"[{styles[item.status]}]{item.status}[/]", shown)
    console.print(table)
    counts = {status: sum(i.status == status for i in outcome.items) for status in styles}
    line = ", ".join(f"{n} {status.lower()}" for status, n in counts.items() if n)
    checks_failed = outcome.n_checks_failed
    console.print(line + (f"; {checks_failed} check(s) failed" if checks_failed else ""), highlight=False)
    if queued(outcome):
        console.print(
            "[yellow]MLflow was unreachable:[/] the queued runs wait in the outbox; replay them with"
            f" `{command_name()} sync` once it answers", highlight=False,
        )  # fmt: skip
    return 1 if outcome.n_failed or checks_failed else 0


def queued(outcome: Any) -> bool:
    """Whether a run, or a batch's parent or one of its items, was queued in the outbox instead of published."""
    if getattr(outcome, "outbox", None):
        return True
    items = getattr(outcome, "items", None)
    return items is not None and (not outcome.parent_run_id or any(item.status == "QUEUED" for item in items))


class BatchProgress(logging.Handler):
    """A rich progress bar fed by the batch's ``deltaflow.batch`` progress log records; in a log (no terminal: cron,
    ``nohup``, a CI job), where a bar draws nothing, one plain line per record instead (``nightly: 3/40 finished:
    a.yaml (at 12 s)``), so a long batch shows it is moving."""

    def __init__(self, console: Console, name: str, total: int | None) -> None:
        super().__init__(logging.INFO)
        self.console, self.name, self.started = console, name, time.monotonic()
        self.progress = Progress(
            SpinnerColumn(), TextColumn(f"[bold]{name}[/]"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.description}"), console=console, transient=True,
        )  # fmt: skip
        self.task = self.progress.add_task("starting…", total=total)

    def emit(self, record: logging.LogRecord) -> None:
        done = getattr(record, "items_done", None)
        if done is None:
            return
        if self.console.is_terminal:
            self.progress.update(self.task, completed=done, total=record.items_total, description=record.getMessage())
        else:
            elapsed = time.monotonic() - self.started
            line = f"{self.name}: {done}/{record.items_total} {record.getMessage()} (at {elapsed:.0f} s)"
            self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def __enter__(self) -> BatchProgress:
        logger = logging.getLogger("deltaflow.batch")
        logger.addHandler(self)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # the bar shows progress; the same records as log lines would only repeat it
        if self.console.is_terminal:  # in a log a bar draws nothing, and stopping it left a blank line
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.console.is_terminal:
            self.progress.stop()
        logger = logging.getLogger("deltaflow.batch")
        logger.removeHandler(self)
        logger.propagate = True


STAGE_TEXT = {
    "load-data": "reading the data",
    "differentiate": "smoothing and differentiating",
    "discover": "discovering the model",
    "publish-run": "logging to MLflow",
    "load-samples": "reading samples or sampling the model",
    "analyze": "estimating the sensitivities",
    "record-sensitivity": "recording the results",
}
"""What the progress line says while each stage (a Prefect task, by name) runs."""
DISCOVERY_LOGGER = "pipeline.discovery.chain"
"""The logger discovery reports its steps to (differentiating, judging N models, refining, bagging) at INFO."""


class StageProgress(logging.Handler):
    """The run's stage and the time since it started: a live line on a terminal, one plain line per stage in a
    log (``flows.runtime.STAGE_LOGGER`` records feed it)."""

    def __init__(self, console: Console, name: str, doing: str) -> None:
        super().__init__(logging.DEBUG)
        self.console, self.name, self.started = console, name, time.monotonic()
        self.progress = Progress(
            SpinnerColumn(), TextColumn(f"[bold]{escape(name)}[/]:"), TextColumn("{task.description}…"),
            TimeElapsedColumn(), console=console, transient=True,
        )  # fmt: skip
        self.task = self.progress.add_task(f"starting: {doing}", total=None)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == DISCOVERY_LOGGER:  # a step inside discovery: the live line only, a log keeps one per stage
            if self.console.is_terminal:
                self.progress.update(self.task, description=f"{STAGE_TEXT['discover']}: {record.getMessage()}")
            return
        stage = getattr(record, "stage", None)
        if stage is None:
            return
        text = STAGE_TEXT.get(stage, stage)
        if self.console.is_terminal:
            self.progress.update(self.task, description=text)
        else:
            elapsed = time.monotonic() - self.started
            self.console.print(f"{self.name}: {text}… (at {elapsed:.0f} s)", highlight=False, markup=False)

    def __enter__(self) -> StageProgress:
        from flows.runtime import STAGE_LOGGER

        logger = logging.getLogger(STAGE_LOGGER)
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        steps = logging.getLogger(DISCOVERY_LOGGER)
        steps.addHandler(self)
        steps.setLevel(logging.INFO)
        if self.console.is_terminal:
            self.progress.start()
        else:  # the flow's engine takes seconds to start (a temporary Prefect server): a log says so
            self.console.print(f"{self.name}: starting the flow… (at 0 s)", highlight=False, markup=False)
        return self

    def __exit__(self, *exc: object) -> None:
        from flows.runtime import STAGE_LOGGER

        self.progress.stop()
        logger = logging.getLogger(STAGE_LOGGER)
        logger.removeHandler(self)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
        steps = logging.getLogger(DISCOVERY_LOGGER)
        steps.removeHandler(self)
        steps.setLevel(logging.NOTSET)
