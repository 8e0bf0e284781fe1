from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config, parse_config
from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["exp_decay", "lorenz", "lotka_volterra", "lynx_hare"])
def test_shipped_configs_load_and_point_at_existing_data(name: str) -> None:
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    assert config.name == name
    assert config.data.path.is_absolute() and config.data.path.is_file()


def test_relative_data_path_is_taken_from_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text("name: a\ndata:\n  path: ../d.csv\n")
    assert load_config(tmp_path / "sub" / "c.yaml").data.path == (tmp_path / "d.csv").resolve()


def test_a_config_read_from_a_file_knows_its_path_and_copies_keep_it(tmp_path: Path) -> None:
    """Runs tag the file a config came from (``config.path``); it is no field, so it changes no hash or param."""
    (tmp_path / "c.yaml").write_text("name: a\ndata:\n  path: d.csv\n")
    config = load_config(tmp_path / "c.yaml")
    assert config.source_path == str((tmp_path / "c.yaml").resolve())
    copy = config.model_copy(update={"tracking": config.tracking.model_copy(update={"experiment": "batch"})})
    assert copy.source_path == config.source_path
    assert "source_path" not in config.model_dump() and "_source_path" not in config.model_dump()
    assert parse_config({"name": "a", "data": {"path": "d.csv"}}).source_path is None


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: a\ndata:\n  path: d.csv\n  colour: red\n")
    with pytest.raises(ConfigError, match=r"unknown key 'data.colour' \(.*; data takes path, time_column, "):
        load_config(path)


def test_a_group_built_in_python_fails_with_the_same_typed_error() -> None:
    from pipeline.config import DiscoveryConfig, LibraryConfig

    with pytest.raises(ConfigError, match=r"DiscoveryConfig: unknown key 'treshold' \(.*takes library, threshold"):
        DiscoveryConfig(treshold=0.1)
    with pytest.raises(ConfigError, match=r"LibraryConfig: field 'degree'.*\(got 9\)"):
        LibraryConfig(degree=9)
    assert DiscoveryConfig(threshold=0.1).threshold == 0.1


def test_model_options_belong_to_discovery_runs_alone() -> None:
    table = {"path": "t.csv", "outputs": ["y"]}
    for kind, extra in [("sensitivity", {"data": table}), ("residual", {}), ("gradient_check", {})]:
        with pytest.raises(ConfigError, match=r"unknown key 'tracking.log_model' .*tracking takes enabled, experiment"):
            parse_config({"name": "a", "kind": kind, **extra, "tracking": {"log_model": False}})
    config = parse_config({"name": "a", "data": {"path": "d.csv"}, "tracking": {"register_as": "m", "alias": "prod"}})
    assert (config.tracking.log_model, config.tracking.register_as, config.tracking.alias) == (True, "m", "prod")


def test_a_key_earlier_versions_accepted_names_what_replaced_it() -> None:
    old = {"name": "a", "data": {"path": "d.csv"}, "discovery": {"max_simulation_seconds": 20}}
    with pytest.raises(
        ConfigError, match=r"'discovery.max_simulation_seconds' \(replaced by 'discovery.max_simulation_evaluations'\)"
    ):
        parse_config(old)


def test_wrong_type_names_field_and_value() -> None:
    with pytest.raises(ConfigError, match=r"discovery.library.degree.*'two'"):
        parse_config({"name": "a", "data": {"path": "d.csv"}, "discovery": {"library": {"degree": "two"}}})


@pytest.mark.parametrize(
    "group",
    [
        {"discovery": {"library": {"degree": True}}},
        {"discovery": {"n_bootstrap": False}},
        {"differentiation": {"method": "savgol", "params": {"window": True}}},
    ],
)
def test_a_yaml_boolean_where_a_number_belongs_is_refused_not_read_as_1(group: dict) -> None:
    raw = {"name": "run", "data": {"path": "x.csv"}, **group}
    with pytest.raises(ConfigError, match=r"field '[a-z_.]+': expected a number, not true/false"):
        parse_config(raw)


def test_booleans_still_set_the_fields_that_take_them() -> None:
    config = parse_config({"name": "run", "data": {"path": "x.csv"}, "discovery": {"refine_rates": True}})
    assert config.discovery.refine_rates is True


def test_out_of_range_and_unknown_method_are_rejected() -> None:
    with pytest.raises(ConfigError, match="discovery.library.degree"):
        parse_config({"name": "a", "data": {"path": "d.csv"}, "discovery": {"library": {"degree": 9}}})
    with pytest.raises(ConfigError, match="differentiation.method"):
        parse_config({"name": "a", "data": {"path": "d.csv"}, "differentiation": {"method": "magic"}})


def test_a_field_of_several_forms_reports_one_problem_at_the_entry_that_is_wrong() -> None:
    config = {"name": "a", "data": {"path": "d.csv"}, "discovery": {"library": {"functions": ["sin", "hil"]}}}
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    message = str(raised.value)
    assert "field 'discovery.library.functions[1]': Input should be 'sin'" in message and "(got 'hil')" in message
    assert message.endswith("; or, as a whole: Input should be 'auto'") and "literal[" not in message


