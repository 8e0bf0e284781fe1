"""Derivatives of noisy, possibly irregularly sampled signals.

``differentiate(t, x, order=1, method="auto")`` is the one entry point; the
estimators behind it (:data:`METHODS`: auto, Kalman/RTS, Savitzky–Golay, spectral,
local polynomial, total variation, smoothing spline, finite differences) follow
scikit-learn's estimator contract and choose their parameters from the data.
:func:`smooth_and_differentiate` also returns what was chosen and the smoothed
signal, which discovery uses.

Public names are imported on first use (:mod:`pipeline.differentiation.exports`), so reading the
method names (:mod:`pipeline.differentiation.registry`) imports none of the estimators.
"""

from pipeline.differentiation.exports import __dir__ as __dir__  # lazy public names
from pipeline.differentiation.exports import __getattr__ as __getattr__

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
    "check_settings",
    "check_trajectory_lengths",
    "differentiate",
    "differentiate_trajectories",
    "estimate_noise_sd",
    "make_differentiator",
    "method_class",
    "smooth_and_differentiate",
]
