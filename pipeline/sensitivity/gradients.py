"""Local sensitivities from samples: gradients, Jacobians and Hessians with standard errors.

``method="auto"`` fits a Gaussian process with ARD (hyperparameters by marginal likelihood on a
subsample; exact up to 2,500 samples, local patches beyond, so linear in n) and the
nearest-neighbour local polynomial in the GP's length-scale metric (per-feature bandwidths); it
keeps whichever has the lower leave-one-out prediction error on these data. Nothing about the
function is assumed beyond smoothness at the scale the data resolve: kinks and plateaus make the
local polynomial win, smooth responses the GP.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

from pipeline.data import MAX_MAGNITUDE
from pipeline.errors import SensitivityError
from pipeline.sensitivity.gaussian_process import GaussianProcessGradient
from pipeline.sensitivity.local_polynomial import LocalPolynomial

__all__ = [
    "GradientModel",
    "GradientMethod",
    "estimate_gradient",
    "estimate_hessian",
    "estimate_jacobian",
    "fit_gradient_model",
]

GP_RESOLVED = 1e-5  # a GP whose leave-one-out MSE is below this fraction of Var(y) is kept without a contest
GradientMethod = Literal[
    "auto", "local_polynomial", "local_polynomial_ard", "local_linear", "local_quadratic", "gaussian_process"
]


class GradientModel(Protocol):
    """A fitted estimator of a smooth function and its derivatives."""

    choice_: object

    def predict(self, at: np.ndarray) -> np.ndarray: ...

    def gradient(self, at: np.ndarray, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def hessian(self, at: np.ndarray) -> np.ndarray: ...


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise SensitivityError(f"features must be a 2-D array (samples, features), got shape {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise SensitivityError(f"features have {X.shape[0]} rows but outputs have {y.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise SensitivityError("features contain NaN or inf")
    if not np.all(np.isfinite(y)):
        raise SensitivityError("outputs contain NaN or inf")
    n, d = X.shape
    for what, values in (("features", X), ("outputs", y)):
        peak = float(np.max(np.abs(values))) if values.size else 0.0
        if peak > MAX_MAGNITUDE:
            raise SensitivityError(f"{what} reach magnitude {peak:.3g} (> {MAX_MAGNITUDE:g}); rescale them")
    if n < d + 4:
        raise SensitivityError(f"{n} samples are too few to estimate gradients in {d} features (need at least {d + 4})")
    constant = np.flatnonzero(np.ptp(X, axis=0) == 0)
    if constant.size:
        raise SensitivityError(
            f"feature column(s) {constant.tolist()} are constant: no derivative with respect to them can be estimated"
        )
    return X, y


def fit_gradient_model(X: np.ndarray, y: np.ndarray, method: GradientMethod = "auto") -> GradientModel:
    """Fit a derivative-capable regressor to samples X (n, d) and one output y (n,)."""
    X, y = _check_xy(X, y)
    if y.ndim != 1:
        raise SensitivityError(f"one output expected here, got shape {y.shape}; use estimate_jacobian for several")
    if method in ("local_polynomial", "local_linear", "local_quadratic"):
        degree = {"local_polynomial": None, "local_linear": 1, "local_quadratic": 2}[method]
        return LocalPolynomial(degree=degree).fit(X, y)
    if method == "local_polynomial_ard":
        gp = GaussianProcessGradient().fit(X, y)
        return LocalPolynomial(length_scales=gp.choice_.length_scales).fit(X, y)
    if method == "gaussian_process":
        return GaussianProcessGradient().fit(X, y)
    if method != "auto":
        raise SensitivityError(
            f"unknown gradient method {method!r}; expected one of auto, local_polynomial, local_polynomial_ard, "
            "local_linear, local_quadratic, gaussian_process"
        )
    gp = GaussianProcessGradient().fit(X, y)
    if gp.choice_.cv_mse <= GP_RESOLVED * np.var(y):
        return gp  # the GP predicts left-out samples to 0.3 % of the output's spread: smooth and resolved
    local = LocalPolynomial(length_scales=gp.choice_.length_scales).fit(X, y)
    return gp if gp.choice_.cv_mse < local.choice_.cv_mse else local


def estimate_gradient(
    X: np.ndarray,
    y: np.ndarray,
    *,
    at: np.ndarray | None = None,
    method: GradientMethod = "auto",
    return_std: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Partial derivatives of y with respect to every feature.

    Args:
        X: samples, shape (n, d).
        y: outputs, shape (n,).
        at: evaluation points (m, d); every sample when None (m = n).
        method: estimator; "auto" picks by leave-one-out error.
        return_std: also return the standard error of each partial.

    Returns:
        Gradient (m, d) in output units per feature unit, and its standard error (m, d) if asked.
    """
    model = fit_gradient_model(X, y, method)
    points = np.asarray(X, dtype=float) if at is None else _points(at, np.asarray(X).reshape(len(y), -1).shape[1])
    return model.gradient(points, return_std=return_std)


def estimate_jacobian(
    X: np.ndarray, Y: np.ndarray, *, at: np.ndarray | None = None, method: GradientMethod = "auto"
) -> np.ndarray:
    """Jacobian of several outputs Y (n, q) at points (m, d) -> (m, q, d); each output gets its own bandwidth."""
    Y = np.asarray(Y, dtype=float)
    Y = Y[:, None] if Y.ndim == 1 else Y
    rows = [estimate_gradient(X, Y[:, j], at=at, method=method) for j in range(Y.shape[1])]
    return np.stack(rows, axis=1)


def estimate_hessian(
    X: np.ndarray, y: np.ndarray, *, at: np.ndarray | None = None, method: GradientMethod = "auto"
) -> np.ndarray:
    """Hessian with mixed partials at points (m, d) -> (m, d, d); local fits use degree 2 for curvature."""
    if method in ("local_polynomial", "local_linear"):
        method = "local_quadratic"
    model = fit_gradient_model(X, y, method)
    points = np.asarray(X, dtype=float) if at is None else _points(at, np.asarray(X).reshape(len(y), -1).shape[1])
    return model.hessian(points)


def _points(at: np.ndarray, d: int) -> np.ndarray:
    points = np.atleast_2d(np.asarray(at, dtype=float))
    if d == 1 and points.shape[0] == 1 and points.shape[1] != 1:
        points = points.T
    if points.shape[1] != d:
        raise SensitivityError(f"evaluation points must have {d} columns (one per feature), got {points.shape[1]}")
    if not np.all(np.isfinite(points)):
        raise SensitivityError("evaluation points contain NaN or inf")
    return points
