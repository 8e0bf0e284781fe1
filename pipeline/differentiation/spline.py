"""Cubic smoothing spline with its penalty chosen by generalised cross-validation."""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_smoothing_spline

from pipeline.differentiation.base import ColumnFit, Differentiator
from pipeline.errors import DifferentiationError

__all__ = ["SmoothingSpline"]


class SmoothingSpline(Differentiator):
    """Penalised cubic spline (scipy ``make_smoothing_spline``); irregular ``t`` allowed.

    Args:
        lam: roughness penalty; None chooses it by GCV on the data.
    """

    min_samples = 5

    def __init__(self, lam: float | None = None) -> None:
        self.lam = lam

    def check_sampling(self, t: np.ndarray) -> None:
        """``lam`` >= 0 (see :meth:`Differentiator.check_sampling`); any grid."""
        if self.lam is not None and self.lam < 0:
            raise DifferentiationError(f"lam must be >= 0, got {self.lam}", parameter="lam")

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        try:
            spline = make_smoothing_spline(t, y, lam=self.lam)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise DifferentiationError(f"SmoothingSpline: fit failed ({exc})") from exc
        lam = float(self.lam) if self.lam is not None else float("nan")
        return spline(t), spline.derivative(1)(t), spline.derivative(2)(t), {"lam": lam}
