"""What a run records about its origin: flat params and a stable hash of the config."""

from __future__ import annotations

from flows.provenance import config_hash, flatten_config
from pipeline.config import RunConfig


def test_flatten_and_hash_are_stable() -> None:
    config = RunConfig.model_validate({"name": "a", "data": {"path": "d.csv"}})
    flat = flatten_config(config)
    assert flat["differentiation.method"] == "auto"
    assert "discovery.library.degree" not in flat and flat["discovery.library.max_degree"] == "3"  # None: left out
    assert config_hash(config) == config_hash(RunConfig.model_validate({"name": "a", "data": {"path": "d.csv"}}))




def test_a_changed_field_changes_the_hash_and_its_param() -> None:
    base = RunConfig.model_validate({"name": "a", "data": {"path": "d.csv"}})
    changed = RunConfig.model_validate({"name": "a", "data": {"path": "d.csv"}, "discovery": {"n_folds": 3}})
    assert config_hash(base) != config_hash(changed)
    assert flatten_config(changed)["discovery.n_folds"] == "3" and flatten_config(base)["discovery.n_folds"] == "5"
