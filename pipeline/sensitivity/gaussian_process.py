"""Gaussian-process regression with an ARD squared-exponential kernel, differentiated analytically.

The posterior mean of a GP with kernel ``s² exp(-½ Σ_j (x_j - x'_j)² / l_j²)`` has closed-form
gradients and Hessians, and the posterior variance of each partial derivative is closed-form
too, so every estimate comes with a standard error.

Cost is kept at local-fit level in two steps:

- Hyperparameters (one length scale per feature, signal and noise variance) maximise the
  marginal likelihood (scikit-learn's) on nested random subsamples of 150 then 300 points, each
  stage warm-started from the last: a few hundred milliseconds instead of a minute on 2,000.
- The posterior conditions on *all* samples: with one Cholesky factorisation up to
  ``max_exact`` samples, beyond that as a *local* GP. The samples are cut into cells (k-means in
  the length-scale metric); each cell's points are predicted by the GP conditioned on the
  ``patch_size`` samples nearest the cell's centre (about four cells' worth), so each cell sits
  inside its own training set. Cost is O(n · patch_size²): linear in n.

The gradients' standard errors are the posterior's, widened when the GP's own left-out samples say it is
overconfident: the leave-one-out residuals divided by their predictive sd (closed form) have mean square
``variance_scale_``; above 1, every posterior variance is multiplied by it, as if the kernel's amplitude (signal and
noise together: the posterior mean does not change) were set by leave-one-out cross-validation instead of the
marginal likelihood of a subsample. On benchmarks/gradient_intervals.py the coverage of the true partials by
g ± 1.96 std went 0.14 -> 1.00 on Ishigami on a grid with 1 % noise (tuning half; the widened errors are then about
ten times the actual errors), 0.56 -> 0.84 on Black-Scholes and 0.75 -> 0.89 on the borehole function, noise-free at
random samples (validation half), and stayed the same elsewhere. A mean square below 1 is not used to narrow them:
tried, it took noise-free fits below (Ishigami on a grid 0.86 -> 0.42 on the tuning half; Rosenbrock 1.00 -> 0.36 on
the validation half): a noise-free interpolant predicts left-out values far better than it knows the slopes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from pipeline.errors import SensitivityError

__all__ = ["GaussianProcessGradient", "GaussianProcessChoice", "fit_ard_hyperparameters"]

HYPER_STAGES = (150, 300)  # nested marginal-likelihood subsamples, each warm-started from the last
CELLS_PER_PATCH = 4  # a local patch holds about 4 cells' worth of samples: each cell is well inside it
CV_PATCHES = 6  # leave-one-out error of a local GP is measured on this many patches


@dataclass(frozen=True)
class GaussianProcessChoice:
    """Fitted hyperparameters (standardised units), the leave-one-out error (output units²) and the layout.

    ``n_patches`` is 1 for an exact GP; above ``max_exact`` samples it counts the local patches of
    ``patch_size`` samples each.
    """

    length_scales: tuple[float, ...]
    signal_variance: float
    noise_variance: float
    cv_mse: float
    n_patches: int = 1
    patch_size: int = 0


def fit_ard_hyperparameters(
    Z: np.ndarray, u: np.ndarray, *, stages: tuple[int, ...] = HYPER_STAGES, random_state: int = 0
) -> tuple[np.ndarray, float, float]:
    """Maximum-marginal-likelihood ARD hyperparameters on nested subsamples of standardised data.

    Args:
        Z: standardised samples (n, d); u: standardised outputs (n,).

    Returns:
        Length scales (d,), signal variance and noise variance, in the standardised units.
    """
    n, d = Z.shape
    order = np.random.default_rng(random_state).permutation(n)
    kernel = ConstantKernel(1.0, (1e-3, 1e4)) * RBF(np.ones(d), (1e-2, 1e3)) + WhiteKernel(1e-2, (1e-12, 1.0))
    for size in stages:
        sub = order[: min(size, n)]
        for jitter in (1e-10, 1e-8, 1e-6, 1e-4):  # near-duplicate samples can make the likelihood's K singular
            gpr = GaussianProcessRegressor(kernel, alpha=jitter, n_restarts_optimizer=0)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    gpr.fit(Z[sub], u[sub])
                break
            except (np.linalg.LinAlgError, ValueError):
                continue
        else:
            raise SensitivityError(f"Gaussian process: the covariance of {len(sub)} samples is singular (duplicates?)")
        kernel = gpr.kernel_
        if size >= n:
            break
    length = np.atleast_1d(np.asarray(kernel.k1.k2.length_scale, dtype=float))
    return length, float(kernel.k1.k1.constant_value), float(kernel.k2.noise_level)


class GaussianProcessGradient:
    """GP-ARD regression with analytic gradients, Hessians and gradient standard errors; local above ``max_exact``.

    Args:
        max_exact: up to this many samples one exact GP.
        patch_size: above ``max_exact``, each local GP conditions on this many samples.
        random_state: seed for the hyperparameter subsamples and the cells.
    """

    def __init__(self, *, max_exact: int = 2500, patch_size: int = 1000, random_state: int = 0) -> None:
        self.max_exact = max_exact
        self.patch_size = patch_size
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcessGradient:
        """Fit on samples X (n, d) with outputs y (n,)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if min(self.max_exact, self.patch_size) < 50:
            raise SensitivityError(
                f"max_exact and patch_size must be at least 50 samples, got {self.max_exact} and {self.patch_size}"
            )
        n, d = X.shape
        self.x_center_, self.x_scale_ = X.mean(0), X.std(0)
        self.x_scale_[self.x_scale_ == 0] = 1.0
        self.y_center_, self.y_scale_ = y.mean(), y.std() or 1.0
        self.Z_ = (X - self.x_center_) / self.x_scale_
        self.u_ = (y - self.y_center_) / self.y_scale_
        self.length_, self.signal_var_, self.noise_var_ = fit_ard_hyperparameters(
            self.Z_, self.u_, random_state=self.random_state
        )
        self._build_patches()
        cv_patches = np.random.default_rng(self.random_state).permutation(len(self.members_))[:CV_PATCHES]
        residuals, z_scores = zip(*(self._loo(p) for p in cv_patches))
        loo = np.concatenate(residuals) * self.y_scale_
        self.variance_scale_ = max(float(np.mean(np.concatenate(z_scores) ** 2)), 1.0)
        self.choice_ = GaussianProcessChoice(
            length_scales=tuple(float(v) for v in self.length_),
            signal_variance=self.signal_var_,
            noise_variance=self.noise_var_ * self.y_scale_**2,
            cv_mse=float(np.mean(loo**2)),
            n_patches=len(self.members_),
            patch_size=int(self.members_.shape[1]),
        )
        return self

    # ------------------------------------------------------------------ patches
    def _build_patches(self) -> None:
        """Cells by a few Lloyd steps in the length-scale metric; a patch = the patch_size samples nearest a centre."""
        n = len(self.Z_)
        M = self.Z_ / self.length_
        if n <= self.max_exact:
            self.centers_ = M.mean(0, keepdims=True)
            self.members_ = np.arange(n)[None, :]
        else:
            n_cells = int(np.ceil(CELLS_PER_PATCH * n / self.patch_size))
            rng = np.random.default_rng(self.random_state)
            centers = M[rng.choice(n, n_cells, replace=False)]
            for _ in range(8):
                owner = cKDTree(centers).query(M)[1]
                counts = np.bincount(owner, minlength=n_cells)
                sums = np.zeros_like(centers)
                np.add.at(sums, owner, M)
                keep = counts > 0
                centers = sums[keep] / counts[keep, None]
            self.centers_ = centers
            self.members_ = cKDTree(M).query(centers, k=min(n, self.patch_size))[1]
        self.center_tree_ = cKDTree(self.centers_)
        self.alpha_ = np.stack([cho_solve(self._factor(p), self.u_[m]) for p, m in enumerate(self.members_)])

    def _factor(self, patch: int) -> tuple[np.ndarray, bool]:
        """Cholesky factor of the patch's covariance with the smallest jitter that factorises."""
        Zp = self.Z_[self.members_[patch]]
        K = self._k(Zp, Zp) + self.noise_var_ * np.eye(len(Zp))
        for jitter in (1e-12, 1e-10, 1e-8, 1e-6, 1e-4):  # more than needed smooths noise-free data visibly
            try:
                return cho_factor(K + jitter * self.signal_var_ * np.eye(len(Zp)), lower=True)
            except np.linalg.LinAlgError:
                continue
        raise SensitivityError("Gaussian process covariance is singular even with jitter (duplicate samples?)")

    def _loo(self, patch: int) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form leave-one-out residuals (standardised units) of the patch's own cell (all samples if exact),
        and the same divided by their predictive sd (z-scores: about 1 in RMS when the covariance is calibrated)."""
        chol = self._factor(patch)
        inv, info = lapack.dpotri(chol[0], lower=1)
        if info != 0:
            raise SensitivityError(f"Gaussian process: inverting the covariance failed (LAPACK info {info})")
        precision = np.diag(inv)  # 1 / the left-out sample's predictive variance
        resid, z = self.alpha_[patch] / precision, self.alpha_[patch] / np.sqrt(precision)
        if len(self.centers_) == 1:
            return resid, z
        own = self.center_tree_.query(self.Z_[self.members_[patch]] / self.length_)[1] == patch
        return resid[own], z[own]

    def _k(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return self.signal_var_ * np.exp(-0.5 * cdist(A / self.length_, B / self.length_, "sqeuclidean"))

    def _z(self, at: np.ndarray) -> np.ndarray:
        at = np.atleast_2d(np.asarray(at, dtype=float))
        if at.shape[1] != self.Z_.shape[1]:
            raise SensitivityError(
                f"evaluation points have {at.shape[1]} features; the estimator was fitted on {self.Z_.shape[1]}"
            )
        return (at - self.x_center_) / self.x_scale_

    def _groups(self, z: np.ndarray, chunk: int) -> list[tuple[int, np.ndarray]]:
        """(patch, indices of z) pairs: each point goes to its nearest cell, in chunks of at most ``chunk``."""
        owner = self.center_tree_.query(z / self.length_)[1] if len(self.centers_) > 1 else np.zeros(len(z), int)
        out = []
        for patch in np.unique(owner):
            idx = np.flatnonzero(owner == patch)
            out += [(int(patch), idx[s : s + chunk]) for s in range(0, len(idx), chunk)]
        return out

    # ------------------------------------------------------------------ outputs
    def predict(self, at: np.ndarray) -> np.ndarray:
        """Posterior mean at points (m, d) -> (m,)."""
        z = self._z(at)
        out = np.empty(len(z))
        for patch, idx in self._groups(z, 2048):
            out[idx] = self._k(z[idx], self.Z_[self.members_[patch]]) @ self.alpha_[patch]
        return out * self.y_scale_ + self.y_center_

    def gradient(self, at: np.ndarray, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior-mean partial derivatives at points (m, d) -> (m, d), optionally with posterior std."""
        z = self._z(at)
        grad, std = np.empty_like(z), np.empty_like(z)
        factored: tuple[int, tuple[np.ndarray, bool]] | None = None  # chunks of one patch come in a row
        for patch, idx in self._groups(z, 1024):
            Zp, zc = self.Z_[self.members_[patch]], z[idx]
            Ks, alpha = self._k(zc, Zp), self.alpha_[patch]  # (m, K), (K,)
            # Σ_n K_mn α_n (Z_n - z_m) / l²: two matrix products, no (m, K, d) array
            grad[idx] = (Ks @ (alpha[:, None] * Zp) - zc * (Ks @ alpha)[:, None]) / self.length_**2
            if return_std:
                dK = -Ks[..., None] * (zc[:, None, :] - Zp[None, :, :]) / self.length_**2  # d k(x, x_i) / d x_j
                if factored is None or factored[0] != patch:
                    factored = (patch, self._factor(patch))
                v = cho_solve(factored[1], dK.transpose(1, 0, 2).reshape(len(Zp), -1))
                quad = np.einsum("nmd,nmd->md", dK.transpose(1, 0, 2), v.reshape(len(Zp), len(zc), -1))
                std[idx] = np.sqrt(np.maximum(self.signal_var_ / self.length_**2 - quad, 0.0) * self.variance_scale_)
        unit = self.y_scale_ / self.x_scale_
        return (grad * unit, std * unit) if return_std else grad * unit

    def hessian(self, at: np.ndarray) -> np.ndarray:
        """Posterior-mean second partial derivatives at points (m, d) -> (m, d, d)."""
        z = self._z(at)
        out = np.empty((len(z), z.shape[1], z.shape[1]))
        for patch, idx in self._groups(z, 256):
            Zp, zc = self.Z_[self.members_[patch]], z[idx]
            Kw = self._k(zc, Zp) * self.alpha_[patch]  # (m, K): kernel times weights
            s0, s1 = Kw.sum(1), Kw @ Zp  # Σ K α, Σ K α Z_n
            s2 = np.einsum("mn,na,nb->mab", Kw, Zp, Zp)  # Σ K α Z_na Z_nb
            # Σ K α (z - Z_n)_a (z - Z_n)_b = z_a z_b s0 - z_a s1_b - s1_a z_b + s2_ab
            cross = zc[:, :, None] * zc[:, None, :] * s0[:, None, None] - zc[:, :, None] * s1[:, None, :]
            moment = cross - s1[:, :, None] * zc[:, None, :] + s2
            moment = 0.5 * (moment + moment.transpose(0, 2, 1))  # symmetric in exact arithmetic: make it so
            inv_l2 = 1.0 / self.length_**2
            out[idx] = moment * np.outer(inv_l2, inv_l2) - s0[:, None, None] * np.diag(inv_l2)
        return out * self.y_scale_ / np.outer(self.x_scale_, self.x_scale_)
