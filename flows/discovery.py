"""The discovery flow: load → differentiate → discover → log, one MLflow run per call."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.cache_keys import cache_key
from flows.inputs import check_differentiation, inputs_check, read_timeseries
from flows.kinds import resolve_config
from flows.metric_keys import metric_part
from flows.outbox import RunRecord
from flows.provenance import code_version, config_hash
from flows.records import describe_run, publish, record_dataset, recorded_run, time_axis_tags, utc_stamp
from flows.runtime import deltaflow_flow, retry_on_io_error, run_stage
from flows.settings import data_roots
from flows.tracking import RUN_ID_MARK, tracker_for
from pipeline.config import DataConfig, DifferentiationConfig, DiscoveryConfig, RunConfig, check_data_path
from pipeline.data import TimeSeries
from pipeline.differentiation import DerivativeResult, differentiate_trajectories
from pipeline.discovery import DiscoveryResult, discover
from pipeline.discovery.library_size import check_library_samples
from pipeline.plots import plot_derivatives, plot_inclusion, plot_model_fit, plot_pareto
from pipeline.report import render_figures, render_report
from pipeline.time_axis import TimeAxis

__all__ = [
    "DiscoveryRun", "coefficient_metrics", "discover_equations", "discover_stages", "load_data", "record_results"
]  # fmt: skip


@dataclass(frozen=True)
class DiscoveryRun:
    """What a discovery flow returns.

    Attributes:
        config: the resolved run config.
        result: the discovered model.
        mlflow_run_id: the MLflow run holding params, metrics and artifacts (None if tracking is off).
        experiment_id: its MLflow experiment.
        tracking_uri: the MLflow store it was written to.
        model_uri: the logged ``mlflow.pyfunc`` model (``models:/...``), if logged.
        cached: per stage, whether its result was reused from the cache.
        outbox: where the run was queued if MLflow was unreachable (``python -m flows sync`` replays it).
        time_axis: the unit and origin of a date/datetime time column (None for numeric times).
    """

    config: RunConfig
    result: DiscoveryResult
    mlflow_run_id: str | None
    experiment_id: str | None
    tracking_uri: str | None
    model_uri: str | None = None
    cached: dict[str, bool] | None = None
    outbox: Path | None = None
    time_axis: TimeAxis | None = None

    def summary_lines(self) -> tuple[str, ...]:
        """What a batch's summary shows for this run: the equations."""
        return tuple(self.result.equations)


@task(name="load-data", retries=2, retry_delay_seconds=1, retry_condition_fn=retry_on_io_error, cache_policy=NO_CACHE)
def load_data(config: RunConfig) -> TimeSeries:
    """Read and validate the run's time series."""
    return read_timeseries(config)


def _series_hash(series: TimeSeries) -> str:
    """Everything of the series a stage result depends on: times, states, known inputs, names, trajectories (a
    changed input column must not reuse the model fitted to the old one)."""
    digest = hashlib.sha256()
    for array in (series.t, series.x, *(() if series.u is None else (series.u,))):
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    trajectory = None if series.trajectory is None else series.trajectory.tolist()
    digest.update(repr((series.names, series.control_names, trajectory)).encode())
    return digest.hexdigest()


def _differentiation_key(context: object, parameters: dict[str, Any]) -> str:
    """Data content + differentiation config + code, keyed by the user's secret (:mod:`flows.cache_keys`):
    an unchanged rerun reuses the derivatives, a planted cache file never matches."""
    payload = _series_hash(parameters["series"]) + config_hash(parameters["config"]) + code_version()
    return cache_key("differentiate", payload.encode())


def _discovery_key(context: object, parameters: dict[str, Any]) -> str:
    """Derivatives' content + discovery config + code: a changed smoothing recomputes discovery too."""
    digest = hashlib.sha256(_series_hash(parameters["series"]).encode())
    for result in parameters["derivatives"]:
        for array in (result.smoothed, result.first):
            digest.update(np.ascontiguousarray(array).tobytes())
    digest.update((config_hash(parameters["config"]) + code_version()).encode())
    return cache_key("discover", digest.digest())


@task(name="differentiate", cache_key_fn=_differentiation_key, persist_result=True)
def differentiate_series(series: TimeSeries, config: DifferentiationConfig) -> list[DerivativeResult]:
    """Smooth and differentiate every trajectory."""
    return differentiate_trajectories(series, config.method, **config.params)


@task(name="discover", cache_key_fn=_discovery_key, persist_result=True)
def discover_model(series: TimeSeries, derivatives: list[DerivativeResult], config: DiscoveryConfig) -> DiscoveryResult:
    """Choose and fit the sparse model."""
    return discover(
        series.t_list(),
        series.x_list(),
        config=config,
        feature_names=series.names,
        derivatives=derivatives,
        u=series.u_list(),
        control_names=series.control_names,
    )


