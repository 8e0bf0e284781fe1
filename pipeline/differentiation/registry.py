"""The differentiation methods by name, and building one from its name and parameters.

Adding a method is one line here: the config's method names come from :data:`METHODS`.
"""

from __future__ import annotations

from typing import Any

from pipeline.differentiation.auto import AutoDifferentiator
from pipeline.differentiation.base import Differentiator
from pipeline.differentiation.finite_difference import FiniteDifference
from pipeline.differentiation.kalman import KalmanSmoother
from pipeline.differentiation.local_polynomial import LocalPolynomial
from pipeline.differentiation.savgol import SavitzkyGolay
from pipeline.differentiation.spectral import Spectral
from pipeline.differentiation.spline import SmoothingSpline
from pipeline.differentiation.total_variation import TotalVariation
from pipeline.errors import DifferentiationError

__all__ = ["METHODS", "make_differentiator"]

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
