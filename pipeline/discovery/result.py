"""The result of a discovery: equations, coefficients, metrics, and simulation of the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.discovery.library import evaluate_terms
from pipeline.discovery.simulate import simulate_model

__all__ = ["DiscoveryResult", "format_equation"]


def _format_coefficient(value: float, precision: int) -> str:
    """``precision`` significant digits, trailing zeros kept (``1.000``, ``28.00``, ``0.02618``)."""
    return f"{value:#.{precision}g}".rstrip(".")


def format_equation(state: str, coefficients: np.ndarray, feature_names: list[str], *, precision: int = 4) -> str:
    """One equation as text: ``"u' = -1.002 u + 0.3 u v"`` (``"u' = 0"`` when no term is active)."""
    parts: list[str] = []
    for coef, term in zip(coefficients, feature_names):
        if coef == 0.0:
            continue
        magnitude = _format_coefficient(abs(float(coef)), precision)
        body = magnitude if term == "1" else f"{magnitude} {term}"
        sign = "-" if coef < 0 else "+"
        parts.append(f"-{body}" if not parts and sign == "-" else body if not parts else f"{sign} {body}")
    return f"{state}' = {' '.join(parts) if parts else '0'}"


@dataclass(frozen=True)
class DiscoveryResult:
    """A discovered ODE dx/dt = coefficients @ theta(x) and how it was found.

    Attributes:
        names: state names, (d,).
        feature_names: library term names, (p,).
        powers: exponent matrix of the terms, (p, d).
        coefficients: (d, p); zero where a term is not in the model.
        metrics: scalar scores (derivative R², trajectory R², complexity, AICc, ...).
        chosen: what was selected (differentiation method, thresholds, library).
        pareto: per state, the scored candidate supports: ``{"state", "complexity", "cv_mse", "chosen"}`` rows.
        max_simulation_seconds: wall-time cap used by :meth:`simulate`.
    """

    names: tuple[str, ...]
    feature_names: tuple[str, ...]
    powers: np.ndarray
    coefficients: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)
    chosen: dict[str, Any] = field(default_factory=dict)
    pareto: list[dict[str, Any]] = field(default_factory=list)
    max_simulation_seconds: float = 20.0

    @property
    def equations(self) -> list[str]:
        """One text equation per state, e.g. ``"u' = -1.002 u"``."""
        return [format_equation(n, c, list(self.feature_names)) for n, c in zip(self.names, self.coefficients)]

    @property
    def complexity(self) -> int:
        """Number of non-zero coefficients over all equations."""
        return int(np.count_nonzero(self.coefficients))

    def terms(self) -> dict[str, dict[str, float]]:
        """The model as ``{state: {term: coefficient}}`` over non-zero terms."""
        return {
            name: {term: float(c) for term, c in zip(self.feature_names, row) if c != 0.0}
            for name, row in zip(self.names, self.coefficients)
        }

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Right-hand side at states ``x`` (n, d) → derivatives (n, d)."""
        return evaluate_terms(np.atleast_2d(np.asarray(x, dtype=float)), self.powers) @ self.coefficients.T

    def simulate(self, x0: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Integrate the model from ``x0`` (d,) over times ``t`` (m,) → (m, d).

        Raises:
            SimulationError: divergence, non-finite values or the wall-time cap.
        """
        return simulate_model(
            self.coefficients, self.powers, np.asarray(x0), np.asarray(t), max_seconds=self.max_simulation_seconds
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation; :meth:`from_dict` restores it."""
        return {
            "names": list(self.names),
            "feature_names": list(self.feature_names),
            "powers": self.powers.tolist(),
            "coefficients": self.coefficients.tolist(),
            "equations": self.equations,
            "metrics": {k: (None if not np.isfinite(v) else float(v)) for k, v in self.metrics.items()},
            "chosen": self.chosen,
            "pareto": self.pareto,
            "max_simulation_seconds": self.max_simulation_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscoveryResult:
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(
            names=tuple(data["names"]),
            feature_names=tuple(data["feature_names"]),
            powers=np.asarray(data["powers"], dtype=int),
            coefficients=np.asarray(data["coefficients"], dtype=float),
            metrics={k: (float("nan") if v is None else float(v)) for k, v in data.get("metrics", {}).items()},
            chosen=dict(data.get("chosen", {})),
            pareto=list(data.get("pareto", [])),
            max_simulation_seconds=float(data.get("max_simulation_seconds", 20.0)),
        )
