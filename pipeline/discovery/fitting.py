"""Coefficients for given supports: least squares in the derivative, integral and weak forms.

Least squares on estimated derivatives inherits the differentiator's bias (worst at the
ends of a series, where an exponential decay carries most of its information). The
integral form regresses the observed states on the integrated library,
x(t) = c + ∫ theta(x_s) dt · xi, with one free offset c per trajectory: the noise enters
only on the left, unbiased, but errors in the smoothed states accumulate over long,
chaotic records. The weak form integrates against test functions
(:mod:`pipeline.discovery.weak`). Neither wins everywhere, so :mod:`pipeline.discovery.judging`
fits all and lets multiple shooting decide. With conservation laws every form fits the
equations jointly so that they keep them exactly.
"""

from __future__ import annotations

import numpy as np

from pipeline.discovery.conservation import constrained_fit
from pipeline.discovery.design import Design

__all__ = ["derivative_fit", "fit_integral_form", "fit_support", "linear_fits", "trajectory_centred"]


def fit_support(theta: np.ndarray, y: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (p,) of y (n,) on the active columns of theta (n, p); zero elsewhere."""
    coef = np.zeros(theta.shape[1])
    if support.any():
        coef[support] = np.linalg.lstsq(theta[:, support], y, rcond=None)[0]
    return coef


def derivative_fit(
    theta: np.ndarray, x_dot: np.ndarray, supports: np.ndarray, laws: np.ndarray | None = None
) -> np.ndarray:
    """Least squares of the derivatives (n, d) on the supports (d, p); joint and law-keeping when ``laws``."""
    if laws is not None and len(laws):
        return constrained_fit(theta.T @ theta, x_dot.T @ theta, supports, laws)
    return np.vstack([fit_support(theta, x_dot[:, j], supports[j]) for j in range(supports.shape[0])])


def trajectory_centred(values: np.ndarray, lengths: list[int]) -> np.ndarray:
    """Rows minus their trajectory's mean (removes the integral form's free offsets)."""
    out = np.empty_like(values)
    start = 0
    for n in lengths:
        rows = slice(start, start + n)
        out[rows] = values[rows] - values[rows].mean(axis=0)
        start += n
    return out


def fit_integral_form(design: Design, supports: np.ndarray, laws: np.ndarray | None = None) -> np.ndarray:
    """Integral-form least squares on the supports (d, p) → coefficients (d, p).

    With conservation ``laws`` (r, d) the equations are fitted jointly so that they keep them.
    """
    integrated, lengths, observed = design.integrated, design.lengths, design.observed
    if laws is not None and len(laws):
        a, b = trajectory_centred(integrated, lengths), trajectory_centred(observed, lengths)
        return constrained_fit(a.T @ a, b.T @ a, supports, laws)
    offsets = np.zeros((integrated.shape[0], len(lengths)))
    start = 0
    for k, n in enumerate(lengths):
        offsets[start : start + n, k] = 1.0
        start += n
    coefficients = np.zeros_like(supports, dtype=float)
    for j in range(supports.shape[0]):
        a = np.hstack([offsets, integrated[:, supports[j]]])
        solution = np.linalg.lstsq(a, observed[:, j], rcond=None)[0]
        coefficients[j, supports[j]] = solution[len(lengths) :]
    return coefficients


def linear_fits(
    design: Design, supports: np.ndarray, laws: np.ndarray | None = None, form: str | None = None
) -> dict[str, np.ndarray]:
    """Coefficients (d, p) of the supports by every fit form the design allows: derivative, integral, weak; with a
    ``form``, by that one only (none when the design does not allow it)."""
    weak = design.weak
    forms = {
        "derivative": lambda: derivative_fit(design.theta, design.x_dot, supports, laws),
        "integral": lambda: fit_integral_form(design, supports, laws),
        "weak": None if weak is None else lambda: derivative_fit(weak.design, weak.target, supports, laws),
    }
    return {name: fit() for name, fit in forms.items() if fit is not None and form in (None, name)}
