"""The discovery flow: load → differentiate → discover → log, one MLflow run per call."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from flows.provenance import run_tags
from flows.tracking import Tracker
from pipeline.config import (
    DifferentiationConfig,
    DiscoveryConfig,
    RunConfig,
    check_data_path,
    config_hash,
    flatten_config,
    load_config,
)
from pipeline.data import TimeSeries, load_timeseries
from pipeline.differentiation import DerivativeResult, smooth_and_differentiate
from pipeline.discovery import DiscoveryResult, discover
from pipeline.errors import ConfigError, DeltaflowError
from pipeline.plots import plot_inclusion, plot_model_fit, plot_pareto
from pipeline.report import figure_png, render_report

__all__ = ["DiscoveryRun", "discover_equations", "resolve_config"]


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
    """

    config: RunConfig
    result: DiscoveryResult
    mlflow_run_id: str | None
    experiment_id: str | None
    tracking_uri: str | None
    model_uri: str | None = None
    cached: dict[str, bool] | None = None


def resolve_config(config: RunConfig | str | Path) -> RunConfig:
    """A :class:`RunConfig` from itself or from a YAML path."""
    if isinstance(config, RunConfig):
        return config
    if isinstance(config, (str, Path)):
        loaded = load_config(config)
        if not isinstance(loaded, RunConfig):
            raise ConfigError(f"{config}: kind '{loaded.kind}' is not a discovery config")
        return loaded
    raise ConfigError(f"config must be a RunConfig or a YAML path, got {type(config).__name__}")


def _transient_io_error(task: object, task_run: object, state: State) -> bool:
    """Retry only on IO faults (a flaky disk or network share), never on bad data."""
    try:
        state.result()
    except DeltaflowError:
        return False
    except OSError:
        return True
    except Exception:  # noqa: BLE001 - anything else is not an IO fault
        return False
    return False


@task(name="load-data", retries=2, retry_delay_seconds=1, retry_condition_fn=_transient_io_error, cache_policy=NO_CACHE)
def load_data(config: RunConfig) -> TimeSeries:
    """Read and validate the run's time series."""
    data = config.data
    return load_timeseries(
        data.path,
        time_column=data.time_column,
        state_columns=data.state_columns,
        trajectory_column=data.trajectory_column,
    )


@functools.cache
def _code_version() -> str:
    """sha256 of the core's source (read once, on first use): a cached stage is reused only by the same code."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parents[1] / "pipeline").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _series_hash(series: TimeSeries) -> str:
    digest = hashlib.sha256()
    for array in (series.t, series.x):
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    digest.update(repr((series.names, None if series.trajectory is None else series.trajectory.tolist())).encode())
    return digest.hexdigest()


def _differentiation_key(context: object, parameters: dict[str, Any]) -> str:
    """Data content + differentiation config + code: an unchanged rerun reuses the derivatives."""
    return (
        "differentiate-"
        + hashlib.sha256(
            (_series_hash(parameters["series"]) + config_hash(parameters["config"]) + _code_version()).encode()
        ).hexdigest()
    )


def _discovery_key(context: object, parameters: dict[str, Any]) -> str:
    """Derivatives' content + discovery config + code: a changed smoothing recomputes discovery too."""
    digest = hashlib.sha256(_series_hash(parameters["series"]).encode())
    for result in parameters["derivatives"]:
        for array in (result.smoothed, result.first):
            digest.update(np.ascontiguousarray(array).tobytes())
    digest.update((config_hash(parameters["config"]) + _code_version()).encode())
    return "discover-" + digest.hexdigest()


@task(name="differentiate", cache_key_fn=_differentiation_key, persist_result=True)
def differentiate_series(series: TimeSeries, config: DifferentiationConfig) -> list[DerivativeResult]:
    """Smooth and differentiate every trajectory."""
    return [
        smooth_and_differentiate(t, x, method=config.method, **config.params)
        for t, x in zip(series.t_list(), series.x_list())
    ]


