"""The seed's physics-residual and gradient-check applications as configs and flows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.config import load_config, parse_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT, runs_of

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_physics_residual_accepts_the_true_law(mlflow_uri: str) -> None:
    from flows.checks import check_residual

    done = check_residual(ROOT / "configs" / "physics_residual.yaml")
    assert done.passed and done.report.r2[0] > 0.95
    (run,) = runs_of(mlflow_uri, "physics-residual")
    assert run.info.status == "FINISHED" and run.data.tags["check.passed"] == "True"
    assert run.data.metrics["u.r2"] == pytest.approx(done.report.r2[0])


def test_physics_residual_rejects_a_wrong_constant(mlflow_uri: str, tmp_path: Path) -> None:
    from flows.cli import app

    raw = yaml.safe_load((ROOT / "configs" / "physics_residual.yaml").read_text())
    raw["law"]["params"]["k"] = 2.0
    raw["data"]["path"] = str(ROOT / "data" / "exp_decay.csv")
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(app, ["run", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "failed" in result.output  # a verdict, not a crash
    (run,) = runs_of(mlflow_uri, "physics-residual")
    assert run.data.tags["check.passed"] == "False" and run.data.metrics["u.r2"] < 0
    # what failed, as a batch's table and a reused item show it
    assert re.fullmatch(r"check failed: u R² -[\d.]+ \(the law must explain R² >= 0.9 of each derivative\)",
                        run.data.tags["result.summary"])  # fmt: skip


def test_a_spike_replaced_in_a_residual_check_is_named_on_screen_and_on_the_run(mlflow_uri: str, tmp_path: Path):
    from flows.cli import app

    lines = (ROOT / "data" / "exp_decay.csv").read_text().splitlines()
    time, _ = lines[50].split(",")
    lines[50] = f"{time},40"  # data row 50: the decay is near 0.15 there
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    raw = yaml.safe_load((ROOT / "configs" / "physics_residual.yaml").read_text())
    raw["data"]["path"] = str(tmp_path / "d.csv")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml")], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "passed" in result.output, result.output  # the law holds once the spike is out
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "caution: " in said and "data row 50 of 'u' is 40" in said, result.output
    (run,) = runs_of(mlflow_uri, "physics-residual")
    assert "data row 50 of 'u' is 40" in run.data.tags["deltaflow.caution"]


def test_physics_residual_of_several_trajectories_uses_the_configured_differentiation(
    mlflow_uri: str, tmp_path: Path
) -> None:
    """Each trajectory is differentiated on its own (stacked, the restarting times are no single series), with the
    method's parameters the config sets."""
    import numpy as np
    import pandas as pd

    from flows.checks import check_residual

    t = np.linspace(0.0, 5.0, 60)
    frames = [pd.DataFrame({"run": run, "t": t, "u": u0 * np.exp(-0.7 * t)}) for run, u0 in (("a", 1.0), ("b", 2.0))]
    pd.concat(frames).to_csv(tmp_path / "two.csv", index=False)
    reports = {}
    for window in (5, 31):
        config = {"name": "two-runs", "kind": "residual", "data": {"path": "two.csv", "trajectory_column": "run"},
                  "law": {"rhs": {"u": "-k*u"}, "params": {"k": 0.7}},
                  "differentiation": {"method": "savgol", "params": {"window": window}}}  # fmt: skip
        path = tmp_path / f"w{window}.yaml"
        path.write_text(yaml.safe_dump(config))
        reports[window] = check_residual(path).report
    assert all(r.lengths == (60, 60) and r.r2[0] > 0.999 for r in reports.values())
    assert reports[5].rms[0] != pytest.approx(reports[31].rms[0], rel=1e-3)  # the window reached the smoother
    assert [r.data.tags["check.passed"] for r in runs_of(mlflow_uri, "two-runs")] == ["True", "True"]


def test_a_law_missing_a_state_is_refused_before_any_run(mlflow_uri: str, tmp_path: Path) -> None:
    """A law with no expression for a state column is a ConfigError naming the field and the state, raised by the
    pre-run check (the CLI's and a Python call's), so no run is created; it started a run that was left FAILED."""
    from flows.checks import check_residual
    from flows.inputs import check_inputs

    data = {"path": str(ROOT / "data" / "exp_decay.csv"), "time_column": "t", "state_columns": ["u"]}
    law = {"rhs": {"v": "-k*v"}, "params": {"k": 1.0}}
    config = {"name": "law-missing", "kind": "residual", "data": data, "law": law}
    path = tmp_path / "law.yaml"
    path.write_text(yaml.safe_dump(config))
    message = r"field 'law.rhs': no expression for state\(s\) \['u'\] of .*exp_decay.csv"
    with pytest.raises(ConfigError, match=message):
        check_inputs(load_config(path))
    with pytest.raises(ConfigError, match=message):
        check_residual(path)
    assert runs_of(mlflow_uri, "law-missing") == []


@pytest.mark.parametrize(
    ("rhs", "message"),
    [
        ({"u": "-k*w"}, r"the expression for 'u' \('-k\*w'\) uses \['w'\], which is neither a state column"),
        ({"u": "-k*u", "w": "1"}, r"expression\(s\) for \['w'\], which are no state column of .*exp_decay.csv"),
    ],
)
def test_a_law_naming_what_the_data_do_not_hold_is_refused_before_any_run(rhs: dict, message: str) -> None:
    """An unknown name in a law's expression started a run that was left FAILED with 'unknown name', naming no config;
    an expression for a key that is no state column (a typo) was silently ignored."""
    from flows.inputs import check_inputs

    data = {"path": str(ROOT / "data" / "exp_decay.csv"), "time_column": "t", "state_columns": ["u"]}
    config = {"name": "law-names", "kind": "residual", "data": data, "law": {"rhs": rhs, "params": {"k": 1.0}}}
    with pytest.raises(ConfigError, match=r"config 'law-names': field 'law.rhs': " + message):
        check_inputs(parse_config(config))


