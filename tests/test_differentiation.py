from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from pipeline.differentiation import (
    SavitzkyGolay,
    SmoothingSpline,
    differentiate,
    estimate_noise_sd,
    smooth_and_differentiate,
)
from pipeline.errors import DifferentiationError


def _relative_rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    trim = slice(len(truth) // 20, -len(truth) // 20)
    return float(np.sqrt(np.mean((estimate[trim] - truth[trim]) ** 2)) / np.std(truth))


@pytest.fixture
def noisy_sine() -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 4 * np.pi, 1000)
    rng = np.random.default_rng(0)
    return t, np.sin(t) + 0.01 * np.std(np.sin(t)) * rng.standard_normal(t.shape)


@pytest.mark.parametrize("method", ["auto", "spline", "savgol"])
def test_first_derivative_of_a_noisy_sine(noisy_sine, method: str) -> None:
    t, x = noisy_sine
    assert _relative_rmse(differentiate(t, x, method=method), np.cos(t)) < 0.02


@pytest.mark.parametrize("method", ["spline", "savgol"])
def test_second_derivative_of_a_noisy_sine(noisy_sine, method: str) -> None:
    t, x = noisy_sine
    assert _relative_rmse(differentiate(t, x, order=2, method=method), -np.sin(t)) < 0.1


def test_shapes_follow_the_input(noisy_sine) -> None:
    t, x = noisy_sine
    assert differentiate(t, x).shape == (1000,)
    assert differentiate(t, np.column_stack([x, 2 * x])).shape == (1000, 2)
    out = differentiate([t, t[:500]], [x, x[:500]])
    assert [o.shape for o in out] == [(1000,), (500,)]


def test_irregular_sampling_with_the_spline() -> None:
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 2 * np.pi, 400))
    x = np.sin(t) + 0.005 * rng.standard_normal(t.shape)
    assert _relative_rmse(differentiate(t, x, method="spline"), np.cos(t)) < 0.03
    with pytest.raises(DifferentiationError, match="uniformly sampled"):
        differentiate(t, x, method="savgol")


def test_finite_differences_are_exact_on_a_quadratic_on_an_irregular_grid() -> None:
    t = np.array([0.0, 0.1, 0.35, 0.4, 0.9, 1.0])
    np.testing.assert_allclose(differentiate(t, t**2, method="finite_difference"), 2 * t, atol=1e-12)


def test_nan_policy_raise_names_the_row_and_interpolate_fills(noisy_sine) -> None:
    t, x = noisy_sine
    x = x.copy()
    x[10] = np.nan
    with pytest.raises(DifferentiationError, match="row 10"):
        differentiate(t, x)
    filled = differentiate(t, x, nan_policy="interpolate")
    assert np.all(np.isfinite(filled))


def test_bad_requests_are_named() -> None:
    t = np.linspace(0, 1, 50)
    with pytest.raises(DifferentiationError, match="unknown differentiation method 'magic'"):
        differentiate(t, t, method="magic")
    with pytest.raises(DifferentiationError, match=r"no parameter\(s\) \['width'\]"):
        differentiate(t, t, method="savgol", width=3)
    with pytest.raises(DifferentiationError, match="order must be 1 or 2"):
        differentiate(t, t, order=3)
    with pytest.raises(DifferentiationError, match="window must be odd"):
        differentiate(t, t, method="savgol", window=4)


def test_estimators_follow_the_sklearn_contract() -> None:
    estimator = SavitzkyGolay(window=11)
    assert clone(estimator).get_params() == {"window": 11, "polyorder": 3}
    assert SmoothingSpline().get_params() == {"lam": None}


def test_noise_level_is_estimated_from_the_data(noisy_sine) -> None:
    t = np.linspace(0, 10, 2000)
    rng = np.random.default_rng(2)
    x = np.sin(t) + 0.05 * rng.standard_normal(t.shape)
    assert estimate_noise_sd(x) == pytest.approx(0.05, rel=0.15)
    result = smooth_and_differentiate(t, x)
    assert result.method == "spline" and result.noise_sd[0] == pytest.approx(0.05, rel=0.15)
    assert np.std(result.smoothed[:, 0] - np.sin(t)) < 0.02
