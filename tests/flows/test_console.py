"""The run summary's MLflow lines: whole when the output is not a terminal, and a UI command with a tidy path."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from flows.console import _print_tracking, mlflow_ui_command


def test_the_run_id_line_is_not_wrapped_on_a_narrow_output() -> None:
    out = io.StringIO()
    config = SimpleNamespace(experiment_name="panel5_finite_difference_[long]", tracking=SimpleNamespace(enabled=True))
    outcome = SimpleNamespace(
        mlflow_run_id="0d5797873d53400d9718ff54446f6671",
        tracking_uri="sqlite:////tmp/somewhere/mlflow.db",
        outbox=None,
        config=config,
        experiment_id="3",
    )
    _print_tracking(Console(file=out, width=40, force_terminal=False), outcome)
    lines = out.getvalue().splitlines()
    assert "MLflow run id: 0d5797873d53400d9718ff54446f6671 (experiment 'panel5_finite_difference_[long]')" in lines
    assert "Tracking store: sqlite:////tmp/somewhere/mlflow.db" in lines


def test_the_ui_command_names_the_mlflow_beside_python_without_dot_dots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "mlflow").touch()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "work" / ".." / "venv" / "bin" / "python"))
    command = mlflow_ui_command("sqlite:////x/mlflow.db")
    assert f" {bin_dir / 'mlflow'} ui " in command and ".." not in command


def test_the_sensitivity_table_leaves_blank_what_the_route_does_not_estimate_and_counts_one_point() -> None:
    """rbd_fast gives first-order indices only: its ST cells are blank, not 'nan'; one gradient point is 'the point'."""
    import numpy as np

    from flows.console import show_sensitivity
    from pipeline.sensitivity import analyze_samples

    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 1.0, size=(400, 2))
    y = 2.0 * X[:, 0] + 3.0 * X[:, 1] ** 2
    result = analyze_samples(
        X, y, features=["a", "b"], outputs=["y"], at=np.array([[0.5, 0.5]]), index_method="rbd_fast"
    )
    config = SimpleNamespace(
        name="rbd", gradient=SimpleNamespace(at=[[0.5, 0.5]]), tracking=SimpleNamespace(enabled=False)
    )
    outcome = SimpleNamespace(result=result, config=config, mlflow_run_id=None, outbox=None, tracking_uri=None)
    out = io.StringIO()
    show_sensitivity(outcome, Console(file=out, width=160, force_terminal=False))
    text = out.getvalue()
    assert "nan" not in text and "averaged over the point of gradient.at" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("b "))
    assert row.split()[1] == "3"  # dy/db = 6 b = 3 at b = 0.5; its S1 follows, its ST cells are empty
    assert "gradient of y at each point of gradient.at" in text  # the point itself, each partial with its error
    point = next(line for line in text.splitlines() if line.split()[:2] == ["0.5", "0.5"])
    assert point.split()[2] == "2" and point.split()[3] == "±" and point.split()[5] == "3", point
    assert "at each point: the partial derivative ± its standard error" in text


def test_the_gradient_check_table_shows_one_line_per_variable_by_name() -> None:
    """The table printed numpy arrays ('[-2.961942e-15 0.000000e+00]') wrapped over lines, without variable names."""
    from flows.checks import CheckRun
    from flows.console import show_gradient_check
    from flows.inputs import gradient_checks
    from pipeline.config import GradientCheckConfig

    config = GradientCheckConfig(
        name="rosen", kind="gradient_check", variables=["x", "y"], function="(x - 1)^2 + 10*(y - x^2)^2",
        gradient={"x": "2*(x - 1) - 40*x*(y - x^2)", "y": "20*(y - x^2)"}, points=[[1.0, 1.0], [2.0, -1.0]],
        tracking={"enabled": False},
    )  # fmt: skip
    checks = gradient_checks(config)
    out = io.StringIO()
    code = show_gradient_check(CheckRun(config, checks, True, None), Console(file=out, width=80, force_terminal=False))
    rows = [line.split() for line in out.getvalue().splitlines()]
    assert code == 0 and not any("[" in cell for row in rows for cell in row)  # no array printed
    first = next(row for row in rows if row[:2] == ["1", "x"])
    assert first[2:4] == ["1", "0"] and first[-1] == "yes"  # point 1, x = 1, claimed d/dx 0, numerical ~1e-15
    assert ["y", "1", "0", "0"] in rows  # point 1's second line: y, its value, analytic, numerical
    assert next(row for row in rows if row[:2] == ["2", "x"])[:5] == ["2", "x", "2", "402", "402"]
    assert ["y", "-1", "-100", "-100"] in rows


def test_the_live_progress_line_follows_discovery_steps_and_a_log_keeps_one_line_per_stage() -> None:
    """A long discovery is one Prefect stage; on a terminal the live line names its step (judging, refining, ...),
    while a log (not a terminal) gets no line per step."""
    import logging

    from flows.console import DISCOVERY_LOGGER, StageProgress

    steps = logging.getLogger(DISCOVERY_LOGGER)
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    with StageProgress(terminal, "lorenz", "discovery") as progress:
        steps.info("judging %d proposed models by simulation", 47)
        line = progress.progress.tasks[0].description
        assert line == "discovering the model: judging 47 proposed models by simulation"
    assert progress not in steps.handlers
    log = io.StringIO()
    with StageProgress(Console(file=log, force_terminal=False, width=120), "lorenz", "discovery"):
        steps.info("refining the chosen model's %d coefficients by multiple shooting", 7)
    assert "refining" not in log.getvalue()


def test_summary_metrics_say_what_their_rounding_and_bounds_would_hide() -> None:
    from flows.console import _metric_cell

    metrics = {"trajectory_r2": 0.99996, "derivative_r2": 0.93, "forecast_horizon": 20.0, "record_span": 20.0}
    metrics["trajectory_r2_heldout"] = float("nan")
    assert _metric_cell("trajectory_r2", metrics, "m") == ("0.99996", "m")  # not "1": a perfect fit it is not
    assert _metric_cell("derivative_r2", metrics, "m") == ("0.93", "m")
    assert _metric_cell("forecast_horizon", metrics, "m") == (">= 20", "m (all of it)")
    assert _metric_cell("forecast_horizon", {**metrics, "forecast_horizon": 12.0}, "m") == ("12", "m")
    value, meaning = _metric_cell("trajectory_r2_heldout", metrics, "m")
    assert value == "n/a" and "cannot be simulated" in meaning


def test_a_batch_queued_while_mlflow_was_down_says_so_and_how_to_publish_it() -> None:
    """The title read 'batch 'offline' (parent run )' with a blank id, and nothing said how to publish the runs."""
    from flows.batch_items import BatchItem, BatchRun
    from flows.console import show_batch

    outcome = BatchRun("offline", "", (BatchItem("a.yaml", "QUEUED", None, ("u' = -u",), queued_as="abc"),))
    out = io.StringIO()
    assert show_batch(outcome, Console(file=out, width=160, force_terminal=False)) == 0
    text = " ".join(out.getvalue().split())  # the title wraps to the table's width
    assert "batch 'offline' (parent run queued in the outbox)" in text and "(parent run )" not in text
    assert "1 queued" in text and "replay them with `python -m flows sync` once it answers" in text


def test_suggested_commands_are_spelled_as_the_user_ran_deltaflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as `deltaflow batch ...`, the hint said `python -m flows sync`, which works only from the repository with
    the project's Python."""
    from flows.batch_items import BatchItem, BatchRun
    from flows.console import show_batch
    from flows.settings import command_name

    outcome = BatchRun("offline", "", (BatchItem("a.yaml", "QUEUED", None, ("u' = -u",), queued_as="abc"),))
    for argv0, said in (("/home/me/.venv/bin/deltaflow", "deltaflow"), ("/repo/flows/__main__.py", "python -m flows")):
        monkeypatch.setattr(sys, "argv", [argv0, "batch", "configs"])
        assert command_name() == said
        out = io.StringIO()
        show_batch(outcome, Console(file=out, width=160, force_terminal=False))
        assert f"replay them with `{said} sync` once it answers" in " ".join(out.getvalue().split())


