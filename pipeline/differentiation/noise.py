"""Noise-level estimation from the data alone."""

from __future__ import annotations

import numpy as np

from pipeline.differentiation.base import is_uniform

__all__ = ["estimate_noise_sd"]

# Var of the third difference of white noise is 20·σ²; 1.4826·MAD estimates a Gaussian sd robustly.
_THIRD_DIFF_VAR = 20.0
_MAD_TO_SD = 1.4826


def estimate_noise_sd(y: np.ndarray, t: np.ndarray | None = None) -> float:
    """Robust estimate of additive white-noise sd in a densely sampled smooth signal ``y`` (n,) sampled at ``t``
    ((n,), strictly increasing; None for a uniform grid).

    Third differences cancel any locally quadratic trend, leaving mostly noise; the
    median absolute deviation keeps occasional sharp features from inflating it. On an irregular
    grid, plain third differences do not cancel even a linear trend (a noise-free sin t + 0.5 sin 2.3t
    sampled at 60 random times over [0, 10] read as noise of sd 0.056): each run of four samples is
    combined with the weights of their third divided difference instead, which cancel quadratics at any
    spacing, scaled to unit norm so that white noise keeps its sd. Returns 0.0 for fewer than 8 samples.
    """
    y = np.asarray(y, dtype=float)
    if y.shape[0] < 8:
        return 0.0
    if t is None or is_uniform(np.asarray(t, dtype=float)):
        residuals = np.diff(y, n=3) / np.sqrt(_THIRD_DIFF_VAR)
    else:
        residuals = _divided_third_differences(np.asarray(t, dtype=float), y)
    mad = np.median(np.abs(residuals - np.median(residuals)))
    return float(_MAD_TO_SD * mad)


def _divided_third_differences(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Σ w_i y_i over each run of four samples (n - 3,), w the third divided difference's weights
    1 / Π_{j≠i} (t_i − t_j) scaled to unit norm: zero on any quadratic, sd σ on white noise of sd σ."""
    n = t.shape[0] - 3
    times = [t[k : k + n] for k in range(4)]
    weights = np.stack(
        [1.0 / np.prod([times[i] - times[j] for j in range(4) if j != i], axis=0) for i in range(4)]
    )
    weights /= np.linalg.norm(weights, axis=0)
    return np.sum([weights[k] * y[k : k + n] for k in range(4)], axis=0)
