"""What smoothing and differentiation of one trajectory produced."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DerivativeResult"]


@dataclass(frozen=True)
class DerivativeResult:
    """Smoothed states and derivatives of one trajectory, and what produced them.

    Attributes:
        t: times, (n,).
        smoothed: smoothed states, (n, d).
        first: first derivatives per unit of t, (n, d).
        second: second derivatives, (n, d).
        method: the differentiator used.
        params: parameters per column (chosen from data where not fixed).
        noise_sd: estimated noise sd per column, (d,).
    """

    t: np.ndarray
    smoothed: np.ndarray
    first: np.ndarray
    second: np.ndarray
    method: str
    params: list[dict[str, float]]
    noise_sd: np.ndarray
