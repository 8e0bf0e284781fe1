"""Integrating a discovered model: a compiled right-hand side, a bounded count of evaluations, divergence detected.

Every simulation is bounded by a count of right-hand-side evaluations, never by wall time: the same model
simulates (or fails) the same way on an idle machine and on a busy one."""

from __future__ import annotations

import warnings
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import ODEintWarning, odeint

from pipeline.discovery.library import Library
from pipeline.errors import SimulationError

__all__ = ["SIMULATION_EVALUATIONS", "SOLVER_TOLERANCE", "EvaluationCount", "interpolated_control", "simulate_model"]

Control = Callable[[float], np.ndarray]


@dataclass
class EvaluationCount:
    """A running total of the right-hand-side evaluations of the simulations it is passed to: what a caller that
    must bound its cost (:mod:`pipeline.discovery.refinement`) measures, instead of time."""

    calls: int = 0


def interpolated_control(t: np.ndarray, u: np.ndarray) -> Control:
    """Known inputs sampled at increasing times t (n,) as values u (n, m) -> a function of time (m,), linear in
    between and held at the ends (as ``np.interp``). The solver calls it at every step: one bisection finds the
    interval for all m inputs (np.interp per input cost a quarter of a simulation's time)."""
    t = np.asarray(t, dtype=float)
    u = np.asarray(u, dtype=float).reshape(t.shape[0], -1)
    times = t.tolist()
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.diff(t)[:, None]
        slopes = np.where(steps > 0.0, np.diff(u, axis=0) / np.where(steps > 0.0, steps, 1.0), 0.0)

    def control(when: float) -> np.ndarray:
        if when <= times[0]:
            return u[0].copy()
        if when >= times[-1]:
            return u[-1].copy()
        k = bisect_right(times, when) - 1
        return u[k] + slopes[k] * (when - times[k])

    return control


class _EvaluationsExceeded(Exception):
    pass


class _Stalled(Exception):
    """The solver's pace says the evaluation budget cannot reach the end (the message says where and why)."""


class _Diverged(Exception):
    """The solver reached a state beyond the divergence bound (args: the time, what was crossed)."""


class _Guard:
    """What every right-hand-side evaluation checks first: the evaluation budget, the divergence bound ``limit``
    on |x| and, when given, the per-state ``box`` (lower (d,), upper (d,)) tiled over ``size`` solver states.

    A solver that crawls (a stiff model, or one heading into a pole such as 1/(K + x) at x = -K) is stopped as
    soon as its pace shows the budget cannot carry it to the end of ``span`` (start, end): every
    :data:`STALL_WINDOW` of the budget after the first (which holds the solver's ramp from its tiny first step),
    the pace over the last window, carried over the rest of the span, must not need more than
    :data:`STALL_FACTOR` budgets in all. Such a model would fail on the budget anyway; it
    fails sooner.

    The bound is tested on the squared norm (one dot product, the cheapest test) against ``size`` · ``limit``²: it
    never trips while every |x_i| <= ``limit``, and trips once some |x_i| > sqrt(``size``) · ``limit``."""

    def __init__(
        self,
        limit: float,
        box: tuple[np.ndarray, np.ndarray] | None,
        size: int,
        max_evaluations: int,
        span: tuple[float, float],
    ) -> None:
        self.limit = limit
        self.end = span[1]
        self.window = max(int(STALL_WINDOW * max_evaluations), STALL_MIN_WINDOW)
        self.window_start = span[0]  # the time reached when the current window began
        self.squared_limit = size * limit * limit  # |x|² <= size · limit² if every |x_i| <= limit; inf past 1e154
        self.lower, self.upper = (None, None) if box is None else (np.resize(box[0], size), np.resize(box[1], size))
        self.budget = max_evaluations
        self.calls = 0

    def check(self, now: float, x: np.ndarray) -> None:
        """Raise the matching internal exception if the state ``x`` at time ``now`` may not be evaluated."""
        self.calls += 1
        if self.calls > self.budget:
            raise _EvaluationsExceeded
        if self.calls % self.window == 0:
            self._check_pace(now)
        if not x @ x <= self.squared_limit:  # beyond the bound, or not finite (one dot product: the cheapest test)
            raise _Diverged(now, f"|x| > {self.limit:.3g}")
        if self.lower is not None and ((x < self.lower).any() or (x > self.upper).any()):
            raise _Diverged(now, "left the region checked")

    def _check_pace(self, now: float) -> None:
        advanced = now - self.window_start
        self.window_start = now
        if self.calls == self.window:  # the first window holds the solver's ramp from its tiny first step
            return
        needed = self.calls + (self.window * (self.end - now) / advanced if advanced > 0 else np.inf)
        if needed > STALL_FACTOR * self.budget:
            pace = (
                f"at its pace the span needs ~{needed:.3g}, over {STALL_FACTOR:g} times the budget of {self.budget}"
                if np.isfinite(needed)
                else "it no longer advances"
            )
            raise _Stalled(
                f"simulation stalled at t = {now:.4g} after {self.calls} right-hand-side evaluations: {pace} "
                "(stiff or singular model)"
            )


SIMULATION_EVALUATIONS = 1_000_000
"""Default cap on one simulation's right-hand-side evaluations: a few seconds of solver work at the 5-15 µs a
solver call takes here (the kernel's 2-9 µs, the guard and the solver), and far above what a model that tracks a
512-point record needs (a few thousand)."""


