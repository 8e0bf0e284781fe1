"""The regression problem discovery solves: the library on the smoothed states, derivatives, folds, weak form.

Everything here is computed once from the (unit-scaled) data and read by every later stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import cumulative_trapezoid

from pipeline.differentiation import DerivativeResult
from pipeline.discovery.automatic_terms import Scale, automatic_function_terms, listed_scales
from pipeline.discovery.library import FunctionTerm, Library, evaluate_terms
from pipeline.discovery.library_size import polynomial_terms, too_few_samples
from pipeline.discovery.sindy import build_library
from pipeline.discovery.trajectories import Trajectories
from pipeline.discovery.weak import WeakSystem, weak_system
from pipeline.errors import DiscoveryError

if TYPE_CHECKING:
    from pipeline.config import DiscoveryConfig, LibraryConfig

__all__ = [
    "MAX_POLYNOMIAL_TERMS", "Design", "affordable_degree", "block_folds", "build_design", "integrate_library",
    "with_library",
]  # fmt: skip

MAX_POLYNOMIAL_TERMS = 1000
"""The most polynomial terms an automatically chosen degree may give (50 states: degree 1, 51 terms; degree 2
would give 1,326): beyond that, memory and selection time grow faster than anything the data can tell."""


@dataclass(frozen=True)
class Design:
    """The library evaluated on the data, and what selection and fitting read from it.

    Attributes:
        library: the p candidate terms (over states, then inputs).
        theta: the library on the smoothed states (and inputs), stacked over trajectories, (n, p).
        x_dot: the derivatives of the smoothed states, (n, d).
        integrated: ∫ theta dt from each trajectory's start, (n, p).
        observed: the observed states, stacked, (n, d).
        lengths: samples per trajectory.
        folds: contiguous fold label of each row, (n,).
        n_folds: folds per trajectory.
        degrees: the nested polynomial degrees tried (e.g. [1, 2, 3]).
        column_sets: nested library columns, (p,) masks: the terms up to each degree, and with automatic
            function terms, last, every term.
        column_labels: a name for each column set (``degree_le_2``, ``with_functions``).
        weak: the weak form of the data, or None when it is off or the data are too short for it.
    """

    library: Library
    theta: np.ndarray
    x_dot: np.ndarray
    integrated: np.ndarray
    observed: np.ndarray
    lengths: list[int]
    folds: np.ndarray
    n_folds: int
    degrees: list[int]
    column_sets: list[np.ndarray]
    column_labels: list[str]
    weak: WeakSystem | None

    @property
    def top_degree(self) -> int:
        """The highest polynomial degree in the library."""
        return self.degrees[-1]


def block_folds(lengths: list[int], n_folds: int) -> np.ndarray:
    """Fold label of each stacked row: every trajectory is cut into ``n_folds`` contiguous blocks."""
    labels = [np.minimum((np.arange(n) * n_folds) // max(n, 1), n_folds - 1) for n in lengths]
    return np.concatenate(labels)


def integrate_library(theta: np.ndarray, ts: list[np.ndarray]) -> np.ndarray:
    """∫ theta dt from each trajectory's start, for library values (n, p) stacked over trajectories."""
    integrated = np.empty_like(theta)
    start = 0
    for t in ts:
        rows = slice(start, start + t.shape[0])
        integrated[rows] = cumulative_trapezoid(theta[rows], t, axis=0, initial=0.0)
        start += t.shape[0]
    return integrated


def affordable_degree(max_degree: int, n_variables: int, n_samples: int, include_bias: bool = True) -> int:
    """The highest degree up to ``max_degree`` whose polynomial library the data can afford.

    Affordable: fewer terms than ``n_samples`` − 2 (a least-squares fit with residual degrees of freedom) and at
    most :data:`MAX_POLYNOMIAL_TERMS`. Degree 1 when even that is not affordable (the design then says why).
    """
    limit = min(n_samples - 3, MAX_POLYNOMIAL_TERMS)
    affordable = [g for g in range(1, max_degree + 1) if polynomial_terms(g, n_variables, include_bias) <= limit]
    return max(affordable, default=1)


