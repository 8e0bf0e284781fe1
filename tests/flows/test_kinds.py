"""The one registry of run kinds: every config kind has a flow, a presenter and a config model."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.kinds import RUN_KINDS, resolve_config, run_kind
from pipeline.config import CONFIG_KINDS, RunBase, TrackedRunBase, load_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT


def test_every_config_kind_is_a_run_kind_with_a_flow_and_a_presenter() -> None:
    assert set(RUN_KINDS) == set(CONFIG_KINDS)
    for kind in RUN_KINDS.values():
        assert kind.flow().name and callable(kind.flow().fn)
        assert callable(kind.presenter())
        assert issubclass(kind.config_model, RunBase)
    assert [k for k, v in RUN_KINDS.items() if not v.nests] == ["batch"]


def test_every_tracked_kind_shares_the_base_fields() -> None:
    for name, model in CONFIG_KINDS.items():
        assert {"name", "description", "schedule"} <= set(model.model_fields), name
        if name != "batch":
            assert issubclass(model, TrackedRunBase) and "tracking" in model.model_fields, name


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load_unchanged_and_resolve_to_their_kind(path: Path) -> None:
    config = load_config(path)
    assert resolve_config(path, config.kind) == config
    assert config.experiment_name


def test_a_config_of_another_kind_or_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="kind 'discovery' is not a sensitivity config"):
        resolve_config(ROOT / "configs" / "exp_decay.yaml", "sensitivity")
    with pytest.raises(ConfigError, match="unknown run kind 'bogus'"):
        run_kind("bogus")
    mapping = {"name": "decay", "data": {"path": str(ROOT / "data" / "exp_decay.csv")}}
    with pytest.raises(ConfigError, match=r"config must be a RunConfig or the path of a YAML config; got a dict \(a"):
        resolve_config(mapping, "discovery")  # was "{...}: kind 'dict' is not a discovery config"
