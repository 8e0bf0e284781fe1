"""Reference functions with known derivatives and indices, for examples, tests and benchmarks.

Each takes points (n, d) and returns outputs (n,); the ``*_gradient`` companions return (n, d).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

__all__ = [
    "BlackScholes",
    "ishigami",
    "ishigami_gradient",
    "ishigami_indices",
    "rosenbrock",
    "rosenbrock_gradient",
    "rosenbrock_hessian",
    "sobol_g",
    "sobol_g_gradient",
    "sobol_g_indices",
]


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """sin x1 + a sin² x2 + b x3⁴ sin x1 on [-π, π]³."""
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_gradient(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.column_stack(
        [
            np.cos(X[:, 0]) * (1 + b * X[:, 2] ** 4),
            2 * a * np.sin(X[:, 1]) * np.cos(X[:, 1]),
            4 * b * X[:, 2] ** 3 * np.sin(X[:, 0]),
        ]
    )


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic (S1, ST) for uniform inputs on [-π, π]³."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def sobol_g(X: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Π (|4x_i - 2| + a_i) / (1 + a_i) on [0, 1]^d."""
    return np.prod((np.abs(4 * X - 2) + a) / (1 + a), axis=1)


def sobol_g_gradient(X: np.ndarray, a: np.ndarray) -> np.ndarray:
    factors = (np.abs(4 * X - 2) + a) / (1 + a)
    dfactors = 4 * np.sign(4 * X - 2) / (1 + a)
    out = np.empty_like(X)
    for i in range(X.shape[1]):
        out[:, i] = dfactors[:, i] * np.prod(np.delete(factors, i, axis=1), axis=1)
    return out


def sobol_g_indices(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Analytic (S1, ST) of the Sobol G function."""
    vi = 1 / (3 * (1 + a) ** 2)
    v = np.prod(1 + vi) - 1
    st = vi * np.array([np.prod(np.delete(1 + vi, i)) for i in range(len(a))]) / v
    return vi / v, st


def rosenbrock(X: np.ndarray, b: float = 10.0) -> np.ndarray:
    """The seed's loss landscape (x - 1)² + b (y - x²)², minimum at (1, 1)."""
    return (X[:, 0] - 1) ** 2 + b * (X[:, 1] - X[:, 0] ** 2) ** 2


def rosenbrock_gradient(X: np.ndarray, b: float = 10.0) -> np.ndarray:
    x, y = X[:, 0], X[:, 1]
    return np.column_stack([2 * (x - 1) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])


def rosenbrock_hessian(X: np.ndarray, b: float = 10.0) -> np.ndarray:
    x, y = X[:, 0], X[:, 1]
    H = np.empty((len(X), 2, 2))
    H[:, 0, 0] = 2 - 4 * b * y + 12 * b * x**2
    H[:, 0, 1] = H[:, 1, 0] = -4 * b * x
    H[:, 1, 1] = 2 * b
    return H


@dataclass(frozen=True)
class BlackScholes:
    """European call under Black–Scholes: price and Greeks in closed form.

    Arguments are arrays broadcast together: spot S, volatility sigma (per year), time to expiry T (years).
    Theta is dC/dt = -dC/dT (per year of calendar time).
    """

    strike: float = 100.0
    rate: float = 0.05

    def _d(self, S: np.ndarray, sigma: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d1 = (np.log(S / self.strike) + (self.rate + 0.5 * sigma**2) * T) / (sigma * np.sqrt(T))
        return d1, d1 - sigma * np.sqrt(T)

    def price(self, S: np.ndarray, sigma: np.ndarray, T: np.ndarray) -> np.ndarray:
        d1, d2 = self._d(S, sigma, T)
        return S * norm.cdf(d1) - self.strike * np.exp(-self.rate * T) * norm.cdf(d2)

    def delta(self, S: np.ndarray, sigma: np.ndarray, T: np.ndarray) -> np.ndarray:
        return norm.cdf(self._d(S, sigma, T)[0])

    def gamma(self, S: np.ndarray, sigma: np.ndarray, T: np.ndarray) -> np.ndarray:
        return norm.pdf(self._d(S, sigma, T)[0]) / (S * sigma * np.sqrt(T))

    def vega(self, S: np.ndarray, sigma: np.ndarray, T: np.ndarray) -> np.ndarray:
        return S * norm.pdf(self._d(S, sigma, T)[0]) * np.sqrt(T)

    def theta(self, S: np.ndarray, sigma: np.ndarray, T: np.ndarray) -> np.ndarray:
        d1, d2 = self._d(S, sigma, T)
        return -S * norm.pdf(d1) * sigma / (2 * np.sqrt(T)) - self.rate * self.strike * np.exp(
            -self.rate * T
        ) * norm.cdf(d2)