def _rate_inputs(
    data: Trajectories,
    derivatives: Sequence[DerivativeResult],
    smoothed: np.ndarray,
    variable_scale: np.ndarray | None,
    powers: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What function terms' scales are chosen from (:mod:`~pipeline.discovery.automatic_terms`), in the data's
    units: the domain (data and ``smoothed`` states: the library is evaluated on the smoothed states, so a family's
    domain must hold there as on the data), the smoothed states (n, d), their derivatives (n, d) stacked over
    ``derivatives``, and the library's polynomial terms in the states there."""
    scale = 1.0 if variable_scale is None else variable_scale[: data.d]
    domain = np.vstack([data.stacked(), smoothed]) * scale
    polynomials = evaluate_terms(smoothed, powers[:, : data.d][~np.any(powers[:, data.d :], axis=1)])
    return domain, smoothed * scale, np.vstack([r.first for r in derivatives]), polynomials


def _design_library(
    data: Trajectories,
    derivatives: Sequence[DerivativeResult],
    spec: LibraryConfig,
    top_degree: int,
    smoothed: np.ndarray,
    variable_scale: np.ndarray | None,
) -> tuple[Library, tuple[FunctionTerm, ...]]:
    """The library ``spec`` describes up to ``top_degree``, with the listed families' scales and the automatic
    function terms chosen from the ``smoothed`` states (n, d) and the ``derivatives``; and those automatic terms
    (none when the data cannot afford them)."""

    def library_with(
        terms: tuple[FunctionTerm, ...], term_scales: tuple[Scale, ...], scales: dict[tuple[str, int], Scale]
    ) -> Library:
        return build_library(
            data.names + data.controls,
            degree=top_degree,
            include_bias=spec.include_bias,
            functions=spec.all_functions,
            combinations=spec.combinations,
            extra_terms=terms,
            extra_scales=term_scales,
            scales=scales,
        )

    base = library_with((), (), {})
    automatic: tuple[FunctionTerm, ...] = ()
    found_scales: tuple[Scale, ...] = ()
    if spec.functions == "auto":
        found = automatic_function_terms(*_rate_inputs(data, derivatives, smoothed, variable_scale, base.powers))
        kept = [k for k, term in enumerate(found[0]) if term[0] not in spec.all_functions]  # a listed harmonic
        automatic, found_scales = tuple(found[0][k] for k in kept), tuple(found[1][k] for k in kept)
    elif base.functions:  # listed families with a scale take it from what they explain beyond 1 and the states
        inputs = _rate_inputs(data, derivatives, smoothed, variable_scale, base.powers[base.powers.sum(axis=1) <= 1])
        base = library_with((), (), listed_scales(spec.all_functions, spec.combinations, *inputs))
    library = library_with(automatic, found_scales, {}) if automatic else base
    if automatic and sum(data.lengths) <= library.size + 1:  # the data cannot afford them
        automatic, library = (), base
    if library.functions and variable_scale is not None:
        library = replace(library, argument_scale=np.asarray(variable_scale, dtype=float))
    return library, automatic


def _library_values(library: Library, smoothed: np.ndarray, data: Trajectories) -> np.ndarray:
    """The library on the smoothed states (n, d) stacked over trajectories, with the inputs of ``data`` → (n, p)."""
    return library.evaluate(smoothed if data.us is None else np.hstack([smoothed, np.vstack(data.us)]))


def build_design(
    data: Trajectories,
    derivatives: Sequence[DerivativeResult],
    config: DiscoveryConfig,
    variable_scale: np.ndarray | None = None,
) -> Design:
    """The design of ``data`` (in fitting units) with its ``derivatives``, as ``config.library`` describes.

    ``variable_scale`` (d + m,) maps the fitting units of states and inputs back to the data's own: function
    terms take their arguments there (:attr:`Library.argument_scale`).

    Raises:
        DiscoveryError: non-finite library values, or more terms than samples.
    """
    spec = config.library
    top_degree = spec.degree or affordable_degree(
        spec.max_degree, len(data.names) + len(data.controls), sum(data.lengths), spec.include_bias
    )

    smoothed = np.vstack([r.smoothed for r in derivatives])
    library, automatic = _design_library(data, derivatives, spec, top_degree, smoothed, variable_scale)
    theta = _library_values(library, smoothed, data)
    n, p = theta.shape
    if not np.all(np.isfinite(theta)):
        raise DiscoveryError("the library has non-finite values on these data (e.g. 1/x at x = 0); drop that family")
    if n <= p + 1:
        raise DiscoveryError(too_few_samples(p, n, lower_degree=top_degree > 1, drop_functions=bool(library.functions)))
    n_folds = min(config.n_folds, min(data.lengths))
    degrees = [top_degree] if spec.degree is not None else list(range(1, top_degree + 1))
    listed = np.ones(library.size, dtype=bool)  # all but the automatic function terms
    listed[library.powers.shape[0] :] = [term not in automatic for term in library.functions]
    column_sets = [library.subset(g) & listed for g in degrees]
    column_labels = [f"degree_le_{g}" for g in degrees]
    if automatic:  # automatic function terms must beat the polynomials to be adopted: the richest set, last
        column_sets.append(np.ones(library.size, dtype=bool))
        column_labels.append("with_functions")
    return Design(
        library=library,
        theta=theta,
        x_dot=np.vstack([r.first for r in derivatives]),
        integrated=integrate_library(theta, data.ts),
        observed=data.stacked(),
        lengths=data.lengths,
        folds=block_folds(data.lengths, n_folds),
        n_folds=n_folds,
        degrees=degrees,
        column_sets=column_sets,
        column_labels=column_labels,
        weak=weak_system(data.ts, data.xs, theta, n_folds) if config.weak_form else None,
    )


def with_library(
    design: Design, library: Library, data: Trajectories, derivatives: Sequence[DerivativeResult]
) -> Design:
    """``design`` over ``library``, the same terms with other inner rates: its values, their integrals and the weak
    form recomputed on the smoothed states of ``derivatives`` (and the inputs of ``data``)."""
    theta = _library_values(library, np.vstack([r.smoothed for r in derivatives]), data)
    weak = None if design.weak is None else weak_system(data.ts, data.xs, theta, design.n_folds)
    return replace(design, library=library, theta=theta, integrated=integrate_library(theta, data.ts), weak=weak)
