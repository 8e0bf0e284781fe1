"""Local polynomial regression on nearest neighbours: gradients and Hessians from scattered samples.

At an evaluation point x0 we take the k nearest samples (in standardised feature units),
weight them with a tricube kernel and fit ``y ≈ c + g·Δx + ½ Δxᵀ H Δx (+ cubic terms)`` by weighted least
squares. ``g`` is a true multivariate partial-derivative estimate (every feature is in the
same fit), unlike one 1-D curve per feature, which returns the marginal slope.

With ``length_scales`` (e.g. a GP's ARD length scales) distances are measured in those units, so
the neighbourhood is narrow along features the output changes fast in and wide along those it
hardly depends on: per-feature bandwidths.

The neighbourhood size k and the degree (1, 2 or 3) are chosen from the data by leave-one-out
cross-validation on a subsample; a higher degree is kept only when it beats the lower one by more
than the standard error of the paired difference. The k-d tree makes it O(n log n + m k p²): this is the
scalable method for large n.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from pipeline.errors import SensitivityError

__all__ = ["LocalPolynomial", "LocalPolynomialChoice"]

KERNEL_REACH = (
    1.5  # kernel radius as a multiple of the k-th neighbour distance: the farthest neighbour keeps weight 0.35
)
CHUNK = 2048  # evaluation points solved per batch (bounds memory to CHUNK * k * p floats)
MAX_NEIGHBORS = 2000  # beyond this a wider neighbourhood only shaves variance already far below the bias
METRIC_RANGE = (0.05, 3.0)  # length scales (standardised units) are clipped: beyond 3 a window spans the data
BIAS_SIGNIFICANCE = 1.96
"""A partial's bias estimate counts only where the two fits differ by more than this many sd of their noise: a single
difference is a noisy measure of a bias, and where none exists it would widen a third of the errors by chance (the
seed's linear law, tests/test_sensitivity.py); this way one in twenty."""
MAX_TERMS = 35  # cost grows as k p² per point with k ~ p: degree 3 is tried up to 4 features, degree 2 up to 7


@functools.cache
def _monomials(d: int, degree: int) -> tuple[tuple[int, ...], ...]:
    """Index tuples of every monomial up to ``degree``, by degree: (), (0,), ..., (0, 0), (0, 1), ..."""
    return tuple(c for order in range(degree + 1) for c in itertools.combinations_with_replacement(range(d), order))


def _n_terms(d: int, degree: int) -> int:
    return len(_monomials(d, degree))


def _design(dx: np.ndarray, degree: int) -> np.ndarray:
    """Transposed design matrix of a local polynomial: (m, k, d) offsets -> (m, p, k) monomial rows.

    Each monomial is a lower one (its indices but the last) times one offset: one contiguous product per row."""
    offsets = np.moveaxis(dx, -1, 0).copy()  # (d, m, k)
    monomials = _monomials(dx.shape[-1], degree)
    At = np.empty((dx.shape[0], len(monomials), dx.shape[1]))
    row = {(): 0}
    At[:, 0] = 1.0
    for j, c in enumerate(monomials[1:], start=1):
        np.multiply(At[:, row[c[:-1]]], offsets[c[-1]], out=At[:, j])
        row[c] = j
    return At


@dataclass(frozen=True)
class LocalPolynomialChoice:
    """What cross-validation chose: degree, neighbours and the leave-one-out error (output units²)."""

    degree: int
    n_neighbors: int
    cv_mse: float
    noise_variance: float


class LocalPolynomial:
    """Nearest-neighbour local polynomial regression with data-chosen degree and neighbourhood.

    Args:
        degree: 1, 2 or 3; chosen by cross-validation when None. Hessians need degree >= 2.
        n_neighbors: neighbourhood size; chosen by cross-validation when None.
        max_cv_points: leave-one-out residuals are computed on at most this many samples.
        length_scales: per-feature distance units in standard deviations (d,); isotropic when None.
        random_state: seed of the cross-validation subsample.
    """

    def __init__(
        self,
        degree: int | None = None,
        n_neighbors: int | None = None,
        *,
        length_scales: tuple[float, ...] | None = None,
        max_cv_points: int = 600,
        random_state: int = 0,
    ) -> None:
        self.degree = degree
        self.n_neighbors = n_neighbors
        self.length_scales = length_scales
        self.max_cv_points = max_cv_points
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X: np.ndarray, y: np.ndarray) -> LocalPolynomial:
        """Fit on samples X (n, d) with outputs y (n,)."""
        if self.degree not in (None, 1, 2, 3):
            raise SensitivityError(f"local polynomial degree must be 1, 2 or 3, got {self.degree!r}")
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        n, d = X.shape
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        if self.length_scales is not None:
            metric = np.clip(np.asarray(self.length_scales, dtype=float), *METRIC_RANGE)
            if metric.shape != (d,):
                raise SensitivityError(f"length_scales needs one value per feature ({d}), got {metric.shape}")
            self.scale_ = self.scale_ * metric / np.exp(np.mean(np.log(metric)))
        self.center_ = X.mean(axis=0)
        self.Z_ = (X - self.center_) / self.scale_
        self.y_ = y
        self.tree_ = cKDTree(self.Z_)
        degrees = (
            [self.degree]
            if self.degree
            else [
                g
                for g in (1, 2, 3)
                if 2 * _n_terms(d, g) <= min(n - 1, MAX_NEIGHBORS) and (g == 1 or _n_terms(d, g) <= MAX_TERMS)
            ]
        )
        if not degrees:
            raise SensitivityError(f"{n} samples are too few for a local linear fit in {d} features (need {d + 4})")
        self.choice_ = self._choose(degrees)
        return self

    def _candidate_ks(self, degree: int) -> list[int]:
        n, d = self.Z_.shape
        p = _n_terms(d, degree)
        k_min = min(max(p + 2, int(np.ceil(1.5 * p))), n - 1)
        if self.n_neighbors is not None:
            return [int(min(max(self.n_neighbors, p + 1), n - 1))]
        ks = np.unique(np.round(np.geomspace(k_min, max(k_min, min(n - 1, MAX_NEIGHBORS)), num=12)).astype(int))
        return [int(k) for k in ks]

    def _choose(self, degrees: list[int]) -> LocalPolynomialChoice:
        n = len(self.y_)
        rng = np.random.default_rng(self.random_state)
        cv_idx = rng.choice(n, size=min(n, self.max_cv_points), replace=False)
        candidates = [(degree, k) for degree in degrees for k in self._candidate_ks(degree)]
        dist, nbr = self._loo_neighbours(cv_idx, max(k for _, k in candidates))
        best: dict[int, tuple[float, int, np.ndarray]] = {}
        for degree, k in candidates:
            resid = self._loo_residuals(cv_idx, dist, nbr, k, degree)
            mse = float(np.mean(resid**2))
            if degree not in best or mse < best[degree][0]:
                best[degree] = (mse, k, resid)
        degree = degrees[0]
        for higher in degrees[1:]:  # paired: a higher degree must win by more than the noise of the difference
            diff = best[higher][2] ** 2 - best[degree][2] ** 2
            if diff.mean() < -diff.std(ddof=1) / np.sqrt(len(diff)):
                degree = higher
        mse, k, resid = best[degree]
        return LocalPolynomialChoice(degree=degree, n_neighbors=k, cv_mse=mse, noise_variance=mse)

    def _extra_neighbours(self) -> int:
        """Neighbours fetched beyond the k-th, so that samples tied with it (grids) keep stencils symmetric."""
        d = self.Z_.shape[1]
        return min(2**d, 2 * d + 8)

    def _neighbours(self, z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """k nearest samples of each point z (m, d), plus any tied with the k-th.

        Returns distances and indices (m, k_ext) and the radius (m, 1) = distance of the k-th neighbour;
        neighbours beyond the radius get zero weight.
        """
        dist, nbr = self.tree_.query(z, k=min(len(self.Z_), k + self._extra_neighbours()))
        return dist, nbr, np.maximum(dist[:, k - 1 : k], 1e-12)

    def _loo_neighbours(self, idx: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray]:
        """Nearest samples (m, k_ext) of the samples ``idx`` (m,) but themselves, by distance: their distances and
        indices, enough for every k up to ``k_max`` (one tree query serves all the candidate neighbourhoods)."""
        dist, nbr = self.tree_.query(self.Z_[idx], k=min(len(self.Z_), k_max + 1 + self._extra_neighbours()))
        own = nbr == idx[:, None]  # each sample moves to the end with infinite distance and is dropped
        order = np.argsort(np.where(own, np.inf, dist), axis=1, kind="stable")[:, :-1]
        return np.take_along_axis(dist, order, axis=1), np.take_along_axis(nbr, order, axis=1)

    def _loo_residuals(self, idx: np.ndarray, dist: np.ndarray, nbr: np.ndarray, k: int, degree: int) -> np.ndarray:
        """Leave-one-out residuals (m,) at the samples ``idx`` (m,) of the fit of ``degree`` on k neighbours, from
        their neighbours :meth:`_loo_neighbours` found."""
        k_ext = min(len(self.Z_), k + 1 + self._extra_neighbours()) - 1
        dist, nbr = dist[:, :k_ext], nbr[:, :k_ext]
        radius = np.maximum(dist[:, k - 1 : k], 1e-12)
        fitted = np.empty(len(idx))
        step = max(1, CHUNK * 32 // k_ext)
        for start in range(0, len(idx), step):
            sl = slice(start, start + step)
            fitted[sl] = self._solve(self.Z_[idx[sl]], nbr[sl], dist[sl], radius[sl], degree)[0][:, 0]
        return self.y_[idx] - fitted

    # ------------------------------------------------------------------ local solves
    def _solve(
        self,
        z0: np.ndarray,
        nbr: np.ndarray,
        dist: np.ndarray,
        radius: np.ndarray,
        degree: int,
        with_cov: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Weighted least squares at points z0 (m, d) on neighbours nbr (m, k): coefficients (m, p) in z units."""
        dx = (self.Z_[nbr] - z0[:, None, :]) / radius[..., None]  # (m, k, d), O(1) columns
        w = (1.0 - np.clip(dist / (KERNEL_REACH * radius), 0.0, 1.0) ** 3) ** 3
        w = np.where(dist <= radius * (1 + 1e-9), w, 0.0)
        At = _design(dx, degree)  # (m, p, k)
        A = At.transpose(0, 2, 1)
        Awt = At * w[:, None, :]
        G = Awt @ A  # batched BLAS products: an order of magnitude faster than einsum here
        G = G + 1e-10 * np.trace(G, axis1=1, axis2=2)[:, None, None] * np.eye(G.shape[-1])  # positive definite
        rhs = Awt @ self.y_[nbr][..., None]
        cov = None
        if with_cov:
            G_inv = np.linalg.inv(G)
            beta = (G_inv @ rhs)[..., 0]
            cov = G_inv @ ((Awt * w[:, None, :]) @ A) @ G_inv
        else:
            beta = np.linalg.solve(G, rhs)[..., 0]
        # back from radius-scaled offsets to z units: a monomial of order r scales with radius**r
        orders = np.array([len(c) for c in _monomials(dx.shape[-1], degree)])
        scale = radius**orders
        beta = beta / scale
        if cov is not None:
            cov = cov / (scale[:, :, None] * scale[:, None, :])
        return beta, cov

    def _evaluate(
        self, at: np.ndarray, with_cov: bool = False, degree: int | None = None, n_neighbors: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, int]:
        """Local coefficients (m, p) at points ``at`` (m, d), their covariance (m, p, p) with ``with_cov``, and the
        degree: the chosen fit's, or the one of ``degree`` on ``n_neighbors``."""
        at = np.atleast_2d(np.asarray(at, dtype=float))
        if at.shape[1] != self.Z_.shape[1]:
            raise SensitivityError(
                f"evaluation points have {at.shape[1]} features; the estimator was fitted on {self.Z_.shape[1]}"
            )
        z = (at - self.center_) / self.scale_
        k, degree = n_neighbors or self.choice_.n_neighbors, degree or self.choice_.degree
        betas, covs = [], []
        for start in range(0, len(z), CHUNK):
            zc = z[start : start + CHUNK]
            dist, nbr, radius = self._neighbours(zc, k)
            beta, cov = self._solve(zc, nbr, dist, radius, degree, with_cov)
            betas.append(beta)
            covs.append(cov)
        cov = np.concatenate(covs) * self.choice_.noise_variance if with_cov else None
        return np.concatenate(betas), cov, degree

    # ------------------------------------------------------------------ outputs
    def predict(self, at: np.ndarray) -> np.ndarray:
        """Smoothed output at points (m, d) -> (m,)."""
        beta, _, _ = self._evaluate(at)
        return beta[:, 0]

    def gradient(self, at: np.ndarray, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Partial derivatives at points (m, d) -> (m, d) in output units per feature unit (and their std).

        The std is the sandwich variance's (the leave-one-out error standing for the noise) plus the squared bias
        :meth:`_gradient_bias` estimates: on data without noise the local fit's error is all bias, which the
        sandwich does not see."""
        beta, cov, _ = self._evaluate(at, with_cov=return_std)
        d = self.Z_.shape[1]
        grad = beta[:, 1 : 1 + d] / self.scale_
        if not return_std:
            return grad
        var = np.maximum(np.diagonal(cov, axis1=1, axis2=2)[:, 1 : 1 + d], 0.0) / self.scale_**2
        return grad, np.sqrt(var + self._gradient_bias(at, grad, var) ** 2)

    def _gradient_bias(self, at: np.ndarray, grad: np.ndarray, var: np.ndarray) -> np.ndarray:
        """An estimate (m, d) of the bias of the partials ``grad`` (m, d), with variance ``var`` (m, d), at ``at``.

        The fit one degree higher (where it is affordable: :data:`MAX_TERMS`; else one degree lower) on at least as
        many neighbours gives partials ``other``; their difference holds the chosen fit's bias (or the lower fit's,
        which overstates it) and both fits' noise, so the bias is sqrt(diff² − var − var_other) where the difference
        is significant (:data:`BIAS_SIGNIFICANCE`), else 0. On
        benchmarks/gradient_intervals.py the coverage of the true partials by g ± 1.96 std of the local polynomial
        rose where it fell short (tuning half: Ishigami on a grid 0.72 -> 0.80, Sobol-G at random 0.67 -> 0.75;
        validation half: Friedman 0.79 -> 0.87 and on a grid 0.62 -> 0.73, Black-Scholes on a grid 0.83 -> 0.99) and
        fell nowhere; where it already covered, the errors grew wider than needed (Rosenbrock, a quartic, at random
        samples: median |error| / std 0.31 -> 0.05). Counting every difference, significant or not, covered a little
        more on the tuning half (0.85, 0.77) but widened a third of the errors of an unbiased linear fit by chance.
        """
        n, d = self.Z_.shape
        degree, k = self.choice_.degree, self.choice_.n_neighbors
        higher = degree + 1
        affordable = higher <= 3 and _n_terms(d, higher) <= MAX_TERMS and 2 * _n_terms(d, higher) <= n - 1
        other = higher if affordable else degree - 1
        if other < 1:
            return np.zeros_like(grad)
        k_other = int(min(max(k, np.ceil(1.5 * _n_terms(d, other))), n - 1))
        beta, cov, _ = self._evaluate(at, with_cov=True, degree=other, n_neighbors=k_other)
        other_grad = beta[:, 1 : 1 + d] / self.scale_
        other_var = np.maximum(np.diagonal(cov, axis1=1, axis2=2)[:, 1 : 1 + d], 0.0) / self.scale_**2
        noise = var + other_var  # the difference's variance if the fits were independent (they share samples: less)
        excess = (grad - other_grad) ** 2 - noise
        return np.sqrt(np.where(excess > (BIAS_SIGNIFICANCE**2 - 1.0) * noise, excess, 0.0))

    def hessian(self, at: np.ndarray) -> np.ndarray:
        """Second partial derivatives at points (m, d) -> (m, d, d), mixed partials included."""
        if self.choice_.degree < 2:
            # the data chose a linear model: refit quadratically for curvature with the same neighbourhood
            quad = LocalPolynomial(
                degree=2,
                length_scales=self.length_scales,
                max_cv_points=self.max_cv_points,
                random_state=self.random_state,
            )
            quad.fit(self.Z_ * self.scale_ + self.center_, self.y_)
            return quad.hessian(at)
        beta, _, _ = self._evaluate(at)
        d = self.Z_.shape[1]
        a, b = np.triu_indices(d)  # the same order as the degree-2 monomials
        q = beta[:, 1 + d : 1 + d + len(a)]
        H = np.zeros((len(beta), d, d))
        H[:, a, b] = q
        H[:, b, a] = q
        H[:, np.arange(d), np.arange(d)] *= 2.0
        return H / np.outer(self.scale_, self.scale_)
