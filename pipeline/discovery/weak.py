"""The weak form of dx/dt = Θ(x) ξ: integrate against smooth test functions instead of differentiating.

For a test function φ that vanishes at both ends of its window, integration by parts gives

    −∫ φ'(t) x(t) dt = ∫ φ(t) Θ(x(t)) dt · ξ,

so no derivative of the data is needed: the left side is linear in the observed states
(their noise averages out over the window, unbiased), the right side integrates the
library on the smoothed states. Each window gives one row; overlapping windows along
every trajectory make the weak system B ≈ G ξ (Messenger & Bortz, "Weak SINDy", 2021).

Test functions are the bumps φ(t) = ((t − a)(b − t))^q on [a, b], q = 4, normalised to
∫ φ = 1. Their half-width is chosen from the data: the highest frequency at which the
states' power spectra stand clear of their white-noise floor sets the time scale the
windows may average over (a noisier record gets wider windows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from pipeline.differentiation.noise import estimate_noise_sd

__all__ = ["WeakSystem", "corner_frequency", "weak_system"]

BUMP_POWER = 4
SIGNAL_TO_FLOOR = 10.0
"""A frequency carries signal while its smoothed power is this many times the noise floor."""
MIN_WINDOW_SAMPLES = 10
"""Fewest samples in a window's half: the trapezoid rule on the bump is then accurate to about 1e-4."""
MAX_WINDOW_FRACTION = 1 / 8
"""A window spans at most this share of its trajectory, so every trajectory gives several."""


@dataclass(frozen=True)
class WeakSystem:
    """Rows of the weak form: B ≈ G ξ.

    Attributes:
        design: G, the library integrated against each test function (K, p).
        target: B, minus the states integrated against each test function's derivative (K, d).
        folds: contiguous fold label of each row (K,), by window position in its trajectory.
        half_width: the windows' half-width per trajectory, in time units.
    """

    design: np.ndarray
    target: np.ndarray
    folds: np.ndarray
    half_width: list[float]


def corner_frequency(t: np.ndarray, x: np.ndarray) -> float:
    """Highest frequency (cycles per time unit) where some state's power stands clear of its noise floor.

    Args:
        t: times (n,), roughly uniform (the mean step is used).
        x: states (n, d).
    """
    n = x.shape[0]
    dt = float((t[-1] - t[0]) / max(n - 1, 1))
    frequencies = np.fft.rfftfreq(n, dt)
    corner = frequencies[1] if frequencies.size > 1 else 1.0
    window = max(3, n // 64)
    for j in range(x.shape[1]):
        detrended = x[:, j] - np.linspace(x[0, j], x[-1, j], n)
        power = np.abs(np.fft.rfft(detrended)) ** 2
        floor = n * estimate_noise_sd(x[:, j]) ** 2
        smooth = np.convolve(power, np.ones(window) / window, mode="same")
        strong = np.flatnonzero(smooth > SIGNAL_TO_FLOOR * max(floor, 1e-300 * power.max()))
        if strong.size:
            corner = max(corner, float(frequencies[strong[-1]]))
    return corner


def _trapezoid_weights(t: np.ndarray) -> np.ndarray:
    """Weights w (n,) with Σ w_i f(t_i) the trapezoid rule on the samples t (irregular allowed)."""
    steps = np.diff(t)
    weights = np.zeros_like(t)
    weights[:-1] += steps / 2
    weights[1:] += steps / 2
    return weights


def _bumps(t: np.ndarray, half_width: float) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Test functions φ_k and φ_k' at the samples, (K, n) sparse, windows overlapping by half.

    Only a window's own samples are stored, so memory and time grow linearly with n. A window holding
    fewer than :data:`MIN_WINDOW_SAMPLES` samples (a gap in irregular sampling) is dropped: its integrals
    would be inaccurate, or, with no sample at all, undefined.
    """
    centres = np.arange(t[0] + half_width, t[-1] - half_width + 1e-12, half_width / 2)
    a, b = centres - half_width, centres + half_width
    first = np.searchsorted(t, a, side="right")  # the first sample with t > a
    counts = np.searchsorted(t, b, side="left") - first  # samples with a < t < b
    keep = counts >= MIN_WINDOW_SAMPLES
    a, b, first, counts = a[keep], b[keep], first[keep], counts[keep]
    rows = np.repeat(np.arange(a.shape[0]), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = np.repeat(first, counts) + offsets
    ta, tb, tt = a[rows], b[rows], t[cols]
    u = (tt - ta) * (tb - tt)
    q = BUMP_POWER
    phi, dphi = u**q, q * u ** (q - 1) * (ta + tb - 2 * tt)
    norm = np.bincount(rows, weights=_trapezoid_weights(t)[cols] * phi, minlength=a.shape[0])[rows]
    shape = (a.shape[0], t.shape[0])
    return (
        sparse.csr_matrix((phi / norm, (rows, cols)), shape=shape),
        sparse.csr_matrix((dphi / norm, (rows, cols)), shape=shape),
    )


def weak_system(ts: list[np.ndarray], xs: list[np.ndarray], theta: np.ndarray, n_folds: int) -> WeakSystem | None:
    """The weak form of every trajectory, stacked; None when a trajectory is too short for it.

    Args:
        ts: times per trajectory (n_k,).
        xs: observed states per trajectory (n_k, d).
        theta: the library on the smoothed states, stacked over trajectories (Σ n_k, p).
        n_folds: contiguous folds per trajectory for cross-validation.
    """
    designs, targets, folds, widths = [], [], [], []
    start = 0
    for t, x in zip(ts, xs):
        rows = theta[start : start + t.shape[0]]
        start += t.shape[0]
        span = float(t[-1] - t[0])
        dt = span / max(t.shape[0] - 1, 1)
        if MIN_WINDOW_SAMPLES * dt > MAX_WINDOW_FRACTION * span:
            return None  # too few samples for accurate windows that still leave several per trajectory
        half_width = float(np.clip(1.0 / corner_frequency(t, x), MIN_WINDOW_SAMPLES * dt, MAX_WINDOW_FRACTION * span))
        phi, dphi = _bumps(t, half_width)
        if phi.shape[0] < 2 * n_folds:
            return None
        weights = sparse.diags(_trapezoid_weights(t))
        designs.append(np.asarray((phi @ weights) @ rows))
        targets.append(-np.asarray((dphi @ weights) @ x))
        k = phi.shape[0]
        folds.append(np.minimum((np.arange(k) * n_folds) // k, n_folds - 1))
        widths.append(half_width)
    return WeakSystem(np.vstack(designs), np.vstack(targets), np.concatenate(folds), widths)