def _coefficient_table(result: DiscoveryResult) -> str:
    """One row per model term: coefficient, 95 % interval and inclusion probability."""
    columns = ["state", "term", "coefficient", "ci_low", "ci_high", "inclusion_probability"]
    return pd.DataFrame(result.coefficient_table()).reindex(columns=columns).to_csv(index=False)


def _pareto_steps(result: DiscoveryResult) -> dict[str, list[tuple[int, float]]]:
    """The Pareto front per state as stepped metrics: step = number of terms, value = best validation MSE."""
    best: dict[str, dict[int, float]] = {}
    for row in result.pareto:
        front = best.setdefault(f"pareto.{row['state']}.cv_mse", {})
        complexity, error = int(row["complexity"]), float(row["cv_mse"])
        front[complexity] = min(error, front.get(complexity, float("inf")))
    return {key: sorted(front.items()) for key, front in best.items()}


def coefficient_metrics(result: DiscoveryResult) -> dict[str, float]:
    """Every model term's coefficient and 95 % interval as metrics with stable names, so a coefficient's drift
    is one chart across nightly runs and the compare view lines equations up:
    ``coef.<state>.<term>``, ``coef.<state>.<term>.ci_low``, ``coef.<state>.<term>.ci_high`` (state and term
    through :func:`flows.tracking.metric_part`: ``x^2 y`` -> ``xpow2_y``)."""
    metrics: dict[str, float] = {}
    for row in result.coefficient_table():
        key = f"coef.{metric_part(str(row['state']))}.{metric_part(str(row['term']))}"
        metrics[key] = float(row["coefficient"])
        for bound in ("ci_low", "ci_high"):
            if row.get(bound) is not None:
                metrics[f"{key}.{bound}"] = float(row[bound])
    return metrics


def _series_frame(series: TimeSeries, data: DataConfig) -> pd.DataFrame:
    """The series as read, one row per sample, under the file's column names: time, (trajectory), states, controls.
    The trajectory labels are kept as text, so MLflow's schema of the dataset has no integer column to warn about."""
    frame = pd.DataFrame(np.asarray(series.x, dtype=float), columns=list(series.names))
    frame.insert(0, data.time_column, np.asarray(series.t, dtype=float))
    if series.trajectory is not None:
        frame.insert(1, data.trajectory_column or "trajectory", [str(label) for label in series.trajectory])
    if series.u is not None:
        frame[list(series.control_names)] = np.asarray(series.u, dtype=float)
    return frame


def _headline(record: RunRecord, config: RunConfig, result: DiscoveryResult, method: str) -> list[str]:
    """Cautions as the ``deltaflow.caution`` tag, and the run's description: equations, cautions, choices."""
    cautions = result.cautions
    if cautions:
        record.tags["deltaflow.caution"] = " | ".join(cautions)[:5000]
    describe_run(
        record,
        {
            "Caution": [f"- ⚠ {c}" for c in cautions],
            "Discovered equations": [f"- `{e}`" for e in result.equations],
            "Scores": [f"- {k}: {v:.4g}" for k, v in result.metrics.items() if k.endswith("r2")],
            "Chosen": [f"- differentiation: {method}", *(f"- {k}: {v}" for k, v in result.chosen.items()
                                                          if k != "cautions")],
        },
    )  # fmt: skip
    return cautions


