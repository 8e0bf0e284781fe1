"""What to do with non-finite samples before differentiating: raise, naming the row, or interpolate."""

from __future__ import annotations

import numpy as np

from pipeline.errors import DifferentiationError

__all__ = ["NAN_POLICIES", "apply_nan_policy"]

NAN_POLICIES = ("raise", "interpolate")


def apply_nan_policy(t: np.ndarray, x: np.ndarray, policy: str) -> np.ndarray:
    """``x`` (n, d) with non-finite values filled by linear interpolation in ``t`` (n,), or an error naming the first.

    Raises:
        DifferentiationError: an unknown policy; a non-finite value under ``raise``; a column with fewer than
            2 finite values under ``interpolate``.
    """
    if policy not in NAN_POLICIES:
        raise DifferentiationError(f"nan_policy must be one of {NAN_POLICIES}, got {policy!r}")
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    if policy == "raise":
        row, col = np.argwhere(bad)[0]
        raise DifferentiationError(
            f"x has {x[row, col]} at 0-based row {row}, column {col}; pass nan_policy='interpolate' to fill it"
        )
    filled = x.copy()
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        if ok.sum() < 2:
            raise DifferentiationError(f"column {j} has fewer than 2 finite values; cannot interpolate")
        filled[~ok, j] = np.interp(t[~ok], t[ok], x[ok, j])
    return filled