def test_gradient_points_of_unequal_length_are_refused_naming_the_point() -> None:
    config = {"name": "a", "kind": "sensitivity", "data": {"path": "d.csv", "outputs": ["y"]}}
    with pytest.raises(ConfigError, match=r"field 'gradient.at': .*point 2 has 2 values, point 1 has 3"):
        parse_config(config | {"gradient": {"at": [[0, 0, 0], [1, 1], [2, 2, 2]]}})


def test_missing_field_and_non_mapping() -> None:
    with pytest.raises(ConfigError, match="missing required field 'data'"):
        parse_config({"name": "a"})
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config(["not", "a", "mapping"])


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo pwned']\ndata:\n  path: d.csv\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_config_accepts_exactly_the_differentiation_methods_that_exist() -> None:
    from typing import get_args

    from pipeline.config import DifferentiationMethod
    from pipeline.differentiation import METHODS

    assert set(get_args(DifferentiationMethod)) == set(METHODS)


@pytest.mark.parametrize("kind", [[], {"a": 1}])
def test_a_kind_that_is_a_list_or_mapping_is_a_config_error(kind: object) -> None:
    # found by the fuzz test: an unhashable kind raised TypeError from the lookup of known kinds
    with pytest.raises(ConfigError, match="field 'kind': unknown kind"):
        parse_config({"kind": kind})


def test_a_differentiation_parameter_typo_names_the_field_and_what_the_method_takes() -> None:
    raw = {"name": "a", "data": {"path": "d.csv"}, "differentiation": {"method": "savgol", "params": {"windw": 21}}}
    with pytest.raises(
        ConfigError,
        match=r"field 'differentiation.params': method 'savgol' has no parameter\(s\) \['windw'\]; it takes "
        r"\['polyorder', 'window'\] \(got \{'windw': 21\}\)$",
    ):
        parse_config(raw)


def test_a_data_file_given_as_a_config_gets_a_hint(tmp_path: Path) -> None:
    csv = tmp_path / "osc.csv"
    csv.write_text("t,x\n0,1\n1,0.5\n2,0.25\n")
    with pytest.raises(ConfigError, match=r"got str; osc.csv looks like a data file, .* under data.path"):
        load_config(csv)
    parquet = tmp_path / "osc.parquet"
    parquet.write_bytes(b"PAR1\xff\xfe\x00\x01PAR1")
    with pytest.raises(ConfigError, match=r"not valid YAML .*osc.parquet looks like a data file"):
        load_config(parquet)
    yaml_typo = tmp_path / "c.yaml"
    yaml_typo.write_text("- a\n")
    with pytest.raises(ConfigError, match=r"got list$"):  # a YAML config gets no such hint
        load_config(yaml_typo)


def test_a_data_path_naming_a_folder_says_so(tmp_path: Path) -> None:
    from pipeline.config import check_data_path
    from pipeline.errors import DataError, DataFileNotFoundError

    (tmp_path / "data").mkdir()
    (tmp_path / "c.yaml").write_text("name: a\ndata:\n  path: data\n")
    with pytest.raises(DataError, match=r"data: a folder, not a data file \(data.path of config 'a'") as caught:
        check_data_path(load_config(tmp_path / "c.yaml"))
    assert not isinstance(caught.value, DataFileNotFoundError)


def test_a_data_path_may_start_with_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "c.yaml").write_text("name: a\ndata:\n  path: ~/d.csv\n")
    assert load_config(tmp_path / "c.yaml").data.path == (tmp_path / "home" / "d.csv").resolve()


@pytest.mark.parametrize(
    "cron",
    ["61 * * * *", "0 3 * * *", "*/15 * * * mon-fri", "0 0 32 * *", "0 0 * * 8", "0 */0 * * *", "0 3-25 * * *",
     "5,10,61 * * * *", "0 0 * jan,feb *", "0 0 * * 1-5/2", "0 0 * 13 *"],
)  # fmt: skip
def test_a_cron_expression_is_refused_exactly_when_prefects_scheduler_would_refuse_it(cron: str) -> None:
    from prefect._internal.schemas.validators import validate_cron_string

    try:
        validate_cron_string(cron)
        prefect_accepts = True
    except ValueError:
        prefect_accepts = False
    raw = {"name": "run", "data": {"path": "x.csv"}, "schedule": {"cron": cron}}
    if prefect_accepts:
        assert parse_config(raw).schedule.cron == cron
    else:
        with pytest.raises(ConfigError, match=r"field 'schedule'|schedule: cron expression"):
            parse_config(raw)


def test_a_run_name_with_characters_it_cannot_take_names_them_in_words() -> None:
    with pytest.raises(ConfigError, match=r"field 'name': a run name takes ASCII letters.*it holds '/', 'Ü'"):
        parse_config({"name": "Übung/1", "data": {"path": "x.csv"}})
