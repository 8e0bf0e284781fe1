"""Spectral differentiation with a Wiener filter estimated from the data (uniform grids).

The line through the first and last samples is removed so the periodic extension has
no jump in value (a record whose ends meet, like a whole number of periods sampled at
both ends, is left as it is; one sampled without its closing point gets a one-sample
flat step at the wrap, and ``auto``'s cross-validation then prefers another method).
The residual is transformed by FFT, each frequency is shrunk by the empirical Wiener
gain max(0, 1 − n·σ² / |Y_k|²) with σ the noise sd estimated from the data (power
averaged over neighbouring frequencies), multiplied by (iω)^k and transformed back;
the trend's own derivative is added. A frequency is kept only where its averaged
power exceeds what noise alone reaches anywhere with probability 1 % (the 1 − 0.01/m
quantile of the noise's Gamma(5) distribution over m bins), so noise peaks are not amplified by
ω^k. Periodic signals suffer no edge effect at all.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.stats import gamma

from pipeline.differentiation.base import ColumnFit, Differentiator, require_uniform
from pipeline.differentiation.noise import estimate_noise_sd
from pipeline.errors import DifferentiationError

__all__ = ["Spectral"]

_AVERAGED_BINS = 5
_FAMILY_ERROR = 0.01
"""Chance that any pure-noise frequency is kept (Bonferroni over all bins): one kept noise bin near
Nyquist, multiplied by ω^k, would dominate the derivative's error."""


class Spectral(Differentiator):
    """FFT differentiation with data-estimated Wiener shrinkage.

    Args:
        noise_sd: noise sd to filter against; None estimates it from the data.
    """

    min_samples = 8

    def __init__(self, noise_sd: float | None = None) -> None:
        self.noise_sd = noise_sd

    def check_sampling(self, t: np.ndarray) -> None:
        """A uniform grid and ``noise_sd`` >= 0 (see :meth:`Differentiator.check_sampling`)."""
        require_uniform(t)
        if self.noise_sd is not None and self.noise_sd < 0:
            raise DifferentiationError(f"noise_sd must be >= 0, got {self.noise_sd}", parameter="noise_sd")

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        self.check_sampling(t)  # also here: the auto method fits columns without fit()
        n = y.shape[0]
        dt = float(np.mean(np.diff(t)))
        slope = (y[-1] - y[0]) / (t[-1] - t[0])
        trend = y[0] + slope * (t - t[0])
        spectrum = np.fft.rfft(y - trend)
        sigma = estimate_noise_sd(y) if self.noise_sd is None else float(self.noise_sd)
        power = uniform_filter1d(np.abs(spectrum) ** 2, size=_AVERAGED_BINS, mode="nearest")
        noise_power = n * sigma**2
        gain = np.clip(1.0 - noise_power / np.maximum(power, 1e-300), 0.0, 1.0)
        bins = power.shape[0]
        threshold = gamma.ppf(1.0 - _FAMILY_ERROR / max(bins, 2), a=_AVERAGED_BINS, scale=1.0 / _AVERAGED_BINS)
        gain[1:][power[1:] < threshold * noise_power] = 0.0
        filtered = spectrum * gain
        omega = 2j * np.pi * np.fft.rfftfreq(n, d=dt)
        smooth = np.fft.irfft(filtered, n) + trend
        first = np.fft.irfft(filtered * omega, n) + slope
        second = np.fft.irfft(filtered * omega**2, n)
        return smooth, first, second, {"noise_sd": sigma, "kept_frequencies": int(np.count_nonzero(gain))}
