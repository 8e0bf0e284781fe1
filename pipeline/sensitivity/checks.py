"""Checks that use derivatives: analytic gradients against numbers, data against a candidate law."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.data import TimeSeries
from pipeline.differentiation import DerivativeResult, smooth_and_differentiate
from pipeline.differentiation.derivatives import differentiate_trajectories
from pipeline.errors import SensitivityError
from pipeline.expressions import evaluate_expression

__all__ = ["GradientCheck", "ResidualReport", "check_gradient", "physics_residual", "series_residual"]


@dataclass(frozen=True)
class GradientCheck:
    """Numerical (Richardson-extrapolated central differences) against analytic gradient at one point."""

    numerical: np.ndarray
    analytic: np.ndarray
    max_abs_error: float
    max_rel_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_rel_error <= self.tolerance


def check_gradient(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    *,
    tolerance: float = 1e-5,
    names: Sequence[str] | None = None,
) -> GradientCheck:
    """Compare ``grad_f(x)`` with a numerical gradient of scalar ``f`` at point ``x`` (d,).

    Steps scale with |x_i| (h = eps^(1/5)·max(1, |x_i|)) and two step sizes are Richardson-combined,
    so the numerical error is O(h⁴) and the comparison is meaningful at 1e-5 relative, not 1e-4
    absolute as with one fixed step. The relative error is the largest absolute error (in f's units per
    input unit) over the largest of: the analytic and numerical gradients' sizes, how much the gradient
    changes across a step (max_i |f(x+h_i) - 2 f(x) + f(x-h_i)| / h_i, which is what a stationary point,
    where the gradient is 0, is compared with) and the rounding noise of the differences
    (100 eps max|f| / min h). So a gradient wrong by a factor 2 fails whatever the units of f: measured
    against max(1, ‖analytic‖), as it was, any claim passed for a function whose gradient is below 1e-5.

    ``names`` (d,) name the inputs in messages (default x1..xd).

    Raises:
        SensitivityError: the check cannot be evaluated at ``x``: the point, ``f`` there or at a step of the
            differences (a point within a step of where ``f`` is undefined, log(x) at x = 1e-9), or the claimed
            gradient is NaN or inf; the message names the input and the value. Never a NaN error that reads as a
            failed check.
    """
    x = np.asarray(x, dtype=float).ravel()
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(x.size)]
    if not np.all(np.isfinite(x)):
        raise SensitivityError("gradient check point contains NaN or inf")
    analytic = np.asarray(grad_f(x.copy()), dtype=float).ravel()
    if analytic.shape != x.shape:
        raise SensitivityError(f"analytic gradient has shape {analytic.shape}; expected {x.shape} (one per input)")
    h = np.finfo(float).eps ** 0.2 * np.maximum(1.0, np.abs(x))
    steps = np.diag(h)

    def sides(step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f(x + step_i e_i) and f(x - step_i e_i), each (d,)."""
        return np.array([float(f(x + e)) for e in step]), np.array([float(f(x - e)) for e in step])

    centre = float(f(x))
    _require_finite(x, names, centre, analytic, None)
    (up, down), (up2, down2) = sides(steps), sides(steps / 2)
    _require_finite(x, names, centre, analytic, ((up, h), (down, -h), (up2, h / 2), (down2, -h / 2)))
    numerical = (4 * (up2 - down2) / h - (up - down) / (2 * h)) / 3
    err = np.abs(numerical - analytic)
    change = float(np.max(np.abs(up - 2 * centre + down) / h))
    noise = 100 * np.finfo(float).eps * float(np.max(np.abs([*up, *down, *up2, *down2, centre]))) / float(h.min())
    scale = float(np.max([*np.abs(analytic), *np.abs(numerical), change, noise]))  # NaN if f or grad_f is NaN
    worst = float(err.max())
    relative = worst / scale if scale > 0 or np.isnan(scale) else (0.0 if worst == 0 else float("inf"))
    if not np.isfinite(relative):
        raise SensitivityError(f"the numerical gradient at {_at(x, names)} is not finite ({_values(numerical, names)})")
    return GradientCheck(numerical, analytic, worst, relative, tolerance)


