"""Forward sensitivities of simulations against finite differences of tightly solved simulations."""

from __future__ import annotations

import numpy as np

from pipeline.discovery.library import Library
from pipeline.discovery.sensitivities import simulate_with_sensitivities
from pipeline.discovery.simulate import simulate_model


def _lotka_volterra() -> tuple[Library, np.ndarray]:
    """x' = x - x y, y' = -y + x y on the terms 1, x, y, x y, with a saturation x/(1 + x) in y' (a function term)."""
    library = Library(("x", "y"), np.array([[0, 0], [1, 0], [0, 1], [1, 1]]), functions=(("saturation", 0),))
    coefficients = np.array([[0.0, 1.0, 0.0, -1.0, 0.0], [0.0, 0.0, -1.0, 0.8, 0.3]])
    return library, coefficients


def test_sensitivities_match_finite_differences_by_coefficients_through_a_basis_and_by_starts() -> None:
    library, coefficients = _lotka_volterra()
    slots = [(int(j), int(k)) for j, k in np.argwhere(coefficients != 0)]
    basis = np.zeros((len(slots), len(slots) - 1))  # the first two slots move together: a law-like constraint
    basis[0, 0] = basis[1, 0] = 1.0
    basis[2:, 1:] = np.eye(len(slots) - 2)
    starts = np.array([[1.5, 0.7], [0.6, 1.8]])
    t = np.linspace(0.0, 3.0, 61)
    states, by_free, by_start = simulate_with_sensitivities(
        coefficients, library, slots, basis, starts, t, max_evaluations=10**6, rtol=1e-9
    )
    assert states.shape == (61, 2, 2) and by_start.shape == (61, 2, 2, 2)
    assert by_free.shape == (61, 2, 2, basis.shape[1])
    np.testing.assert_allclose(states, simulate_model(coefficients, library, starts, t, rtol=1e-11), atol=1e-6)
    step = 1e-6
    for m in range(basis.shape[1]):
        moved = coefficients.copy()
        for (j, k), delta in zip(slots, step * basis[:, m]):
            moved[j, k] += delta
        difference = simulate_model(moved, library, starts, t, rtol=1e-12) - simulate_model(
            coefficients, library, starts, t, rtol=1e-12
        )
        np.testing.assert_allclose(by_free[..., m], difference / step, atol=2e-4)
    for state in range(2):
        moved = starts.copy()
        moved[:, state] += step
        difference = simulate_model(coefficients, library, moved, t, rtol=1e-12) - simulate_model(
            coefficients, library, starts, t, rtol=1e-12
        )
        np.testing.assert_allclose(by_start[..., state], difference / step, atol=2e-4)
    np.testing.assert_allclose(by_start[0], np.broadcast_to(np.eye(2), (2, 2, 2)))  # each start moves itself only


def test_sensitivities_follow_a_known_input_without_differentiating_it() -> None:
    """x' = -x + u(t): ∂x/∂(rate of x) and ∂x/∂(rate of u) against their closed forms for u = sin t from x(0) = 1."""
    library = Library(("x", "u"), np.array([[1, 0], [0, 1]]))
    coefficients = np.array([[-1.0, 1.0]])
    t = np.linspace(0.0, 2.0, 41)

    def control(now: float) -> np.ndarray:
        return np.array([np.sin(now)])

    states, by_free, by_start = simulate_with_sensitivities(
        coefficients, library, [(0, 0), (0, 1)], np.eye(2), np.array([[1.0]]), t, control=control,
        max_evaluations=10**6, rtol=1e-10,
    )  # fmt: skip
    exact = 1.5 * np.exp(-t) + 0.5 * (np.sin(t) - np.cos(t))
    np.testing.assert_allclose(states[:, 0, 0], exact, atol=1e-7)
    by_input = 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))  # ∂x/∂b for x' = a x + b u at a = -1, b = 1
    np.testing.assert_allclose(by_free[:, 0, 0, 1], by_input, atol=1e-6)
    np.testing.assert_allclose(by_start[:, 0, 0, 0], np.exp(-t), atol=1e-7)
