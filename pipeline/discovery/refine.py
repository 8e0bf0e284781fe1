"""Output-error refinement: adjust the chosen model's coefficients so its simulations track the observed states.

Every linear fit (derivative, integral or weak form) regresses on quantities computed from
the data; at high noise their errors bias the coefficients, and a small bias in a damping
or coupling term changes where a simulation goes. Refinement keeps the terms and
minimises the multiple-shooting residual itself: each trajectory is cut into blocks, the
model is simulated across every block from the smoothed state at its start, and the
residual is (simulated − observed) / spread of each state. Levenberg–Marquardt (scipy's
``least_squares``) starts from the best linear fit; the conservation laws, if any, hold
throughout (the search runs in the subspace of coefficients that keep them). The refined
coefficients are kept only if they lower the shooting error. The number of residual
evaluations is capped, so the cost is bounded and the result does not depend on the
machine's speed.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from pipeline.discovery.conservation import law_basis
from pipeline.discovery.library import Library
from pipeline.discovery.refit import evaluation_budget, shooting_plan, simulate_block
from pipeline.discovery.simulate import simulate_model
from pipeline.errors import SimulationError

__all__ = ["refine_by_shooting"]

ITERATIONS = 10
"""Residual evaluations outside Jacobian estimates (about one per Levenberg–Marquardt iteration); each Jacobian
costs one more per free coefficient."""
AT_NOISE_FLOOR = 1.1
"""A residual within this factor of the noise floor (mean of (noise sd / spread)²) leaves nothing to refine."""
FAILED_RESIDUAL = 1e3
"""Residual of a block whose simulation fails (in units of each state's spread)."""


def _stacked_blocks(ts: list[np.ndarray], plan: list[tuple[int, int, int]]) -> tuple[np.ndarray, int] | None:
    """The relative times (m,) and sample count shared by every block, if the blocks can run as one batch."""
    length = min(b + 1 - a for _, a, b in plan)
    grids = [ts[k][a : a + length] - ts[k][a] for k, a, _ in plan]
    reference = grids[0]
    tolerance = 1e-9 * max(float(reference[-1]), 1e-300)
    if all(np.allclose(g, reference, rtol=0.0, atol=tolerance) for g in grids[1:]):
        return reference, length
    return None


def refine_by_shooting(
    coefficients: np.ndarray,
    library: Library,
    ts: list[np.ndarray],
    xs: list[np.ndarray],
    smoothed: list[np.ndarray],
    *,
    n_blocks: int,
    max_seconds: float,
    us: list[np.ndarray] | None = None,
    laws: np.ndarray | None = None,
    noise_sd: np.ndarray | None = None,
) -> tuple[np.ndarray, float, float]:
    """Coefficients (d, p) on the same terms that minimise the multiple-shooting residual.

    Args:
        coefficients: the starting model (d, p); its zero pattern is kept.
        library: the p terms.
        ts, xs, smoothed: times (n_k,), observed and smoothed states (n_k, d) per trajectory.
        n_blocks: shooting blocks per trajectory.
        max_seconds: wall-time cap of each block simulation.
        us: known inputs per trajectory (n_k, m), if the model has control terms.
        laws: conservation laws (r, d) the coefficients must keep.
        noise_sd: the states' measurement noise sd (d,); when the residual is already at the noise
            floor it implies, there is nothing to refine and the search is skipped.

    Returns:
        The refined coefficients (the starting ones if refinement did not help), and the mean squared
        shooting residual before and after.
    """
    d = coefficients.shape[0]
    supports = coefficients != 0
    slots, basis = law_basis(supports, np.zeros((0, d)) if laws is None else laws)
    if not slots or basis.shape[1] == 0:
        return coefficients, float("nan"), float("nan")
    start = np.array([coefficients[j, k] for j, k in slots])
    spread = np.vstack(xs).std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    plan = shooting_plan(ts, n_blocks)

    def model(free: np.ndarray) -> np.ndarray:
        out = np.zeros_like(coefficients)
        for (j, k), value in zip(slots, basis @ free):
            out[j, k] = value
        return out

    stacked = _stacked_blocks(ts, plan) if us is None else None
    if stacked is not None:  # every block on the same relative time grid: one batched simulation per residual
        relative, length = stacked
        stacked_observed = np.stack([xs[k][a : a + length] for k, a, _ in plan], axis=1)  # (m, B, d)
        stacked_starts = np.array([smoothed[k][a] for k, a, _ in plan])  # (B, d)

    def residual(free: np.ndarray) -> np.ndarray:
        current = model(free)
        if stacked is not None:
            observed = stacked_observed
            try:
                simulated = simulate_model(
                    current,
                    library,
                    stacked_starts,
                    relative,
                    max_seconds=max_seconds,
                    max_evaluations=evaluation_budget(length),
                )
                return ((simulated - observed) / spread).ravel()
            except SimulationError:
                return np.full(observed.size, FAILED_RESIDUAL)
        parts = []
        for k, a, b in plan:
            observed = xs[k][a : b + 1]
            u = None if us is None else us[k][a : b + 1]
            try:
                simulated = simulate_block(
                    current, library, ts[k][a : b + 1], smoothed[k][a], u, max_seconds=max_seconds
                )
                parts.append(((simulated - observed) / spread).ravel())
            except SimulationError:
                parts.append(np.full(observed.size, FAILED_RESIDUAL))
        return np.concatenate(parts)

    initial = basis.T @ start
    before = float(np.mean(residual(initial) ** 2))
    floor = 0.0 if noise_sd is None else float(np.mean((np.asarray(noise_sd) / spread) ** 2))
    if not np.isfinite(before) or before >= FAILED_RESIDUAL**2 or before <= AT_NOISE_FLOOR * floor:
        return coefficients, before, before
    solution = least_squares(residual, initial, method="lm", x_scale="jac", max_nfev=ITERATIONS)
    after = float(np.mean(solution.fun**2))
    if not after < before:
        return coefficients, before, before
    return model(solution.x), before, after
