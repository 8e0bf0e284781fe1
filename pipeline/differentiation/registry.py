"""The differentiation methods by name, and building one from its name and parameters.

Adding a method is one line here: the config's method names come from :data:`METHODS`. Each
entry names its class as ``"module:Class"``, imported on use, so reading the names (a config
does, before anything heavy) does not import scikit-learn or scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pipeline.errors import DifferentiationError

if TYPE_CHECKING:
    from pipeline.differentiation.base import Differentiator

__all__ = ["METHODS", "make_differentiator", "method_class"]

METHODS: dict[str, str] = {
    "auto": "pipeline.differentiation.auto:AutoDifferentiator",
    "finite_difference": "pipeline.differentiation.finite_difference:FiniteDifference",
    "kalman": "pipeline.differentiation.kalman:KalmanSmoother",
    "local_polynomial": "pipeline.differentiation.local_polynomial:LocalPolynomial",
    "savgol": "pipeline.differentiation.savgol:SavitzkyGolay",
    "spectral": "pipeline.differentiation.spectral:Spectral",
    "spline": "pipeline.differentiation.spline:SmoothingSpline",
    "total_variation": "pipeline.differentiation.total_variation:TotalVariation",
}


def method_class(method: str) -> type[Differentiator]:
    """The differentiator class registered as ``method``.

    Raises:
        DifferentiationError: unknown method, naming the valid ones.
    """
    if method not in METHODS:
        raise DifferentiationError(f"unknown differentiation method '{method}'; expected one of {list(METHODS)}")
    module, name = METHODS[method].split(":")
    return getattr(importlib.import_module(module), name)


def make_differentiator(method: str, **params: Any) -> Differentiator:
    """Build the differentiator ``method`` with ``params``.

    Raises:
        DifferentiationError: unknown method or parameter, naming the valid ones.
    """
    cls = method_class(method)
    valid = set(cls._get_param_names())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise DifferentiationError(f"method '{method}' has no parameter(s) {unknown}; valid: {sorted(valid)}")
    return cls(**params)