def _at(x: np.ndarray, names: list[str]) -> str:
    """A point (d,) by name: '(x=1, y=0.5)'."""
    return "(" + ", ".join(f"{n}={v:.6g}" for n, v in zip(names, x)) + ")"


def _values(values: np.ndarray, names: list[str]) -> str:
    """Values (d,) by name: 'd/dx = inf, d/dy = 1'."""
    return ", ".join(f"d/d{n} = {v:.6g}" for n, v in zip(names, values))


def _require_finite(
    x: np.ndarray,
    names: list[str],
    centre: float,
    analytic: np.ndarray,
    sides: tuple[tuple[np.ndarray, np.ndarray], ...] | None,
) -> None:
    """Raise SensitivityError naming where ``f`` or the claimed gradient is NaN or inf: ``centre`` is f(x),
    ``analytic`` (d,) the claimed gradient, ``sides`` pairs of f(x + offset_i e_i) (d,) and the offsets (d,)."""
    if not np.isfinite(centre):
        raise SensitivityError(f"the function is {centre} at {_at(x, names)}: undefined there, so it has no gradient")
    if not np.all(np.isfinite(analytic)):
        bad = ~np.isfinite(analytic)
        raise SensitivityError(
            f"the claimed gradient is not finite at {_at(x, names)}: {_values(analytic[bad], np.array(names)[bad])}"
        )
    for values, offsets in sides or ():
        if not np.all(np.isfinite(values)):
            i = int(np.flatnonzero(~np.isfinite(values))[0])
            reach = max(abs(float(o[i])) for _, o in sides or ())
            raise SensitivityError(
                f"the function is {values[i]} at {names[i]}={x[i] + offsets[i]:.6g}, a step of {abs(offsets[i]):.2g}"
                f" from {_at(x, names)} that the numerical differences take: the point is too close to where the"
                f" function is undefined (the differences need it defined within {reach:.2g} of it in {names[i]})"
            )


@dataclass(frozen=True)
class ResidualReport:
    """How well data obey dx/dt = rhs(t, x): residual statistics per state (arrays of shape (d,)).

    ``relative_rms`` is rms(residual) / rms(dx/dt); ``r2`` is 1 - SS_res / SS_tot of dx/dt explained by the law.
    ``residual`` (n, d) has a row per sample at times ``t`` (n,), trajectory after trajectory (``lengths`` rows each);
    ``differentiation`` names the method(s) used.
    """

    names: list[str]
    residual: np.ndarray
    mean: np.ndarray
    mean_abs: np.ndarray
    rms: np.ndarray
    max_abs: np.ndarray
    relative_rms: np.ndarray
    r2: np.ndarray
    differentiation: str
    t: np.ndarray
    lengths: tuple[int, ...]

    def to_dict(self) -> dict[str, dict[str, float]]:
        stats = ("mean", "mean_abs", "rms", "max_abs", "relative_rms", "r2")
        return {n: {s: float(getattr(self, s)[i]) for s in stats} for i, n in enumerate(self.names)}


def physics_residual(
    t: np.ndarray,
    x: np.ndarray,
    law: Callable[[np.ndarray, np.ndarray], np.ndarray] | Mapping[str, str],
    *,
    names: list[str] | None = None,
    params: Mapping[str, float] | None = None,
    method: str = "auto",
    differentiation_params: Mapping[str, Any] | None = None,
) -> ResidualReport:
    """Residual of data against a candidate law dx/dt = rhs(t, x), derivatives estimated from the data.

    Args:
        t: times (n,).
        x: states (n,) or (n, d).
        law: a callable rhs(t (n,), x (n, d)) -> (n, d), or one expression per state, e.g. {"u": "-k*u"}.
        names: state names (default x1..xd, or the law's keys).
        params: constants the expressions use, e.g. {"k": 1.0}.
        method: differentiation method ("auto" chooses from the data).
        differentiation_params: the method's parameters, e.g. {"window": 11} for savgol.
    """
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    names = _state_names(law, names, x.shape[1])
    deriv = smooth_and_differentiate(t, x, method=method, **dict(differentiation_params or {}))
    return _residual_report([deriv], law, names, params)


