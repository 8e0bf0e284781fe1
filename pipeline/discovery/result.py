"""The result of a discovery: equations, coefficients with uncertainty, metrics, and simulation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.discovery.library import Library, latex_name, text_name
from pipeline.discovery.simulate import SIMULATION_EVALUATIONS, interpolated_control, simulate_model
from pipeline.errors import DataError

__all__ = ["DiscoveryResult", "format_equation"]


def _format_coefficient(value: float, precision: int) -> str:
    """``precision`` significant digits, trailing zeros kept (``1.000``, ``28.00``, ``0.02618``)."""
    return f"{value:#.{precision}g}".rstrip(".")


def format_equation(
    state: str, coefficients: np.ndarray, feature_names: list[str], *, precision: int = 4, style: str = "text"
) -> str:
    """One equation: text ``"u' = -1.002 u + 0.3 u v"``, LaTeX, or a sympy-parsable right-hand side.

    ``style`` is ``text``, ``latex`` (``\\dot{u} = -1.002 u``) or ``sympy`` (``-1.002*u``, the
    right-hand side only). ``feature_names`` must be in the matching style.
    """
    parts: list[str] = []
    for coef, term in zip(coefficients, feature_names):
        if coef == 0.0:
            continue
        magnitude = _format_coefficient(abs(float(coef)), precision)
        joiner = "*" if style == "sympy" else " "
        body = magnitude if term == "1" else f"{magnitude}{joiner}{term}"
        sign = "-" if coef < 0 else "+"
        parts.append(f"-{body}" if not parts and sign == "-" else body if not parts else f"{sign} {body}")
    rhs = " ".join(parts) if parts else "0"
    if style == "sympy":
        return rhs
    lhs = f"\\dot{{{state}}}" if style == "latex" else f"{state}'"
    return f"{lhs} = {rhs}"


def _times(t: object) -> np.ndarray:
    """``t`` as (m,) finite times in one direction (repeats allowed, as the solver takes them).

    Raises:
        DataError: naming what is wrong with ``t``."""
    try:
        times = np.asarray(t, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"t must hold numbers: the times to simulate at, (m,) ({exc})") from None
    if times.ndim != 1 or times.shape[0] == 0:
        raise DataError(f"t must be a 1-D array of the times to simulate at, (m,); got shape {times.shape}")
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise DataError(f"t is {times[bad[0]]} at 0-based index {bad[0]} (expected finite times)")
    steps = np.diff(times)
    if (steps < 0).any() and (steps > 0).any():
        turn = int(np.flatnonzero(np.sign(steps) != np.sign(steps[np.flatnonzero(steps)[0]]))[0]) + 1
        raise DataError(
            f"t turns back at 0-based index {turn} ({times[turn - 1]} then {times[turn]}): times must increase (or"
            " decrease, to simulate backwards) throughout"
        )
    return times


@dataclass(frozen=True)
class DiscoveryResult:
    """A discovered ODE dx/dt = coefficients @ theta(x) and how it was found.

    Attributes:
        names: state names, (d,).
        library: the candidate terms theta (p of them).
        coefficients: (d, p); zero where a term is not in the model.
        metrics: scalar scores (derivative R², trajectory R², complexity, AICc, ...).
        chosen: what was selected (differentiation, library degree, selection rule, ...).
        pareto: scored candidate models per state: ``{"state", "complexity", "cv_mse", "terms", "chosen"}``.
        judged: every joint model the judge simulated: ``{"label", "terms", "n_terms", "function_terms", "fit",
            "shooting_error", "law_keeping", "chosen"}``, by shooting error (the spread-scaled mean squared error of
            block simulations against the record).
        inclusion: bootstrap inclusion probability of every term, (d, p), or None.
        intervals: bootstrap 95 % intervals of every coefficient, (d, p, 2), or None.
        max_simulation_evaluations: cap on the right-hand-side evaluations of one :meth:`simulate`.
        controls: names of known inputs u the right-hand side may use (library terms over states then inputs).
    """

    names: tuple[str, ...]
    library: Library
    coefficients: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)
    chosen: dict[str, Any] = field(default_factory=dict)
    pareto: list[dict[str, Any]] = field(default_factory=list)
    judged: list[dict[str, Any]] = field(default_factory=list)
    inclusion: np.ndarray | None = None
    intervals: np.ndarray | None = None
    max_simulation_evaluations: int = SIMULATION_EVALUATIONS
    controls: tuple[str, ...] = ()

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Plain-text names of the p library terms."""
        return tuple(self.library.feature_names())

    @property
    def cautions(self) -> list[str]:
        """What to know before trusting the model beyond the record, one sentence each (a poor fit, a weak forecast,
        an ambiguous structure, a run-away or sign-breaking flow near the data, chaos); empty when there is none.
        The same list as ``chosen["cautions"]``, which the run logs."""
        return [str(caution) for caution in self.chosen.get("cautions", [])]

    @property
    def equations(self) -> list[str]:
        """One text equation per state, e.g. ``"u' = -1.002 u"``."""
        names = self.library.feature_names()
        return [format_equation(text_name(n), c, names) for n, c in zip(self.names, self.coefficients)]

    @property
    def equations_latex(self) -> list[str]:
        """One LaTeX equation per state, e.g. ``\\dot{u} = -1.002 u`` (names of several letters upright:
        ``\\dot{\\mathrm{hare}} = 0.5457 \\mathrm{hare} - 0.02634 \\mathrm{hare} \\, \\mathrm{lynx}``)."""
        names = self.library.latex_names()
        rows = zip(self.names, self.coefficients)
        return [format_equation(latex_name(n), c, names, style="latex") for n, c in rows]

    @property
    def equations_sympy(self) -> list[str]:
        """One right-hand side per state that ``sympy.sympify`` parses, e.g. ``-1.002*u`` (a name sympy gives another
        meaning or that is no identifier as ``Symbol('S')``: :func:`~pipeline.discovery.library.sympy_name`)."""
        names = self.library.sympy_names()
        return [format_equation(n, c, names, style="sympy") for n, c in zip(self.names, self.coefficients)]

    @property
    def complexity(self) -> int:
        """Number of non-zero coefficients over all equations."""
        return int(np.count_nonzero(self.coefficients))

    def terms(self) -> dict[str, dict[str, float]]:
        """The model as ``{state: {term: coefficient}}`` over non-zero terms."""
        names = self.feature_names
        return {
            name: {term: float(c) for term, c in zip(names, row) if c != 0.0}
            for name, row in zip(self.names, self.coefficients)
        }

    def coefficient_table(self) -> list[dict[str, Any]]:
        """One row per (state, term) in the model: coefficient, 95 % interval, inclusion probability."""
        rows = []
        for i, state in enumerate(self.names):
            for k, term in enumerate(self.feature_names):
                if self.coefficients[i, k] == 0.0:
                    continue
                row: dict[str, Any] = {"state": state, "term": term, "coefficient": float(self.coefficients[i, k])}
                if self.intervals is not None:
                    row["ci_low"], row["ci_high"] = (float(v) for v in self.intervals[i, k])
                if self.inclusion is not None:
                    row["inclusion_probability"] = float(self.inclusion[i, k])
                rows.append(row)
        return rows

    def predict(self, x: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
        """Right-hand side at states ``x`` (n, d) (and inputs ``u`` (n, n_controls)) → derivatives (n, d).

        ``x`` may be one state (d,), or a table with a column named for each state (taken by name, in the model's
        order).

        Raises:
            DataError: ``x`` is not numbers with one column per state; inputs missing or of the wrong shape.
        """
        x = self._states(x)
        if self.controls:
            if u is None:
                raise DataError(f"this model uses the inputs {list(self.controls)}: pass u with their values")
            x = np.hstack([x, self._inputs(u, x.shape[0], "row of x", finite=False)])
        if x.shape[0] == 0:
            return np.zeros((0, len(self.names)))
        used = np.flatnonzero(np.any(self.coefficients != 0.0, axis=0))  # a term outside the model is not evaluated
        return self.library.evaluate(x)[:, used] @ self.coefficients[:, used].T  # where it is undefined (log 0)

    def _states(self, x: object) -> np.ndarray:
        """``x`` as (n, d) numbers: a table's state columns by name, a single state (d,) as one row.

        Raises:
            DataError: not numbers, or not one column per state (naming a transposed array as such)."""
        columns = getattr(x, "columns", None)
        if columns is not None and set(self.names) <= set(columns):
            x = x[list(self.names)]  # by name: a table's columns in another order are not read as other states
        try:
            states = np.atleast_2d(np.asarray(x, dtype=float))
        except (TypeError, ValueError) as exc:
            raise DataError(f"x must hold numbers, one column per state {list(self.names)} ({exc})") from None
        d = len(self.names)
        if states.ndim != 2 or states.shape[1] != d:
            transposed = " (it looks transposed: pass x.T)" if states.ndim == 2 and states.shape[0] == d else ""
            raise DataError(
                f"x has shape {np.shape(x)}; expected (n, {d}): one row per point, one column per state"
                f" {list(self.names)}{transposed}"
            )
        return states

    def _inputs(self, u: np.ndarray, n: int, row: str, *, finite: bool = True) -> np.ndarray:
        """``u`` as (n, n_controls), one row per ``row`` (for messages); with ``finite``, every value finite.

        Raises:
            DataError: another number of values, or (``finite``) one that is not finite, naming the input."""
        u = np.asarray(u, dtype=float)
        m = len(self.controls)
        if u.size != n * m:
            raise DataError(
                f"u has shape {u.shape}; expected ({n}, {m}): one row per {row}, one column per input"
                f" {list(self.controls)}"
            )
        u = u.reshape(n, m)
        bad = np.argwhere(~np.isfinite(u)) if finite else []
        if len(bad):
            k, at = bad[0]
            raise DataError(f"input '{self.controls[at]}' is {u[k, at]} at 0-based row {k} (expected finite numbers)")
        return u

    def _start(self, x0: np.ndarray) -> np.ndarray:
        """``x0`` as (d,) finite numbers, or a :class:`DataError` naming the state."""
        x0 = np.asarray(x0, dtype=float)
        if x0.size != len(self.names):
            raise DataError(f"x0 has {x0.size} values; expected one per state {list(self.names)}")
        x0 = x0.reshape(-1)
        bad = np.flatnonzero(~np.isfinite(x0))
        if bad.size:
            raise DataError(f"start state '{self.names[bad[0]]}' is {x0[bad[0]]} (expected a finite number)")
        return x0

    def simulate(self, x0: np.ndarray, t: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
        """Integrate the model from ``x0`` (d,) over times ``t`` (m,) → (m, d); the first row is ``x0`` at ``t[0]``.

        Args:
            u: the known inputs at the times ``t``, (m, n_controls), linearly interpolated in between;
                required when the model has control inputs.

        Raises:
            SimulationError: divergence, non-finite values or over the evaluation budget.
            DataError: ``x0`` not one finite number per state; ``t`` not a 1-D array of finite times that increase
                (or decrease, to integrate backwards); inputs missing, of the wrong shape or not finite for a model
                with controls.
        """
        t = _times(t)
        x0 = self._start(x0)
        if t[0] == t[-1]:  # a single time (or the same time repeated): the start itself
            return np.repeat(x0[None, :], t.shape[0], axis=0)
        control = None
        if self.controls:
            if u is None:
                raise DataError(f"this model uses the inputs {list(self.controls)}: pass u with their values at t")
            control = interpolated_control(t, self._inputs(u, t.shape[0], "time in t"))
        return simulate_model(
            self.coefficients,
            self.library,
            x0,
            t,
            max_evaluations=self.max_simulation_evaluations,
            control=control,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation; :meth:`from_dict` restores it."""
        return {
            "names": list(self.names),
            "library": self.library.to_dict(),
            "feature_names": list(self.feature_names),
            "coefficients": self.coefficients.tolist(),
            "equations": self.equations,
            "equations_latex": self.equations_latex,
            "equations_sympy": self.equations_sympy,
            "metrics": {k: (None if not np.isfinite(v) else float(v)) for k, v in self.metrics.items()},
            "chosen": self.chosen,
            "pareto": self.pareto,
            "judged": [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                       for row in self.judged],
            "inclusion": None if self.inclusion is None else self.inclusion.tolist(),
            "intervals": None if self.intervals is None else self.intervals.tolist(),
            "max_simulation_evaluations": self.max_simulation_evaluations,
            "controls": list(self.controls),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscoveryResult:
        """Rebuild a result from :meth:`to_dict` output (a dict, as ``json.loads`` gives it back).

        Raises:
            DataError: ``data`` is not such a dict (a JSON string not yet parsed, a key missing).
        """
        if not isinstance(data, dict):
            hint = ": parse it with json.loads first" if isinstance(data, (str, bytes)) else ""
            raise DataError(f"from_dict takes the dict to_dict() made; got {type(data).__name__}{hint}")
        try:
            return cls._from_fields(data)
        except (KeyError, TypeError, ValueError) as exc:
            missing = f"key {exc} missing" if isinstance(exc, KeyError) else str(exc)
            raise DataError(f"from_dict takes the dict to_dict() made; this one does not fit ({missing})") from exc

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> DiscoveryResult:
        return cls(
            names=tuple(data["names"]),
            library=Library.from_dict(data["library"]),
            coefficients=np.asarray(data["coefficients"], dtype=float),
            metrics={k: (float("nan") if v is None else float(v)) for k, v in data.get("metrics", {}).items()},
            chosen=dict(data.get("chosen", {})),
            pareto=list(data.get("pareto", [])),
            judged=list(data.get("judged", [])),
            inclusion=None if data.get("inclusion") is None else np.asarray(data["inclusion"], dtype=float),
            intervals=None if data.get("intervals") is None else np.asarray(data["intervals"], dtype=float),
            max_simulation_evaluations=int(data.get("max_simulation_evaluations", SIMULATION_EVALUATIONS)),
            controls=tuple(data.get("controls", ())),
        )
