"""What a run records about its origin: flat params and a stable hash of the config."""

from __future__ import annotations

from pathlib import Path

from flows.provenance import code_version, config_hash, flatten_config, source_digest
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


def test_the_code_digest_covers_the_flows_and_the_numerical_packages(tmp_path: Path) -> None:
    """A batch reuses an item's earlier run only by the same code: a fix in flows/ (a check's verdict) or another
    scipy must recompute it (the digest covered pipeline/ alone)."""
    for folder, text in (("pipeline", "x = 1\n"), ("flows", "verdict = 'pass'\n"), ("docs", "not code\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "module.py").write_text(text)
    folders, versions = ("pipeline", "flows"), {"scipy": "1.14.1"}
    before = source_digest(tmp_path, folders, versions)
    assert source_digest(tmp_path, folders, versions) == before
    (tmp_path / "flows" / "module.py").write_text("verdict = 'fail'\n")
    after_fix = source_digest(tmp_path, folders, versions)
    assert after_fix != before
    assert source_digest(tmp_path, folders, {"scipy": "1.15.0"}) != after_fix
    (tmp_path / "docs" / "module.py").write_text("still not code\n")
    assert source_digest(tmp_path, folders, versions) == after_fix  # outside the folders: not part of it
    assert len(code_version()) == 64
