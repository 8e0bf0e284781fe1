"""Large point lists: ``gradient.at`` and ``points`` given as files, and flows whose Prefect parameters stay
small whatever the config holds (Prefect refuses parameters over 512 KB with HTTP 422)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_config
from tests.conftest import ROOT, runs_of

N_POINTS = 20_000


def _points(n: int = N_POINTS) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, 3)).round(12)


@pytest.mark.usefixtures("prefect_harness")
def test_a_20k_point_list_and_a_long_description_run_through_the_flow(mlflow_uri: str) -> None:
    from flows import analyze_sensitivity

    config = load_config(ROOT / "configs" / "sensitivity_linear.yaml")
    points = _points().tolist()  # about 1.2 MB as JSON, more than twice Prefect's parameter limit
    big = config.model_copy(
        update={
            "description": "a long description " * 30_000,
            "gradient": config.gradient.model_copy(update={"at": points, "method": "local_linear"}),
            "indices": config.indices.model_copy(update={"enabled": False}),
        }
    )
    done = analyze_sensitivity(big)
    assert done.result.gradients.shape == (N_POINTS, 1, 3)
    np.testing.assert_allclose(done.result.gradients[:, 0, :].mean(0), [2.0, 0.5, -1.0], atol=0.05)
    (run,) = runs_of(mlflow_uri, "seed-linear-sensitivity")
    assert run.info.status == "FINISHED"
    spilled = list((Path(os.environ["PREFECT_HOME"]) / "parameters").glob("*.json"))
    assert any(json.loads(p.read_text())["gradient"]["at"][0] == points[0] for p in spilled)  # passed by reference


@pytest.mark.usefixtures("prefect_harness")
def test_gradient_points_read_from_a_table_next_to_the_config(mlflow_uri: str, tmp_path: Path) -> None:
    import pandas as pd
    import yaml

    from flows import analyze_sensitivity

    points = _points(300)
    # columns in another order plus one the analysis does not use: matched by name
    pd.DataFrame({"x3": points[:, 2], "note": "p", "x1": points[:, 0], "x2": points[:, 1]}).to_csv(
        tmp_path / "points.csv", index=False
    )
    config = yaml.safe_load((ROOT / "configs" / "sensitivity_linear.yaml").read_text())
    config["data"]["path"] = str(ROOT / "data" / "sensitivity_linear.csv")
    config |= {"gradient": {"at": "points.csv", "method": "local_linear"}, "indices": {"enabled": False}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    done = analyze_sensitivity(tmp_path / "c.yaml")
    np.testing.assert_allclose(done.result.points, points)
    np.testing.assert_allclose(done.result.gradients[:, 0, :].mean(0), [2.0, 0.5, -1.0], atol=0.05)


def _gradient_check(folder: Path, points: str) -> Path:
    (folder / "check.yaml").write_text(
        "name: file-points\nkind: gradient_check\nvariables: [x, y]\nfunction: 'x^2 + 3*y'\n"
        f"gradient: {{x: '2*x', y: '3'}}\npoints: {points}\n"
    )
    return folder / "check.yaml"


def test_gradient_check_points_from_a_npy_file(tmp_path: Path) -> None:
    from flows.inputs import check_points, load_checked

    np.save(tmp_path / "p.npy", np.array([[0.5, 1.0], [2.0, -1.0], [3.0, 0.0]]))
    config = load_checked(_gradient_check(tmp_path, "p.npy"))
    assert config.points == tmp_path / "p.npy"  # relative to the config file's folder
    assert check_points(config).points == [[0.5, 1.0], [2.0, -1.0], [3.0, 0.0]]


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: p.with_suffix(".csv").write_text("x,z\n1,2\n"), r"points has no column\(s\) \['y'\]"),
        (lambda p: p.with_suffix(".csv").write_text("x,y\n1,2\n3,inf\n"), r"points column 'y' has inf at data row 2"),
        (lambda p: p.with_suffix(".csv").write_text("x,y\n1,2\n3,abc\n"), r"column 'y' has a non-numeric value 'abc'"),
        (lambda p: p.with_suffix(".csv").write_text("x,y\n"), r"points holds no points"),
        (lambda p: np.save(p.with_suffix(".npy"), np.zeros((4, 3))), r"shape \(4, 3\); expected numbers of shape"),
        (lambda p: np.save(p.with_suffix(".npy"), np.array([{}]), allow_pickle=True), r"cannot be read as a .npy"),
        (lambda p: None, r"points file not found"),
    ],
    ids=["missing-column", "non-finite", "non-numeric", "no-rows", "wrong-shape", "pickle-refused", "missing-file"],
)
def test_bad_point_files_are_one_line_errors_naming_the_file(tmp_path: Path, write, message: str) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    base = tmp_path / "p"
    write(base)
    name = "p.npy" if (tmp_path / "p.npy").exists() or "npy" in message or "pickle" in message else "p.csv"
    result = CliRunner().invoke(app, ["run", str(_gradient_check(tmp_path, name))], env={"COLUMNS": "1000"})
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(tmp_path / name) in lines[0] and re.search(message, lines[0]), result.stderr


def test_listed_gradient_points_of_the_wrong_length_fail_before_any_run(tmp_path: Path) -> None:
    import yaml

    from flows.inputs import load_checked
    from pipeline.errors import ConfigError

    config = yaml.safe_load((ROOT / "configs" / "sensitivity_linear.yaml").read_text())
    config["data"]["path"] = str(ROOT / "data" / "sensitivity_linear.csv")
    config["gradient"] = {"at": [[1.0, 0.0]]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"field 'gradient.at': each point needs 3 values, one per feature .*got 2"):
        load_checked(tmp_path / "c.yaml")
