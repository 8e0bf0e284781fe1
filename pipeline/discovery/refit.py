"""Final coefficients for chosen supports: derivative, integral or weak-form least squares, whichever simulates best.

Least squares on estimated derivatives inherits the differentiator's bias (worst at
the ends of a series, where an exponential decay carries most of its information).
The integral form regresses the observed states on the integrated library,
x(t) = c + ∫ theta(x_s) dt · xi, with one free offset c per trajectory: the noise enters
only on the left, unbiased, but errors in the smoothed states accumulate over long,
chaotic records. Neither wins everywhere, so both are fitted and judged by multiple
shooting: each trajectory is cut into blocks, the model is simulated across every
block from the smoothed state at its start, and the error against the observed
states decides. Short blocks keep the judgement meaningful for chaotic systems.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid

from pipeline.discovery.conservation import constrained_fit
from pipeline.discovery.library import Library
from pipeline.discovery.selection import fit_support
from pipeline.discovery.simulate import interpolated_control, simulate_model
from pipeline.discovery.weak import WeakSystem
from pipeline.errors import SimulationError

__all__ = [
    "derivative_fit",
    "evaluation_budget",
    "fit_integral_form",
    "integrate_library",
    "refit_coefficients",
    "shooting_error",
    "shooting_plan",
    "simulate_block",
]


SHOOTING_EVALUATIONS_PER_SAMPLE = 30
"""Right-hand-side evaluations a shooting block may use per output sample (sane models here used about 0.5)."""


def integrate_library(theta: np.ndarray, ts: list[np.ndarray]) -> np.ndarray:
    """∫ theta dt from each trajectory's start, for library values (n, p) stacked over trajectories."""
    integrated = np.empty_like(theta)
    start = 0
    for t in ts:
        rows = slice(start, start + t.shape[0])
        integrated[rows] = cumulative_trapezoid(theta[rows], t, axis=0, initial=0.0)
        start += t.shape[0]
    return integrated


def _centred(values: np.ndarray, ts: list[np.ndarray]) -> np.ndarray:
    """Rows minus their trajectory's mean (removes the integral form's free offsets)."""
    out = np.empty_like(values)
    start = 0
    for t in ts:
        rows = slice(start, start + t.shape[0])
        out[rows] = values[rows] - values[rows].mean(axis=0)
        start += t.shape[0]
    return out


def fit_integral_form(
    integrated: np.ndarray,
    ts: list[np.ndarray],
    xs: list[np.ndarray],
    supports: np.ndarray,
    laws: np.ndarray | None = None,
) -> np.ndarray:
    """Integral-form least squares on the given supports (d, p) → coefficients (d, p).

    ``integrated`` is :func:`integrate_library` of the library on the smoothed states (n, p).
    With conservation ``laws`` (r, d) the equations are fitted jointly so that they keep them.
    """
    if laws is not None and len(laws):
        design, target = _centred(integrated, ts), _centred(np.vstack(xs), ts)
        return constrained_fit(design.T @ design, target.T @ design, supports, laws)
    offsets = np.zeros((integrated.shape[0], len(ts)))
    start = 0
    for k, t in enumerate(ts):
        offsets[start : start + t.shape[0], k] = 1.0
        start += t.shape[0]
    observed = np.vstack(xs)
    coefficients = np.zeros_like(supports, dtype=float)
    for j in range(supports.shape[0]):
        design = np.hstack([offsets, integrated[:, supports[j]]])
        solution = np.linalg.lstsq(design, observed[:, j], rcond=None)[0]
        coefficients[j, supports[j]] = solution[len(ts) :]
    return coefficients


def derivative_fit(
    theta: np.ndarray, x_dot: np.ndarray, supports: np.ndarray, laws: np.ndarray | None = None
) -> np.ndarray:
    """Least squares of the derivatives (n, d) on the supports (d, p); joint and law-keeping when ``laws``."""
    if laws is not None and len(laws):
        return constrained_fit(theta.T @ theta, x_dot.T @ theta, supports, laws)
    return np.vstack([fit_support(theta, x_dot[:, j], supports[j]) for j in range(supports.shape[0])])


