"""The bad-input catalogue: every case a typed DeltaflowError naming what is wrong, a one-line CLI exit 2, no run
when a flow is called from Python (it checks its inputs first, as the CLI does), and a FAILED MLflow run with the
error when a scheduled run (which makes no such check) had started. Nothing half-written looks like a success."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.errors import (
    ConfigError,
    DataError,
    DataFileNotFoundError,
    DeltaflowError,
    ModelError,
)
from tests.conftest import run_as_scheduled, runs_of

pytestmark = pytest.mark.usefixtures("prefect_harness")

T = np.linspace(0, 5, 40)
GOOD = "t,u\n" + "".join(f"{t:.6g},{np.exp(-t):.6g}\n" for t in T)


def _rows(values: list[tuple]) -> str:
    return "\n".join(",".join(str(v) for v in row) for row in values) + "\n"


def _replace_row(row: int, text: str) -> str:
    lines = GOOD.splitlines()
    lines[row] = text
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    """One bad input: files to write, the config (mapping or raw YAML), what must be raised, and whether a scheduled
    run (no check before it starts) meets it once started, so records a FAILED run."""

    id: str
    error: type[DeltaflowError]
    message: str
    files: dict[str, str | bytes] = field(default_factory=lambda: {"data.csv": GOOD})
    config: dict | str | None = None
    started: bool = True
    env: dict[str, str] = field(default_factory=dict)


def _discovery(**overrides) -> dict:
    config = {"name": "bad-input", "data": {"path": "data.csv"}, "discovery": {"n_bootstrap": 0}}
    config["tracking"] = {"log_model": False}
    for key, value in overrides.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    return config


def _sensitivity(**overrides) -> dict:
    config = {"name": "bad-input", "kind": "sensitivity", "data": {"path": "table.csv", "outputs": ["y"]}}
    config |= overrides
    return config


GRID = [(a, b, a + 2 * b) for a in range(4) for b in range(4)]
DAYS = [f"2024-01-{d:02d}" for d in range(1, 11)]
DATED = "t,u\n" + "".join(f"{day},{np.exp(-i / 3):.6g}\n" for i, day in enumerate(DAYS))


def _dated_row(row: int, text: str) -> str:
    lines = DATED.splitlines()
    lines[row] = text
    return "\n".join(lines) + "\n"


CASES = [
    Case("empty-file", DataError, "is empty", files={"data.csv": ""}),
    Case("header-only", DataError, "no data rows", files={"data.csv": "t,u\n"}),
    Case("missing-state-column", DataError, r"missing column\(s\) \['v'\]", config=_discovery(data={"state_columns": ["v"]})),
    Case("misnamed-time-column", DataError, r"missing column\(s\) \['time'\]", config=_discovery(data={"time_column": "time"})),
    Case("non-numeric-cell", DataError, r"column 'u' has a non-numeric value 'abc' at data row 3", files={"data.csv": _replace_row(3, "0.25,abc")}),
    Case("nan-cell", DataError, r"column 'u' has nan at data row 5", files={"data.csv": _replace_row(5, "0.5,nan")}),
    Case("inf-cell", DataError, r"column 'u' has inf at data row 5", files={"data.csv": _replace_row(5, "0.5,inf")}),
    Case("duplicate-timestamps", DataError, r"duplicate time", files={"data.csv": _replace_row(3, f"{T[1]:.6g},0.9")}),
    Case("decreasing-timestamps", DataError, r"decreasing time", files={"data.csv": _replace_row(3, "0.01,0.9")}),
    Case("too-few-samples", DataError, r"2 samples; at least 3", files={"data.csv": _rows([("t", "u"), (0, 1), (1, 0.4)])}),
    Case("constant-column", DataError, r"column 'u' is constant \(2", files={"data.csv": _rows([("t", "u"), *((i, 2) for i in range(10))])}),
    Case("all-zero-column", DataError, r"column 'u' is constant \(0", files={"data.csv": _rows([("t", "u"), *((i, 0) for i in range(10))])}),
    Case("extreme-magnitude", DataError, r"column 'u' has magnitude 1e\+200", files={"data.csv": _rows([("t", "u"), *((i, f"{np.exp(-i)}e200") for i in range(10))])}),
    Case("ragged-rows", DataError, r"cannot be read as CSV .*Expected 2 fields", files={"data.csv": _replace_row(4, "0.3,0.7,9")}),
    Case("binary-garbage", DataError, r"cannot be read as CSV", files={"data.csv": b"\x00\xff\xfe\x01garbage\x00\n\x01\x02"}),
    Case("unsupported-file-type", DataError, r"unsupported file type '.xlsx'", files={"data.xlsx": b"PK\x03\x04"}, config=_discovery(data={"path": "data.xlsx"})),
    Case("short-trajectory", DataError, r"trajectory 'b'.*2 samples; at least 3", files={"data.csv": _rows([("t", "u", "run"), *((i, np.exp(-i), "a") for i in range(10)), *((i, np.exp(-i), "b") for i in range(2))])}, config=_discovery(data={"trajectory_column": "run"})),
    Case("trajectory-short-for-method", DataError, r"trajectory 'b'\): 5 samples; differentiation method 'kalman' needs at least 6 \(1 of 2 trajectories has fewer\)", files={"data.csv": _rows([("t", "u", "run"), *((i, np.exp(-i), "a") for i in range(10)), *((i, np.exp(-i), "b") for i in range(5))])}, config=_discovery(data={"trajectory_column": "run"}, differentiation={"method": "kalman"})),
    Case("empty-trajectory-cell", DataError, r"column 'run' is empty at data row 4", files={"data.csv": _rows([("t", "u", "run"), *((i, np.exp(-i), "a" if i != 3 else "") for i in range(10))])}, config=_discovery(data={"trajectory_column": "run"})),
    Case("number-among-dates", DataError, r"column 't' has '7' at data row 4, not an ISO 8601 date", files={"data.csv": _dated_row(4, "7,0.4")}),
    Case("date-among-numbers", DataError, r"column 't' has a non-numeric value '2024-01-04' at data row 4", files={"data.csv": _replace_row(4, "2024-01-04,0.7")}),
    Case("impossible-date", DataError, r"column 't' has '2024-02-30' at data row 3, not a valid date", files={"data.csv": _dated_row(3, "2024-02-30,0.5")}),
    Case("naive-among-aware-datetimes", DataError, r"'2024-01-03T00:00:00' at data row 3 without a time zone, but data row 1 is with", files={"data.csv": "t,u\n" + "".join(f"{day}T00:00:00{'+01:00' if i != 2 else ''},{np.exp(-i / 3):.6g}\n" for i, day in enumerate(DAYS))}),
    Case("unknown-time-unit", ConfigError, r"field 'data.time_unit'.*'weeks'", files={"data.csv": DATED}, config=_discovery(data={"time_unit": "weeks"}), started=False),
    Case("more-terms-than-samples", DataError, r"library has 56 terms, which needs at least 58 samples, and there are 12", files={"data.csv": _rows([("t", "a", "b", "c"), *((i, np.exp(-i / 5), np.cos(i), np.sin(i)) for i in range(12))])}, config=_discovery(discovery={"library": {"degree": 5}})),
    Case("three-samples-two-states", DataError, r"library has 3 terms, which needs at least 5 samples, and there are 3; provide more data$", files={"data.csv": _rows([("t", "a", "b"), (0, 1.0, 0.5), (0.5, 1.2, 0.4), (1.1, 1.5, 0.35)])}),
    Case("negative-noise-level", ConfigError, r"field 'differentiation.params.noise_sd': method 'spectral' on .*data.csv: noise_sd must be >= 0, got -0.1", config=_discovery(differentiation={"method": "spectral", "params": {"noise_sd": -0.1}})),
    Case("savgol-window-beyond-the-data", ConfigError, r"field 'differentiation.params.window': method 'savgol' on .*data.csv: window must be odd, > polyorder \(3\) and <= the number of samples \(40\); got 41", config=_discovery(differentiation={"method": "savgol", "params": {"window": 41}})),
    Case("unknown-method-parameter", ConfigError, r"field 'differentiation.params': method 'savgol' has no parameter\(s\) \['width'\]", config=_discovery(differentiation={"method": "savgol", "params": {"width": 5}}), started=False),
    Case("unknown-config-key", ConfigError, r"unknown key 'discovery.treshold'", config=_discovery(discovery={"treshold": 0.1}), started=False),
    Case("wrong-type", ConfigError, r"field 'discovery.n_folds'.*'five'", config=_discovery(discovery={"n_folds": "five"}), started=False),
    Case("unknown-method-name", ConfigError, r"field 'differentiation.method'.*'magic'", config=_discovery(differentiation={"method": "magic"}), started=False),
    Case("negative-threshold", ConfigError, r"field 'discovery.threshold'", config=_discovery(discovery={"threshold": -1}), started=False),
    Case("missing-data-file", DataFileNotFoundError, r"missing.csv: data file not found", config=_discovery(data={"path": "missing.csv"}), started=False),
    Case("data-outside-allowed-roots", ConfigError, r"outside the allowed data roots", env={"DELTAFLOW_DATA_ROOTS": "/nonexistent-root"}, started=False),
    Case("not-yaml", ConfigError, r"not valid YAML", config="name: [unclosed\n", started=False),
    Case("yaml-not-a-mapping", ConfigError, r"expected a mapping of config fields, got list", config="- a\n- b\n", started=False),
    Case("path-in-name", ConfigError, r"field 'name'", config=_discovery(name="../../etc/passwd"), started=False),
    Case("unknown-kind", ConfigError, r"unknown kind 'forecast'", config=_discovery(kind="forecast"), started=False),
    Case("bad-schedule", ConfigError, r"needs 5 fields", config=_discovery(schedule={"cron": "every night"}), started=False),
    Case("nonexistent-model-uri", ModelError, r"model.uri 'models:/no-such-model/1'", files={}, config=_sensitivity(data=None, model={"uri": "models:/no-such-model/1", "inputs": {"a": {"low": 0, "high": 1}}})),
    Case("sensitivity-non-numeric-output", DataError, r"column 'y' has a non-numeric value 'bad'", files={"table.csv": _rows([("a", "b", "y"), *GRID[:-1], (3, 3, "bad")])}, config=_sensitivity()),
    Case("sensitivity-constant-feature", DataError, r"feature column 'b' is constant", files={"table.csv": _rows([("a", "b", "y"), *((i, 1, i) for i in range(12))])}, config=_sensitivity()),
    Case("sensitivity-both-sources", ConfigError, r"exactly one of 'data'", files={"table.csv": _rows([("a", "y"), (1, 2)])}, config=_sensitivity(model={"uri": "models:/m/1", "inputs": {"a": {"low": 0, "high": 1}}}), started=False),
    Case("sensitivity-sobol-on-samples", ConfigError, r"config.yaml: indices.method 'sobol' queries a model, and this config gives samples \('data'\); with samples use 'auto', 'hdmr', 'surrogate' or 'rbd_fast'$", files={"table.csv": _rows([("a", "b", "y"), *GRID])}, config=_sensitivity(indices={"method": "sobol"}), started=False),
    Case("sensitivity-both-sources-one-incomplete", ConfigError, r"config.yaml: give exactly one of 'data'", files={"table.csv": _rows([("a", "y"), (1, 2)])}, config=_sensitivity(model={"uri": "models:/m/1"}), started=False),
    Case("trajectory-ids-taken-as-a-state", DataError, r"column 'run' has a non-numeric value 'a' at data row 1 .*: name the states in data.state_columns; its 2 distinct values over 8 rows look like trajectory ids: if so, set data.trajectory_column: run", files={"data.csv": _rows([("run", "t", "u"), *((r, i, np.exp(-i / 3)) for r in "ab" for i in range(4))])}),
    Case("row-short-of-fields", DataError, r"data row 4 has 1 fields and the header 2 \(a value or a separator is missing", files={"data.csv": _replace_row(4, "0.5")}),
    Case("no-state-columns", ConfigError, r"field 'data.state_columns': List should have at least 1 item", config=_discovery(data={"state_columns": []}), started=False),
    Case("unregistrable-model-name", ConfigError, r"field 'tracking.register_as': .* no '/', ':' or '@'.*\(got 'law/v1'\)", config=_discovery(tracking={"register_as": "law/v1"}), started=False),
]  # fmt: skip


def _write(case: Case, folder: Path) -> Path:
    for name, content in case.files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    config = case.config if case.config is not None else _discovery()
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if v is not None}
        config = yaml.safe_dump(config)
    path = folder / "config.yaml"
    path.write_text(config)
    return path


def _matches(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


def test_the_catalogue_is_complete():
    assert len(CASES) >= 25 and len({c.id for c in CASES}) == len(CASES)


def _flow(config: object) -> object:
    from flows import analyze_sensitivity, discover_equations

    return analyze_sensitivity if config.kind == "sensitivity" else discover_equations


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_from_python_is_a_typed_error_before_any_run(
    case: Case, tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.config import load_config

    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    path = _write(case, tmp_path)
    with pytest.raises(case.error, match=case.message) as caught:
        config = load_config(path)
        _flow(config)(config)
    if issubclass(case.error, DataError):
        assert str(tmp_path) in str(caught.value)  # the message names the file
    assert caught.value.run_id is None and runs_of(mlflow_uri, "bad-input") == []  # no experiment, no run


def test_a_config_the_cli_checked_is_not_checked_again_by_its_flow(tmp_path: Path) -> None:
    """The CLI checks a config's inputs before it imports Prefect, then calls the flow with that config object: the
    flow's own fail-fast step trusts that check instead of reading the data again; any other call checks."""
    from flows.inputs import checked_already, inputs_check, load_checked

    path = _write(Case("good", DeltaflowError, ""), tmp_path)
    config = load_checked(path)
    (tmp_path / "data.csv").unlink()  # what the flow's check would read is gone
    check = inputs_check("discovery")
    with checked_already(config):
        check(config)  # the same object: the CLI's check stands, nothing is read
        with pytest.raises(DataFileNotFoundError, match="data.csv"):
            check(path)  # a path, not the checked object: read and checked
    with pytest.raises(DataFileNotFoundError, match="data.csv"):
        check(config)  # outside the block: read and checked


@pytest.mark.parametrize("case", [c for c in CASES if c.started], ids=[c.id for c in CASES if c.started])
def test_bad_input_met_by_a_scheduled_run_is_a_failed_run(
    case: Case, tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.config import load_config

    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    config = load_config(_write(case, tmp_path))
    with pytest.raises(case.error, match=case.message) as caught:
        run_as_scheduled(_flow(config), config)
    (run,) = runs_of(mlflow_uri, "bad-input")
    assert run.info.status == "FAILED" and case.error.__name__ in run.data.tags["error"]
    assert caught.value.run_id == run.info.run_id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_reports_bad_input_in_one_line_with_exit_2(
    case: Case, tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.cli import app

    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    path = _write(case, tmp_path)
    result = CliRunner().invoke(app, ["run", str(path)], env={"COLUMNS": "1000"})
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert _matches(case.message, lines[0]), lines[0]  # the CLI line carries the same precise message
    assert "Traceback" not in result.output + result.stderr
