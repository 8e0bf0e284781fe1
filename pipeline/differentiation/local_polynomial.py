"""Local polynomial regression (LOESS-style) with its neighbourhood chosen by cross-validation.

At every sample a polynomial of degree ``degree`` is fitted by tricube-weighted least
squares to the ``2h + 1`` nearest samples in time order (shifted inward at the ends, so
every fit has a full neighbourhood); its coefficients give the smoothed value and the
derivatives there. Irregular grids are handled exactly (the fit uses real times). The
half-width h is chosen by generalised cross-validation, using the fits' exact hat-matrix
diagonal.
"""

from __future__ import annotations

import numpy as np

from pipeline.differentiation.base import ColumnFit, Differentiator, is_whole
from pipeline.errors import DifferentiationError

__all__ = ["LocalPolynomial"]


def _local_fits(t: np.ndarray, y: np.ndarray, half: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (n, degree+1) of each local fit at its own centre, and the hat diagonal (n,)."""
    n = t.shape[0]
    width = 2 * half + 1
    start = np.clip(np.arange(n) - half, 0, n - width)
    index = start[:, None] + np.arange(width)[None, :]
    offsets = t[index] - t[:, None]
    radius = np.max(np.abs(offsets), axis=1, keepdims=True) * 1.0001 + 1e-300
    weights = (1 - np.abs(offsets / radius) ** 3) ** 3
    scale = radius[:, 0]
    basis = (offsets / radius)[:, :, None] ** np.arange(degree + 1)[None, None, :]
    weighted = basis * weights[:, :, None]
    gram = np.einsum("nwi,nwj->nij", weighted, basis)
    gram += 1e-12 * np.eye(degree + 1)[None]
    rhs = np.einsum("nwi,nw->ni", weighted, y[index])
    coef = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    # Hat diagonal: weight of y_i in its own fit's intercept.
    own = np.argmax(index == np.arange(n)[:, None], axis=1)
    e0 = np.linalg.solve(gram, np.eye(degree + 1)[None, :, 0:1].repeat(n, axis=0))[:, :, 0]
    hat = np.einsum("ni,ni->n", e0, weighted[np.arange(n), own])
    factorials = np.array([1.0, 1.0, 2.0, 6.0, 24.0])[: degree + 1]
    derivatives = coef * factorials[None, :] / scale[:, None] ** np.arange(degree + 1)[None, :]
    return derivatives, hat


class LocalPolynomial(Differentiator):
    """Tricube-weighted local polynomial of degree 2 or 3; half-width by GCV; irregular ``t`` allowed.

    Args:
        half_width: neighbours on each side; None chooses it by GCV.
        degree: local polynomial degree (2 or 3; 3 is needed for a good second derivative).
    """

    min_samples = 7

    def __init__(self, half_width: int | None = None, degree: int = 3) -> None:
        self.half_width = half_width
        self.degree = degree

    def check_sampling(self, t: np.ndarray) -> None:
        """``degree`` 2 or 3 and a given ``half_width`` a whole number in [degree + 1, (n - 1) // 2] (see
        :meth:`Differentiator.check_sampling`); any grid."""
        if self.degree not in (2, 3):
            raise DifferentiationError(f"degree must be 2 or 3, got {self.degree!r}", parameter="degree")
        low, high = int(self.degree) + 1, (t.shape[0] - 1) // 2
        if self.half_width is not None and not (is_whole(self.half_width) and low <= self.half_width <= high):
            raise DifferentiationError(
                f"half_width must be a whole number in [{low}, {high}] for {t.shape[0]} samples, got"
                f" {self.half_width!r}",
                parameter="half_width",
            )

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        n = t.shape[0]
        low, high = int(self.degree) + 1, max(int(self.degree) + 1, min((n - 1) // 2, 400))
        if self.half_width is not None:
            half = int(self.half_width)
            derivatives, _ = _local_fits(t, y, half, self.degree)
        else:
            best = None
            for half in np.unique(np.geomspace(low, high, 25).astype(int)):
                derivatives, hat = _local_fits(t, y, int(half), self.degree)
                gcv = n * float(np.sum((y - derivatives[:, 0]) ** 2)) / max(n - float(np.sum(hat)), 1.0) ** 2
                if best is None or gcv < best[0]:
                    best = (gcv, int(half), derivatives)
            assert best is not None
            _, half, derivatives = best
        return derivatives[:, 0], derivatives[:, 1], derivatives[:, 2], {"half_width": half}
