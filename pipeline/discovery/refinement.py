"""Output-error refinement: adjust the chosen model's coefficients so its simulations track the observed states.

Every linear fit (derivative, integral or weak form) regresses on quantities computed from
the data; at high noise their errors bias the coefficients, and a small bias in a damping
or coupling term changes where a simulation goes. Refinement keeps the terms and
minimises the multiple-shooting residual itself (:class:`~pipeline.discovery.shooting.ShootingProblem`):
the residual is (simulated − observed) / spread of each state over every block (and / the
noise expected at each sample, where the noise varies along the record).
Levenberg–Marquardt (scipy's ``least_squares``) starts from the best linear fit; the
conservation laws, if any, hold throughout (the search runs in the subspace of coefficients
that keep them). The refined coefficients are kept only if they lower the shooting error.
The number of residual evaluations is capped, and with it the number of the solver's
right-hand-side evaluations, so the cost is bounded and the result does not depend on the
machine's speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares

from pipeline.discovery.conservation import law_basis
from pipeline.discovery.library import Library
from pipeline.discovery.shooting import FAILED_RESIDUAL, ShootingProblem
from pipeline.discovery.simulate import EvaluationCount
from pipeline.errors import SimulationError

__all__ = ["Refinement", "refine_by_shooting", "residual_function"]

ITERATIONS = 10
"""The cap on the Levenberg–Marquardt search's residual evaluations, passed as scipy's ``max_nfev``, which for method
``lm`` counts the Jacobian's finite differences too (one per free coefficient): with k free coefficients the search
makes about 10/(k + 1) iterations, at least one. Honouring 10 full iterations (``max_nfev`` 10 (k + 1)) changed no
outcome on the tuning half of benchmarks/generalisation.py and cost 20-38 % more fit time (Hodgkin-Huxley 13.8 s at
1 % noise), so the cap stays.

The Jacobian's finite differences use scipy's step (about 1.5e-8 relative), below what the adaptive solver's own
error (:data:`~pipeline.discovery.simulate.SOLVER_TOLERANCE` 1e-6) lets a difference resolve, so the search often
stops near its start. A step matched to that tolerance (``diff_step`` sqrt(1e-6) = 1e-3, also 1e-4 and 1e-5) lets it
converge much further (a Lorenz record at rho = 99.96 without noise: residual 0.0131 -> 0.0003), yet on the tuning
half it lost a success (Morris-Lecar at 1 %: R² 0.99 -> 0.87) and gained a second-state one (Hodgkin-Huxley at
1 %), with 10 full iterations or without; at noise seed 1 no count changed and the mean R² at 1 % fell 0.962 ->
0.943. Closer fits to a noisy record do not simulate better from its start, so scipy's step stays.

An exact Jacobian and moving starts were tried too and not kept. The Jacobian came from the forward sensitivities
(the variational equations integrated with the states in one LSODA solve, ∂f/∂x by central differences of the
compiled kernel; they matched tight finite differences to 1e-7), and each block's start moved as multiple shooting's
node values within 2 noise sd of its smoothed value (held starts bias the coefficients: Lorenz at rho ≈ 100 and 1 %
noise, exact terms, rho 96.4 held against 100.2 free after 300 iterations). On the tuning half (seeds 0 and 1) the
median coefficient error of the polynomial systems halved (1 %: 0.0058 -> 0.0033 and 0.0112 -> 0.0064; 5 %: 0.054 ->
0.021 and 0.104 -> 0.044) and the counts barely moved (151/122/70 -> 151/122/69, 152/116/65 -> 152/118/65); on the
validation half the coefficient error at 1 % fell 0.046 -> 0.026 and the truth's coverage by the intervals of
exact-structure systems rose, but successes / second-state successes / exact structures went 157/96/60 -> 156/94/58
(exact at 1 % 20 -> 18 of 28), and the median fit took 10-15 % longer. Variants: held starts with the exact Jacobian
changed no tuning count and made the slowest fit 9.5 s; keeping the refined coefficients by the moved starts' residual
let surrogates fit from moved starts (validation 156/93/59, Hindmarsh-Rose at 1 % R² 0.92 -> 0.82); starts free
without bounds lost Morris-Lecar without noise (R² 1.00 -> 0.95)."""
EVALUATIONS = 100_000
"""Right-hand-side evaluations the search may use in all (:func:`_affordable_iterations`), 1 to 2 s of a 2020s
core: a stiff model with many free coefficients gets fewer iterations. On the tuning half of the published corpus
this shortens 4 of 156 searches (a 4-state neuron model with over 30 terms, a chaotic flow at 5 % noise)."""
AT_NOISE_FLOOR = 1.1
"""A residual within this factor of the noise floor (mean of (noise sd / spread)²) leaves nothing to refine."""


@dataclass(frozen=True)
class Refinement:
    """The refined coefficients (d, p) and the mean squared shooting residual before and after.

    ``coefficients`` are the starting ones (made to keep the laws) when refinement did not help (then
    ``after == before``).
    """

    coefficients: np.ndarray
    before: float
    after: float

    @property
    def improved(self) -> bool:
        """Whether the refined coefficients lowered the residual."""
        return bool(self.after < self.before)


def residual_function(
    problem: ShootingProblem,
    model: Callable[[np.ndarray], np.ndarray],
    count: EvaluationCount,
    library_of: Callable[[np.ndarray], Library] | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Residual vector of the free parameters: every block's (simulated − observed) / its scale (the spread,
    times the relative noise where the problem has one), flattened; the simulations' right-hand-side evaluations
    are added to ``count``. ``model`` maps the free parameters to coefficients (d, p); ``library_of``, when given,
    to the library they are simulated over (the function terms' inner rates free too), else the problem's."""
    plan = problem.plan()
    shared = problem.shared_grid()

    def simulating(free: np.ndarray) -> ShootingProblem:
        return problem if library_of is None else replace(problem, library=library_of(free))

    if shared is not None:  # every block on the same relative time grid: one batched simulation per residual
        relative, length = shared
        observed, scale = problem.batched_observed(length), problem.batched_scale(length)  # (m, B, d)

        def batched(free: np.ndarray) -> np.ndarray:
            try:
                simulated = simulating(free).simulate_batch(model(free), relative, length, count)
                return ((simulated - observed) / scale).ravel()
            except SimulationError:
                return np.full(observed.size, FAILED_RESIDUAL)

        return batched

    def blockwise(free: np.ndarray) -> np.ndarray:
        current, simulator, parts = model(free), simulating(free), []
        for block in plan:
            observed_block, scale = problem.observed(block), problem.scale(block)
            try:
                parts.append(((simulator.simulate_block(current, block, count) - observed_block) / scale).ravel())
            except SimulationError:
                parts.append(np.full(observed_block.size, FAILED_RESIDUAL))
        return np.concatenate(parts)

    return blockwise


