"""The entry points: derivatives of noisy, possibly irregularly sampled signals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.differentiation.base import as_2d
from pipeline.differentiation.nan_policy import apply_nan_policy
from pipeline.differentiation.noise import estimate_noise_sd
from pipeline.differentiation.registry import make_differentiator, method_class
from pipeline.differentiation.result import DerivativeResult
from pipeline.errors import DifferentiationError

if TYPE_CHECKING:
    from pipeline.data import TimeSeries

__all__ = [
    "check_settings", "check_trajectory_lengths", "differentiate", "differentiate_trajectories",
    "smooth_and_differentiate",
]  # fmt: skip


def smooth_and_differentiate(
    t: np.ndarray, x: np.ndarray, *, method: str = "auto", nan_policy: str = "raise", **params: Any
) -> DerivativeResult:
    """Smooth ``x`` ((n,) or (n, d)) sampled at ``t`` ((n,)) and return both derivatives and what was chosen.

    One trajectory (for several, call it on each, or use :func:`differentiate` with lists). Arguments as
    :func:`differentiate`.

    Returns:
        A :class:`~pipeline.differentiation.result.DerivativeResult`: ``smoothed``, ``first`` and ``second``
        derivatives (n, d) in units of x per unit of t and per unit of t squared, ``noise_sd`` (d,) estimated from the
        data, and ``method`` and ``params`` (per column, as chosen from the data where not fixed).

    Raises:
        DifferentiationError: an unknown method or parameter, a parameter out of range, a grid the method refuses
            (``savgol`` and ``spectral`` need uniform times), too few samples, values that are not numbers,
            shapes that do not match, times not strictly increasing, or a NaN under ``nan_policy='raise'``.
    """
    t, x = _numbers(t, "t"), _numbers(x, "x")
    x2 = apply_nan_policy(t, as_2d(x), nan_policy)
    name, estimator = method, make_differentiator(method, **params)
    try:
        estimator.fit(t, x2)
    except TypeError as exc:  # a parameter of the wrong type reaching numpy/scipy
        raise DifferentiationError(f"method '{name}': invalid parameter ({exc})") from exc
    noise = np.array([estimate_noise_sd(x2[:, j], t) for j in range(x2.shape[1])])
    return DerivativeResult(
        t=t,
        smoothed=estimator.smoothed_,
        first=estimator.derivatives_[1],
        second=estimator.derivatives_[2],
        method=name,
        params=estimator.params_,
        noise_sd=noise,
    )


def _numbers(values: object, name: str) -> np.ndarray:
    """``values`` as a float array, or a :class:`DifferentiationError` naming ``name``."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DifferentiationError(f"{name} must hold numbers ({' '.join(str(exc).split())})") from None


def _one_series(values: object, name: str, n: int | None = None) -> object:
    """``values`` as one array when a list holds one series rather than one array per trajectory: numbers (a
    column's ``tolist()``), or, given the times' count ``n``, ``n`` rows of numbers (a table's ``tolist()``)."""
    if not isinstance(values, list) or not values:
        return values
    rows = n is not None and len(values) == n > 1 and all(np.ndim(item) == 1 for item in values)
    return _numbers(values, name) if rows or all(np.ndim(item) == 0 for item in values) else values


