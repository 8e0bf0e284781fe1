"""How good a discovered model is: fit to the derivatives, simulation of the record, and a forecast check.

All scores are computed in fitting units (unit-scaled states) and are unit-free, except the
noise levels, which :class:`~pipeline.discovery.scaling.UnitScaling` maps back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.differentiation import DerivativeResult
from pipeline.discovery.design import Design
from pipeline.discovery.fitting import derivative_fit
from pipeline.discovery.result import DiscoveryResult
from pipeline.discovery.trajectories import Trajectories
from pipeline.errors import SimulationError

__all__ = [
    "HELD_OUT_FRACTION",
    "ModelScores",
    "aicc",
    "fit_metrics",
    "held_out_scores",
    "r2",
    "score_model",
    "trajectory_r2",
]

HELD_OUT_FRACTION = 0.2
"""Share of each trajectory's samples, at its end, that the forecast check holds out."""
PERTURBATION = 1e-6
"""Relative size (of each state's spread) of the nudge whose growth tests for sensitive dependence."""
SENSITIVE_SEPARATION = 0.1
"""A model is chaotic on the record when the nudge grows to this share of the spread within the record's span."""


def r2(observed: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination, averaged over columns, of (n, d) arrays."""
    ss_res = np.sum((observed - predicted) ** 2, axis=0)
    ss_tot = np.sum((observed - observed.mean(axis=0)) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0)))


def aicc(rss: float, n: int, k: int) -> float:
    """Corrected Akaike criterion of a Gaussian least-squares fit with k parameters on n rows."""
    if rss <= 0 or n - k - 1 <= 0:
        return float("nan")
    return float(n * np.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1))


def fit_metrics(design: Design, coefficients: np.ndarray) -> dict[str, float]:
    """Derivative R², complexity, AICc and sample counts of the model (d, p) on the design."""
    fitted = design.theta @ coefficients.T
    n, d = design.x_dot.shape
    rss = float(np.sum((fitted - design.x_dot) ** 2))
    k = int(np.count_nonzero(coefficients))
    return {
        "derivative_r2": r2(design.x_dot, fitted),
        "complexity": float(k),
        "aicc": aicc(rss, n * d, k),
        "n_samples": float(n),
        "n_trajectories": float(len(design.lengths)),
    }


def trajectory_r2(model: DiscoveryResult, data: Trajectories, derivatives: Sequence[DerivativeResult]) -> float:
    """R² of the model simulated from each trajectory's first smoothed state against the observed states.

    Raises:
        SimulationError: a simulation failed.
    """
    inputs = data.us if data.us is not None else [None] * len(data.ts)
    simulated = [model.simulate(r.smoothed[0], t, u) for t, r, u in zip(data.ts, derivatives, inputs)]
    return r2(data.stacked(), np.vstack(simulated))


def held_out_scores(
    model: DiscoveryResult,
    data: Trajectories,
    derivatives: Sequence[DerivativeResult],
    design: Design,
    supports: np.ndarray,
    laws: np.ndarray,
) -> dict[str, float]:
    """Forecast check: refit the chosen terms on the first 80 % of each trajectory's time, simulate from its
    first smoothed state across the whole span, and score the fit part and the held-out last 20 % apart,
    each as 1 - MSE / Var(whole trajectory) per state, averaged over states.

    The terms were chosen on all data (only the coefficients are refitted), so this measures how well the
    model extrapolates in time, not how well selection generalises. Chaotic systems score low on the
    held-out part by nature: a small error grows exponentially.
    """
    ts, xs = data.ts, data.xs
    inputs = data.us if data.us is not None else [None] * len(ts)
    starts = np.cumsum([0] + [len(t) for t in ts[:-1]])
    cuts = [max(2, int(round(len(t) * (1 - HELD_OUT_FRACTION)))) for t in ts]
    rows = np.concatenate([np.arange(start, start + cut) for start, cut in zip(starts, cuts)])
    early_model = replace(model, coefficients=derivative_fit(design.theta[rows], design.x_dot[rows], supports, laws))
    fit_obs, fit_sim, late_obs, late_sim = [], [], [], []
    try:
        for t, x, r, cut, u in zip(ts, xs, derivatives, cuts, inputs):
            sim = early_model.simulate(r.smoothed[0], t, u)
            fit_obs.append(x[:cut])
            fit_sim.append(sim[:cut])
            late_obs.append(x[cut:])
            late_sim.append(sim[cut:])
    except SimulationError:
        return {"trajectory_r2_fit": float("nan"), "trajectory_r2_heldout": float("nan")}
    spread = np.var(np.vstack(xs), axis=0)  # scored against the whole trajectory's spread: a short tail has little

    def score(observed: list[np.ndarray], simulated: list[np.ndarray]) -> float:
        mse = np.mean((np.vstack(observed) - np.vstack(simulated)) ** 2, axis=0)
        return float(np.mean(1.0 - mse / np.where(spread > 0, spread, 1.0)))

    return {"trajectory_r2_fit": score(fit_obs, fit_sim), "trajectory_r2_heldout": score(late_obs, late_sim)}


def sensitive_dependence(model: DiscoveryResult, data: Trajectories, start: np.ndarray) -> bool:
    """Whether the model amplifies a nudge of :data:`PERTURBATION` of the spread at ``start`` (d,) to
    :data:`SENSITIVE_SEPARATION` of it within the first trajectory's span: a chaotic record, on which a
    simulation over the whole span cannot follow the data however right the model is."""
    if data.us is not None:
        return False
    spread = data.stacked().std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    t = data.ts[0]
    try:
        paths = [model.simulate(start + offset, t) for offset in (0.0, PERTURBATION * spread)]
    except SimulationError:
        return False
    separation = np.max(np.abs(paths[1] - paths[0]) / spread, axis=1)
    return bool(np.max(separation) >= SENSITIVE_SEPARATION)


@dataclass(frozen=True)
class ModelScores:
    """The model's scores, why the trajectory could not be simulated (None when it could), and cautions
    for whoever reads the scores (a chaotic record, a poor fit)."""

    metrics: dict[str, float]
    simulation_error: str | None
    cautions: tuple[str, ...] = ()


def score_model(
    model: DiscoveryResult,
    data: Trajectories,
    derivatives: Sequence[DerivativeResult],
    design: Design,
    supports: np.ndarray,
    laws: np.ndarray,
) -> ModelScores:
    """Every score of ``model``: fit to the derivatives, noise levels, trajectory R² and the forecast check.

    ``supports`` (d, p) and ``laws`` (r, d) are the chosen terms and conservation laws the forecast refit keeps.
    """
    metrics = fit_metrics(design, model.coefficients)
    for j, name in enumerate(data.names):
        metrics[f"noise_sd.{name}"] = float(np.mean([r.noise_sd[j] for r in derivatives]))
    problem = None
    try:
        metrics["trajectory_r2"] = trajectory_r2(model, data, derivatives)
    except SimulationError as exc:
        metrics["trajectory_r2"] = float("nan")
        problem = str(exc)
    metrics |= held_out_scores(model, data, derivatives, design, supports, laws)
    return ModelScores(metrics, problem, _cautions(model, data, derivatives, metrics))


def _cautions(
    model: DiscoveryResult, data: Trajectories, derivatives: Sequence[DerivativeResult], metrics: dict[str, float]
) -> tuple[str, ...]:
    """Plain-language cautions about the headline scores."""
    if sensitive_dependence(model, data, derivatives[0].smoothed[0]):
        return (
            "the model is chaotic on this record (a nudge of 1e-6 of the spread grows to 10 % within it):"
            " trajectory R² over the whole record cannot be high however right the model is; judge it by"
            " the short-horizon shooting errors and the derivative R²",
        )
    worst = min(metrics.get("trajectory_r2", float("nan")), metrics.get("derivative_r2", float("nan")))
    if not worst >= 0.5:
        return (
            f"poor fit: derivative R² {metrics.get('derivative_r2', float('nan')):.2f}, trajectory R²"
            f" {metrics.get('trajectory_r2', float('nan')):.2f}; the equations describe these data badly",
        )
    return ()
