"""Uncertainty by bagging (ensemble SINDy): term inclusion probabilities and coefficient intervals.

Rows are resampled by a moving-block bootstrap (blocks of about n^(1/3) consecutive
samples, so the autocorrelation of smoothed derivatives is kept), the rule that produced
each equation's chosen support (an STLSQ threshold, or a stepwise path to the same number
of terms) is rerun, and:

- a term's inclusion probability is the share of resamples whose support contains it (for
  supports found without a re-runnable rule, e.g. on the weak form or balanced by a
  conservation law: the share whose refit keeps the term's sign);
- a coefficient's 95 % interval is the 2.5-97.5 % range of least-squares refits of the
  chosen support over the resamples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.discovery.fitting import derivative_fit
from pipeline.discovery.paths import PathRule
from pipeline.discovery.stlsq import NormalEquations

__all__ = ["Uncertainty", "bagging", "block_bootstrap_rows"]


@dataclass(frozen=True)
class Uncertainty:
    """Bagging's account of a model's terms.

    Attributes:
        inclusion: inclusion probability of every term, (d, p).
        intervals: 95 % interval of every coefficient, (d, p, 2); zero outside the model.
    """

    inclusion: np.ndarray
    intervals: np.ndarray

    def min_inclusion(self, supports: np.ndarray) -> float:
        """The lowest inclusion probability among the terms in ``supports`` (d, p); NaN for an empty model."""
        chosen = self.inclusion[supports]
        return float(chosen.min()) if chosen.size else float("nan")


def block_bootstrap_rows(n: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices (n,) of one moving-block bootstrap resample."""
    block = max(1, int(round(n ** (1 / 3))))
    starts = rng.integers(0, max(n - block, 0) + 1, size=int(np.ceil(n / block)))
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


def _percentile_interval(samples: np.ndarray) -> np.ndarray:
    """The central 95 % range of ``samples`` (b, ...) → (..., 2)."""
    return np.stack([np.percentile(samples, 2.5, axis=0), np.percentile(samples, 97.5, axis=0)], axis=-1)


def bagging(
    theta: np.ndarray,
    x_dot: np.ndarray,
    supports: np.ndarray,
    rules: Sequence[PathRule | None],
    *,
    n_models: int,
    seed: int,
    laws: np.ndarray | None = None,
    estimate: np.ndarray | None = None,
) -> Uncertainty:
    """Inclusion probabilities (d, p) and 95 % coefficient intervals (d, p, 2) of the chosen supports.

    Args:
        theta: library values (n, p).
        x_dot: derivatives (n, d).
        supports: chosen supports (d, p).
        rules: the rule behind each equation's chosen support (d); None: a term's inclusion is the share
            of resamples whose refit keeps its sign.
        n_models: bootstrap resamples.
        seed: seed of the resampling.
        laws: conservation laws (r, d) the refits keep, as the model does.
        estimate: the reported coefficients (d, p) when they are not the plain least-squares fit (the
            shooting refinement moves them): each interval then spans both the resamples' range and that
            range moved onto the estimate (each resample's deviation from the full-data fit added to it), so
            it holds the estimate with the bootstrap's spread on either side, and the disagreement between
            the two fits counts as uncertainty.
    """
    rng = np.random.default_rng(seed)
    n, p = theta.shape
    d = x_dot.shape[1]
    included = np.zeros((d, p))
    coefficients = np.zeros((n_models, d, p))
    full_fit = derivative_fit(theta, x_dot, supports, laws)
    signs = np.sign(full_fit)
    for b in range(n_models):
        rows = block_bootstrap_rows(n, rng)
        coefficients[b] = derivative_fit(theta[rows], x_dot[rows], supports, laws)
        for j in range(d):
            rule = rules[j]
            if rule is not None:
                included[j] += rule.apply(NormalEquations.from_data(theta[rows], x_dot[rows, j]))
            else:
                included[j] += supports[j] & (np.sign(coefficients[b, j]) == signs[j])
    intervals = _percentile_interval(coefficients)
    if estimate is not None:  # the hull of the resamples' range and that range moved onto the estimate
        moved = _percentile_interval(coefficients + (estimate - full_fit)[None])
        low = np.minimum.reduce([intervals[..., 0], moved[..., 0], estimate])
        high = np.maximum.reduce([intervals[..., 1], moved[..., 1], estimate])
        intervals = np.stack([low, high], axis=-1)
    intervals[~supports] = 0.0
    return Uncertainty(included / n_models, intervals)
