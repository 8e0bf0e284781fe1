"""Derivatives of noisy, possibly irregularly sampled signals.

``differentiate(t, x, order=1, method="auto")`` is the one entry point; the
estimators behind it (:data:`METHODS`: auto, Kalman/RTS, Savitzky–Golay, spectral,
local polynomial, total variation, smoothing spline, finite differences) follow
scikit-learn's estimator contract and choose their parameters from the data.
:func:`smooth_and_differentiate` also returns what was chosen and the smoothed
signal, which discovery uses.
"""

from pipeline.differentiation.auto import AutoDifferentiator
from pipeline.differentiation.base import Differentiator
from pipeline.differentiation.derivatives import differentiate, smooth_and_differentiate
from pipeline.differentiation.finite_difference import FiniteDifference
from pipeline.differentiation.kalman import KalmanSmoother
from pipeline.differentiation.local_polynomial import LocalPolynomial
from pipeline.differentiation.noise import estimate_noise_sd
from pipeline.differentiation.registry import METHODS, make_differentiator
from pipeline.differentiation.result import DerivativeResult
from pipeline.differentiation.savgol import SavitzkyGolay
from pipeline.differentiation.spectral import Spectral
from pipeline.differentiation.spline import SmoothingSpline
from pipeline.differentiation.total_variation import TotalVariation

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
