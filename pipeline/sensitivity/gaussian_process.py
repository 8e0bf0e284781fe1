"""Gaussian-process regression with an ARD squared-exponential kernel, differentiated analytically.

The posterior mean of a GP with kernel ``s² exp(-½ Σ_j (x_j - x'_j)² / l_j²)`` has closed-form
gradients and Hessians, and the posterior variance of each partial derivative is closed-form
too, so every estimate comes with a standard error. Hyperparameters (one length scale per
feature, signal and noise variance) are fitted by marginal likelihood (scikit-learn) on a
subsample of at most ``max_hyper_samples`` points; the posterior then conditions on all the
data with one Cholesky factorisation. That keeps the cost at O(n³) once, instead of once per
optimiser step, so a few thousand samples take seconds rather than a minute.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from pipeline.errors import SensitivityError

__all__ = ["GaussianProcessGradient", "GaussianProcessChoice", "MAX_GP_SAMPLES"]

MAX_GP_SAMPLES = 4000  # beyond this one Cholesky costs more than the scalable local method is worth


@dataclass(frozen=True)
class GaussianProcessChoice:
    """Fitted hyperparameters (standardised units) and the closed-form leave-one-out error (output units²)."""

    length_scales: tuple[float, ...]
    signal_variance: float
    noise_variance: float
    cv_mse: float


class GaussianProcessGradient:
    """GP-ARD regression with analytic gradients, Hessians and gradient standard errors.

    Args:
        max_hyper_samples: hyperparameters are fitted on at most this many samples.
        random_state: seed for the subsample and the optimiser restarts.
    """

    def __init__(self, *, max_hyper_samples: int = 400, random_state: int = 0) -> None:
        self.max_hyper_samples = max_hyper_samples
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcessGradient:
        """Fit on samples X (n, d) with outputs y (n,)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        n, d = X.shape
        if n > MAX_GP_SAMPLES:
            raise SensitivityError(f"Gaussian process needs at most {MAX_GP_SAMPLES} samples, got {n}")
        self.x_center_, self.x_scale_ = X.mean(0), X.std(0)
        self.x_scale_[self.x_scale_ == 0] = 1.0
        self.y_center_, self.y_scale_ = y.mean(), y.std() or 1.0
        Z = (X - self.x_center_) / self.x_scale_
        u = (y - self.y_center_) / self.y_scale_
        rng = np.random.default_rng(self.random_state)
        sub = rng.choice(n, size=min(n, self.max_hyper_samples), replace=False)
        kernel = ConstantKernel(1.0, (1e-3, 1e4)) * RBF(np.ones(d), (1e-2, 1e3)) + WhiteKernel(1e-2, (1e-10, 1.0))
        gpr = GaussianProcessRegressor(kernel, n_restarts_optimizer=1, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gpr.fit(Z[sub], u[sub])
        k = gpr.kernel_
        self.signal_var_ = float(k.k1.k1.constant_value)
        self.length_ = np.atleast_1d(np.asarray(k.k1.k2.length_scale, dtype=float))
        self.noise_var_ = float(k.k2.noise_level)
        K = self._k(Z, Z) + self.noise_var_ * np.eye(n)
        # the smallest diagonal jitter that factorises: more than needed smooths noise-free data visibly
        for jitter in (1e-12, 1e-10, 1e-8, 1e-6, 1e-4):
            try:
                self.chol_ = cho_factor(K + jitter * self.signal_var_ * np.eye(n), lower=True)
                break
            except np.linalg.LinAlgError:
                continue
        else:
            raise SensitivityError("Gaussian process covariance is singular even with jitter (duplicate samples?)")
        self.alpha_ = cho_solve(self.chol_, u)
        self.Z_ = Z
        K_inv_diag = np.diag(cho_solve(self.chol_, np.eye(n)))
        loo = self.alpha_ / K_inv_diag * self.y_scale_
        self.choice_ = GaussianProcessChoice(
            length_scales=tuple(float(v) for v in self.length_),
            signal_variance=self.signal_var_,
            noise_variance=self.noise_var_ * self.y_scale_**2,
            cv_mse=float(np.mean(loo**2)),
        )
        return self

    def _k(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        diff = (A[:, None, :] - B[None, :, :]) / self.length_
        return self.signal_var_ * np.exp(-0.5 * np.sum(diff**2, axis=-1))

    def _z(self, at: np.ndarray) -> np.ndarray:
        at = np.atleast_2d(np.asarray(at, dtype=float))
        if at.shape[1] != self.Z_.shape[1]:
            raise SensitivityError(
                f"evaluation points have {at.shape[1]} features; the estimator was fitted on {self.Z_.shape[1]}"
            )
        return (at - self.x_center_) / self.x_scale_

    def predict(self, at: np.ndarray) -> np.ndarray:
        """Posterior mean at points (m, d) -> (m,)."""
        return self._k(self._z(at), self.Z_) @ self.alpha_ * self.y_scale_ + self.y_center_

    def gradient(self, at: np.ndarray, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior-mean partial derivatives at points (m, d) -> (m, d), optionally with posterior std."""
        z = self._z(at)
        grads, stds = [], []
        for start in range(0, len(z), 1024):
            zc = z[start : start + 1024]
            Ks = self._k(zc, self.Z_)  # (m, n)
            diff = (zc[:, None, :] - self.Z_[None, :, :]) / self.length_**2  # (m, n, d)
            dK = -Ks[..., None] * diff  # d k(x, x_i) / d x_j
            grads.append(np.einsum("mnd,n->md", dK, self.alpha_))
            if return_std:
                v = cho_solve(self.chol_, dK.transpose(1, 0, 2).reshape(len(self.Z_), -1))
                quad = np.einsum("nmd,nmd->md", dK.transpose(1, 0, 2), v.reshape(len(self.Z_), len(zc), -1))
                stds.append(np.sqrt(np.maximum(self.signal_var_ / self.length_**2 - quad, 0.0)))
        unit = self.y_scale_ / self.x_scale_
        grad = np.concatenate(grads) * unit
        if not return_std:
            return grad
        return grad, np.concatenate(stds) * unit

    def hessian(self, at: np.ndarray) -> np.ndarray:
        """Posterior-mean second partial derivatives at points (m, d) -> (m, d, d)."""
        z = self._z(at)
        out = []
        for start in range(0, len(z), 512):
            zc = z[start : start + 512]
            Ks = self._k(zc, self.Z_)
            diff = (zc[:, None, :] - self.Z_[None, :, :]) / self.length_**2
            outer = np.einsum("mna,mnb->mnab", diff, diff) - np.diag(1.0 / self.length_**2)
            out.append(np.einsum("mnab,mn,n->mab", outer, Ks, self.alpha_))
        return np.concatenate(out) * self.y_scale_ / np.outer(self.x_scale_, self.x_scale_)
