"""The benchmark signals for derivative estimation, with exact first and second derivatives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

__all__ = ["Signal", "make_signals"]


@dataclass(frozen=True)
class Signal:
    """A sampled signal: times (n,), values, first and second derivatives (n,)."""

    name: str
    t: np.ndarray
    x: np.ndarray
    dx: np.ndarray
    ddx: np.ndarray

    @property
    def uniform(self) -> bool:
        steps = np.diff(self.t)
        return bool(np.allclose(steps, steps.mean(), rtol=1e-6))


def _lorenz(_t: float, s: np.ndarray) -> np.ndarray:
    x, y, z = s
    return np.array([10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z])


def make_signals(n: int = 1000) -> list[Signal]:
    """Sine, two sines, Lorenz x, logistic, exponential decay, and an irregularly sampled sine."""
    out = []
    t = np.linspace(0, 4 * np.pi, n)
    out.append(Signal("sine", t, np.sin(t), np.cos(t), -np.sin(t)))
    out.append(
        Signal(
            "two_sines",
            t,
            np.sin(t) + 0.5 * np.sin(5 * t),
            np.cos(t) + 2.5 * np.cos(5 * t),
            -np.sin(t) - 12.5 * np.sin(5 * t),
        )
    )
    t = np.linspace(0, 5, n)
    sol = solve_ivp(_lorenz, (0, 5), [-8, 8, 27], t_eval=t, rtol=1e-11, atol=1e-12, method="DOP853").y
    rhs = np.array([_lorenz(0, s) for s in sol.T]).T
    out.append(Signal("lorenz_x", t, sol[0], rhs[0], 10 * (rhs[1] - rhs[0])))
    t = np.linspace(0, 10, n)
    logistic = 1 / (1 + np.exp(-(t - 5)))
    out.append(
        Signal("logistic", t, logistic, logistic * (1 - logistic), logistic * (1 - logistic) * (1 - 2 * logistic))
    )
    t = np.linspace(0, 5, n)
    out.append(Signal("exp_decay", t, np.exp(-t), -np.exp(-t), np.exp(-t)))
    rng = np.random.default_rng(123)
    t = np.sort(np.concatenate([[0.0, 4 * np.pi], rng.uniform(0, 4 * np.pi, n - 2)]))
    out.append(Signal("irregular_sine", t, np.sin(t), np.cos(t), -np.sin(t)))
    return out
