"""Output-error refinement of function terms' inner rates (``discovery.refine_rates``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pipeline.config import DiscoveryConfig
from pipeline.discovery import discover
from pipeline.discovery.library import Library
from pipeline.discovery.rate_refinement import refine_rates
from pipeline.discovery.shooting import ShootingProblem


def _allee(t: np.ndarray, x: np.ndarray) -> list[float]:
    """Growth with a mate-finding Allee effect: x' = 1.2 x - 0.1 x^2 - 2.4 x/(2 + x) (half-saturation K = 2)."""
    return [1.2 * x[0] - 0.1 * x[0] ** 2 - 2.4 * x[0] / (2.0 + x[0])]


def _record(noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 10.0, 512)
    x = solve_ivp(_allee, (0.0, 10.0), [1.0], t_eval=t, rtol=1e-10, atol=1e-12).y.T  # from x = 1 to near 10
    return t, x * (1.0 + noise * np.random.default_rng(seed).standard_normal(x.shape))


def test_a_half_saturation_constant_started_off_its_value_is_refined_to_the_law_s() -> None:
    t, x = _record()
    library = Library(("x",), np.array([[0], [1], [2]]), (("saturation", 0),), rates=(0.25,))  # K = 4, twice the law's
    start = np.array([[0.0, 1.0, -0.1, -3.0]])
    problem = ShootingProblem(library, [t], [x], [x], None, n_blocks=5)
    rated = refine_rates(start, problem)
    assert rated is not None
    assert rated.refinement.after < rated.refinement.before
    assert 1.0 / rated.library.rate(0) == pytest.approx(2.0, rel=0.02)
    np.testing.assert_allclose(rated.refinement.coefficients, [[0.0, 1.2, -0.1, -2.4]], rtol=0.03, atol=1e-9)
    assert rated.library.feature_names()[-1].startswith("x/(2")  # x/(K + x) with the refined K


def test_a_model_without_rated_terms_or_using_none_is_left_as_it_is() -> None:
    t, x = _record()
    polynomial = Library(("x",), np.array([[0], [1], [2]]))
    problem = ShootingProblem(polynomial, [t], [x], [x], None, n_blocks=5)
    assert refine_rates(np.array([[0.0, 0.5, -0.05]]), problem) is None  # no term has an inner rate
    library = Library(("x",), np.array([[0], [1], [2]]), (("saturation", 0), ("sin", 0)), rates=(0.5, 1.0))
    unused = np.array([[0.0, 0.5, -0.05, 0.0, 0.1]])  # the saturation is in the library, not in the model
    assert refine_rates(unused, ShootingProblem(library, [t], [x], [x], None, n_blocks=5)) is None


def test_discovery_with_refine_rates_reports_the_refined_constant_and_intervals_around_its_estimates() -> None:
    t, x = _record()  # noise-free, as a simulation's output: under noise, other terms absorb part of the constant
    default = discover(t, x, feature_names=["x"])
    refined = discover(t, x, feature_names=["x"], config={"refine_rates": True})
    assert not DiscoveryConfig().refine_rates  # opt-in: the default keeps the rates the data chose on a grid
    saturation = [k for k, term in enumerate(refined.library.functions) if term == ("saturation", 0)]
    assert saturation, refined.equations
    column = refined.library.powers.shape[0] + saturation[0]
    assert refined.coefficients[0, column] != 0.0, refined.equations
    assert 1.0 / refined.library.rate(saturation[0]) == pytest.approx(2.0, rel=0.01)
    assert 1.0 / default.library.rate(saturation[0]) == pytest.approx(2.476, rel=0.01)  # a multiple of max x
    inside = refined.intervals[..., 0] <= refined.coefficients
    assert np.all(inside & (refined.coefficients <= refined.intervals[..., 1]))
    path = refined.simulate(x[0], t)[:, 0]
    assert np.sqrt(np.mean((path - _record()[1][:, 0]) ** 2)) < 0.01 * np.ptp(x)


def test_refine_rates_takes_a_function_term_of_a_known_input_on_the_input_s_values() -> None:
    t = np.linspace(0.0, 10.0, 512)
    u = 1.5 + np.sin(0.7 * t)

    def uptake(s: float, x: np.ndarray) -> list[float]:  # x' = -x + 2 u/(0.5 + u), u a known input
        drive = 1.5 + np.sin(0.7 * s)
        return [-x[0] + 2.0 * drive / (0.5 + drive)]

    x = solve_ivp(uptake, (0.0, 10.0), [0.2], t_eval=t, rtol=1e-10, atol=1e-12).y.T
    config = {"refine_rates": True, "library": {"functions": ["saturation"], "degree": 1}}
    result = discover(t, x, u=u[:, None], feature_names=["x"], control_names=["u"], config=config)
    inputs = [k for k, term in enumerate(result.library.functions) if term == ("saturation", 1)]
    assert inputs and result.coefficients[0, result.library.powers.shape[0] + inputs[0]] != 0.0, result.equations
    path = result.simulate(x[0], t, u=u[:, None])[:, 0]
    assert np.sqrt(np.mean((path - x[:, 0]) ** 2)) < 0.01 * np.ptp(x)


def _michaelis_menten(k: float = 0.37) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two noise-free records of S' = -0.6 S/(k + S) from S = 5 and S = 2: with k = 0.37 below the automatic grid's
    smallest K (an eighth of the largest S, 0.625)."""
    t = np.linspace(0.0, 10.0, 300)

    def uptake(s: float, x: np.ndarray) -> list[float]:
        return [-0.6 * x[0] / (k + x[0])]

    return [t, t], [solve_ivp(uptake, (0, 10), [x0], t_eval=t, rtol=1e-10, atol=1e-12).y.T for x0 in (5.0, 2.0)]


def test_terms_that_only_made_up_for_a_grid_rate_are_pruned_once_the_rate_is_refined() -> None:
    """Refined before pruning: K 0.625 -> 0.37 left S, S^2, S^3 and sin S at 1e-6, kept as if the law needed them."""
    ts, xs = _michaelis_menten()
    default = discover(ts, xs, feature_names=["S"])
    assert len(default.terms()["S"]) > 1 and "S/(0.625+S)" in default.terms()["S"]  # the grid's K, and terms around it
    refined = discover(ts, xs, feature_names=["S"], config={"refine_rates": True})
    assert list(refined.terms()["S"]) == ["S/(0.37+S)"], refined.equations
    assert refined.terms()["S"]["S/(0.37+S)"] == pytest.approx(-0.6, rel=1e-3)
    assert refined.chosen["inner_rates"] == ["saturation of S: K 0.625 -> K 0.37"]
    assert "inner_rates" not in default.chosen
    edge = [caution for caution in default.cautions if "its grid offers" in caution]  # says where refinement helps
    assert edge == [
        "x/(K+x) of S took K = 0.625, the smallest its grid offers (1/8 of the state's largest |value|): the law's K"
        " may lie beyond it, and the terms beside it may make up for that; discovery.refine_rates: true refines it with"
        " the coefficients (best on a nearly noise-free record)"
    ]
    assert not [caution for caution in refined.cautions if "its grid offers" in caution]


def test_the_choices_say_why_refine_rates_refined_nothing() -> None:
    t, x = _record()
    polynomial = discover(t, x, feature_names=["x"], config={"refine_rates": True, "library": {"functions": []}})
    assert polynomial.chosen["inner_rates"].startswith("none to refine: the model has no term with an inner rate")
    off = discover(t, x, feature_names=["x"], config={"refine_rates": True, "refine_by_simulation": False})
    assert off.chosen["inner_rates"].startswith("not refined: refine_rates refines with the coefficients")
