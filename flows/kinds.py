"""The one registry of run kinds: which config model, which Prefect flow, how the CLI shows it.

The CLI (``run``), the batch (each item) and the deployments (``serve``) all look a kind up here;
adding a run kind is one :class:`RunKind` row (plus its flow and its presenter). Flows and
presenters are named as ``"module:attribute"`` and imported on use, so reading the registry (the
CLI does, before anything heavy) imports neither Prefect nor MLflow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipeline.config import CONFIG_KINDS, load_config
from pipeline.errors import ConfigError

__all__ = ["RUN_KINDS", "RunKind", "resolve_config", "run_kind"]


def _attribute(spec: str) -> Any:
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class RunKind:
    """One kind of run.

    Attributes:
        name: the config's ``kind``.
        flow_spec: its Prefect flow, ``"module:attribute"``; called as ``flow(config, parent_run_id=...,
            parent_record_id=...)`` (a batch flow takes the config alone).
        presenter_spec: the function printing its outcome on the CLI's console, ``"module:attribute"``.
        doing: what the CLI's spinner says while it runs.
        nests: whether a batch can run it as an item (a batch cannot hold a batch).
    """

    name: str
    flow_spec: str
    presenter_spec: str
    doing: str
    nests: bool = True

    @property
    def config_model(self) -> type:
        """The pydantic model of this kind's configs."""
        return CONFIG_KINDS[self.name]

    def flow(self) -> Any:
        """The Prefect flow (imports Prefect)."""
        return _attribute(self.flow_spec)

    def presenter(self) -> Any:
        """The CLI presenter ``(outcome, console) -> None``."""
        return _attribute(self.presenter_spec)


RUN_KINDS: dict[str, RunKind] = {
    kind.name: kind
    for kind in (
        RunKind(
            "discovery", "flows.discovery:discover_equations", "flows.console:show_discovery",
            "differentiating, discovering and logging",
        ),
        RunKind(
            "sensitivity", "flows.sensitivity:analyze_sensitivity", "flows.console:show_sensitivity",
            "sampling, estimating gradients and indices",
        ),
        RunKind(
            "residual", "flows.checks:check_residual", "flows.console:show_residual",
            "differentiating and checking the law",
        ),
        RunKind(
            "gradient_check", "flows.checks:check_gradient_flow", "flows.console:show_gradient_check",
            "checking the gradient",
        ),
        RunKind("batch", "flows.batch:run_batch_config", "flows.console:show_batch", "running the batch", nests=False),
    )
}  # fmt: skip


def run_kind(kind: str) -> RunKind:
    """The registry row of ``kind``.

    Raises:
        ConfigError: no run kind of that name.
    """
    try:
        return RUN_KINDS[kind]
    except KeyError:
        raise ConfigError(f"unknown run kind {kind!r}; expected one of {list(RUN_KINDS)}") from None


def resolve_config(config: Any, kind: str) -> Any:
    """The config of run kind ``kind`` from itself, from a YAML path, or from the file a large config was passed
    in (:class:`flows.parameters.ConfigFile`).

    Raises:
        ConfigError: the file is invalid, or it describes another kind of run.
    """
    from flows.parameters import ConfigFile  # pydantic only: no Prefect, no MLflow

    if isinstance(config, ConfigFile):
        loaded = config.load()
    else:
        loaded = load_config(config) if isinstance(config, (str, Path)) else config
    expected = run_kind(kind).config_model
    if not isinstance(loaded, expected) and not isinstance(loaded, BaseModel):
        raise ConfigError(
            f"config must be a {expected.__name__} or the path of a YAML config; got a {type(loaded).__name__}"
            " (a mapping of config fields becomes one with pipeline.config.parse_config(mapping))"
        )
    if not isinstance(loaded, expected):
        got = getattr(loaded, "kind", type(loaded).__name__)
        raise ConfigError(f"{config}: kind '{got}' is not a {kind} config")
    return loaded
