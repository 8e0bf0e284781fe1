"""Output-error refinement: adjust the chosen model's coefficients so its simulations track the observed states.

Every linear fit (derivative, integral or weak form) regresses on quantities computed from
the data; at high noise their errors bias the coefficients, and a small bias in a damping
or coupling term changes where a simulation goes. Refinement keeps the terms and
minimises the multiple-shooting residual itself (:class:`~pipeline.discovery.shooting.ShootingProblem`):
the residual is (simulated − observed) / spread of each state over every block (and / the
noise expected at each sample, where the noise varies along the record).

The search moves the blocks' starts too, as multiple shooting's node values: each block starts from its smoothed
state, whose own error is of the order of the noise, and with the starts held there the coefficients absorb that
error (a Lorenz record at rho ≈ 100 and 1 % noise, the exact terms: rho 96.4 with the starts held, 100.2 with them
free). Each start may move up to :data:`START_REACH` noise standard deviations per state, so a model that misses the
record by more than its noise cannot hide the misfit in its starts (without noise the starts stay put). The Jacobian
comes from the forward sensitivities (:mod:`~pipeline.discovery.sensitivities`): finite differences of adaptive
solves resolve nothing below the solver's tolerance, and the search used to stop near its start.

The search (scipy's ``least_squares``: trust-region reflective within the starts' bounds, Levenberg–Marquardt when
the starts are held) starts from the best linear fit; the conservation laws, if any, hold throughout (it runs in the
subspace of coefficients that keep them). The refined coefficients are kept only if they lower the residual from the
smoothed starts too, so that a surrogate cannot trade its fit from the record's states for a fit from moved ones.
Residual evaluations and the solver's right-hand-side evaluations are capped, so the cost is bounded and the result
does not depend on the machine's speed.

On the tuning half of benchmarks/generalisation.py (noise seeds 0 and 1, against the search with finite differences
and held starts): median coefficient error of the polynomial systems 0.0058 -> 0.0033 and 0.0112 -> 0.0064 at 1 %
noise, 0.054 -> 0.021 and 0.104 -> 0.044 at 5 %; successes / second-state successes / exact structures over 0/1/5 %
noise 151/122/70 -> 151/122/69 and 152/116/65 -> 152/118/65. Tried and not kept: held starts with the sensitivities'
Jacobian (no count changed at either seed, slowest fit 9.5 s); the moved starts' residual as the test of keeping
(coefficient errors 0.0034/0.0050 at 1 %, 0.020/0.032 at 5 %, but 150/121/70 and 152/120/65, and on the validation
half one success, three second-state successes and one exact structure fewer, surrogates mostly: Hindmarsh-Rose at 1 %
R² 0.92 -> 0.82); free starts without bounds (Morris-Lecar without noise R² 1.00 -> 0.95: the surrogate's starts
moved to fit the blocks).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from pipeline.discovery.conservation import law_basis
from pipeline.discovery.sensitivities import simulate_with_sensitivities
from pipeline.discovery.shooting import FAILED_RESIDUAL, ShootingBlock, ShootingProblem, evaluation_budget
from pipeline.discovery.simulate import EvaluationCount, interpolated_control
from pipeline.errors import SimulationError

__all__ = ["Refinement", "refine_by_shooting"]

ITERATIONS = 10
"""The cap on the search's residual evaluations (scipy's ``max_nfev``; the Jacobian is not counted): about as many
iterations."""
EVALUATIONS = 100_000
"""Right-hand-side evaluations the search may use in all, 1 to 2 s of a 2020s core (a sensitivity solve's evaluation
counts 1 + k + d times: :func:`~pipeline.discovery.sensitivities.simulate_with_sensitivities`): a stiff model with
many free coefficients gets fewer iterations."""
START_REACH = 2.0
"""How far a block's start may move from its smoothed value, in noise standard deviations of each state."""
AT_NOISE_FLOOR = 1.1
"""A residual within this factor of the noise floor (mean of (noise sd / spread)²) leaves nothing to refine."""


