"""Forward sensitivities: how a model's simulated states move with its free coefficients and with its start.

Refinement by shooting needs the Jacobian of every block's simulated states with respect to the model's free
coefficients and the block's start. Finite differences of two adaptive solves do not give it: the solver picks
another step sequence for the nudged model, and its own error (about the tolerance, 1e-6) swamps a nudge small
enough to be linear (a Lorenz record at rho ≈ 100: the search stopped at a residual 200 times the noise with the
exact terms). Here the variational equations are integrated with the states, in one solve, so the derivatives
follow the same steps:

    dS_q/dt = J(x) S_q + ∂f/∂q,   S_q(0) = 0;     dS_s/dt = J(x) S_s,   S_s(0) = I,

with J(x) = ∂f/∂x by central differences of the compiled right-hand side (all 2d shifts in one batched call) and
∂f/∂q the library's terms at x (the model is linear in its coefficients).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pipeline.discovery.library import Library
from pipeline.discovery.simulate import ABSOLUTE_SHARE, EvaluationCount, _Guard, _solve

__all__ = ["STATE_STEP", "Sensitivities", "simulate_with_sensitivities"]

STATE_STEP = 1e-6
"""The central-difference step of J(x) = ∂f/∂x, relative to max(1, |x|) (states are of order 1 in fitting units):
its truncation error (~ step²) and rounding error (~ 1e-16 / step) are both far below the solver's tolerance."""

Sensitivities = tuple[np.ndarray, np.ndarray, np.ndarray]
"""States (m, B, d), their derivatives by the free values (m, B, d, k) and by the block's start (m, B, d, d)."""


def simulate_with_sensitivities(
    coefficients: np.ndarray,
    library: Library,
    slots: Sequence[tuple[int, int]],
    basis: np.ndarray,
    starts: np.ndarray,
    t: np.ndarray,
    *,
    control: Callable[[float], np.ndarray] | None = None,
    max_evaluations: int,
    rtol: float,
    count: EvaluationCount | None = None,
) -> Sensitivities:
    """The model (d, p) simulated from every start (B, d) over the times ``t`` (m,), with its sensitivities.

    The free values q (k,) set the coefficients at ``slots`` ((equation, term) pairs, s of them) as ``basis`` (s, k)
    @ q. With a ``control`` u(t) (one start only), the library's inputs follow it and are not differentiated.

    Each right-hand-side evaluation is added to ``count`` as 1 + k + d: what finite differences of plain simulations
    would cost, so that budgets set in plain evaluations bound the time alike. ``max_evaluations`` caps the calls
    themselves.

    Raises:
        SimulationError: as :func:`~pipeline.discovery.simulate.simulate_model`.
    """
    from pipeline.discovery.compiled_rhs import compile_model  # numba loads here, as in simulate_model

    n_blocks, d = starts.shape
    k = basis.shape[1]
    model = compile_model(coefficients, library)
    unit = np.zeros((len(slots), library.size))
    for i, (_, term) in enumerate(slots):
        unit[i, term] = 1.0
    terms = compile_model(unit, library)  # the slots' library terms at x, (rows, s)
    by_slot = np.zeros((d, len(slots), k))  # ∂f_j/∂q = Σ_i [slot i in equation j] θ_i(x) basis_i
    for i, (equation, _) in enumerate(slots):
        by_slot[equation, i] = basis[i]
    shifts = np.concatenate([np.eye(d), -np.eye(d)])  # (2d, d)
    limit = 1e6 * max(1.0, float(np.max(np.abs(starts))))
    guard = _Guard(limit, None, n_blocks * d, max_evaluations, (float(t[0]), float(t[-1])))
    size = n_blocks * d

    def inputs(rows: np.ndarray, now: float) -> np.ndarray:
        if control is None:
            return rows
        return np.concatenate([rows, np.broadcast_to(control(now), (rows.shape[0], len(control(now))))], axis=1)

    def rhs(now: float, z: np.ndarray) -> np.ndarray:
        states = z[:size]
        guard.check(now, states)
        x = states.reshape(n_blocks, d)
        step = STATE_STEP * np.maximum(1.0, np.abs(x))  # (B, d)
        shifted = x[:, None, :] + shifts[None] * np.tile(step, 2)[:, :, None]  # (B, 2d, d)
        rates = model(inputs(np.concatenate([x, shifted.reshape(-1, d)]), now))
        rate, moved = rates[:n_blocks], rates[n_blocks:].reshape(n_blocks, 2 * d, d)
        jacobian = np.swapaxes((moved[:, :d] - moved[:, d:]) / (2.0 * step[:, :, None]), 1, 2)  # (B, d, d)
        sensitivity = z[size:].reshape(n_blocks, d, k + d)
        change = jacobian @ sensitivity
        change[:, :, :k] += np.einsum("bi,jim->bjm", terms(inputs(x, now)), by_slot)
        return np.concatenate([rate.ravel(), change.ravel()])

    start = np.zeros((n_blocks, d, k + d))
    start[:, :, k:] = np.eye(d)
    atol = np.concatenate([np.full(size, rtol * ABSOLUTE_SHARE), np.full(start.size, rtol)])
    weighed = EvaluationCount()
    try:
        solution = _solve(rhs, np.concatenate([starts.ravel(), start.ravel()]), t, rtol, guard, weighed, atol)
    finally:
        if count is not None:
            count.calls += weighed.calls * (1 + k + d)
    states = solution[:, :size].reshape(t.shape[0], n_blocks, d)
    sensitivity = solution[:, size:].reshape(t.shape[0], n_blocks, d, k + d)
    return states, sensitivity[..., :k], sensitivity[..., k:]