def test_state_columns_that_share_a_metric_key_are_refused_before_any_run(tmp_path: Path) -> None:
    """States 'x %' and 'x #' are both logged as 'x': refused when the run would publish, after the work; now before."""
    from flows.inputs import check_inputs

    (tmp_path / "d.csv").write_text("t,x %,x #\n" + "".join(f"{i},{1 + i},{2 - i / 9}\n" for i in range(10)))
    config = {"name": "clash", "data": {"path": str(tmp_path / "d.csv"), "state_columns": ["x %", "x #"]}}
    message = r"d.csv: state columns 'x %' and 'x #' would both be logged to MLflow as 'x'"
    with pytest.raises(ConfigError, match=message):
        check_inputs(parse_config(config))


def test_a_gradient_check_naming_an_unknown_variable_names_the_field() -> None:
    from flows.inputs import check_inputs

    raw = yaml.safe_load((ROOT / "configs" / "gradient_check.yaml").read_text())
    raw["gradient"][raw["variables"][0]] += " + z"
    field = f"gradient.{raw['variables'][0]}"
    with pytest.raises(ConfigError, match=rf"config '{raw['name']}': field '{field}': .* uses \['z'\]"):
        check_inputs(parse_config(raw))


def test_gradient_check_config_passes_and_catches_a_wrong_gradient(mlflow_uri: str, tmp_path: Path) -> None:
    from flows.checks import check_gradient_flow

    done = check_gradient_flow(ROOT / "configs" / "gradient_check.yaml")
    assert done.passed and max(c.max_rel_error for c in done.report) < 1e-8
    raw = yaml.safe_load((ROOT / "configs" / "gradient_check.yaml").read_text())
    raw["gradient"]["y"] = "2*b*(y - x^2) + 1e-3*y"  # a subtle bug in the claimed partial
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(raw))
    wrong = check_gradient_flow(path)
    assert not wrong.passed
    assert re.match(r"check failed: \d+ of 4 points \(first: point \d\); largest relative error \S+ against the",
                    wrong.summary_lines()[0])  # fmt: skip
    runs = runs_of(mlflow_uri, "gradient-check")
    assert sorted(r.data.tags["check.passed"] for r in runs) == ["False", "True"]
    from mlflow.tracking import MlflowClient

    failed = next(r for r in runs if r.data.tags["check.passed"] == "False")
    saved = Path(MlflowClient(mlflow_uri).download_artifacts(failed.info.run_id, "gradient_check.json", str(tmp_path)))
    rows = json.loads(saved.read_text())  # each point's values and partials by variable name, not bare lists
    assert set(rows[0]["point"]) == set(rows[0]["analytic"]) == set(raw["variables"])


@pytest.mark.parametrize(
    ("function", "partial", "point", "message"),
    [
        ("sqrt(x)", "0.5/sqrt(x)", -1.0, r"the function is nan at \(x=-1, y=0\): undefined there"),
        ("log(x) + y", "1/x", 1e-9, r"nan at x=-0.00074.* from \(x=1e-09, y=0\) .*too close to where"),
        ("sqrt(x)", "0.5/sqrt(x)", 0.0, r"the claimed gradient is not finite at \(x=0, y=0\): d/dx = inf"),
    ],
    ids=["undefined-at-the-point", "undefined-a-step-away", "claimed-gradient-infinite"],
)
def test_a_gradient_check_where_the_function_is_undefined_is_refused_before_any_run(
    function: str, partial: str, point: float, message: str, tmp_path: Path
) -> None:
    """It ran and reported 'max rel. error nan, passed no' with no word of why: now a ConfigError names the point
    and what is not finite there, before a run starts."""
    from flows.inputs import check_inputs

    config = {"name": "undefined", "kind": "gradient_check", "variables": ["x", "y"], "function": function + " + y",
              "gradient": {"x": partial, "y": 1}, "points": [[2.0, 1.0], [point, 0.0]]}  # fmt: skip
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"config 'undefined': field 'points': point 2 of 2 cannot be checked: "):
        check_inputs(load_config(path))
    with pytest.raises(ConfigError, match=message):
        check_inputs(load_config(path))


def test_a_gradient_check_flow_at_an_undefined_point_creates_no_run(mlflow_uri: str, tmp_path: Path) -> None:
    from flows.checks import check_gradient_flow

    config = {"name": "undefined", "kind": "gradient_check", "variables": ["x"], "function": "sqrt(x)",
              "gradient": {"x": "0.5/sqrt(x)"}, "points": [[4.0], [-1.0]]}  # fmt: skip
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"point 2 of 2 cannot be checked: the function is nan at \(x=-1\)"):
        check_gradient_flow(path)
    assert runs_of(mlflow_uri, "undefined") == []


def test_check_configs_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: g\nkind: gradient_check\nvariables: [x, y]\nfunction: x*y\ngradient: {x: y}\npoints: [[1, 2]]\n"
    )
    with pytest.raises(ConfigError, match="one partial per variable"):
        load_config(path)
