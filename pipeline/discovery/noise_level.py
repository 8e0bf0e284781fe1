"""How the measurement noise varies along a record: additive, proportional to the state, or both.

Sensors and assays often err in proportion to what they read (a 5 % error on a concentration, a
relative tolerance on a voltage): a record that decays from 10 to 0.8 then carries noise of sd 0.5 at
its start and 0.04 at its end. A shooting error that weighs every sample alike lets the noisy start
hide a model that misses the quiet end by many noise levels (on a charging curve, a model without its
constant term, which heads to 0 instead of the plateau). Weighing each residual by the noise expected
where it was taken fixes that, and leaves a record with additive noise as it was.

The noise variance is modelled per state as sigma^2(x) = a + b x^2 with a, b >= 0, fitted to the squared
third differences of the data (which cancel any locally quadratic trend and leave 20 sigma^2 of white
noise) against the smoothed state; the same differences give the single noise level of
:func:`~pipeline.differentiation.noise.estimate_noise_sd`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

__all__ = ["relative_noise_scale"]

THIRD_DIFFERENCE_VARIANCE = 20.0
"""Var of the third difference of white noise of variance 1."""
MIN_SCALE = 0.2
"""No sample's noise is taken below this share of the state's RMS noise: its weight is at most 1/0.2² = 25x."""
MIN_SAMPLES = 64
"""A state with fewer third differences keeps uniform weights: each squared difference is one chi-square draw
(relative sd 1.4), and on a sparse record (the 21 yearly lynx-hare counts) the differences hold more of the
signal's own curvature than of its noise."""


def _state_scale(observed: list[np.ndarray], smoothed: list[np.ndarray]) -> list[np.ndarray]:
    """For one state's observed and smoothed values per trajectory (n_k,): the relative noise sd per sample."""
    differences = [np.diff(x, n=3) for x in observed]
    centres = [s[1:-2] for s in smoothed]  # a third difference spans samples i..i+3
    squared = np.concatenate(differences) ** 2 / THIRD_DIFFERENCE_VARIANCE
    level = np.concatenate(centres) ** 2
    if squared.shape[0] < MIN_SAMPLES or not np.all(np.isfinite(squared)) or not np.any(squared > 0.0):
        return [np.ones_like(s) for s in smoothed]
    (a, b), _ = nnls(np.column_stack([np.ones_like(level), level]), squared)
    variances = [a + b * s**2 for s in smoothed]
    mean = float(np.mean(np.concatenate(variances)))
    if not mean > 0.0:
        return [np.ones_like(s) for s in smoothed]
    return [np.maximum(np.sqrt(v / mean), MIN_SCALE) for v in variances]


def relative_noise_scale(xs: list[np.ndarray], smoothed: list[np.ndarray]) -> list[np.ndarray]:
    """Each sample's expected noise sd relative to its state's RMS noise sd, per trajectory (n_k, d).

    Args:
        xs: observed states per trajectory (n_k, d).
        smoothed: their smoothed states (n_k, d), where the noise model is evaluated.

    Returns:
        Per trajectory (n_k, d): sigma_i / RMS(sigma), at least :data:`MIN_SCALE`; all ones where the noise is
        additive (b = 0) or a state has too few samples to tell.
    """
    d = xs[0].shape[1]
    columns = [_state_scale([x[:, j] for x in xs], [s[:, j] for s in smoothed]) for j in range(d)]
    return [np.column_stack([columns[j][k] for j in range(d)]) for k in range(len(xs))]
