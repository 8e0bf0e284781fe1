"""Derivatives of noisy, possibly irregularly sampled signals.

``differentiate(t, x, order=1, method="auto")`` is the one entry point; the
estimators behind it (:data:`METHODS`: auto, Kalman/RTS, Savitzky–Golay, spectral,
local polynomial, total variation, smoothing spline, finite differences) follow
scikit-learn's estimator contract and choose their parameters from the data.
:func:`smooth_and_differentiate` also returns what was chosen and the smoothed
signal, which discovery uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.differentiation.auto import AutoDifferentiator
from pipeline.differentiation.base import Differentiator, as_2d
from pipeline.differentiation.finite_difference import FiniteDifference
from pipeline.differentiation.kalman import KalmanSmoother
from pipeline.differentiation.local_polynomial import LocalPolynomial
from pipeline.differentiation.noise import estimate_noise_sd
from pipeline.differentiation.savgol import SavitzkyGolay
from pipeline.differentiation.spectral import Spectral
from pipeline.differentiation.spline import SmoothingSpline
from pipeline.differentiation.total_variation import TotalVariation
from pipeline.errors import DifferentiationError

__all__ = [
    "METHODS",
    "AutoDifferentiator",
    "DerivativeResult",
    "Differentiator",
    "FiniteDifference",
    "KalmanSmoother",
    "LocalPolynomial",
    "SavitzkyGolay",
    "SmoothingSpline",
    "Spectral",
    "TotalVariation",
    "differentiate",
    "estimate_noise_sd",
    "make_differentiator",
    "smooth_and_differentiate",
]

METHODS: dict[str, type[Differentiator]] = {
    "auto": AutoDifferentiator,
    "finite_difference": FiniteDifference,
    "kalman": KalmanSmoother,
    "local_polynomial": LocalPolynomial,
    "savgol": SavitzkyGolay,
    "spectral": Spectral,
    "spline": SmoothingSpline,
    "total_variation": TotalVariation,
}
NAN_POLICIES = ("raise", "interpolate")


@dataclass(frozen=True)
class DerivativeResult:
    """Smoothed states and derivatives of one trajectory, and what produced them.

    Attributes:
        t: times, (n,).
        smoothed: smoothed states, (n, d).
        first: first derivatives per unit of t, (n, d).
        second: second derivatives, (n, d).
        method: the differentiator used.
        params: parameters per column (chosen from data where not fixed).
        noise_sd: estimated noise sd per column, (d,).
    """

    t: np.ndarray
    smoothed: np.ndarray
    first: np.ndarray
    second: np.ndarray
    method: str
    params: list[dict[str, float]]
    noise_sd: np.ndarray


def make_differentiator(method: str, **params: Any) -> Differentiator:
    """Build the differentiator ``method`` with ``params``.

    Raises:
        DifferentiationError: unknown method or parameter, naming the valid ones.
    """
    if method not in METHODS:
        raise DifferentiationError(f"unknown differentiation method '{method}'; expected one of {list(METHODS)}")
    cls = METHODS[method]
    valid = set(cls._get_param_names())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise DifferentiationError(f"method '{method}' has no parameter(s) {unknown}; valid: {sorted(valid)}")
    return cls(**params)


def _apply_nan_policy(t: np.ndarray, x: np.ndarray, policy: str) -> np.ndarray:
    if policy not in NAN_POLICIES:
        raise DifferentiationError(f"nan_policy must be one of {NAN_POLICIES}, got {policy!r}")
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    if policy == "raise":
        row, col = np.argwhere(bad)[0]
        raise DifferentiationError(
            f"x has a non-finite value at row {row}, column {col}; pass nan_policy='interpolate' to fill it"
        )
    filled = x.copy()
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        if ok.sum() < 2:
            raise DifferentiationError(f"column {j} has fewer than 2 finite values; cannot interpolate")
        filled[~ok, j] = np.interp(t[~ok], t[ok], x[ok, j])
    return filled


def smooth_and_differentiate(
    t: np.ndarray, x: np.ndarray, *, method: str = "auto", nan_policy: str = "raise", **params: Any
) -> DerivativeResult:
    """Smooth ``x`` ((n,) or (n, d)) sampled at ``t`` ((n,)) and return both derivatives and what was chosen."""
    t = np.asarray(t, dtype=float)
    x2 = _apply_nan_policy(t, as_2d(np.asarray(x, dtype=float)), nan_policy)
    name, estimator = method, make_differentiator(method, **params)
    try:
        estimator.fit(t, x2)
    except TypeError as exc:  # a parameter of the wrong type reaching numpy/scipy
        raise DifferentiationError(f"method '{name}': invalid parameter ({exc})") from exc
    noise = np.array([estimate_noise_sd(x2[:, j]) for j in range(x2.shape[1])])
    return DerivativeResult(
        t=t,
        smoothed=estimator.smoothed_,
        first=estimator.derivatives_[1],
        second=estimator.derivatives_[2],
        method=name,
        params=estimator.params_,
        noise_sd=noise,
    )


def differentiate(
    t: np.ndarray | list[np.ndarray],
    x: np.ndarray | list[np.ndarray],
    *,
    order: int = 1,
    method: str = "auto",
    nan_policy: str = "raise",
    **params: Any,
) -> np.ndarray | list[np.ndarray]:
    """Derivative of order 1 or 2 of ``x`` with respect to ``t``.

    Args:
        t: times (n,), or a list of them for several trajectories.
        x: values (n,) or (n, d), or a list matching ``t``.
        order: 1 or 2.
        method: ``auto``, ``spline``, ``savgol`` or ``finite_difference``.
        nan_policy: ``raise`` (naming the row) or ``interpolate`` linearly in t.
        **params: parameters of the method (chosen from the data when omitted).

    Returns:
        An array of the same shape as ``x`` (a list for list input), in units of x per unit of t**order.

    Raises:
        DifferentiationError: bad order, method, parameter, shape or NaN.
    """
    if order not in (1, 2):
        raise DifferentiationError(f"order must be 1 or 2, got {order!r}")
    if isinstance(t, list) or isinstance(x, list):
        if not (isinstance(t, list) and isinstance(x, list)) or len(t) != len(x):
            raise DifferentiationError("for several trajectories pass t and x as lists of equal length")
        return [
            differentiate(ti, xi, order=order, method=method, nan_policy=nan_policy, **params) for ti, xi in zip(t, x)
        ]
    x_arr = np.asarray(x, dtype=float)
    if x_arr.ndim not in (1, 2):
        raise DifferentiationError(f"x must have shape (n,) or (n, d), got {x_arr.shape}")
    result = smooth_and_differentiate(t, x_arr, method=method, nan_policy=nan_policy, **params)
    out = result.first if order == 1 else result.second
    return out[:, 0] if x_arr.ndim == 1 else out
