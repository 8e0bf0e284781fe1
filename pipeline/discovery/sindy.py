"""The one module that talks to pysindy: library construction and STLSQ sparsity paths.

pysindy's errors are translated into :class:`~pipeline.errors.DiscoveryError` here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pysindy as ps

from pipeline.errors import DiscoveryError

__all__ = ["polynomial_terms", "stlsq_supports"]


def polynomial_terms(names: Sequence[str], *, degree: int, include_bias: bool) -> tuple[np.ndarray, list[str]]:
    """Exponents and names of pysindy's polynomial library over the states ``names``.

    Returns:
        ``powers`` (p, d) integer exponents, and the p term names (``"1"``, ``"u"``, ``"u v"``, ``"u^2"``).
    """
    library = ps.PolynomialLibrary(degree=degree, include_bias=include_bias)
    try:
        library.fit([np.ones((2, len(names)))])
    except ValueError as exc:
        raise DiscoveryError(f"cannot build a degree-{degree} polynomial library: {exc}") from exc
    return np.asarray(library.powers_, dtype=int), list(library.get_feature_names(list(names)))


def stlsq_supports(theta: np.ndarray, y: np.ndarray, thresholds: Sequence[float]) -> list[np.ndarray]:
    """Supports along pysindy's STLSQ sparsity path for one target.

    Columns of ``theta`` (n, p) are normalised to unit norm inside STLSQ and ``y`` (n,)
    is scaled to unit norm here, so ``thresholds`` are scale-free fractions.

    Returns:
        The distinct non-empty boolean supports (p,), in the order first met.
    """
    y_unit = y / (np.linalg.norm(y) or 1.0)
    seen: dict[bytes, np.ndarray] = {}
    for threshold in thresholds:
        optimizer = ps.STLSQ(threshold=float(threshold), alpha=1e-8, normalize_columns=True, max_iter=50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                optimizer.fit(theta, y_unit[:, None])
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise DiscoveryError(f"STLSQ failed at threshold {threshold:g}: {exc}") from exc
        support = np.abs(np.asarray(optimizer.coef_)[0]) > 0
        if support.any():
            seen.setdefault(support.tobytes(), support)
    return list(seen.values())
