"""Two small checks as flows: a physics residual (do the data obey a law?) and a gradient check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from flows.discovery import load_data
from flows.inputs import check_differentiation, check_law, check_points, gradient_checks, inputs_check
from flows.kinds import resolve_config
from flows.records import publish, record_dataset, recorded_run, time_axis_tags
from flows.runtime import deltaflow_flow, run_stage
from flows.settings import data_roots
from flows.tracking import tracker_for
from pipeline.config import GradientCheckConfig, ResidualConfig, check_data_path
from pipeline.figure_layout import arrange_grid
from pipeline.report import render_figures
from pipeline.sensitivity import GradientCheck, ResidualReport, series_residual

__all__ = ["CheckRun", "check_gradient_flow", "check_residual"]


@dataclass(frozen=True)
class CheckRun:
    """A check's outcome: the report(s), whether it passed, and where it was logged."""

    config: Any
    report: Any
    passed: bool
    mlflow_run_id: str | None
    outbox: Path | None = None
    experiment_id: str | None = None
    tracking_uri: str | None = None
    cautions: tuple[str, ...] = ()
    """What reading the data decided that a reader should know (a column left out, a spike replaced)."""

    def summary_lines(self) -> tuple[str, ...]:
        """What a batch's summary shows for this run: the verdict."""
        return (_verdict(self.report),)


RESIDUAL_R2 = 0.9
"""A residual check passes when the law explains at least this share (R²) of every state's derivative."""


def _verdict(report: ResidualReport | list[GradientCheck]) -> str:
    """A check's one-line result, and what failed (the batch summary; ``result.summary`` keeps it for REUSED rows):
    ``check failed: u R² -0.812 (the law must explain R² >= 0.9 of each derivative)``, or the failing points."""
    if isinstance(report, ResidualReport):
        low = [f"{name} R² {r2:.3f}" for name, r2 in zip(report.names, report.r2) if not r2 >= RESIDUAL_R2]
        if not low:
            return "passed"
        return f"check failed: {', '.join(low)} (the law must explain R² >= {RESIDUAL_R2} of each derivative)"
    failed = [k for k, check in enumerate(report, start=1) if not check.passed]
    if not failed:
        return "passed"
    worst = max(report, key=lambda check: check.max_rel_error)
    return (
        f"check failed: {len(failed)} of {len(report)} points (first: point {failed[0]}); largest relative error"
        f" {worst.max_rel_error:.2e} against the tolerance {worst.tolerance:.0e}"
    )


def _residual_figure(report: ResidualReport) -> Any:
    """The residual of each state against time, a line per trajectory."""
    fig, axes = plt.subplots(len(report.names), 1, figsize=(8, 2.2 * len(report.names) + 0.5), squeeze=False)
    ends = np.cumsum(report.lengths)[:-1]
    for j, name in enumerate(report.names):
        for t, residual in zip(np.split(report.t, ends), np.split(report.residual[:, j], ends)):
            axes[j, 0].plot(t, residual, lw=1, color="C0")
        axes[j, 0].axhline(0, color="k", lw=0.5)
        axes[j, 0].set_ylabel(f"residual d{name}/dt")
        axes[j, 0].set_title(f"{name}: R² {report.r2[j]:.3f}, relative RMS {report.relative_rms[j]:.3f}", fontsize=9)
    arrange_grid(fig, axes)
    return fig


def _residual_results(record: Any, cfg: ResidualConfig, report: ResidualReport, passed: bool) -> None:
    """Per-state residual statistics, the verdict, the law, the report and its figure onto the record."""
    record.metrics |= {f"{name}.{k}": v for name, stats in report.to_dict().items() for k, v in stats.items()}
    record.tags |= {"check.passed": str(passed), "law": json.dumps(cfg.law.rhs), "result.summary": _verdict(report)}
    record.files |= {
        "residual.json": json.dumps(report.to_dict(), indent=2),
        **render_figures(lambda: {"plots/residual.png": _residual_figure(report)}),
    }


@deltaflow_flow("check-residual", check=inputs_check("residual"))
def check_residual(
    config: ResidualConfig | str | Path, parent_run_id: str | None = None, parent_record_id: str | None = None
) -> CheckRun:
    """Residual of the data against the config's law (derivatives estimated from the data), logged to MLflow.

    Passes when the law explains the data's derivatives (R² ≥ 0.9 for every state).
    """
    cfg = resolve_config(config, "residual")
    data_path = check_data_path(cfg, data_roots())
    tracker = tracker_for(cfg)
    with recorded_run(tracker, cfg, data_path, data_path.stem, parent_run_id, parent_record_id) as record:
        series, _ = run_stage(load_data, cfg)
        check_differentiation(cfg, series)
        frame = pd.DataFrame(series.x, columns=list(series.names)).assign(**{cfg.data.time_column: series.t})
        record_dataset(record, frame, name=cfg.data.path.name, source=cfg.data.path)
        record.tags |= time_axis_tags(series)
        check_law(cfg, series)  # as the pre-run check does: a scheduled run records a law that misses a state
        report = series_residual(
            series, dict(cfg.law.rhs), params=cfg.law.params, method=cfg.differentiation.method,
            differentiation_params=dict(cfg.differentiation.params),
        )  # fmt: skip
        passed = bool(np.all(report.r2 >= RESIDUAL_R2))
        if series.notes:
            record.tags["deltaflow.caution"] = " | ".join(series.notes)[:5000]
        tracker.describe(lambda: _residual_results(record, cfg, report, passed))
    run_id, _, queued = publish(tracker, record)
    return CheckRun(cfg, report, passed, run_id, queued, record.experiment_id, tracker.uri, series.notes)


def _gradient_results(record: Any, cfg: GradientCheckConfig, checks: list[GradientCheck], passed: bool) -> None:
    """The largest error, the verdict and one row per point onto the record; a point's values and partials keyed by
    variable name (``{"x": 1.0, "y": 2.0}``)."""

    def named(values: Any) -> dict[str, float]:
        return {name: float(v) for name, v in zip(cfg.variables, values)}

    rows = [
        {"point": named(p), "numerical": named(c.numerical), "analytic": named(c.analytic),
         "max_abs_error": c.max_abs_error, "max_rel_error": c.max_rel_error, "passed": c.passed}
        for p, c in zip(cfg.points, checks)
    ]  # fmt: skip
    record.metrics |= {"max_rel_error": max(c.max_rel_error for c in checks), "points": len(checks)}
    record.tags |= {"check.passed": str(passed), "result.summary": _verdict(checks)}
    record.files["gradient_check.json"] = json.dumps(rows, indent=2)


@deltaflow_flow("check-gradient", check=inputs_check("gradient_check"))
def check_gradient_flow(
    config: GradientCheckConfig | str | Path, parent_run_id: str | None = None, parent_record_id: str | None = None
) -> CheckRun:
    """Numerical (Richardson central differences) against the claimed gradient at every point, logged to MLflow."""
    cfg = resolve_config(config, "gradient_check")
    tracker = tracker_for(cfg)
    with recorded_run(tracker, cfg, None, "gradient-check", parent_run_id, parent_record_id) as record:
        cfg = check_points(cfg)  # points named by a file: read in the run too, so a scheduled run records a bad one
        checks = gradient_checks(cfg)  # a point where the function is undefined: a ConfigError naming it
        passed = all(c.passed for c in checks)
        tracker.describe(lambda: _gradient_results(record, cfg, checks, passed))
    run_id, _, queued = publish(tracker, record)
    return CheckRun(cfg, checks, passed, run_id, queued, record.experiment_id, tracker.uri)
