"""Savitzky–Golay filtering with a plug-in window chosen for the derivative it estimates.

The window is the one that minimises the estimated mean squared error of the
derivative, computed exactly from the filter's coefficients:

    MSE(w) = σ² · Σ c_j(w)²  +  θ_r · B_r(w)²

where c(w) are the filter's derivative weights, σ the noise sd (estimated from the
data), B_r(w) = Σ c_j (jΔ)^r / r! the filter's leading bias moment (r is the first power
the filter does not reproduce) and θ_r the mean square of the signal's r-th derivative.
θ_r is estimated from the data by a degree-(r+1) filter at the smallest window where
noise contributes under 10 % of the estimate's mean square, minus that noise
contribution (a bias-corrected pilot). Windows are searched on a geometric grid.
This is the classical plug-in bandwidth selector for local polynomial derivative
estimation (Fan & Gijbels 1996, ch. 4), with exact finite-sample constants.
"""

from __future__ import annotations

from functools import lru_cache
from math import factorial

import numpy as np
from scipy.signal import oaconvolve, savgol_coeffs

from pipeline.differentiation.base import ColumnFit, Differentiator, is_whole, require_uniform
from pipeline.differentiation.noise import estimate_noise_sd
from pipeline.errors import DifferentiationError

__all__ = ["SavitzkyGolay", "plug_in_window"]

PILOT_NOISE_SHARE = 0.1
"""Largest share of noise in the pilot estimate's mean square."""
DIRECT_CONVOLUTION_WORK = 2_000_000
"""Up to this many multiply-adds (samples x window), a direct convolution beats an FFT one (measured: 512 samples,
window 7-255: 1-7 us direct, 60-95 us overlap-add; 5,000 samples x 1,001: 314 us direct, 122 us overlap-add)."""


