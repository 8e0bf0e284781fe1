"""Savitzky–Golay filtering with its window chosen by generalised cross-validation."""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_coeffs, savgol_filter

from pipeline.differentiation.base import ColumnFit, Differentiator, is_uniform
from pipeline.errors import DifferentiationError

__all__ = ["SavitzkyGolay"]


def _gcv(y: np.ndarray, window: int, polyorder: int) -> float:
    """GCV score of the filter: n·RSS / (n − tr H)², with tr H ≈ n·(centre weight)."""
    n = y.shape[0]
    smooth = savgol_filter(y, window, polyorder, mode="interp")
    centre_weight = savgol_coeffs(window, polyorder)[window // 2]
    dof = n * centre_weight
    return float(n * np.sum((y - smooth) ** 2) / max(n - dof, 1.0) ** 2)


class SavitzkyGolay(Differentiator):
    """Local polynomial filter on a uniform grid.

    Args:
        window: odd window length in samples; None chooses it by GCV on the data.
        polyorder: degree of the local polynomial (>= 2 so second derivatives exist).
    """

    min_samples = 7

    def __init__(self, window: int | None = None, polyorder: int = 3) -> None:
        self.window = window
        self.polyorder = polyorder

    def _choose_window(self, y: np.ndarray) -> int:
        n = y.shape[0]
        low = self.polyorder + 2 + (self.polyorder % 2 == 0)
        high = max(low, (n // 2) | 1)
        candidates = np.unique(np.geomspace(low, high, num=40).astype(int) | 1)
        scores = [_gcv(y, int(w), self.polyorder) for w in candidates if w < n]
        return int(candidates[int(np.argmin(scores))])

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        if not is_uniform(t, rtol=1e-3):
            raise DifferentiationError("SavitzkyGolay: needs uniformly sampled t; use method='spline' for irregular t")
        if self.polyorder < 2:
            raise DifferentiationError(f"SavitzkyGolay: polyorder must be >= 2, got {self.polyorder}")
        window = self.window if self.window is not None else self._choose_window(y)
        if window % 2 == 0 or window <= self.polyorder or window > y.shape[0]:
            raise DifferentiationError(
                f"SavitzkyGolay: window must be odd, > polyorder ({self.polyorder}) and <= n ({y.shape[0]});"
                f" got {window}"
            )
        dt = float(np.mean(np.diff(t)))
        kwargs = {"window_length": window, "polyorder": self.polyorder, "delta": dt, "mode": "interp"}
        smooth = savgol_filter(y, deriv=0, **kwargs)
        return smooth, savgol_filter(y, deriv=1, **kwargs), savgol_filter(y, deriv=2, **kwargs), {"window": window}