def shooting_plan(ts: list[np.ndarray], n_blocks: int) -> list[tuple[int, int, int]]:
    """(trajectory, first row, last row) of every shooting block: each trajectory cut into ``n_blocks``."""
    plan = []
    for k, t in enumerate(ts):
        edges = np.linspace(0, t.shape[0] - 1, n_blocks + 1).astype(int)
        plan += [(k, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b - a >= 2]
    return plan


def evaluation_budget(samples: int) -> int:
    """Right-hand-side evaluations a shooting simulation over ``samples`` output times may use."""
    return SHOOTING_EVALUATIONS_PER_SAMPLE * samples + 1000


def simulate_block(
    coefficients: np.ndarray,
    library: Library,
    t: np.ndarray,
    start: np.ndarray,
    u: np.ndarray | None,
    *,
    max_seconds: float,
) -> np.ndarray:
    """One shooting block: the model simulated over the times t (m,) from ``start`` (d,), inputs u (m, k) if any.

    Raises:
        SimulationError: as :func:`~pipeline.discovery.simulate.simulate_model`, or over the evaluation budget.
    """
    control = None if u is None else interpolated_control(t, u)
    return simulate_model(
        coefficients,
        library,
        start,
        t,
        max_seconds=max_seconds,
        control=control,
        max_evaluations=evaluation_budget(t.shape[0]),
    )


def shooting_error(
    coefficients: np.ndarray,
    library: Library,
    ts: list[np.ndarray],
    xs: list[np.ndarray],
    smoothed: list[np.ndarray],
    *,
    n_blocks: int,
    max_seconds: float,
    us: list[np.ndarray] | None = None,
) -> float:
    """Mean over blocks of the scaled squared error of block-wise simulations (inf if one fails).

    ``us``: known inputs per trajectory (n_k, m), when the model has control terms.
    """
    scale = np.vstack(xs).std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    errors = []
    for k, a, b in shooting_plan(ts, n_blocks):
        u = None if us is None else us[k][a : b + 1]
        try:
            sim = simulate_block(coefficients, library, ts[k][a : b + 1], smoothed[k][a], u, max_seconds=max_seconds)
        except SimulationError:
            return float("inf")
        errors.append(np.mean(((sim - xs[k][a : b + 1]) / scale) ** 2))
    return float(np.mean(errors)) if errors else float("inf")


def refit_coefficients(
    theta: np.ndarray,
    integrated: np.ndarray,
    x_dot: np.ndarray,
    supports: np.ndarray,
    library: Library,
    ts: list[np.ndarray],
    xs: list[np.ndarray],
    smoothed: list[np.ndarray],
    *,
    n_blocks: int,
    max_seconds: float,
    us: list[np.ndarray] | None = None,
    laws: np.ndarray | None = None,
    weak: WeakSystem | None = None,
) -> tuple[np.ndarray, str, dict[str, float]]:
    """Choose between derivative and integral least squares for the supports (d, p).

    ``theta`` (n, p) is the library on the smoothed states, ``integrated`` its time integral
    (:func:`integrate_library`), both computed once by the caller. With conservation ``laws``
    (r, d), both fits keep them exactly (:func:`~pipeline.discovery.conservation.constrained_fit`).
    With the ``weak`` form of the data, least squares on it is a third candidate.

    Returns:
        The coefficients (d, p), the name of the winning fit, and each fit's shooting error.
    """
    candidates = {
        "derivative": derivative_fit(theta, x_dot, supports, laws),
        "integral": fit_integral_form(integrated, ts, xs, supports, laws),
    }
    if weak is not None:
        candidates["weak"] = derivative_fit(weak.design, weak.target, supports, laws)
    scores = {
        name: shooting_error(c, library, ts, xs, smoothed, n_blocks=n_blocks, max_seconds=max_seconds, us=us)
        for name, c in candidates.items()
    }
    best = min(scores, key=lambda name: scores[name])
    return candidates[best], best, scores