def series_residual(
    series: TimeSeries,
    law: Callable[[np.ndarray, np.ndarray], np.ndarray] | Mapping[str, str],
    *,
    params: Mapping[str, float] | None = None,
    method: str = "auto",
    differentiation_params: Mapping[str, Any] | None = None,
) -> ResidualReport:
    """:func:`physics_residual` of a (multi-trajectory) series: each trajectory differentiated on its own, the
    statistics over all of them; the report's rows in trajectory order (``lengths`` rows each).

    Raises:
        SensitivityError: the law has no expression for a state of the series.
        DataError, DifferentiationError: as :func:`~pipeline.differentiation.derivatives.differentiate_trajectories`.
    """
    names = _state_names(law, list(series.names), series.n_states)
    derivatives = differentiate_trajectories(series, method, **dict(differentiation_params or {}))
    return _residual_report(derivatives, law, names, params)


def _state_names(law: Any, names: list[str] | None, d: int) -> list[str]:
    """The states' names (given, the law's keys, or x1..xd), checked against the law and the d state columns."""
    if isinstance(law, Mapping):
        names = names or list(law)
        missing = [n for n in names if n not in law]
        if missing:
            raise SensitivityError(f"the law gives no expression for state(s) {missing}")
    names = names or [f"x{i + 1}" for i in range(d)]
    if len(names) != d:
        raise SensitivityError(f"{len(names)} state names for {d} state columns")
    return list(names)


def _law_values(
    law: Callable[[np.ndarray, np.ndarray], np.ndarray] | Mapping[str, str],
    t: np.ndarray,
    states: np.ndarray,
    names: list[str],
    params: Mapping[str, float] | None,
) -> np.ndarray:
    """The law's right-hand side at times ``t`` (n,) and states ``states`` (n, d) → (n, d)."""
    if isinstance(law, Mapping):
        scope = {"t": t, **dict(params or {}), **{n: states[:, i] for i, n in enumerate(names)}}
        return np.column_stack([np.broadcast_to(evaluate_expression(law[n], scope), t.shape) for n in names])
    return np.asarray(law(t, states), dtype=float).reshape(states.shape)


def _residual_report(
    derivatives: list[DerivativeResult],
    law: Callable[[np.ndarray, np.ndarray], np.ndarray] | Mapping[str, str],
    names: list[str],
    params: Mapping[str, float] | None,
) -> ResidualReport:
    """The residual statistics over the rows of every trajectory's ``derivatives``, stacked in order."""
    t = np.concatenate([d.t for d in derivatives])
    first = np.vstack([d.first for d in derivatives])
    r = first - _law_values(law, t, np.vstack([d.smoothed for d in derivatives]), names, params)
    ss_tot = np.sum((first - first.mean(0)) ** 2, axis=0)
    rms_d = np.sqrt(np.mean(first**2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return ResidualReport(
            names=list(names),
            residual=r,
            mean=r.mean(0),
            mean_abs=np.abs(r).mean(0),
            rms=np.sqrt(np.mean(r**2, axis=0)),
            max_abs=np.abs(r).max(0),
            relative_rms=np.sqrt(np.mean(r**2, axis=0)) / rms_d,
            r2=1.0 - np.sum(r**2, axis=0) / ss_tot,
            differentiation=", ".join(dict.fromkeys(d.method for d in derivatives)),
            t=t,
            lengths=tuple(len(d.t) for d in derivatives),
        )
