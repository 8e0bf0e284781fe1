"""The differentiator contract shared by every method.

A differentiator is a scikit-learn-style estimator: the constructor only stores its
parameters; ``fit(t, x)`` smooths each column and computes its first and second
derivatives; fitted attributes end in ``_``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.errors import DifferentiationError

__all__ = ["ColumnFit", "Differentiator", "as_2d", "checked", "is_uniform", "is_whole", "require_uniform"]

ColumnFit = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]
"""(smoothed, first derivative, second derivative, chosen parameters) of one column, each (n,)."""


def as_2d(x: np.ndarray) -> np.ndarray:
    """View (n,) as (n, 1); leave (n, d) as is."""
    return x[:, None] if x.ndim == 1 else x


def _first_bad_time(t: np.ndarray) -> str:
    """Where the times ``t`` (n,) first fail to be finite and strictly increasing, in words."""
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        return f"t is {t[bad[0]]} at 0-based row {bad[0]}"
    row = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
    kind = "repeats" if t[row] == t[row - 1] else "decreases"
    return f"t {kind} at 0-based row {row} ({float(t[row - 1])!r} then {float(t[row])!r})"


def is_uniform(t: np.ndarray, rtol: float = 1e-6) -> bool:
    """True when the sampling steps of ``t`` are equal to within ``rtol`` of the mean step."""
    steps = np.diff(t)
    return bool(np.all(np.abs(steps - steps.mean()) <= rtol * abs(steps.mean())))


def require_uniform(t: np.ndarray) -> None:
    """Raise a :class:`DifferentiationError` (about the method, not a parameter) unless ``t`` is a uniform grid
    (steps equal to within 0.1 %)."""
    if not is_uniform(t, rtol=1e-3):
        raise DifferentiationError(
            "needs uniformly sampled t (steps equal to within 0.1 %); use method 'kalman' (or 'auto') for irregular t"
        )


def is_whole(value: object) -> bool:
    """Whether ``value`` is a whole number (``5`` or ``5.0``; not ``True``, not ``"5"``)."""
    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return numeric and float(value).is_integer()


def checked(fit: ColumnFit, name: str) -> ColumnFit:
    """``fit`` unchanged if its smoothed signal and derivatives are finite, else a DifferentiationError."""
    if not all(np.all(np.isfinite(part)) for part in fit[:3]):
        raise DifferentiationError(
            f"{name}: produced non-finite values (the data may span too many orders of magnitude; rescale them)"
        )
    return fit


class Differentiator(BaseEstimator, ABC):
    """Smooths a sampled signal and returns its derivatives.

    Fitted attributes (after :meth:`fit`):
        t_: times, shape (n,).
        smoothed_: smoothed states, shape (n, d).
        derivatives_: ``{1: (n, d), 2: (n, d)}`` derivatives per unit of ``t``.
        params_: the parameters used per column (chosen from the data where not fixed).
    """

    min_samples: int = 3

    @abstractmethod
    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        """Smooth one column ``y`` (n,) sampled at ``t`` (n,)."""

    def check_sampling(self, t: np.ndarray) -> None:
        """Raise what :meth:`fit` would raise for these parameters and the sample times ``t`` ((n,), finite and
        increasing) alone, before any value is smoothed: a parameter out of range, or a grid the method refuses.
        Cheap (one pass over ``t``), so inputs can be checked before a run starts. The default accepts everything.

        Raises:
            DifferentiationError: its ``parameter`` names the parameter at fault (None: the method does not suit
                ``t``); the message does not name the estimator (:meth:`fit` adds it).
        """

    @classmethod
    def method_name(cls) -> str:
        """The name a config gives this method (``kalman`` for :class:`KalmanSmoother`), for messages; the class
        name for a differentiator not in the registry."""
        from pipeline.differentiation.registry import METHODS  # here: the registry imports the methods' modules

        return next((key for key, path in METHODS.items() if path.endswith(f":{cls.__name__}")), cls.__name__)

    def fit(self, t: np.ndarray, x: np.ndarray) -> Differentiator:
        """Smooth and differentiate every column of ``x`` ((n,) or (n, d)) against ``t`` ((n,))."""
        t = np.asarray(t, dtype=float)
        x2 = as_2d(np.asarray(x, dtype=float))
        name = f"method '{self.method_name()}'"
        if t.ndim != 1 or x2.ndim != 2 or x2.shape[0] != t.shape[0]:
            transposed = t.ndim == 1 and x2.ndim == 2 and x2.shape[1] == t.shape[0]
            raise DifferentiationError(
                f"{name}: t has shape {t.shape} and x {np.shape(x)}; expected (n,) and (n,) or (n, d)"
                + ("; x looks transposed (pass x.T)" if transposed else "")
            )
        if t.shape[0] < self.min_samples:
            raise DifferentiationError(f"{name}: {t.shape[0]} samples; this method needs at least {self.min_samples}")
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise DifferentiationError(f"{name}: t must be finite and strictly increasing; {_first_bad_time(t)}")
        if not np.all(np.isfinite(x2)):
            row, col = (int(i) for i in np.argwhere(~np.isfinite(x2))[0])
            raise DifferentiationError(
                f"{name}: x has {x2[row, col]} at 0-based row {row}, column {col} (use nan_policy='interpolate')"
            )
        try:
            self.check_sampling(t)
        except DifferentiationError as exc:
            raise DifferentiationError(f"{name}: {exc}", parameter=exc.parameter) from None
        fits = [checked(self._fit_column(t, x2[:, j]), name) for j in range(x2.shape[1])]
        self.t_ = t
        self.smoothed_ = np.column_stack([f[0] for f in fits])
        self.derivatives_ = {1: np.column_stack([f[1] for f in fits]), 2: np.column_stack([f[2] for f in fits])}
        self.params_ = [f[3] for f in fits]
        return self
