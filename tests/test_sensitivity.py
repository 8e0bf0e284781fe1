"""Sensitivity analysis: the seed's applications against closed forms, indices against analytic values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.data import load_table
from pipeline.errors import ConfigError, DataError, SensitivityError
from pipeline.expressions import evaluate_expression
from pipeline.sensitivity import (
    InputSpace,
    Marginal,
    analyze_samples,
    check_gradient,
    estimate_gradient,
    estimate_hessian,
    estimate_jacobian,
    fit_gradient_model,
    global_indices,
    physics_residual,
)
from pipeline.sensitivity.functions import (
    BlackScholes,
    ishigami,
    ishigami_gradient,
    ishigami_indices,
    rosenbrock,
    rosenbrock_gradient,
    rosenbrock_hessian,
)
from pipeline.sensitivity.verdict import sensitivity_cautions

ROOT = Path(__file__).resolve().parents[1]
BS = BlackScholes(strike=100.0, rate=0.05)


def _table(config_name: str):
    config = load_config(ROOT / "configs" / config_name)
    return config, load_table(config.data.path, outputs=config.data.outputs, features=config.data.features)


def _interior(P: np.ndarray) -> np.ndarray:
    return np.all((P.min(0) < P) & (P.max(0) > P), axis=1)


def _max_rel(est: np.ndarray, true: np.ndarray, mask: np.ndarray) -> float:
    """Largest error on the masked points relative to the largest true magnitude there."""
    return float(np.abs(est - true)[mask].max() / np.abs(true[mask]).max())


def test_seed_linear_gradient_is_right_everywhere():
    _, table = _table("sensitivity_linear.yaml")
    grad, std = estimate_gradient(table.X, table.Y[:, 0], return_std=True)
    assert grad.shape == (500, 3)
    assert np.abs(grad - [2.0, 0.5, -1.0]).max() < 0.02  # at every sample, not only at the origin
    origin = estimate_gradient(table.X, table.Y[:, 0], at=[[0.0, 0.0, 0.0]])
    np.testing.assert_allclose(origin[0], [2.0, 0.5, -1.0], atol=0.02)
    # The errors are the linear fit's (about 0.005) except where the quadratic fit the bias check compares with
    # differs from it by chance beyond 1.96 of their sd (about one partial in twenty, at the outlying samples): there
    # they are widened to cover that difference, never beyond the quadratic fit's own sd (about 0.02 there).
    assert np.all(std > 0) and np.median(std) < 0.01 and np.mean(std < 0.02) >= 0.9 and np.all(std < 0.05)
    assert np.all(np.abs(grad - [2.0, 0.5, -1.0]) <= 1.96 * std)


def test_partials_not_marginal_slopes_for_correlated_features():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((800, 2))
    X = np.column_stack([z[:, 0], 0.95 * z[:, 0] + 0.31 * z[:, 1]])  # correlation 0.95
    y = X[:, 0] - X[:, 1] + 0.05 * rng.standard_normal(800)
    marginal = np.polyfit(X[:, 0], y, 1)[0]
    assert abs(marginal) < 0.2  # what a per-feature 1-D fit would report for d/dx1
    grad = estimate_gradient(X, y, at=[[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(grad, [[1.0, -1.0], [1.0, -1.0]], atol=0.05)


def test_rosenbrock_gradient_field_and_descent():
    _, table = _table("rosenbrock.yaml")
    P, loss = table.X, table.Y[:, 0]
    model = fit_gradient_model(P, loss)
    G, T = model.gradient(P), rosenbrock_gradient(P)
    inner = _interior(P)
    err = np.linalg.norm(G - T, axis=1)[inner]
    rel_rms = np.sqrt(np.mean(err**2) / np.mean(np.linalg.norm(T[inner], axis=1) ** 2))
    assert rel_rms < 0.02
    np.testing.assert_allclose(model.gradient([[0.0, 0.0]])[0], [-2.0, 0.0], atol=0.05)  # PyDelt: d/dy = -27.8
    x = np.array([-1.5, 2.5])
    for _ in range(5000):  # plain gradient descent on the estimated field
        x = x - 0.01 * model.gradient(x[None])[0]
    assert np.linalg.norm(x - [1.0, 1.0]) < 0.05
    H = model.hessian([[0.5, 0.5]])[0]
    np.testing.assert_allclose(H, rosenbrock_hessian(np.array([[0.5, 0.5]]))[0], rtol=0.05, atol=0.5)
    assert H[0, 1] == pytest.approx(H[1, 0])


def test_greeks_on_spot_grid():
    _, table = _table("greeks_spot.yaml")
    S, C = table.X, table.Y[:, 0]
    inner = _interior(S)
    delta = estimate_gradient(S, C)[:, 0]
    gamma = estimate_hessian(S, C)[:, 0, 0]
    assert _max_rel(delta, BS.delta(S[:, 0], 0.2, 1.0), inner) < 0.01
    assert _max_rel(gamma, BS.gamma(S[:, 0], 0.2, 1.0), inner) < 0.05


@pytest.mark.parametrize(
    ("config_name", "greek"),
    [("greeks_spot_vol.yaml", "vega"), ("greeks_spot_time.yaml", "theta")],
)
def test_greeks_on_two_dimensional_grids(config_name, greek):
    _, table = _table(config_name)
    P, C = table.X, table.Y[:, 0]
    inner = _interior(P)
    model = fit_gradient_model(P, C)
    G, H = model.gradient(P), model.hessian(P)
    if greek == "vega":
        sigma, T = P[:, 1], 1.0
        second = G[:, 1]
    else:
        sigma, T = 0.2, P[:, 1]
        second = -G[:, 1]  # theta is dC/dt = -dC/dT
    assert _max_rel(G[:, 0], BS.delta(P[:, 0], sigma, T), inner) < 0.01
    assert _max_rel(second, getattr(BS, greek)(P[:, 0], sigma, T), inner) < 0.01
    assert _max_rel(H[:, 0, 0], BS.gamma(P[:, 0], sigma, T), inner) < 0.05


def test_kinked_payoff_without_ringing():
    _, table = _table("kinked_payoff.yaml")
    S, price = table.X, table.Y[:, 0]
    delta = estimate_gradient(S, price)[:, 0]
    gamma = estimate_hessian(S, price)[:, 0, 0]
    assert delta.min() > -0.01 and delta.max() < 1.01
    assert np.all(np.diff(delta) > -1e-6)  # monotone: no overshoot on either side of the kink
    far = np.abs(S[:, 0] - 100.0) > 4 * np.diff(S[:, 0]).mean()
    assert np.abs(gamma[far]).max() < 1e-3 and gamma.min() > -1e-3
    assert gamma.sum() * np.diff(S[:, 0]).mean() == pytest.approx(1.0, abs=0.05)  # total jump of delta


def test_hessian_mixed_partial_and_jacobian():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (600, 2))
    H = estimate_hessian(X, X[:, 0] * X[:, 1], at=[[0.2, -0.3]])[0]
    np.testing.assert_allclose(H, [[0.0, 1.0], [1.0, 0.0]], atol=0.02)
    J = estimate_jacobian(X, np.column_stack([X[:, 0] + 2 * X[:, 1], X[:, 0] ** 2]), at=[[0.5, 0.0]])
    assert J.shape == (1, 2, 2)
    np.testing.assert_allclose(J[0], [[1.0, 2.0], [1.0, 0.0]], atol=0.02)


def test_gradient_standard_errors_are_calibrated():
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, (400, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.05 * rng.standard_normal(400)
    at = rng.uniform(-0.7, 0.7, (200, 2))
    grad, std = estimate_gradient(X, y, at=at, method="local_polynomial", return_std=True)
    truth = np.column_stack([2 * np.cos(2 * at[:, 0]), 2 * at[:, 1]])
    coverage = np.mean(np.abs(grad - truth) < 1.96 * std)
    assert 0.75 < coverage <= 1.0


def test_gaussian_process_gradient_and_std():
    rng = np.random.default_rng(5)
    X = rng.uniform(-np.pi, np.pi, (300, 3))
    model = fit_gradient_model(X, ishigami(X), "gaussian_process")
    at = rng.uniform(-2, 2, (50, 3))
    grad, std = model.gradient(at, return_std=True)
    truth = ishigami_gradient(at)
    assert np.sqrt(np.sum((grad - truth) ** 2) / np.sum(truth**2)) < 0.1
    assert np.all(std >= 0)


def test_gaussian_process_std_widens_when_its_left_out_samples_say_it_is_overconfident():
    """Ishigami on a 10x10x10 grid with noise of 1 % of its sd: the marginal likelihood on a subsample made the GP
    so sure of itself that 14 % of the true partials lay within 1.96 of its standard errors (benchmarks/
    gradient_intervals.py). Its leave-one-out z-scores measure the overconfidence and widen the errors to cover."""
    from pipeline.sensitivity.gaussian_process import GaussianProcessGradient

    rng = np.random.default_rng(0)
    axis = np.linspace(-np.pi, np.pi, 10)
    X = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    y = ishigami(X)
    y = y + 0.01 * y.std() * rng.standard_normal(len(y))
    model = GaussianProcessGradient().fit(X, y)
    assert model.variance_scale_ > 4.0
    at = rng.uniform(-0.7 * np.pi, 0.7 * np.pi, (100, 3))
    grad, std = model.gradient(at, return_std=True)
    assert np.mean(np.abs(grad - ishigami_gradient(at)) <= 1.96 * std) >= 0.9
    smooth = GaussianProcessGradient().fit(X, rosenbrock(X[:, :2]))  # a calibrated fit is never narrowed
    assert smooth.variance_scale_ >= 1.0


def test_local_polynomial_std_holds_the_bias_of_a_noise_free_fit():
    """Black-Scholes prices on a 10x10x10 grid without noise: the local fit's error is all bias, which the sandwich
    variance does not see (83 % of the true Greeks within 1.96 std); the fit one degree higher measures it."""
    from pipeline.sensitivity.local_polynomial import LocalPolynomial

    box = np.array([[80.0, 0.1, 0.25], [120.0, 0.4, 2.0]])
    axes = [np.linspace(low, high, 10) for low, high in box.T]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    at = box[0] + (box[1] - box[0]) * (0.15 + 0.7 * np.random.default_rng(0).random((100, 3)))
    S, sigma, T = at.T
    truth = np.column_stack([BS.delta(S, sigma, T), BS.vega(S, sigma, T), -BS.theta(S, sigma, T)])
    model = LocalPolynomial().fit(X, BS.price(*X.T))
    grad, std = model.gradient(at, return_std=True)
    assert np.mean(np.abs(grad - truth) <= 1.96 * std) >= 0.95
    beta, cov, _ = model._evaluate(at, with_cov=True)
    sandwich = np.sqrt(np.diagonal(cov, axis1=1, axis2=2)[:, 1:4]) / model.scale_
    assert np.mean(np.abs(grad - truth) <= 1.96 * sandwich) < 0.9  # the sandwich alone: too narrow


def test_sobol_indices_of_a_queryable_model_match_ishigami():
    space = InputSpace.from_bounds({f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)})
    table = global_indices(model=ishigami, space=space, n_base=4096)
    s1, st = ishigami_indices()
    np.testing.assert_allclose(table["S1"], s1, atol=0.03)
    np.testing.assert_allclose(table["ST"], st, atol=0.03)
    assert list(table["rank"]) == [1, 2, 3]
    assert np.all(table["DGSM_bound"] >= table["ST"] - 0.03)  # DGSM bounds ST from above
    assert table.attrs["method"] == "sobol"


@pytest.mark.parametrize("method", ["surrogate", "rbd_fast"])
def test_indices_from_given_data(method):
    rng = np.random.default_rng(0)
    X = rng.uniform(-np.pi, np.pi, (2000, 3))
    table = global_indices(X, ishigami(X), method=method)
    s1, st = ishigami_indices()
    np.testing.assert_allclose(table["S1"], s1, atol=0.05)
    if method == "surrogate":
        np.testing.assert_allclose(table["ST"], st, atol=0.05)
    else:
        assert table["ST"].isna().all()


def test_gradient_check_utility():
    f = lambda x: rosenbrock(x[None])[0]  # noqa: E731
    grad = lambda x: rosenbrock_gradient(x[None])[0]  # noqa: E731
    ok = check_gradient(f, grad, np.array([0.3, -0.7]))
    assert ok.passed and ok.max_rel_error < 1e-8
    wrong = check_gradient(f, lambda x: grad(x) * (1 + 1e-3), np.array([0.3, -0.7]))
    assert not wrong.passed and wrong.max_rel_error > 1e-4
    with pytest.raises(SensitivityError, match="shape"):
        check_gradient(f, lambda x: np.zeros(3), np.array([0.3, -0.7]))


def test_a_gradient_check_that_cannot_be_evaluated_says_where_instead_of_failing_with_nan():
    # sqrt(x) at x = -1 was 'max rel. error nan, passed no', with no word of why
    half_root = lambda x: np.array([0.5 / np.sqrt(x[0])])  # noqa: E731
    with np.errstate(all="ignore"):
        with pytest.raises(SensitivityError, match=r"the function is nan at \(x=-1\): undefined there"):
            check_gradient(lambda x: float(np.sqrt(x[0])), half_root, np.array([-1.0]), names=["x"])
        with pytest.raises(SensitivityError, match=r"the claimed gradient is not finite at \(x=0\): d/dx = inf"):
            check_gradient(lambda x: float(np.sqrt(x[0])), half_root, np.array([0.0]), names=["x"])
        with pytest.raises(SensitivityError, match=r"nan at x1=-0.00074.*from \(x1=1e-09, x2=0\).*too close"):
            log = lambda x: float(np.log(x[0]) + x[1])  # noqa: E731
            check_gradient(log, lambda x: np.array([1 / x[0], 1.0]), np.array([1e-9, 0.0]))


@pytest.mark.parametrize("unit", [1e-7, 1.0, 1e7])
def test_gradient_check_is_relative_in_any_units_of_f(unit):
    # measured against max(1, |analytic|), a gradient wrong by a factor 2 passed for f = 1e-7 x²
    f = lambda x: unit * rosenbrock(x[None])[0]  # noqa: E731
    grad = lambda x: unit * rosenbrock_gradient(x[None])[0]  # noqa: E731
    for point in ([0.3, -0.7], [1.0, 1.0], [30.0, 900.0]):  # the minimum (gradient 0), a point on the valley floor
        assert check_gradient(f, grad, np.array(point)).passed, point
    half = check_gradient(f, lambda x: grad(x) / 2, np.array([0.3, -0.7]))
    assert not half.passed and half.max_rel_error == pytest.approx(0.5, rel=1e-6)
    off = check_gradient(f, lambda x: grad(x) + unit * np.array([1e-3, 0.0]), np.array([1.0, 1.0]))
    assert not off.passed  # a claimed slope where f is flat


def test_a_constant_partial_or_law_may_be_written_as_a_number(tmp_path):
    # "y: 1" (the partial of x^2 + y) was refused: "field 'gradient.y': Input should be a valid string (got 1)"
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: g\nkind: gradient_check\nvariables: [x, y]\nfunction: x^2 + y\ngradient: {x: 2*x, y: 1}\n"
        "points: [[1.0, 2.0]]\n"
    )
    config = load_config(path)
    assert config.gradient == {"x": "2*x", "y": "1"}
    assert evaluate_expression(config.gradient["y"], {"x": 1.0, "y": 2.0}) == 1.0
    path.write_text("name: r\nkind: residual\ndata: {path: d.csv}\nlaw: {rhs: {u: 0, v: 2.5e-3}}\n")
    assert load_config(path).law.rhs == {"u": "0", "v": "0.0025"}
    path.write_text("name: r\nkind: residual\ndata: {path: d.csv}\nlaw: {rhs: {u: true}}\n")
    with pytest.raises(ConfigError, match="field 'law.rhs.u'"):
        load_config(path)


def test_physics_residual_tells_the_right_law_from_a_wrong_one():
    config = load_config(ROOT / "configs" / "exp_decay.yaml")
    frame = pd.read_csv(config.data.path)
    right = physics_residual(frame["t"], frame["u"], {"u": "-k*u"}, params={"k": 1.0})
    wrong = physics_residual(frame["t"], frame["u"], {"u": "-k*u"}, params={"k": 2.0})
    assert right.r2[0] > 0.95 and right.relative_rms[0] < 0.2
    assert wrong.r2[0] < 0.0
    as_callable = physics_residual(frame["t"], frame["u"], lambda t, x: -x)
    assert as_callable.rms[0] == pytest.approx(right.rms[0])


def test_an_expression_never_changes_the_arrays_it_reads():
    u = np.linspace(0.5, 1.5, 50)
    before = u.copy()
    # numpy's sin(u, u) is sin(u, out=u): it would overwrite the smoothed data the residual is judged on
    with pytest.raises(ConfigError, match=r"expression 'sin\(u, u\)': 'sin\(u, u\)' gives sin 2 arguments"):
        evaluate_expression("sin(u, u)", {"u": u})
    with pytest.raises(ConfigError, match="gives exp 0 arguments"):
        evaluate_expression("exp() + u", {"u": u})
    result = evaluate_expression("u", {"u": u})
    result[:] = 0.0  # the result is the caller's to change: it is not a view of the input
    np.testing.assert_array_equal(u, before)
    assert u.flags.writeable  # the caller's array is left as it was
    frame = pd.read_csv(load_config(ROOT / "configs" / "exp_decay.yaml").data.path)
    with pytest.raises(ConfigError, match=r"sin\(u, u\)"):
        physics_residual(frame["t"], frame["u"], {"u": "sin(u, u)"})


def test_analyze_samples_tables():
    _, table = _table("sensitivity_linear.yaml")
    result = analyze_samples(table.X, table.Y, features=list(table.features), outputs=list(table.outputs), hessian=True)
    grads = result.gradient_table()
    assert {"dy/dx1", "dy/dx1_std", "dy/dx3"} <= set(grads.columns) and len(grads) == 500
    assert result.hessian_table().filter(like="d2y").abs().to_numpy().max() < 0.1
    indices = result.indices["y"]
    assert list(indices.sort_values("rank").index) == ["x1", "x3", "x2"]
    assert indices.loc["x1", "S1"] == pytest.approx(4 / 5.25, abs=0.05)  # 2² / (2² + 0.5² + 1²) with unit variances


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (lambda X: X, "shape"),
        (lambda X: 1 / 0, "failed to predict"),
        (lambda X: np.full(len(X), np.nan), "NaN"),
    ],
)
def test_bad_models_raise_typed_errors(model, message):
    space = InputSpace.from_bounds({"a": (0, 1), "b": (0, 1)})
    with pytest.raises(SensitivityError, match=message):
        global_indices(model=model, space=space, n_base=64)


def test_a_model_returning_nan_names_the_first_input_that_gave_it():
    # it said only "model returned NaN or inf for 281 inputs": which inputs, the user could not tell
    from pipeline.errors import ModelError
    from pipeline.sensitivity import evaluate_model

    X = np.array([[0.5, 0.1], [0.95, 0.25], [0.97, 0.5]])
    def log_model(X: np.ndarray) -> np.ndarray:  # undefined (NaN, no warning) for a >= 0.9
        with np.errstate(invalid="ignore"):
            return np.log(0.9 - X[:, 0])

    with pytest.raises(ModelError, match=r"NaN or inf for 2 of 3 inputs \(first: nan at dose=0.95, weight=0.25\)"):
        evaluate_model(log_model, X, names=["dose", "weight"])
    with pytest.raises(ModelError, match=r"at x1=0.95, x2=0.25\); the input space \(model.inputs\) may reach"):
        evaluate_model(log_model, X)


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.ones((10, 2)) * [[1, 2]], np.arange(10.0), "constant"),
        (np.random.default_rng(0).random((10, 2)), np.arange(9.0), "rows"),
        (np.array([[np.nan, 1.0]] + [[i, i**2] for i in range(9)]), np.arange(10.0), "NaN"),
        (np.random.default_rng(0).random((4, 2)), np.arange(4.0), "too few"),
    ],
)
def test_bad_samples_raise_typed_errors(X, y, message):
    with pytest.raises(SensitivityError, match=message):
        estimate_gradient(X, y)


def test_unknown_methods_are_named():
    X = np.random.default_rng(0).random((30, 2))
    with pytest.raises(SensitivityError, match="unknown gradient method 'magic'"):
        estimate_gradient(X, X[:, 0], method="magic")
    with pytest.raises(SensitivityError, match="unknown index method"):
        global_indices(X, X[:, 0], method="magic")
    with pytest.raises(SensitivityError, match="needs a model"):
        global_indices(X, X[:, 0], method="sobol")


def test_table_loading_errors(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": ["1", "x", "3", "4", "5", "6"], "y": range(6)}).to_csv(
        path, index=False
    )
    with pytest.raises(DataError, match="'b' has a non-numeric value 'x'"):
        load_table(path, outputs=["y"])
    with pytest.raises(DataError, match=r"missing column\(s\) \['z'\]"):
        load_table(path, outputs=["z"])


def test_sensitivity_config_validation(tmp_path):
    base = "name: s\nkind: sensitivity\n"
    both = tmp_path / "both.yaml"
    both.write_text(
        base + "data: {path: x.csv, outputs: [y]}\nmodel: {uri: 'models:/m/1', inputs: {a: {low: 0, high: 1}}}\n"
    )
    with pytest.raises(ConfigError, match="exactly one of 'data'"):
        load_config(both)
    bad_uri = tmp_path / "uri.yaml"
    bad_uri.write_text(base + "model: {uri: '/etc/passwd', inputs: {a: {low: 0, high: 1}}}\n")
    with pytest.raises(ConfigError, match="model.uri"):
        load_config(bad_uri)
    bad_bounds = tmp_path / "bounds.yaml"
    bad_bounds.write_text(base + "model: {uri: 'models:/m/1', inputs: {a: {low: 1, high: 0}}}\n")
    with pytest.raises(ConfigError, match="low < high"):
        load_config(bad_bounds)
    unknown = tmp_path / "kind.yaml"
    unknown.write_text("name: s\nkind: forecasting\n")
    with pytest.raises(ConfigError, match="unknown kind 'forecasting'"):
        load_config(unknown)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "{mean: 1, std: 0.5}",
            r"a uniform input \(dist defaults to uniform\) takes low and high, not mean and std; for"
            r" a normal input write \{dist: normal",
        ),
        ("{dist: normal, mean: 0, std: 1, low: 5, high: 6}", "a normal input takes mean and std, not low and high"),
        ("{low: 0, high: 1, std: 2}", "a uniform input takes low and high, not std"),
        ("{low: 0, high: .inf}", r"model.inputs.a.high': Input should be a finite number"),
    ],
    ids=["normal-without-dist", "bounds-on-a-normal", "std-on-a-uniform", "infinite-bound"],
)
def test_model_inputs_of_mixed_or_infinite_fields_are_config_errors(tmp_path, spec, message):
    # {mean, std} without dist said "a uniform input needs low < high"; low/high on a normal input (or std on a
    # uniform one) were silently ignored, so the model was sampled over another range than the user wrote
    path = tmp_path / "c.yaml"
    path.write_text(f"name: s\nkind: sensitivity\nmodel: {{uri: 'models:/m/1', inputs: {{a: {spec}}}}}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.parametrize(
    ("kind_lines", "field"),
    [
        (
            "kind: sensitivity\ndata: {path: x.csv, outputs: [y]}\ngradient: {at: [[1.0, 0.5], [.nan, 0.5]]}\n",
            "gradient.at",
        ),
        (
            "kind: gradient_check\nvariables: [x]\nfunction: x^2\ngradient: {x: 2*x}\npoints: [[1.0], [.inf]]\n",
            "points",
        ),
    ],
    ids=["gradient-at-nan", "check-points-inf"],
)
def test_listed_points_that_are_not_finite_are_config_errors(tmp_path, kind_lines, field):
    # a NaN point went through the checks and failed mid-run with scipy's bare "array must not contain infs or NaNs"
    path = tmp_path / "c.yaml"
    path.write_text("name: s\n" + kind_lines)
    with pytest.raises(ConfigError, match=rf"field '{field}': point 2 holds (nan|inf); expected finite numbers"):
        load_config(path)


def test_analyze_samples_refuses_points_that_are_not_finite():
    X = np.random.default_rng(0).uniform(0, 1, (60, 2))
    with pytest.raises(SensitivityError, match=r"gradient.at point 2 holds \[inf, 0.5\]; expected finite numbers"):
        analyze_samples(X, X[:, :1] * 3, features=["a", "b"], outputs=["y"], at=np.array([[0.5, 0.5], [np.inf, 0.5]]))


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "u.real", "[u]", "lambda: 1", "open('x')"])
def test_expressions_cannot_run_code(text):
    with pytest.raises(ConfigError):
        evaluate_expression(text, {"u": np.ones(3)})


def test_expressions_evaluate_arithmetic():
    u = np.array([1.0, 2.0])
    np.testing.assert_allclose(evaluate_expression("-k*u^2 + sin(0)", {"u": u, "k": 0.5}), [-0.5, -2.0])


# ----------------------------------------------------------------------------- v2: trees, HDMR, local GP
def _tree_models() -> dict[str, tuple[object, InputSpace]]:
    """Models the Poincaré check runs on: smooth, kinked and piecewise constant (trained here)."""
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    from pipeline.sensitivity.functions import sobol_g

    cube = InputSpace.from_bounds({f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)})
    X = cube.sample(1024, seed=5)
    forest = RandomForestRegressor(n_estimators=30, min_samples_leaf=3, random_state=0).fit(X, ishigami(X))
    data = load_diabetes()
    boost = GradientBoostingRegressor(random_state=0).fit(data.data, data.target)  # configs/diabetes_model.yaml
    diabetes = InputSpace(tuple(Marginal(n, "normal", mean=0.0, std=0.0476) for n in data.feature_names))
    g_space = InputSpace.from_bounds({f"x{i}": (0.0, 1.0) for i in range(1, 7)})
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0])
    payoff = InputSpace.from_bounds({"spot": (60.0, 140.0), "vol": (0.1, 0.4)})
    return {
        "ishigami": (ishigami, cube),
        "sobol_g": (lambda P: sobol_g(P, a), g_space),
        "random_forest": (forest.predict, cube),
        "gradient_boosting": (boost.predict, diabetes),
        "kinked_payoff": (lambda P: np.maximum(P[:, 0] - 100.0, 0.0) * (1 + P[:, 1]), payoff),
    }


def test_poincare_bound_holds_on_every_model_including_trees():
    for name, (model, space) in _tree_models().items():
        table = global_indices(model=model, space=space, n_base=1024)
        moves = table["ST"] > 0.01
        assert np.all(np.isfinite(table["DGSM"])), name
        assert np.all(table.loc[moves, "DGSM"] > 0), (name, table)
        assert np.all(table["ST"] <= table["DGSM_bound"] + table["ST_conf"]), (name, table)
        assert np.all(table["DGSM_step"] > 0), name  # the step is reported, in feature units


def test_tree_steps_follow_the_response_not_the_staircase():
    models = _tree_models()
    smooth = global_indices(model=ishigami, space=models["ishigami"][1], n_base=256)
    forest, space = models["random_forest"]
    trees = global_indices(model=forest, space=space, n_base=256)
    sd = np.pi / np.sqrt(3)
    assert np.allclose(smooth["DGSM_step"], 1e-4 * sd)  # smooth: the old, accurate step
    assert np.all(trees["DGSM_step"] >= 1e-2 * sd)  # staircase: the scale the forest's response varies on
    assert smooth.attrs["dgsm_coarse"] == [] and trees.attrs["dgsm_coarse"] == ["x1", "x2", "x3"]
    from pipeline.report import ReportHeader, render_sensitivity_report

    X = space.sample(256, seed=3)
    result = analyze_samples(X, forest(X)[:, None], features=space.names, outputs=["y"], indices=False)
    result.indices["y"] = trees
    page = render_sensitivity_report(result, {}, ReportHeader("forest"))
    assert "The DGSM of x1, x2, x3 is over a step at the scale the model's response varies on" in page


def test_a_queryable_models_gradients_at_named_points_are_its_own_not_a_smoothed_slope():
    """A kinked network-like model: at the points a config names, the gradient is the model's own derivative (a
    local polynomial over its neighbours reported a ReLU network's slope 2.52 +- 0.015 where the model's was 2.8);
    a random forest, which has no derivative at a point, keeps the fitted slope."""
    space = InputSpace.from_bounds({f"x{i}": (-1.0, 1.0) for i in (1, 2, 3)})

    def relu_net(P: np.ndarray) -> np.ndarray:  # piecewise linear, kinks at x1 = 0.2 and x1 + x2 = 0
        return 3.0 * np.maximum(P[:, 0] - 0.2, 0.0) - 2.0 * np.maximum(P[:, 0] + P[:, 1], 0.0) + 0.5 * P[:, 2]

    points = np.array([[-0.5, 0.8, 0.0], [0.6, -0.1, 0.3], [0.25, -0.1, -0.5]])  # the last 0.05 from a kink
    truth = np.array([[-2.0, -2.0, 0.5], [1.0, -2.0, 0.5], [1.0, -2.0, 0.5]])
    X = space.sample(1024, seed=1)
    result = analyze_samples(
        X, relu_net(X)[:, None], features=space.names, outputs=["y"], at=points, indices=False, model=relu_net,
        space=space,
    )  # fmt: skip
    assert np.allclose(result.gradients[:, 0, :], truth, atol=1e-6)
    assert np.all(result.gradient_std < 1e-6) and "central differences on the model" in result.chosen["y"]
    smoothed = analyze_samples(X, relu_net(X)[:, None], features=space.names, outputs=["y"], at=points, indices=False)
    assert np.abs(smoothed.gradients[:, 0, :] - truth).max() > 0.05  # what a stand-in's slope gives here
    far = analyze_samples(X, relu_net(X)[:, None], features=space.names, outputs=["y"], at=[[1.5, 0.0, 0.0]],
                          indices=False, model=relu_net, space=space)  # fmt: skip
    assert far.gradients[0, 0] == pytest.approx([1.0, -2.0, 0.5])  # the model's own, however far out
    (caution,) = sensitivity_cautions(far, {"y": float(np.var(relu_net(X)))}, bounds=(-np.ones(3), np.ones(3)))
    assert "outside the range the model was sampled over (x1 -1 to 1): the gradients there are the model's" in caution

    forest, cube = _tree_models()["random_forest"]
    X = cube.sample(512, seed=2)
    trees = analyze_samples(
        X, forest(X)[:, None], features=cube.names, outputs=["y"], at=X[:3], indices=False, model=forest, space=cube
    )
    assert "central differences" not in trees.chosen["y"]


def test_boosting_ranking_from_data_agrees_with_model_sobol():
    model, space = _tree_models()["gradient_boosting"]
    by_model = global_indices(model=model, space=space, n_base=1024)
    X = space.sample(2048, seed=9)
    by_data = global_indices(X, model(X), names=space.names)
    top = by_model.sort_values("rank").index[:4].tolist()
    assert by_data.sort_values("rank").index[:4].tolist() == top


def test_hdmr_indices_with_bootstrap_intervals():
    rng = np.random.default_rng(1)
    X = rng.uniform(-np.pi, np.pi, (1000, 3))
    table = global_indices(X, ishigami(X), method="hdmr")
    s1, st = ishigami_indices()
    np.testing.assert_allclose(table["S1"], s1, atol=0.03)
    np.testing.assert_allclose(table["ST"], st, atol=0.03)
    assert np.all(table[["S1_conf", "ST_conf"]].iloc[:2] > 0) and table.attrs["method"] == "hdmr"
    assert np.all(table[["S1", "ST"]] >= 0)


def test_auto_given_data_picks_the_surrogate_with_lower_cv_error():
    rng = np.random.default_rng(2)
    X = rng.uniform(-np.pi, np.pi, (800, 3))
    table = global_indices(X, ishigami(X))
    cv = table.attrs["cv_mse"]
    assert set(cv) == {"surrogate", "hdmr"} and table.attrs["method"] == min(cv, key=cv.get)
    s1, st = ishigami_indices()
    np.testing.assert_allclose(table["ST"], st, atol=0.02)


def test_negative_estimates_are_clipped_and_flagged():
    from pipeline.sensitivity.indices import _table

    space = InputSpace.from_bounds({"a": (0, 1), "b": (0, 1)})
    est = {"S1": np.array([0.9, -0.004]), "S1_conf": np.full(2, 0.01), "ST": np.array([1.0, 0.01]),
           "ST_conf": np.full(2, 0.01)}  # fmt: skip
    table = _table(space, est, np.ones(2), 1.0, np.full(2, np.nan), "rbd_fast", {})
    assert table.loc["b", "S1"] == 0.0 and table.loc["b", "clipped"] and not table.loc["a", "clipped"]


def test_local_gaussian_process_patches_keep_gp_accuracy():
    from pipeline.sensitivity import GaussianProcessGradient

    rng = np.random.default_rng(4)
    X = rng.uniform(-np.pi, np.pi, (3000, 3))
    gp = GaussianProcessGradient(max_exact=1000, patch_size=600).fit(X, ishigami(X))
    at = rng.uniform(-np.pi, np.pi, (300, 3))
    truth = ishigami_gradient(at)
    err = np.sqrt(np.sum((gp.gradient(at) - truth) ** 2) / np.sum(truth**2))
    assert gp.choice_.n_patches > 1 and err < 5e-3
    H = gp.hessian(at[:5])
    np.testing.assert_allclose(H, np.transpose(H, (0, 2, 1)))


def test_input_space_fit_recognises_families():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.uniform(2, 5, 1500), rng.normal(1, 2, 1500), rng.exponential(1.0, 1500)])
    kinds = [m.kind for m in InputSpace.fit(X).marginals]
    assert kinds == ["uniform", "normal", "empirical"]
    emp = InputSpace.fit(X).marginals[2]
    assert np.var(X[:, 2]) <= emp.poincare_constant <= 4.0  # exponential(1): Var 1, Poincaré constant 4


def test_a_saved_row_index_is_left_out_of_the_features_with_a_note(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.random(20), "b": rng.random(20)})
    frame["y"] = 2 * frame["a"] - frame["b"]
    frame.to_csv(tmp_path / "saved.csv")  # pandas' default writes the index as an unnamed first column
    table = load_table(tmp_path / "saved.csv", outputs=["y"])
    assert table.features == ("a", "b")
    (note,) = table.notes
    assert "'Unnamed: 0' is a saved row index" in note and "saved.csv" in note and "in data.features" in note
    listed = load_table(tmp_path / "saved.csv", outputs=["y"], features=["Unnamed: 0", "a", "b"])
    assert listed.features == ("Unnamed: 0", "a", "b") and listed.notes == ()  # listed: the config decides
    shuffled = frame.sample(frac=1.0, random_state=0)  # a shuffled table's saved index: row labels, not a feature
    shuffled.to_csv(tmp_path / "shuffled.csv")
    assert load_table(tmp_path / "shuffled.csv", outputs=["y"]).features == ("a", "b")
    measured = frame.set_index(rng.random(20))  # an unnamed column of measurements is data
    measured.to_csv(tmp_path / "measured.csv")
    kept = load_table(tmp_path / "measured.csv", outputs=["y"])
    assert kept.features == ("Unnamed: 0", "a", "b") and kept.notes == ()


def test_a_text_column_taken_as_a_feature_by_default_says_how_to_leave_it_out(tmp_path):
    frame = pd.DataFrame({"id": [f"p{k}" for k in range(10)], "a": np.arange(10.0), "y": np.arange(10.0) ** 2})
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"column 'id' has a non-numeric value .*name the features in data.features"):
        load_table(tmp_path / "t.csv", outputs=["y"])
    assert load_table(tmp_path / "t.csv", outputs=["y"], features=["a"]).features == ("a",)
    frame["a"] = frame["a"].astype(str)
    frame.loc[5, "a"] = "1.2.3"  # a typo in one cell of a feature: fix the cell, not the roles
    frame.drop(columns="id").to_csv(tmp_path / "typo.csv", index=False)
    typo = r"column 'a' has a non-numeric value '1.2.3' at data row 6 \(expected numbers\)$"
    with pytest.raises(DataError, match=typo):
        load_table(tmp_path / "typo.csv", outputs=["y"])


def test_a_constant_output_is_named_before_the_run_and_its_gradients_are_still_available(tmp_path):
    # it failed once the run had started with "the output is constant: sensitivity indices are undefined",
    # naming neither the file nor the column, nor the way to get the gradients
    from flows.inputs import load_checked

    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.random(30), "b": rng.random(30), "y": 5.0}).to_csv(tmp_path / "flat.csv", index=False)
    config = tmp_path / "c.yaml"
    config.write_text("name: s\nkind: sensitivity\ndata: {path: flat.csv, outputs: [y]}\n")
    with pytest.raises(DataError, match=r"flat.csv: output column 'y' is constant \(5 in all 30 samples\).*indices."):
        load_checked(config)
    config.write_text("name: s\nkind: sensitivity\ndata: {path: flat.csv, outputs: [y]}\nindices: {enabled: false}\n")
    table = load_checked(config) and load_table(tmp_path / "flat.csv", outputs=["y"])
    with pytest.raises(DataError, match="output column 'y' is constant"):
        analyze_samples(table.X, table.Y, features=["a", "b"], outputs=["y"])
    result = analyze_samples(table.X, table.Y, features=["a", "b"], outputs=["y"], indices=False)
    np.testing.assert_allclose(result.gradients, 0.0, atol=1e-6)
