"""Finite differences on possibly irregular grids (no smoothing)."""

from __future__ import annotations

import numpy as np

from pipeline.differentiation.base import ColumnFit, Differentiator

__all__ = ["FiniteDifference"]


class FiniteDifference(Differentiator):
    """Second-order accurate central differences (one-sided at the ends), irregular ``t`` allowed.

    No smoothing: use it on clean data, or as the reference for others.
    """

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        first = np.gradient(y, t, edge_order=2)
        second = np.gradient(first, t, edge_order=2)
        return y.copy(), first, second, {}
