"""ℓ1 trend filtering: total-variation regularisation of the second derivative.

Minimises ½‖y − x‖² + α‖D³x‖₁ (D³: third divided differences), so x is piecewise
quadratic, its derivative piecewise linear with kinks where the data demand them, and
its second derivative piecewise constant: the right model for signals with abrupt
changes of slope. Solved by iteratively reweighted banded least squares (O(n) per
iteration). α is chosen by Morozov's discrepancy principle: the largest α whose
residual sum of squares does not exceed n·σ², with σ the noise sd estimated from the
data, i.e. smooth as much as the noise allows and no more.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import MatrixRankWarning, spsolve

from pipeline.differentiation.base import ColumnFit, Differentiator
from pipeline.differentiation.noise import estimate_noise_sd
from pipeline.errors import DifferentiationError

__all__ = ["TotalVariation"]

_ORDER = 3
_ITERATIONS = 25


def _difference_matrix(u: np.ndarray, order: int) -> sparse.csr_matrix:
    """Divided differences of the given order on the grid ``u`` as a sparse (n − order, n) matrix."""
    d = sparse.identity(u.shape[0], format="csr")
    for k in range(1, order + 1):
        m = d.shape[0]
        step = sparse.diags([-np.ones(m - 1), np.ones(m - 1)], [0, 1], shape=(m - 1, m), format="csr")
        spacing = (u[k:] - u[:-k]) / k
        d = sparse.diags(1.0 / spacing) @ step @ d
    return d.tocsr()


def _solve(matrix: sparse.spmatrix, y: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The solution (n,) of one reweighted least-squares system, or a DifferentiationError when the grid ``u``
    (n,) makes it singular in floating point: SuperLU then warns and returns NaN, which must not become a smooth."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", MatrixRankWarning)
        try:
            x = spsolve(matrix.tocsc(), y)
        except MatrixRankWarning:
            x = np.full_like(y, np.nan)
    if not np.all(np.isfinite(x)):
        steps = np.diff(u)
        raise DifferentiationError(
            "total_variation: the trend filter's equations are singular on this time grid (sampling steps range"
            f" from {steps.min():.3g} to {steps.max():.3g} times the mean step); resample the series or choose"
            " another method"
        )
    return x


def _trend_filter(y: np.ndarray, d: sparse.csr_matrix, alpha: float, u: np.ndarray) -> np.ndarray:
    """The ℓ1 trend filter of ``y`` (n,) with differences ``d`` on the grid ``u`` (n,) at weight ``alpha``."""
    n = y.shape[0]
    identity = sparse.identity(n, format="csc")
    x = _solve(identity + alpha * (d.T @ d), y, u)
    eps = 1e-6 * (float(np.std(y)) + 1e-12)  # IRLS floor: |D x| below this counts as a knot-free stretch
    for _ in range(_ITERATIONS):
        weights = 1.0 / np.maximum(np.abs(d @ x), eps)
        x_new = _solve(identity + 0.5 * alpha * (d.T @ sparse.diags(weights) @ d), y, u)
        if np.max(np.abs(x_new - x)) < 1e-9 * (np.max(np.abs(y)) + 1e-300):
            x = x_new
            break
        x = x_new
    return x


class TotalVariation(Differentiator):
    """ℓ1 trend filtering (piecewise-quadratic fit) with α chosen by the discrepancy principle; irregular ``t``
    allowed.

    Args:
        alpha: regularisation weight at unit mean spacing; None chooses it by the discrepancy principle.
    """

    min_samples = 8

    def __init__(self, alpha: float | None = None) -> None:
        self.alpha = alpha

    def check_sampling(self, t: np.ndarray) -> None:
        """``alpha`` > 0 (see :meth:`Differentiator.check_sampling`); any grid."""
        if self.alpha is not None and self.alpha <= 0:
            raise DifferentiationError(f"alpha must be > 0, got {self.alpha}", parameter="alpha")

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        step = float(np.mean(np.diff(t)))
        u = (t - t[0]) / step
        scale = float(np.std(y)) or 1.0
        z = (y - np.mean(y)) / scale
        d = _difference_matrix(u, _ORDER)
        if self.alpha is not None:
            alpha = float(self.alpha)
            x = _trend_filter(z, d, alpha, u)
        else:
            alpha, x = self._choose_alpha(z, d, u)
        smooth = x * scale + np.mean(y)
        first = np.gradient(smooth, t, edge_order=2)
        second = np.gradient(first, t, edge_order=2)
        return smooth, first, second, {"alpha": alpha}

    @staticmethod
    def _choose_alpha(z: np.ndarray, d: sparse.csr_matrix, u: np.ndarray) -> tuple[float, np.ndarray]:
        target = z.shape[0] * estimate_noise_sd(z, u) ** 2  # u: the sample times in mean steps
        low, high = -3.0, 8.0  # log10 α
        try:
            best_alpha, best_x = 10.0**low, _trend_filter(z, d, 10.0**low, u)
        except DifferentiationError:  # singular even at the lightest weight (on some CPUs' floats): no smoothing
            best_alpha, best_x = 0.0, z.copy()
        for _ in range(18):
            mid = 0.5 * (low + high)
            try:
                x = _trend_filter(z, d, 10.0**mid, u)
            except DifferentiationError:  # singular at this weight: smoother than the grid's floats allow
                high = mid
                continue
            with np.errstate(over="ignore"):  # an overflowing residual (inf) is above any target
                close = float(np.sum((z - x) ** 2)) <= target
            if close:
                low, best_alpha, best_x = mid, 10.0**mid, x
            else:
                high = mid
        return best_alpha, best_x
