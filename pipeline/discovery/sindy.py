"""The one module that talks to pysindy: library construction and STLSQ sparsity paths.

pysindy's errors are translated into :class:`~pipeline.errors.DiscoveryError` here.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pysindy as ps

from pipeline.discovery.library import FunctionTerm, Library
from pipeline.errors import DiscoveryError

__all__ = ["build_library", "stlsq_support"]


def build_library(
    names: Sequence[str],
    *,
    degree: int,
    include_bias: bool,
    functions: Sequence[str] = (),
    combinations: bool = False,
    extra_terms: Sequence[FunctionTerm] = (),
    extra_scales: Sequence[tuple[float, float]] = (),
    scales: Mapping[tuple[str, int], tuple[float, float]] | None = None,
) -> Library:
    """pysindy's polynomial library over the states ``names``, plus function terms of each state.

    The exponents (and so the term order and names, ``"1"``, ``"u"``, ``"u v"``, ``"u^2"``)
    are pysindy's; the function families (``sin``, ``cos``, ``exp``, ``inverse``) follow, at the (rate, center)
    ``scales`` gives (family, state index) ((1, 0) elsewhere), then ``extra_terms`` (family, state index) at their
    ``extra_scales`` (one each, or none for all (1, 0); see :attr:`Library.rates`, :attr:`Library.centers`), and
    with ``combinations`` every product x_k · f(x_j) at the scale of f(x_j).
    """
    polynomial = ps.PolynomialLibrary(degree=degree, include_bias=include_bias)
    try:
        polynomial.fit([np.ones((2, len(names)))])
    except ValueError as exc:
        raise DiscoveryError(f"cannot build a degree-{degree} polynomial library: {exc}") from exc
    powers = np.asarray(polynomial.powers_, dtype=int)
    d = len(names)
    scales = scales or {}
    extra: list[FunctionTerm] = [(family, j) for family in functions for j in range(d)]
    chosen = [scales.get(term, (1.0, 0.0)) for term in extra]
    given = dict(zip(extra_terms, extra_scales or [(1.0, 0.0)] * len(extra_terms), strict=True))
    for term, scale in given.items():
        if term not in extra:
            extra.append(term)
            chosen.append(scale)
    if combinations:
        products = [(family, j, k) for family in functions for j in range(d) for k in range(d)]
        extra += products
        chosen += [scales.get((family, j), (1.0, 0.0)) for family, j, _ in products]
    rates, centers = tuple(float(r) for r, _ in chosen), tuple(float(c) for _, c in chosen)
    return Library(
        tuple(names), powers, tuple(extra),
        rates=rates if any(r != 1.0 for r in rates) else (), centers=centers if any(centers) else (),
    )  # fmt: skip


def stlsq_support(theta: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    """The support (p,) pysindy's STLSQ finds at one scale-free threshold (columns and ``y`` normalised)."""
    y_unit = y / (np.linalg.norm(y) or 1.0)
    optimizer = ps.STLSQ(threshold=float(threshold), alpha=1e-8, normalize_columns=True, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            optimizer.fit(theta, y_unit[:, None])
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise DiscoveryError(f"STLSQ failed at threshold {threshold:g}: {exc}") from exc
    return np.abs(np.asarray(optimizer.coef_)[0]) > 0
