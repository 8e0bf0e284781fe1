"""``method="auto"``: a differentiator chosen per column by cross-validation on the data alone.

Candidates (each with its own data-chosen parameters):

- ``savgol+kalman`` (uniform grids): Savitzky–Golay with plug-in windows inside, the
  Kalman/RTS smoother in the first and last half-window, where a local polynomial must
  extrapolate and its variance grows several-fold;
- ``kalman``: the linear-time Kalman/RTS smoother (any grid);
- ``spectral`` (uniform grids): Wiener-filtered FFT differentiation, unbeatable on
  periodic or band-limited signals, poor at ends that do not match;
- ``spline`` (irregular grids up to 5000 samples): the cubic smoothing spline, its penalty by GML
  (:mod:`pipeline.differentiation.spline`).

The score is two-fold interleaved cross-validation that exercises the derivative: each
candidate is fitted to the even samples, the odd samples are predicted by cubic Hermite
interpolation from the fitted values *and first derivatives* at their neighbours, and
vice versa. A wrong derivative bends the interpolant away from the held-out data, so
the score ranks candidates by how well they track both the signal and its slope. The
winner is then refitted on all samples.

Series too short to judge (under 24 samples) take the Kalman smoother; under the 6 samples it needs (panel
data of many short trajectories), the spline, and under the spline's 5, finite differences.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
from scipy.interpolate import CubicHermiteSpline

from pipeline.differentiation.base import ColumnFit, Differentiator, checked, is_uniform
from pipeline.differentiation.finite_difference import FiniteDifference
from pipeline.differentiation.kalman import KalmanSmoother
from pipeline.differentiation.savgol import SavitzkyGolay
from pipeline.differentiation.spectral import Spectral
from pipeline.differentiation.spline import SmoothingSpline
from pipeline.errors import DifferentiationError

__all__ = ["AutoDifferentiator", "interleaved_cv_scores"]

MIN_SAMPLES_FOR_CHOICE = 24
"""Below this many samples the halves are too short to judge; the Kalman smoother is used."""
MAX_SAMPLES_FOR_SPLINE = 5_000
"""The spline joins the candidates on irregular grids up to this size (its penalty search costs ~0.05 s at 5000; longer
series take the linear-time Kalman smoother)."""
MAX_SAMPLES_FOR_CHOICE = 20_000
"""Longer series are judged on every k-th sample (the same signal, thinned), then the winner fits them all."""


def _blend_edges(inner: ColumnFit, edges: ColumnFit) -> ColumnFit:
    """``inner`` (a Savitzky–Golay fit) with the first and last half-window taken from ``edges``."""
    n = inner[0].shape[0]
    outputs = []
    for order in range(3):
        half = min(int(inner[3][f"window_{order}"]) // 2, n // 2)
        blended = inner[order].copy()
        blended[:half] = edges[order][:half]
        blended[n - half :] = edges[order][n - half :]
        outputs.append(blended)
    return outputs[0], outputs[1], outputs[2], {**inner[3], **edges[3]}


def _candidate_names(t: np.ndarray) -> list[str]:
    """The candidates that apply to the grid ``t``."""
    if is_uniform(t, rtol=1e-3):
        return ["kalman", "savgol+kalman", "spectral"] if t.shape[0] >= SavitzkyGolay.min_samples else ["kalman"]
    return ["kalman", "spline"] if t.shape[0] <= MAX_SAMPLES_FOR_SPLINE else ["kalman"]


def _fit_candidates(t: np.ndarray, y: np.ndarray, names: list[str] | None = None) -> dict[str, ColumnFit]:
    """Fits of the named (default: every applicable) candidate; the Kalman fit is computed at most once.

    A candidate that cannot fit these data is left out.
    """
    kalman = functools.cache(lambda: KalmanSmoother()._fit_column(t, y))
    builders = {
        "kalman": kalman,
        "savgol+kalman": lambda: _blend_edges(SavitzkyGolay()._fit_column(t, y), kalman()),
        "spectral": lambda: Spectral()._fit_column(t, y),
        "spline": lambda: SmoothingSpline()._fit_column(t, y),
    }
    fits: dict[str, ColumnFit] = {}
    for name in names if names is not None else _candidate_names(t):
        with contextlib.suppress(DifferentiationError):
            fits[name] = checked(builders[name](), name)
    return fits


def interleaved_cv_scores(t: np.ndarray, y: np.ndarray, names: list[str] | None = None) -> dict[str, float]:
    """Each candidate's (default: every applicable one's) mean squared error predicting each half of the
    samples from the other."""
    errors: dict[str, list[float]] = {}
    for start in (0, 1):
        train, test = np.arange(start, t.shape[0], 2), np.arange(1 - start, t.shape[0], 2)
        for name, fit in _fit_candidates(t[train], y[train], names).items():
            curve = CubicHermiteSpline(t[train], fit[0], fit[1], extrapolate=True)
            errors.setdefault(name, []).append(float(np.mean((curve(t[test]) - y[test]) ** 2)))
    return {name: float(np.mean(values)) for name, values in errors.items() if len(values) == 2}


def _fit_very_short(t: np.ndarray, y: np.ndarray) -> ColumnFit:
    """A series too short for the Kalman smoother (panel data: many trajectories of a few samples each): the
    smoothing spline where it fits, else finite differences."""
    if t.shape[0] >= SmoothingSpline.min_samples:
        with contextlib.suppress(DifferentiationError):
            fit = checked(SmoothingSpline()._fit_column(t, y), "spline")
            return (*fit[:3], {"method": "spline", **fit[3]})
    fit = FiniteDifference()._fit_column(t, y)
    return (*fit[:3], {"method": "finite_difference", **fit[3]})


class AutoDifferentiator(Differentiator):
    """Chooses, per column, the candidate with the best interleaved cross-validation score.

    Fitted ``params_`` name the chosen method per column, its parameters and every
    candidate's score (``cv.<name>``).
    """

    min_samples = FiniteDifference.min_samples

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        if t.shape[0] < KalmanSmoother.min_samples:
            return _fit_very_short(t, y)
        if t.shape[0] < MIN_SAMPLES_FOR_CHOICE:
            fit = KalmanSmoother()._fit_column(t, y)
            return (*fit[:3], {"method": "kalman", **fit[3]})
        stride = int(np.ceil(t.shape[0] / MAX_SAMPLES_FOR_CHOICE))
        # Only candidates that apply to the whole grid: a thinned grid can look uniform where the full
        # one is not (times rounded in a CSV), and spectral or Savitzky-Golay would then refuse it.
        scores = interleaved_cv_scores(t[::stride], y[::stride], _candidate_names(t))
        if stride == 1:
            fits = _fit_candidates(t, y)
        else:  # judged on a thinned copy: fit the best that fits all of it (Kalman fits any grid)
            fits = {}
            for name in [*sorted(scores, key=lambda name: scores[name]), "kalman"]:
                fits = _fit_candidates(t, y, [name])
                if fits:
                    break
        if not fits:
            raise DifferentiationError("auto: no candidate differentiator could fit this series")
        scores = {name: score for name, score in scores.items() if name in fits}
        chosen = min(scores, key=lambda name: scores[name]) if scores else next(iter(fits))
        fit = fits[chosen]
        details = {f"cv.{name}": score for name, score in scores.items()}
        return (*fit[:3], {"method": chosen, **fit[3], **details})