@dataclass(frozen=True)
class Refinement:
    """The refined coefficients (d, p) and the mean squared shooting residual from the smoothed starts before and after.

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


class _Residuals:
    """The shooting residuals as a function of the free coefficients and every block's start, with their Jacobian.

    Calling it with the free values (k,) and the starts (B, d) gives every block's (simulated − observed) / its scale
    (the spread, times the relative noise where the problem has one), flattened; :attr:`owner` names the block of each
    entry. :meth:`jacobian` gives their derivatives by the free values and the starts, (m, k + B d), the starts'
    columns block by block, from the forward sensitivities (:mod:`~pipeline.discovery.sensitivities`). The
    simulations' right-hand-side evaluations are added to ``count``.
    """

    def __init__(
        self,
        problem: ShootingProblem,
        template: np.ndarray,
        slots: list[tuple[int, int]],
        basis: np.ndarray,
        count: EvaluationCount,
    ) -> None:
        self.problem, self.template, self.slots, self.basis, self.count = problem, template, slots, basis, count
        self.shared = problem.shared_grid()
        plan = problem.plan()
        if self.shared is not None:  # every block on the same relative time grid: one batched simulation
            length = self.shared[1]
            self.observed, self.scale = problem.batched_observed(length), problem.batched_scale(length)  # (m, B, d)
            self.owner = np.broadcast_to(np.arange(len(plan))[None, :, None], self.observed.shape).ravel()
        else:
            sizes = [problem.observed(block).size for block in plan]
            self.owner = np.repeat(np.arange(len(plan)), sizes)

    def model(self, free: np.ndarray) -> np.ndarray:
        """The coefficients (d, p) the free values (k,) set."""
        out = np.zeros_like(self.template)
        for (j, k), value in zip(self.slots, self.basis @ free):
            out[j, k] = value
        return out

    def __call__(self, free: np.ndarray, starts: np.ndarray) -> np.ndarray:
        coefficients, problem = self.model(free), self.problem
        if self.shared is not None:
            relative, length = self.shared
            try:
                simulated = problem.simulate_batch(coefficients, relative, length, self.count, starts)
            except SimulationError:
                return np.full(self.observed.size, FAILED_RESIDUAL)
            return ((simulated - self.observed) / self.scale).ravel()
        parts = []
        for block, start in zip(problem.plan(), starts):
            observed = problem.observed(block)
            try:
                simulated = problem.simulate_block(coefficients, block, self.count, start)
                parts.append(((simulated - observed) / problem.scale(block)).ravel())
            except SimulationError:
                parts.append(np.full(observed.size, FAILED_RESIDUAL))
        return np.concatenate(parts)

    def jacobian(self, free: np.ndarray, starts: np.ndarray, allowed: int) -> np.ndarray:
        """The residuals' derivatives (m, k + B d) at the free values (k,) and ``starts`` (B, d), the starts' columns
        block by block, from sensitivity solves that may use ``allowed`` evaluations as counted (each call 1 + k + d
        times); zero where a simulation fails or needs more (the search then stops there)."""
        k, (n_blocks, d) = free.shape[0], starts.shape
        calls = max(allowed // (1 + k + d), 1)  # the solver calls the count allows
        coefficients = self.model(free)
        jacobian = np.zeros((self.owner.shape[0], k + n_blocks * d))
        if self.shared is not None:
            relative, length = self.shared
            budget, tolerance = min(evaluation_budget(length) * (k + d + 1), calls), self.problem.tolerance
            try:
                _, by_free, by_start = simulate_with_sensitivities(
                    coefficients, self.problem.library, self.slots, self.basis, starts, relative,
                    max_evaluations=budget, rtol=tolerance, count=self.count,
                )  # fmt: skip
            except SimulationError:
                return jacobian
            scale = np.broadcast_to(self.scale, self.observed.shape)[..., None]  # (m, B, d, 1)
            jacobian[:, :k] = (by_free / scale).reshape(-1, k)
            by_start = by_start / scale  # (m, B, d, d): entries in the (m, B, d) order of the residuals
            for b in range(n_blocks):
                rows = self.owner == b
                jacobian[rows, k + b * d : k + (b + 1) * d] = by_start[:, b].reshape(-1, d)
            return jacobian
        for b, (block, start) in enumerate(zip(self.problem.plan(), starts)):
            rows = self.owner == b
            by_free, by_start = self._block_jacobian(coefficients, block, start, max(calls // n_blocks, 1))
            jacobian[rows, :k] = by_free.reshape(-1, k)
            jacobian[rows, k + b * d : k + (b + 1) * d] = by_start.reshape(-1, d)
        return jacobian

    def _block_jacobian(
        self, coefficients: np.ndarray, block: ShootingBlock, start: np.ndarray, calls: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """One block's residuals' derivatives by the free values (m, d, k) and by its start (m, d, d), from a solve of
        at most ``calls`` right-hand-side calls; zero when it fails."""
        problem, k, d = self.problem, self.basis.shape[1], start.shape[0]
        a, b = block.first, block.last
        t = problem.ts[block.trajectory][a : b + 1]
        control = None if problem.us is None else interpolated_control(t, problem.us[block.trajectory][a : b + 1])
        try:
            _, by_free, by_start = simulate_with_sensitivities(
                coefficients, problem.library, self.slots, self.basis, start[None], t, control=control,
                max_evaluations=min(evaluation_budget(t.shape[0]) * (k + d + 1), calls), rtol=problem.tolerance,
                count=self.count,
            )  # fmt: skip
        except SimulationError:
            return np.zeros((t.shape[0], d, k)), np.zeros((t.shape[0], d, d))
        scale = np.broadcast_to(problem.scale(block), (t.shape[0], d))[..., None]
        return by_free[:, 0] / scale, by_start[:, 0] / scale


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
            floor it implies, there is nothing to refine and the search is skipped. It also sets how far each
            block's start may move (:data:`START_REACH`); without it the starts are held.
        evaluations: right-hand-side evaluations the search may use.
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
    count = EvaluationCount() if count is None else count
    first = count.calls
    residuals = _Residuals(problem, coefficients, slots, basis, count)
    initial, smoothed = basis.T @ start, np.array(problem.starts())
    kept = residuals.model(initial)  # the start made to keep the laws (itself when it keeps them, or there are none)
    before = float(np.mean(residuals(initial, smoothed) ** 2))
    floor = 0.0 if noise_sd is None else problem.noise_floor(noise_sd)
    if not np.isfinite(before) or before >= FAILED_RESIDUAL**2 or before <= AT_NOISE_FLOOR * floor:
        return Refinement(kept, before, before)
    reach = np.zeros(smoothed.shape[1]) if noise_sd is None else START_REACH * np.asarray(noise_sd, dtype=float)
    moved, solution = _search(residuals, initial, smoothed, reach, first + evaluations)
    after = float(np.mean(residuals(solution, smoothed) ** 2)) if moved < before else before
    if not after < before:  # kept only if they also do better from the smoothed starts
        return Refinement(kept, before, before)
    return Refinement(residuals.model(solution), before, after)


class _OverBudget(Exception):
    """The search has used its right-hand-side evaluations."""


def _search(
    residuals: _Residuals, free: np.ndarray, starts: np.ndarray, reach: np.ndarray, budget: int
) -> tuple[float, np.ndarray]:
    """The search on the free values (k,) and the blocks' ``starts`` (B, d), each start within ``reach`` (d,) of its
    value (held when a reach is 0), with the sensitivities' Jacobian, for at most :data:`ITERATIONS` residual
    evaluations and until the count of right-hand-side evaluations passes ``budget`` (the simulation under way is
    finished first) → the lowest mean squared residual seen and its free values."""
    k, shape = free.shape[0], starts.shape
    moving = bool(np.all(reach > 0.0))
    best: list[tuple[float, np.ndarray]] = [(np.inf, free)]
    last: dict[bytes, np.ndarray] = {}

    def split(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values[:k], (values[k:].reshape(shape) if moving else starts)

    def fun(values: np.ndarray) -> np.ndarray:
        if residuals.count.calls > budget:
            raise _OverBudget
        key = values.tobytes()
        if key not in last:
            last.clear()
            last[key] = residuals(*split(values))
            cost = float(np.mean(last[key] ** 2))
            if cost < best[0][0]:
                best[0] = (cost, values[:k].copy())
        return last[key]

    def jac(values: np.ndarray) -> np.ndarray:
        if residuals.count.calls > budget:
            raise _OverBudget
        jacobian = residuals.jacobian(*split(values), allowed=budget - residuals.count.calls)
        return jacobian if moving else jacobian[:, :k]

    with contextlib.suppress(_OverBudget):
        if moving:
            lower = np.concatenate([np.full(k, -np.inf), (starts - reach).ravel()])
            upper = np.concatenate([np.full(k, np.inf), (starts + reach).ravel()])
            values = np.concatenate([free, starts.ravel()])
            least_squares(fun, values, jac=jac, bounds=(lower, upper), method="trf", x_scale="jac", max_nfev=ITERATIONS)
        else:
            least_squares(fun, free, jac=jac, method="lm", x_scale="jac", max_nfev=ITERATIONS)
    return best[0]