def _affordable_iterations(per_residual: int, n_free: int, evaluations: int = EVALUATIONS) -> int:
    """The search's cap on residual evaluations: :data:`ITERATIONS`, lowered to the number of full iterations (a
    residual and a Jacobian of ``n_free`` residuals, each costing ``per_residual`` evaluations) that fit in
    ``evaluations``; at least 1. The first Jacobian is always taken, so a model with many free coefficients may
    overrun ``evaluations`` by up to one Jacobian (:data:`~pipeline.discovery.pruning.TRIAL_EVALUATIONS`)."""
    per_iteration = max(per_residual, 1) * (n_free + 1)
    return int(np.clip(evaluations // per_iteration, 1, ITERATIONS))


def refine_by_shooting(
    coefficients: np.ndarray,
    problem: ShootingProblem,
    *,
    laws: np.ndarray | None = None,
    noise_sd: np.ndarray | None = None,
    evaluations: int = EVALUATIONS,
    count: EvaluationCount | None = None,
) -> Refinement:
    """Coefficients (d, p) on the same terms that minimise the multiple-shooting residual of ``problem``.

    Args:
        coefficients: the starting model (d, p); its zero pattern is kept. With ``laws``, a start that breaks
            them is first projected onto the coefficients that keep them (also when the search is then skipped).
        problem: the blocks, data and library to simulate.
        laws: conservation laws (r, d) the coefficients must keep.
        noise_sd: the states' measurement noise sd (d,); when the residual is already at the noise
            floor it implies, there is nothing to refine and the search is skipped.
        evaluations: right-hand-side evaluations the search may use (:func:`_affordable_iterations`).
        count: where the simulations' right-hand-side evaluations are added up (a fresh count when None).
    """
    d = coefficients.shape[0]
    supports = coefficients != 0
    slots, basis = law_basis(supports, np.zeros((0, d)) if laws is None else laws)
    if not slots or not problem.plan():
        return Refinement(coefficients, float("nan"), float("nan"))
    if basis.shape[1] == 0:  # the laws leave these terms no free value: only the zero model keeps them
        return Refinement(np.zeros_like(coefficients), float("nan"), float("nan"))
    start = np.array([coefficients[j, k] for j, k in slots])

    def model(free: np.ndarray) -> np.ndarray:
        out = np.zeros_like(coefficients)
        for (j, k), value in zip(slots, basis @ free):
            out[j, k] = value
        return out

    count = EvaluationCount() if count is None else count
    first = count.calls
    residual = residual_function(problem, model, count)
    initial = basis.T @ start
    kept = model(initial)  # the start made to keep the laws (itself when it keeps them, or there are none)
    before = float(np.mean(residual(initial) ** 2))
    floor = 0.0 if noise_sd is None else problem.noise_floor(noise_sd)
    if not np.isfinite(before) or before >= FAILED_RESIDUAL**2 or before <= AT_NOISE_FLOOR * floor:
        return Refinement(kept, before, before)
    iterations = _affordable_iterations(count.calls - first, initial.shape[0], evaluations)
    solution = least_squares(residual, initial, method="lm", x_scale="jac", max_nfev=iterations)
    after = float(np.mean(solution.fun**2))
    if not after < before:
        return Refinement(kept, before, before)
    return Refinement(model(solution.x), before, after)
