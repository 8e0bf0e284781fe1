"""Deployments: each config becomes a Prefect deployment, scheduled when its ``schedule`` says so.

``python -m flows serve configs/`` serves them all from this process (no work pool needed); a
deployment of a config without a schedule can still be triggered with ``run_deployment`` or from
the Prefect UI. For a process work pool, see ``docker/prefect.yaml``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
from prefect.deployments.runner import RunnerDeployment

from flows.inputs import expand_configs
from flows.kinds import run_kind
from pipeline.config import AnyConfig, ScheduleConfig, load_config
from pipeline.errors import ConfigError

__all__ = ["build_deployments", "deployment_name", "describe_schedule", "serve_deployments"]


def deployment_name(config: AnyConfig) -> str:
    """``<flow name>/<config name>``: what ``run_deployment`` takes."""
    return f"{run_kind(config.kind).flow().name}/{config.name}"


def _schedule(rule: ScheduleConfig | None, path: Path) -> list[CronSchedule | IntervalSchedule]:
    """Prefect's schedule for the config at ``path``.

    Raises:
        ConfigError: Prefect refuses the cron expression (a value out of range, a random or hashed field).
    """
    if rule is None:
        return []
    if rule.cron is None:
        return [IntervalSchedule(interval=timedelta(seconds=rule.interval))]
    try:
        return [CronSchedule(cron=rule.cron, timezone=rule.timezone)]
    except ValueError as exc:  # pydantic's ValidationError of Prefect's cron check
        raise ConfigError(
            f"{path}: field 'schedule.cron': {rule.cron!r} is not a cron expression Prefect accepts (minute 0-59,"
            " hour 0-23, day 1-31, month 1-12, weekday 0-6; e.g. '0 3 * * *')"
        ) from exc


def build_deployments(paths: list[str | Path] | str | Path, *, only_scheduled: bool = False) -> list[RunnerDeployment]:
    """One deployment per config (absolute config path as its parameter); schedules from the configs.

    Raises:
        ConfigError: a config is invalid, or two configs share a name (deployment names must be unique).
    """
    deployments, seen = [], {}
    for path in expand_configs(paths):
        config = load_config(path)
        if only_scheduled and config.schedule is None:
            continue
        key = deployment_name(config)
        if key in seen:
            raise ConfigError(f"{path}: name '{config.name}' is also used by {seen[key]}; deployment names must differ")
        seen[key] = path
        flow = run_kind(config.kind).flow()
        deployments.append(
            flow.to_deployment(
                name=config.name,
                parameters={"config": str(Path(path).resolve())},
                schedules=_schedule(config.schedule, Path(path)),
                description=config.description or None,
                tags=["deltaflow", config.kind],
            )
        )
    if not deployments:
        raise ConfigError(f"no {'scheduled ' if only_scheduled else ''}configs to serve in {paths}")
    return deployments


def serve_deployments(deployments: list[RunnerDeployment], *, limit: int | None = None) -> None:
    """Serve deployments from this process until interrupted (Ctrl-C pauses their schedules)."""
    serve(*deployments, limit=limit, print_starting_message=False)


def describe_schedule(deployment: RunnerDeployment) -> str:
    """'cron 0 3 * * * (UTC)', 'every 3600 s' or 'on demand'."""
    rules = []
    for item in deployment.schedules or []:
        rule = item.schedule
        if isinstance(rule, CronSchedule):
            rules.append(f"cron {rule.cron} ({rule.timezone})")
        elif isinstance(rule, IntervalSchedule):
            rules.append(f"every {rule.interval.total_seconds():g} s")
    return ", ".join(rules) or "on demand"
