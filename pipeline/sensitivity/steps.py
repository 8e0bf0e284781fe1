"""Derivatives of a queryable model at the data's own scale, and DGSM from them.

A central difference with a step of 1e-4 standard deviations is exact for a smooth model and
meaningless for a piecewise-constant one (trees, boosting) or a kinked one (ReLU nets, payoffs):
almost every difference is 0 and the few that straddle a jump are enormous, so the mean square
depends on luck. Here each feature's step is chosen from the model's own response: on a pilot
sample, central differences are taken on a ladder of steps (1e-4 … 0.3 standard deviations) and
the smallest step is kept whose mean-square estimate is *reliable* (its Monte-Carlo relative
standard error is at most ``MAX_RELATIVE_ERROR``). A smooth model is reliable at the smallest
step, so nothing changes for it; a staircase is reliable only once enough differences straddle a
jump, which is the scale at which the model's response varies. ν_i = E[(Δf/Δx_i)²] at that step
is the DGSM of the model smoothed over the step; the chosen steps are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.sensitivity.space import InputSpace, Model, evaluate_model

__all__ = ["StepChoice", "choose_steps", "model_dgsm", "model_gradient_at"]

STEP_LADDER = (1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3)  # in standard deviations of each feature's marginal
MAX_RELATIVE_ERROR = 0.25  # Monte-Carlo relative standard error of the mean square accepted as reliable
PILOT_POINTS = 256


@dataclass(frozen=True)
class StepChoice:
    """Per-feature finite-difference steps (feature units) and the same steps in standard deviations."""

    steps: np.ndarray
    relative: np.ndarray

    @property
    def smooth(self) -> bool:
        """Whether every feature's differences are reliable at the finest step: the model has a derivative at a
        point (a smooth or piecewise-smooth model), not only a slope over some neighbourhood (trees, staircases)."""
        return bool(np.all(self.relative == STEP_LADDER[0]))


def _central(model: Model, X: np.ndarray, i: int, h: float, name: str) -> np.ndarray:
    shift = np.zeros(X.shape[1])
    shift[i] = h
    return (evaluate_model(model, X + shift, name=name) - evaluate_model(model, X - shift, name=name)) / (2 * h)


def choose_steps(model: Model, space: InputSpace, *, seed: int = 0, name: str = "model") -> StepChoice:
    """The smallest step on the ladder at which each feature's mean squared difference is reliable.

    A feature whose differences are all zero at every step (the model ignores it) gets the smallest step.
    """
    X = space.sample(PILOT_POINTS, seed=seed + 3)
    sd = np.array([np.sqrt(m.variance) for m in space.marginals])
    relative = np.full(space.dim, STEP_LADDER[0])
    for i in range(space.dim):
        for rung in STEP_LADDER:
            sq = _central(model, X, i, rung * sd[i], name) ** 2
            mean = sq.mean()
            if mean > 0 and sq.std(ddof=1) / (mean * np.sqrt(len(sq))) <= MAX_RELATIVE_ERROR:
                relative[i] = rung
                break
        else:
            relative[i] = STEP_LADDER[-1] if np.any(sq > 0) else STEP_LADDER[0]
    return StepChoice(steps=relative * sd, relative=relative)


def model_dgsm(
    model: Model, space: InputSpace, n: int, *, seed: int = 0, name: str = "model", choice: StepChoice | None = None
) -> tuple[np.ndarray, StepChoice]:
    """ν_i = E[(∂f/∂x_i)²] (d,) by central differences at n Sobol points, steps chosen by :func:`choose_steps`
    (or the ``choice`` already made on this model and space)."""
    choice = choice or choose_steps(model, space, seed=seed, name=name)
    X = space.sample(n, seed=seed + 1)
    nu = np.array([np.mean(_central(model, X, i, choice.steps[i], name) ** 2) for i in range(space.dim)])
    return nu, choice


def model_gradient_at(
    model: Model, points: np.ndarray, choice: StepChoice, *, name: str = "model"
) -> tuple[np.ndarray, np.ndarray]:
    """The model's own partial derivatives at ``points`` (m, d) by central differences at ``choice``'s steps, and
    an estimate of their error (m, d): a central difference's error grows as the step squared, so
    |Δ(2h) − Δ(h)| / 3 is the error of Δ(h) (Richardson); it is also large where a kink lies within the steps."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    fine = np.column_stack([_central(model, points, i, h, name) for i, h in enumerate(choice.steps)])
    coarse = np.column_stack([_central(model, points, i, 2.0 * h, name) for i, h in enumerate(choice.steps)])
    return fine, np.abs(coarse - fine) / 3.0
