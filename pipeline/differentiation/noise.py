"""Noise-level estimation from the data alone."""

from __future__ import annotations

import numpy as np

__all__ = ["estimate_noise_sd"]

# Var of the third difference of white noise is 20·σ²; 1.4826·MAD estimates a Gaussian sd robustly.
_THIRD_DIFF_VAR = 20.0
_MAD_TO_SD = 1.4826


def estimate_noise_sd(y: np.ndarray) -> float:
    """Robust estimate of additive white-noise sd in a densely sampled smooth signal ``y`` (n,).

    Third differences cancel any locally quadratic trend, leaving mostly noise; the
    median absolute deviation keeps occasional sharp features from inflating it.
    Returns 0.0 for fewer than 8 samples.
    """
    y = np.asarray(y, dtype=float)
    if y.shape[0] < 8:
        return 0.0
    d3 = np.diff(y, n=3)
    mad = np.median(np.abs(d3 - np.median(d3)))
    return float(_MAD_TO_SD * mad / np.sqrt(_THIRD_DIFF_VAR))