STALL_WINDOW = 1 / 16
"""Share of the evaluation budget over which a simulation's pace is measured (:class:`_Guard`): wide enough to
hold several steps of a stiff solver, each of which may estimate a Jacobian at one time."""
STALL_MIN_WINDOW = 250
"""The fewest evaluations a pace is measured over: a stiff solver's first steps grow from tiny ones for a while."""
STALL_FACTOR = 20.0
"""A simulation whose pace would need this many evaluation budgets for the whole span is stopped as stalled."""


SOLVER_TOLERANCE = 1e-6
"""The solver's relative tolerance unless a caller loosens it; its absolute one is :data:`ABSOLUTE_SHARE` of it."""
ABSOLUTE_SHARE = 1e-3
"""The solver's absolute tolerance as a share of its relative one (states are of order 1 in fitting units)."""

MAX_STEPS = 10**7
"""LSODA's own cap on steps between two output times: out of the way of the evaluation budget, which is the cap."""


def _solve(
    rhs: Callable[[float, np.ndarray], np.ndarray],
    x0: np.ndarray,
    t: np.ndarray,
    rtol: float,
    guard: _Guard,
    count: EvaluationCount | None,
) -> np.ndarray:
    """LSODA on ``rhs`` from x0 (n,) over t (m,) → (m, n); the guard's stops and the solver's failures raised as
    :class:`SimulationError`, the evaluations used added to ``count``."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ODEintWarning)  # judged below from the solver's own report
            x, report = odeint(
                rhs,
                x0,
                t,
                tfirst=True,
                rtol=rtol,
                atol=rtol * ABSOLUTE_SHARE,
                full_output=True,
                mxstep=MAX_STEPS,
            )
    except _EvaluationsExceeded:
        raise SimulationError(
            f"simulation needed more than {guard.budget} right-hand-side evaluations (stiff or singular model)"
        ) from None
    except _Stalled as stalled:
        raise SimulationError(str(stalled)) from None
    except _Diverged as diverged:
        raise SimulationError(f"simulation diverged ({diverged.args[1]}) at t = {diverged.args[0]:.4g}") from None
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # the solver choked on non-finite states
        raise SimulationError(f"simulation failed: {exc}") from exc
    finally:
        if count is not None:
            count.calls += guard.calls
    if report["message"] != "Integration successful.":
        raise SimulationError(f"simulation failed: {report['message']}")
    if not np.all(np.isfinite(x)):
        raise SimulationError("simulation produced non-finite values")
    return x


def simulate_model(
    coefficients: np.ndarray,
    library: Library,
    x0: np.ndarray,
    t: np.ndarray,
    *,
    bound: float | None = None,
    box: tuple[np.ndarray, np.ndarray] | None = None,
    control: Control | None = None,
    max_evaluations: int = SIMULATION_EVALUATIONS,
    rtol: float = SOLVER_TOLERANCE,
    count: EvaluationCount | None = None,
) -> np.ndarray:
    """Integrate dx/dt = coefficients @ theta(x, u(t)) from ``x0`` over the times ``t`` → states at ``t``, (m, d).

    Args:
        coefficients: (d, p) model coefficients.
        library: the p candidate terms.
        x0: initial state (d,), or a batch of B initial states (B, d) integrated together over the
            same times; the result is then (m, B, d).
        t: output times (m,), strictly increasing; integration starts at ``t[0]``.
        bound: |x| above which the solution counts as diverged (default 1e6 · max(1, |x0|)).
        box: per-state (lower (d,), upper (d,)) outside which the solution counts as diverged too: a check that
            only asks whether the model stays in a region stops as soon as it leaves.
        control: known inputs u(t) (m,) when the library has control terms after the d states; with a batch, the
            same inputs for every start, or one row per start (B, m).
        max_evaluations: cap on right-hand-side evaluations; a model that needs more, stiff or heading into a
            singularity, fails instead of hanging (and fails early when its pace shows it cannot make it).
        rtol: the solver's relative tolerance per step (LSODA's local error control); its absolute one is
            :data:`ABSOLUTE_SHARE` of it.
        count: when given, the right-hand-side evaluations used are added to it (also when the simulation fails).

    Raises:
        SimulationError: divergence, non-finite values, a solver failure, or the evaluation budget.
    """
    x0 = np.asarray(x0, dtype=float)
    t = np.asarray(t, dtype=float)
    batch = x0.shape if x0.ndim == 2 else None
    limit = bound if bound is not None else 1e6 * max(1.0, float(np.max(np.abs(x0))))
    guard = _Guard(limit, box, x0.size, max_evaluations, (float(t[0]), float(t[-1])))
    from pipeline.discovery.compiled_rhs import compile_model  # numba loads here, not with the CLI's input checks

    model = compile_model(coefficients, library)
    if batch is not None and control is not None:
        variables = np.empty((batch[0], library.powers.shape[1]))  # states then inputs, filled at every step

    def rhs(now: float, x: np.ndarray) -> np.ndarray:
        guard.check(now, x)
        if batch is None:
            return model((x if control is None else np.concatenate([x, control(now)]))[None, :])[0]
        if control is None:
            return model(x.reshape(batch)).ravel()
        variables[:, : batch[1]] = x.reshape(batch)
        variables[:, batch[1] :] = control(now)  # one row of inputs for every start, or one per start
        return model(variables).ravel()

    x = _solve(rhs, x0.ravel(), t, rtol, guard, count)
    return x if batch is None else x.reshape(t.shape[0], *batch)