@task(name="discover", cache_key_fn=_discovery_key, persist_result=True)
def discover_model(series: TimeSeries, derivatives: list[DerivativeResult], config: DiscoveryConfig) -> DiscoveryResult:
    """Choose and fit the sparse model."""
    return discover(
        series.t_list(), series.x_list(), config=config, feature_names=series.names, derivatives=derivatives
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


@task(name="log-results", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def log_results(
    tracker: Tracker,
    run_id: str,
    config: RunConfig,
    series: TimeSeries,
    derivatives: list[DerivativeResult],
    result: DiscoveryResult,
) -> None:
    """Write metrics, equations, coefficients, candidate table and the fit plot to the run."""
    tracker.log_metrics(run_id, result.metrics)
    tracker.log_metric_steps(run_id, _pareto_steps(result))
    tracker.set_tags(
        run_id,
        {
            "differentiation.chosen": derivatives[0].method,
            **{f"chosen.{k}": str(v)[:5000] for k, v in result.chosen.items()},
        },
    )
    figures = {
        "plots/data_vs_model.png": plot_model_fit(
            series.t_list(), series.x_list(), derivatives, result, time_label=config.data.time_column
        ),
        "plots/pareto.png": plot_pareto(result),
        "plots/inclusion.png": plot_inclusion(result),
    }
    try:
        pngs = {name: figure_png(figure) for name, figure in figures.items()}
    finally:
        for figure in figures.values():
            plt.close(figure)
    captions = dict(zip(["Data, smoothed signal and simulated model", "Candidate models", "Bagging"], pngs.values()))
    facts = {"data": str(config.data.path), "MLflow run": run_id, "differentiation": derivatives[0].method}
    tracker.log_files(
        run_id,
        {
            "equations.txt": "\n".join(result.equations) + "\n",
            "equations.json": json.dumps(result.to_dict(), indent=2, default=str),
            "equations.tex": "\n".join(f"\\[ {e} \\]" for e in result.equations_latex) + "\n",
            "coefficients.csv": _coefficient_table(result),
            "candidates.csv": pd.DataFrame(result.pareto).to_csv(index=False),
            "report.html": render_report(config.name, result, captions, facts=facts),
            **pngs,
        },
    )


@task(name="log-model", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def log_model(tracker: Tracker, run_id: str, result: DiscoveryResult, register_as: str | None) -> str:
    """Log the model as an mlflow.pyfunc model (optionally registered)."""
    return tracker.log_discovered_model(run_id, result, register_as=register_as)


@flow(name="discover-equations", validate_parameters=False)
def discover_equations(config: RunConfig | str | Path, parent_run_id: str | None = None) -> DiscoveryRun:
    """Discover the governing ODE of a dataset and log everything to MLflow.

    Args:
        config: a :class:`RunConfig` or the path of a YAML run config.
        parent_run_id: nest the run under this MLflow run (batches do).

    Returns:
        A :class:`DiscoveryRun` with the model and the MLflow run id.

    Raises:
        ConfigError: the config is invalid.
        DataError: the data file is missing or unusable (the run, if started, is marked FAILED).
        TrackingError: the MLflow store cannot be written.
    """
    cfg = resolve_config(config)
    data_path = check_data_path(cfg)
    if not cfg.tracking.enabled:
        series = load_data(cfg)
        derivatives = differentiate_series(series, cfg.differentiation)
        result = discover_model(series, derivatives, cfg.discovery)
        return DiscoveryRun(cfg, result, None, None, None, None)

    tracker = Tracker()
    experiment_id = tracker.ensure_experiment(cfg.experiment_name)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tags = run_tags(cfg, data_path, parent_run_id)
    with tracker.run(experiment_id, run_name=f"{data_path.stem} {stamp}", tags=tags) as run_id:
        tracker.log_params(run_id, flatten_config(cfg))
        series = load_data(cfg)
        derivative_state = differentiate_series(series, cfg.differentiation, return_state=True)
        derivatives = derivative_state.result()
        discovery_state = discover_model(series, derivatives, cfg.discovery, return_state=True)
        result = discovery_state.result()
        cached = {"differentiate": derivative_state.name == "Cached", "discover": discovery_state.name == "Cached"}
        tracker.set_tags(run_id, {f"cache.{stage}": "hit" if hit else "miss" for stage, hit in cached.items()})
        log_results(tracker, run_id, cfg, series, derivatives, result)
        model_uri = log_model(tracker, run_id, result, cfg.tracking.register_as) if cfg.tracking.log_model else None
    return DiscoveryRun(cfg, result, run_id, experiment_id, tracker.uri, model_uri, cached)