def record_results(
    record: RunRecord,
    config: RunConfig,
    series: TimeSeries,
    derivatives: list[DerivativeResult],
    result: DiscoveryResult,
) -> None:
    """Put metrics, the Pareto sweep, equations, coefficients, candidates, plots, the report (and the model,
    when ``tracking.log_model``) on the record.

    A plain function, not a task: in-memory work whose task-run bookkeeping would cost more than it shows."""
    record.metrics |= result.metrics | coefficient_metrics(result)
    record.steps |= _pareto_steps(result)
    record_dataset(record, _series_frame(series, config.data), name=config.data.path.name,
                   source=config.data.path)  # fmt: skip
    cautions = _headline(record, config, result, derivatives[0].method)
    if config.tracking.log_model:
        register_as = config.tracking.register_as
        record.model = result.to_dict()
        record.register_as = f"{register_as}@{config.tracking.alias}" if register_as else None
    record.tags |= time_axis_tags(series)
    record.tags |= {
        "differentiation.chosen": derivatives[0].method,
        "result.equations": " ; ".join(result.equations)[:5000],
        **{f"chosen.{k}": str(v)[:5000] for k, v in result.chosen.items()},
    }
    axis = None if series.time_axis is None else series.time_axis.describe(config.data.time_column)
    rates = None if series.time_axis is None else f"{axis}; rates are per {series.time_axis.unit}"
    pngs = render_figures(
        lambda: {
            "plots/data_vs_model.png": plot_model_fit(
                series.t_list(), series.x_list(), derivatives, result, time_label=config.data.time_column,
                us=series.u_list(), time_axis=axis, labels=series.trajectory_labels,
            ),
            "plots/derivatives.png": plot_derivatives(
                series.t_list(), derivatives, result, time_label=config.data.time_column, us=series.u_list(),
                time_axis=axis,
            ),
            "plots/pareto.png": plot_pareto(result),
            "plots/inclusion.png": plot_inclusion(result),
        }
    )  # fmt: skip
    captions = dict(
        zip(
            ["Data, smoothed signal and simulated model", "Derivatives: data against the model", "Candidate models",
             "Bagging"],
            pngs.values(),
        )
    )  # fmt: skip
    facts = {
        "MLflow run": RUN_ID_MARK,
        "date (UTC)": utc_stamp(),
        "config": config.name,
        "data": str(config.data.path),
        "data sha256": record.tags.get("data.sha256", ""),
        "Prefect flow run": record.tags.get("prefect.flow_run_id", ""),
        "differentiation": derivatives[0].method,
        "states": ", ".join(series.names),
        **({"known inputs": ", ".join(series.control_names)} if series.control_names else {}),
        **({} if series.n_trajectories == 1 else {"trajectories": str(series.n_trajectories)}),
        **({} if rates is None else {"time axis": rates}),
    }
    record.files |= {
        "equations.txt": "\n".join(result.equations) + "\n" + ("" if rates is None else f"# time: {rates}\n"),
        "equations.json": json.dumps(result.to_dict(), indent=2, default=str),
        "equations.tex": "\n".join(f"\\[ {e} \\]" for e in result.equations_latex) + "\n",
        "coefficients.csv": _coefficient_table(result),
        "candidates.csv": pd.DataFrame(result.pareto).to_csv(index=False),
        "judged_models.csv": pd.DataFrame(result.judged).to_csv(index=False),
        "report.html": render_report(
            config.name, result, captions, facts=facts, description=config.description, cautions=cautions,
            metric_units=None if series.time_axis is None else {"forecast_horizon": series.time_axis.unit},
        ),
        **pngs,
    }


def discover_stages(cfg: RunConfig) -> tuple[TimeSeries, list[DerivativeResult], DiscoveryResult, dict[str, bool]]:
    """Load → differentiate → discover: the one place this sequence is written.

    Returns:
        (series, derivatives per trajectory, result, per stage whether it came from the cache).
    """
    series, _ = run_stage(load_data, cfg)
    check_differentiation(cfg, series)  # as the pre-check words it (a scheduled run makes no pre-check)
    check_library_samples(series, cfg.discovery.library)
    derivatives, differentiate_hit = run_stage(differentiate_series, series, cfg.differentiation)
    result, discover_hit = run_stage(discover_model, series, derivatives, cfg.discovery)
    if series.notes:  # what reading the file decided comes first among the cautions
        cautions = [*series.notes, *result.chosen.get("cautions", [])]
        result = replace(result, chosen={**result.chosen, "cautions": cautions})
    return series, derivatives, result, {"differentiate": differentiate_hit, "discover": discover_hit}


@deltaflow_flow("discover-equations", check=inputs_check("discovery"))
def discover_equations(
    config: RunConfig | str | Path, parent_run_id: str | None = None, parent_record_id: str | None = None
) -> DiscoveryRun:
    """Discover the governing ODE of a dataset and log everything to MLflow.

    Args:
        config: a :class:`RunConfig` or the path of a YAML run config.
        parent_run_id: nest the run under this MLflow run (batches do).
        parent_record_id: nest under a parent still queued in the outbox (a batch whose MLflow went down).

    Returns:
        A :class:`DiscoveryRun` with the model and the MLflow run id (or the outbox folder if MLflow was down).

    Raises:
        ConfigError: the config is invalid.
        DataError: the data file is missing or unusable. Called from Python, the flow checks its inputs as the
            CLI does before it starts, so such an error starts no run; an error met once the run has started (a
            deployment's scheduled run does not make that check) is recorded on it, FAILED.
    """
    cfg = resolve_config(config, "discovery")
    data_path = check_data_path(cfg, data_roots())
    tracker = tracker_for(cfg)
    with recorded_run(tracker, cfg, data_path, data_path.stem, parent_run_id, parent_record_id) as record:
        series, derivatives, result, cached = discover_stages(cfg)
        record.tags |= {f"cache.{stage}": "hit" if hit else "miss" for stage, hit in cached.items()}
        tracker.describe(lambda: record_results(record, cfg, series, derivatives, result))
    run_id, model_uri, queued = publish(tracker, record)
    return DiscoveryRun(
        cfg, result, run_id, record.experiment_id, tracker.uri, model_uri, cached, queued, series.time_axis
    )