def test_state_and_feature_names_in_brackets_are_printed_not_taken_as_markup() -> None:
    """A state named "conc (mM)" is written [conc (mM)] in the equations; rich read that as a style tag and printed
    "' = -0.2322 - 0.1832 log()". The same held for sensitivity features, table headers and the batch table."""
    import numpy as np

    from flows.console import show_discovery
    from pipeline.discovery import DiscoveryResult, Library

    library = Library(("conc (mM)",), np.array([[0], [1]]), (("log", 0),))
    result = DiscoveryResult(names=("conc (mM)",), library=library, coefficients=np.array([[-0.2322, 0.0, -0.1832]]))
    config = SimpleNamespace(
        name="uptake [v2]", data=SimpleNamespace(time_column="t"), tracking=SimpleNamespace(enabled=False)
    )
    outcome = SimpleNamespace(result=result, config=config, mlflow_run_id=None, outbox=None, tracking_uri=None)
    out = io.StringIO()
    show_discovery(outcome, Console(file=out, width=120, force_terminal=False))
    text = out.getvalue()
    assert "[conc (mM)]' = -0.2322 - 0.1832 log([conc (mM)])" in text, text
    assert "uptake [v2]" in text


def test_the_conservation_laws_the_model_keeps_are_printed_under_its_equations() -> None:
    import numpy as np

    from flows.console import show_discovery
    from pipeline.discovery import DiscoveryResult, Library

    library = Library(("S", "I"), np.array([[1, 1]]))
    result = DiscoveryResult(
        names=("S", "I"),
        library=library,
        coefficients=np.array([[-0.3], [0.3]]),
        chosen={"conservation_laws": ["S + I = const"]},
    )
    config = SimpleNamespace(name="si", data=SimpleNamespace(time_column="t"), tracking=SimpleNamespace(enabled=False))
    outcome = SimpleNamespace(result=result, config=config, mlflow_run_id=None, outbox=None, tracking_uri=None)
    out = io.StringIO()
    show_discovery(outcome, Console(file=out, width=120, force_terminal=False))
    lines = out.getvalue().splitlines()
    assert "  kept exactly: S + I = const" in lines
    assert lines.index("  kept exactly: S + I = const") == lines.index("  I' = 0.3000 S I") + 1
