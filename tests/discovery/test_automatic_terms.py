"""Function terms tried by default: where each family is tried, and inner rates chosen from the data."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from pipeline.discovery import discover
from pipeline.discovery.automatic_terms import AUTO_FAMILIES, RELATIVE_RATES, automatic_function_terms
from pipeline.discovery.library import Library, evaluate_terms

CUBIC = np.array([[0], [1], [2], [3]])


def _record(rhs, x0: list[float], t_end: float = 10.0, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, t_end, n)
    return t, solve_ivp(rhs, (0.0, t_end), x0, t_eval=t, rtol=1e-10, atol=1e-12).y.T


def test_the_saturation_constant_comes_from_the_data_not_from_their_unit() -> None:
    # Michaelis-Menten elimination x' = -3 x/(0.4 + x) from x = 4: the grid's rates are c / 4, c = 1/4 ... 8, so
    # K = 0.4 (r = 2.5) is nearest r = 2 (K = 0.5); the profile must not settle on K = 1 (the data's unit)
    t, x = _record(lambda _t, v: -3.0 * v / (0.4 + v), [4.0], t_end=3.0)
    x_dot = np.gradient(x[:, 0], t)[:, None]
    terms, scales = automatic_function_terms(x, x, x_dot, evaluate_terms(x, CUBIC))
    chosen = dict(zip(terms, scales, strict=True))
    assert chosen[("saturation", 0)] == (8.0 / 4.0, 0.0)
    assert set(RELATIVE_RATES) & set(AUTO_FAMILIES) <= {family for family, *_ in terms}


def test_a_family_without_a_scale_keeps_rate_one_and_an_undefined_one_is_not_tried() -> None:
    t, x = _record(lambda _t, v: [v[1], -np.sin(v[0])], [-2.0, 0.5])  # pendulum: x takes negative values
    x_dot = np.gradient(x, t, axis=0)
    terms, scales = automatic_function_terms(x, x, x_dot, evaluate_terms(x, np.array([[0, 0], [1, 0], [0, 1]])))
    chosen = dict(zip(terms, scales, strict=True))
    assert chosen[("sin", 0)] == (1.0, 0.0) and chosen[("cos", 0)] == (1.0, 0.0)
    assert ("log", 0) not in chosen  # log of a negative angle


def test_rates_render_evaluate_and_survive_json() -> None:
    library = Library(("x", "y"), np.array([[0, 0]]), (("saturation", 0), ("saturation", 0, 1), ("exp", 1)),
                      rates=(0.5, 0.5, -2.0))  # fmt: skip
    assert library.feature_names() == ["1", "x/(2+x)", "y x/(2+x)", "exp(-2 y)"]
    np.testing.assert_allclose(library.evaluate(np.array([1.0, 2.0])), [1.0, 1 / 3, 2 / 3, np.exp(-4.0)])
    again = Library.from_dict(library.to_dict())
    assert again.rates == library.rates and again.feature_names() == library.feature_names()


def test_rated_hill_and_inhibition_terms_print_what_they_evaluate() -> None:
    import sympy

    library = Library(("x", "y"), np.array([[0, 0]]), (("hill", 0), ("inhibition", 0, 1)), rates=(0.5, 2.0))
    assert library.feature_names() == ["1", "x^2/(2^2+x^2)", "y 0.5 x/(0.5^2+x^2)"]
    point = {"x": 2.0, "y": 3.0}
    expected = [1.0, 4.0 / (4.0 + 4.0), 3.0 * 0.5 * 2.0 / (0.25 + 4.0)]
    np.testing.assert_allclose(library.evaluate(np.array([2.0, 3.0])), expected)
    printed = [float(sympy.sympify(name).subs(point)) for name in library.sympy_names()]
    np.testing.assert_allclose(printed, expected)


def test_a_holling_type_ii_predator_prey_is_found_by_default_and_holds_from_another_state() -> None:
    # Rosenzweig-MacArthur: x' = x (1 - x/3) - 2 x y/(0.5 + x), y' = x y/(0.5 + x) - 0.4 y; 1 % noise
    def rhs(_t: float, v: np.ndarray) -> list[float]:
        uptake = v[0] * v[1] / (0.5 + v[0])
        return [v[0] * (1 - v[0] / 3) - 2 * uptake, uptake - 0.4 * v[1]]

    t, x = _record(rhs, [2.0, 0.5], t_end=30.0, n=512)
    noisy = x * (1 + 0.01 * np.random.default_rng(0).standard_normal(x.shape))
    result = discover(t, noisy, feature_names=["x", "y"])
    assert any("/(" in term for terms in result.terms().values() for term in terms), result.equations
    _, other = _record(rhs, [1.0, 1.0], t_end=30.0, n=512)
    simulated = result.simulate(other[0], t)
    r2 = 1 - np.sum((simulated - other) ** 2, axis=0) / np.sum((other - other.mean(axis=0)) ** 2, axis=0)
    assert np.all(r2 > 0.9), (r2, result.equations)
