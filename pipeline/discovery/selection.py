"""Choosing each equation's terms: STLSQ sparsity path, blocked cross-validation, one-SE rule.

For every state the STLSQ path proposes supports; each support is scored by the
mean squared error of least squares on held-out contiguous time blocks. Among the
supports whose error is within one standard error of the best, the sparsest wins
(Breiman's one-standard-error rule), so a term must earn its place by a
prediction gain larger than the fold-to-fold noise of the score itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.discovery.sindy import stlsq_supports

__all__ = ["SupportScore", "block_folds", "fit_support", "select_support"]


@dataclass(frozen=True)
class SupportScore:
    """A candidate support and its cross-validated error.

    Attributes:
        support: boolean mask over library terms, (p,).
        cv_mse: mean held-out MSE over folds.
        cv_se: standard error of that mean.
    """

    support: np.ndarray
    cv_mse: float
    cv_se: float

    @property
    def complexity(self) -> int:
        """Number of active terms."""
        return int(self.support.sum())


def block_folds(lengths: list[int], n_folds: int) -> np.ndarray:
    """Fold label of each stacked row: every trajectory is cut into ``n_folds`` contiguous blocks."""
    labels = [np.minimum((np.arange(n) * n_folds) // max(n, 1), n_folds - 1) for n in lengths]
    return np.concatenate(labels)


def fit_support(theta: np.ndarray, y: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (p,) on the active columns; zero elsewhere."""
    coef = np.zeros(theta.shape[1])
    if support.any():
        coef[support] = np.linalg.lstsq(theta[:, support], y, rcond=None)[0]
    return coef


def _score(theta: np.ndarray, y: np.ndarray, support: np.ndarray, folds: np.ndarray) -> SupportScore:
    errors = []
    for fold in np.unique(folds):
        test = folds == fold
        coef = fit_support(theta[~test], y[~test], support)
        errors.append(float(np.mean((theta[test] @ coef - y[test]) ** 2)))
    errs = np.asarray(errors)
    return SupportScore(support=support, cv_mse=float(errs.mean()), cv_se=float(errs.std(ddof=1) / np.sqrt(len(errs))))


def select_support(
    theta: np.ndarray, y: np.ndarray, folds: np.ndarray, *, threshold: float | None = None
) -> tuple[SupportScore, list[SupportScore]]:
    """Choose the terms of one equation.

    Args:
        theta: library values (n, p).
        y: the derivative of one state (n,).
        folds: fold label per row (n,).
        threshold: a fixed STLSQ threshold (scale-free); None scans the whole path.

    Returns:
        The chosen support's score and every candidate scored (the Pareto material).
    """
    thresholds = [threshold] if threshold is not None else list(np.geomspace(1e-4, 1.0, 60))
    candidates = [_score(theta, y, s, folds) for s in stlsq_supports(theta, y, thresholds)]
    if not candidates:
        empty = np.zeros(theta.shape[1], dtype=bool)
        return SupportScore(empty, float(np.mean(y**2)), 0.0), []
    if threshold is not None:
        return candidates[0], candidates
    best = min(candidates, key=lambda c: c.cv_mse)
    admissible = [c for c in candidates if c.cv_mse <= best.cv_mse + best.cv_se]
    chosen = min(admissible, key=lambda c: (c.complexity, c.cv_mse))
    return chosen, candidates