def convolve_valid(y: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``y`` (n,) convolved with ``kernel`` (w,), "valid" part (n - w + 1,): direct for short work, else overlap-add."""
    if y.shape[0] * kernel.shape[0] <= DIRECT_CONVOLUTION_WORK:
        return np.convolve(y, kernel, mode="valid")
    return oaconvolve(y, kernel, mode="valid")


@lru_cache(maxsize=4096)
def _weights(window: int, polyorder: int, deriv: int) -> np.ndarray:
    """Filter weights for unit spacing, applied as a dot product over y[i-half .. i+half]."""
    return savgol_coeffs(window, polyorder, deriv=deriv, use="dot")


@lru_cache(maxsize=4096)
def _bias_moment(window: int, polyorder: int, deriv: int) -> tuple[int, float]:
    """(r, B_r) for unit spacing: the first power r the filter misses and its moment Σ c_j j^r / r!.

    The centred filter of a ``deriv``-th derivative is even or odd as ``deriv`` is, so its moments of the other
    parity are exactly zero: they are skipped, not computed (over windows of ~2300 samples and more their
    round-off passed the zero test, and a first derivative's window grew to 15 583 samples of 100 000, R² 0)."""
    weights = _weights(window, polyorder, deriv)
    j = np.arange(-(window // 2), window // 2 + 1, dtype=float)
    scale = np.sum(np.abs(weights))
    for r in range(polyorder + 1, polyorder + 6):
        if (r - deriv) % 2:
            continue
        moment = float(np.sum(weights * j**r) / factorial(r))
        if abs(moment) > 1e-10 * scale * (window // 2) ** r / factorial(r):
            return r, moment
    return polyorder + 1, 0.0


def _candidate_windows(n: int, polyorder: int) -> np.ndarray:
    low = polyorder + 2 + (polyorder % 2 == 0)
    high = max(low, min(n - 1, n // 2) | 1)
    if high >= n:
        high -= 2
    return np.unique(np.geomspace(low, max(high, low), num=80).astype(int) | 1)


def _pilot_theta(y: np.ndarray, r: int, sigma: float, windows: np.ndarray) -> float:
    """Bias-corrected mean square of the r-th derivative (unit spacing), from interior points only."""
    polyorder = r + 1
    estimate = None
    for window in windows:
        if window <= polyorder + 1:
            continue
        weights = _weights(int(window), polyorder, r)
        if y.shape[0] - int(window) + 1 < 3:
            break
        inner = convolve_valid(y, weights[::-1])
        mean_square = float(np.mean(inner**2))
        noise = sigma**2 * float(np.sum(weights**2))
        estimate = mean_square - noise
        if noise < PILOT_NOISE_SHARE * mean_square:
            break
    return max(estimate or 0.0, 1e-300)


def plug_in_window(y: np.ndarray, deriv: int, polyorder: int = 3, sigma: float | None = None) -> int:
    """The window minimising the estimated MSE of the ``deriv``-th derivative of ``y`` (uniform grid)."""
    n = y.shape[0]
    sigma = estimate_noise_sd(y) if sigma is None else sigma
    windows = _candidate_windows(n, polyorder)
    if sigma == 0.0:
        return int(windows[0])
    r, _ = _bias_moment(int(windows[min(3, len(windows) - 1)]), polyorder, deriv)
    theta = _pilot_theta(y, r, sigma, windows)
    best_window, best_mse = int(windows[0]), np.inf
    for window in windows:
        _, moment = _bias_moment(int(window), polyorder, deriv)
        mse = sigma**2 * float(np.sum(_weights(int(window), polyorder, deriv) ** 2)) + theta * moment**2
        if mse < best_mse:
            best_window, best_mse = int(window), mse
    return best_window


def apply_savgol(y: np.ndarray, window: int, polyorder: int, deriv: int, delta: float) -> np.ndarray:
    """Savitzky–Golay filter in O(n log w): FFT convolution inside, a polynomial fit on each end window.

    Same result as ``scipy.signal.savgol_filter(..., mode="interp")``, whose direct
    convolution costs O(n·w) and takes minutes for long series with wide windows.
    """
    n, half = y.shape[0], window // 2
    out = np.empty(n)
    out[half : n - half] = convolve_valid(y, savgol_coeffs(window, polyorder, deriv=deriv, delta=delta))
    positions = np.arange(window, dtype=float)
    for segment, rows in ((slice(0, window), slice(0, half)), (slice(n - window, n), slice(n - half, n))):
        poly = np.polynomial.Polynomial.fit(positions, y[segment], polyorder).deriv(deriv)
        local = positions[:half] if rows.start == 0 else positions[window - half :]
        out[rows] = poly(local) / delta**deriv
    return out


class SavitzkyGolay(Differentiator):
    """Local polynomial filter on a uniform grid, its window chosen per derivative order.

    Args:
        window: odd window length in samples for every order; None chooses one per
            order by the plug-in rule (see module docstring).
        polyorder: degree of the local polynomial (>= 2 so second derivatives exist).
    """

    min_samples = 7

    def __init__(self, window: int | None = None, polyorder: int = 3) -> None:
        self.window = window
        self.polyorder = polyorder

    def _check_window(self, window: object, n: int) -> None:
        if not is_whole(window) or int(window) % 2 == 0 or window <= self.polyorder or window > n:
            raise DifferentiationError(
                f"window must be odd, > polyorder ({self.polyorder}) and <= the number of samples ({n}); got"
                f" {window!r}",
                parameter="window",
            )

    def check_sampling(self, t: np.ndarray) -> None:
        """A uniform grid, ``polyorder`` a whole number >= 2, and a given ``window`` odd, above ``polyorder`` and
        at most the samples (see :meth:`Differentiator.check_sampling`)."""
        require_uniform(t)
        if not is_whole(self.polyorder) or self.polyorder < 2:
            raise DifferentiationError(
                f"polyorder must be a whole number >= 2, got {self.polyorder!r}", parameter="polyorder"
            )
        if self.window is not None:
            self._check_window(self.window, t.shape[0])

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        self.check_sampling(t)  # also here: the auto method fits columns without fit()
        n, polyorder = y.shape[0], int(self.polyorder)
        sigma = estimate_noise_sd(y)
        windows = {}
        for order in (0, 1, 2):
            window = int(self.window) if self.window is not None else plug_in_window(y, order, polyorder, sigma)
            self._check_window(window, n)
            windows[order] = window
        dt = float(np.mean(np.diff(t)))
        out = [apply_savgol(y, windows[k], polyorder, k, dt) for k in (0, 1, 2)]
        return out[0], out[1], out[2], {"window_0": windows[0], "window_1": windows[1], "window_2": windows[2]}
