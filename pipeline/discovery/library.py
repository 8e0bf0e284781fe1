"""Evaluating candidate terms fast: the polynomial library as an exponent matrix."""

from __future__ import annotations

import numpy as np

__all__ = ["evaluate_terms"]


def evaluate_terms(x: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """Monomials of the states: ``theta[i, k] = prod_j x[i, j] ** powers[k, j]``.

    Args:
        x: states, (n, d) or (d,).
        powers: integer exponents, (p, d).

    Returns:
        (n, p) term values, or (p,) for a single state vector.
    """
    x = np.asarray(x, dtype=float)
    single = x.ndim == 1
    x2 = x[None, :] if single else x
    theta = np.ones((x2.shape[0], powers.shape[0]))
    for j in range(powers.shape[1]):
        exponents = powers[:, j]
        if np.any(exponents):
            theta *= x2[:, j : j + 1] ** exponents[None, :]
    return theta[0] if single else theta
