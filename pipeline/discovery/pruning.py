"""Pruning by shooting: the refined model's small terms deleted in turn, the rest refitted by shooting each time.

Judging deletes terms too (:func:`~pipeline.discovery.judging.judge_deletions`), but refits what is left by a linear
fit form. At noise those fits are biased, and a small spurious term (a constant of 3 % of the rate, a tiny cubic) can
be what offsets the bias of the others: deleting it then costs more shooting error than the noise explains, and it
stays. Here the starting model is the refined one (:mod:`~pipeline.discovery.refinement`), and each deletion is
refitted by shooting as well, so a term stays only when the record needs it, not when a biased fit does.

Only small terms are tried (:func:`small_terms`: under :data:`SMALL_SHARE` of their equation's rate over the
record): a large term the record does not need was deleted in judging already, and trying every term of every model
would cost a refit each. A deletion is taken when the refitted model's shooting error exceeds the refined model's by
no more than the deletion tolerance (what the noise explains; measured against the refined model, not the last
pruned one, so deletions cannot walk away from the record step by step) and, if the refined model passes the
stability check, the pruned one keeps its grade (:class:`~pipeline.discovery.stability.Stability`); the cheapest such
deletion goes first. With conservation laws every refit keeps them. The search stops when no deletion is taken or its
budget of solver evaluations (:data:`PRUNING_EVALUATIONS`) is spent (checked before each refit, so the last may
overrun it by one refit's share; its error simulations count too, its stability simulations do not), so its cost
does not depend on the machine. A model whose one refit step would overrun a trial's budget is not pruned at all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.discovery.refinement import refine_by_shooting
from pipeline.discovery.shooting import ShootingProblem
from pipeline.discovery.simulate import EvaluationCount

__all__ = ["PRUNING_EVALUATIONS", "SMALL_SHARE", "prune_by_shooting", "small_terms"]

SMALL_SHARE = 0.05
"""A term is small when its root-mean-square contribution over the record is under this share of its equation's
root-mean-square rate (0.05 and 0.1 tried on the tuning half of benchmarks/generalisation.py: the same systems won,
0.1 costs more refits)."""
PRUNING_EVALUATIONS = 100_000
"""Right-hand-side evaluations all the deletions' refits may use together, about as many as the refinement: a
model with many small terms (a dense chaotic fit) gets a few deletions tried, not every one."""
TRIAL_EVALUATIONS = 20_000
"""Right-hand-side evaluations one deletion's refit may use: it starts next to its answer (the refined model less
one small term), so a few Levenberg–Marquardt steps suffice. A model whose single step (a simulation per coefficient,
for the Jacobian) would overrun it is not pruned: the step would be taken anyway (a 33-term chaotic fit spent 120,000
evaluations, 3 s, on one trial)."""


def small_terms(coefficients: np.ndarray, theta: np.ndarray, x_dot: np.ndarray) -> np.ndarray:
    """Which terms (d, p) of the model are small: |c_jk| rms(theta_k) < :data:`SMALL_SHARE` rms(x_dot_j).

    Args:
        coefficients: the model (d, p).
        theta: the library over the record (n, p).
        x_dot: the states' derivatives over the record (n, d).
    """
    term_rms = np.sqrt(np.mean(theta**2, axis=0))
    rate_rms = np.sqrt(np.mean(x_dot**2, axis=0))
    return (coefficients != 0) & (np.abs(coefficients) * term_rms[None, :] < SMALL_SHARE * rate_rms[:, None])


def prune_by_shooting(
    coefficients: np.ndarray,
    problem: ShootingProblem,
    candidates: np.ndarray,
    *,
    tolerance: float,
    laws: np.ndarray | None = None,
    noise_sd: np.ndarray | None = None,
    stable: Callable[[np.ndarray], int] | None = None,
) -> np.ndarray:
    """The refined ``coefficients`` (d, p) with the ``candidates`` the record does not need deleted, the rest refitted.

    Args:
        coefficients: the refined model (d, p).
        problem: the blocks, data and library to simulate (refinement's tolerance).
        candidates: which terms (d, p) may be deleted (:func:`small_terms`).
        tolerance: how much a deletion may raise the shooting error and still be taken.
        laws: conservation laws (r, d) the refits keep.
        noise_sd: the states' noise sd (d,) (a refit already at the noise floor is skipped).
        stable: the stability check's grade (:class:`~pipeline.discovery.stability.Stability`; True counts as
            bounded): a pruned model keeps the refined model's grade when that is above ``LEAVES``; None for none.
    """
    probe = EvaluationCount()
    current, error = coefficients, problem.error(coefficients, probe)
    if not np.isfinite(error):
        return coefficients  # a model that cannot be simulated gives no evidence for any deletion
    if probe.calls * np.count_nonzero(coefficients) > TRIAL_EVALUATIONS:
        return coefficients  # one refit step (a simulation per coefficient) would overrun a trial's budget
    grade = stable(current) if stable is not None else 0
    if not grade:
        stable = None  # a model outside the check's envelope already is not held to it when pruned
    bar = error + tolerance  # against the refined model: deletions cannot walk away from the record step by step
    spent = EvaluationCount()
    while spent.calls < PRUNING_EVALUATIONS and np.count_nonzero(current) > 1:
        trials = []
        for j, k in zip(*np.nonzero((current != 0) & candidates)):
            if spent.calls >= PRUNING_EVALUATIONS:
                break  # the round is judged on the deletions refitted so far
            trial = current.copy()
            trial[j, k] = 0.0
            refit = refine_by_shooting(
                trial, problem, laws=laws, noise_sd=noise_sd, evaluations=TRIAL_EVALUATIONS, count=spent
            ).coefficients
            trial_error = problem.error(refit, spent)
            if np.isfinite(trial_error):
                trials.append((trial_error, refit))
        passing = (
            (trial_error, refit)
            for trial_error, refit in sorted(trials, key=lambda pair: pair[0])
            if trial_error <= bar and (stable is None or stable(refit) >= grade)
        )
        taken = next(passing, None)
        if taken is None:
            break
        current = taken[1]
    return current