def differentiate(
    t: np.ndarray | list[np.ndarray],
    x: np.ndarray | list[np.ndarray],
    *,
    order: int = 1,
    method: str = "auto",
    nan_policy: str = "raise",
    **params: Any,
) -> np.ndarray | list[np.ndarray]:
    """Derivative of order 1 or 2 of ``x`` with respect to ``t``.

    Args:
        t: times (n,) (an array, or a list of numbers), or a list of arrays for several trajectories.
        x: values (n,) or (n, d): one row per time (an array, or a list of numbers or of n rows), or a list of arrays
            matching ``t``.
        order: 1 or 2.
        method: ``auto`` (chosen per column from the data), ``kalman``, ``savgol``, ``spectral``,
            ``local_polynomial``, ``total_variation``, ``spline`` or ``finite_difference`` (the keys of
            :data:`~pipeline.differentiation.registry.METHODS`).
        nan_policy: ``raise`` (naming the row) or ``interpolate`` linearly in t.
        **params: parameters of the method (chosen from the data when omitted).

    Returns:
        An array of the same shape as ``x`` (a list for list input), in units of x per unit of t**order.

    Raises:
        DifferentiationError: bad order, method, parameter, shape or NaN.
    """
    if order not in (1, 2):
        raise DifferentiationError(f"order must be 1 or 2, got {order!r}")
    t = _one_series(t, "t")
    x = _one_series(x, "x", None if isinstance(t, list) else np.shape(t)[0] if np.ndim(t) == 1 else None)
    if isinstance(t, list) or isinstance(x, list):
        if not (isinstance(t, list) and isinstance(x, list)) or len(t) != len(x):
            raise DifferentiationError("for several trajectories pass t and x as lists of equal length")
        return [
            differentiate(ti, xi, order=order, method=method, nan_policy=nan_policy, **params) for ti, xi in zip(t, x)
        ]
    x_arr = _numbers(x, "x")
    if x_arr.ndim not in (1, 2):
        raise DifferentiationError(f"x must have shape (n,) or (n, d), got {x_arr.shape}")
    result = smooth_and_differentiate(t, x_arr, method=method, nan_policy=nan_policy, **params)
    out = result.first if order == 1 else result.second
    return out[:, 0] if x_arr.ndim == 1 else out


def check_trajectory_lengths(series: TimeSeries, method: str) -> None:
    """Check that every trajectory of ``series`` has the samples differentiation ``method`` needs.

    Raises:
        DataError: naming the first short trajectory (file and label), the method, and how many are short.
    """
    needed = method_class(method).min_samples
    needs = f"differentiation method '{method}' needs at least {needed}"
    series.require_samples(needed, needs, "; method 'auto' takes short trajectories")


def check_settings(series: TimeSeries, method: str, params: dict[str, Any]) -> None:
    """Check, before anything is smoothed, that differentiation ``method`` with ``params`` suits every trajectory
    of ``series``: enough samples (:func:`check_trajectory_lengths`), parameters in range, and a sampling grid the
    method takes (savgol and spectral need uniform times): each estimator's
    :meth:`~pipeline.differentiation.base.Differentiator.check_sampling`, one pass over the times.

    Raises:
        DataError: a trajectory is too short for ``method``.
        DifferentiationError: an unknown method or parameter, a parameter out of range, or a grid the method
            refuses; ``parameter`` names the parameter at fault (None: the method); the message names the method
            and the trajectory's place.
    """
    check_trajectory_lengths(series, method)
    estimator = make_differentiator(method, **params)
    for k, t in enumerate(series.t_list()):
        try:
            estimator.check_sampling(np.asarray(t, dtype=float))
        except DifferentiationError as exc:
            raise DifferentiationError(
                f"method '{method}' on {series.place(k)}: {exc}", parameter=exc.parameter
            ) from None
        except TypeError as exc:  # a parameter of the wrong type (a text where a number belongs)
            raise DifferentiationError(f"method '{method}': invalid parameter ({exc})") from exc


def differentiate_trajectories(series: TimeSeries, method: str = "auto", **params: Any) -> list[DerivativeResult]:
    """:func:`smooth_and_differentiate` on every trajectory of ``series``, one result each.

    Raises:
        DataError: a trajectory is too short for ``method`` (:func:`check_trajectory_lengths`).
        DifferentiationError: the settings do not suit the series (:func:`check_settings`), or as
            :func:`smooth_and_differentiate`, the message led by the trajectory's place.
    """
    check_settings(series, method, params)
    results = []
    for k, (t, x) in enumerate(zip(series.t_list(), series.x_list())):
        try:
            results.append(smooth_and_differentiate(t, x, method=method, **params))
        except DifferentiationError as exc:
            raise DifferentiationError(f"{series.place(k)}: {exc}") from exc
    return results
