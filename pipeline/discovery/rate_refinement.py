"""Output-error refinement of function terms' inner rates, with the coefficients.

An automatic function term takes its inner rate from a grid, by what it explains of the smoothed derivatives
(:mod:`~pipeline.discovery.automatic_terms`): the half-saturation constant K of x/(K + x) is one of six multiples of
the state's largest value, the rate of exp(r x) one of six. The law's own constant lies between grid points, and
a term at the wrong rate bends the model's flow away from the record wherever the state goes beyond it. Here the
reported model's rates are freed in the multiple-shooting residual (:mod:`~pipeline.discovery.refinement`) together
with its coefficients: one rate per family and state (the x/(K + x) of both equations of a predator-prey law, and
its products x_k · x/(K + x), share K), and a sigmoid's center too. The refined rates are kept only if they lower the
shooting error and the model stays as stable around the data as before; pruning by shooting follows
(:mod:`~pipeline.discovery.pruning`), so terms that only made up for a rate off the law's go (Michaelis-Menten with
K 0.37 below the grid's smallest 0.625: S, S², S³ and sin S at 1e-6 beside -0.6 S/(0.37 + S)). Bagging's intervals
hold the refined rates fixed.

Off by default (``discovery.refine_rates``). On the tuning half of benchmarks/generalisation.py (noise seeds 0-2, 468
fits) it changed no success or exact-structure count and lost one second-state success (a driven pendulum at 1 % noise
whose model uses exp of the angle, a wrong family the refined rate bent further); it moved 70 models (55 closer to the
record from its start, 15 further) and made those fits 1.3-1.6x slower at the median over two runs, up to 7-9x (a
reaction 0.5 -> 3.6 s, a 3-species food chain 1.5 -> 7.4 s). It recovers a law's constant where the record is nearly
noise-free (the mate-finding Allee law: K 2.476 on the grid, 2.000 refined), not under noise that other terms absorb (K
1.5-1.75 at 0.1-1 % noise). Keeping the refined rates only when they gain more than the noise explains
(:func:`~pipeline.discovery.judging.deletion_tolerance`) kept almost none: the grid's rate with refitted coefficients
already follows these records to within it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares

from pipeline.discovery.automatic_terms import CENTERED_RATES, RELATIVE_RATES, usable_scale
from pipeline.discovery.conservation import law_basis
from pipeline.discovery.library import Library, text_name
from pipeline.discovery.refinement import EVALUATIONS, Refinement, residual_function
from pipeline.discovery.shooting import FAILED_RESIDUAL, ShootingProblem
from pipeline.discovery.simulate import EvaluationCount

__all__ = ["RATE_ITERATIONS", "RatedRefinement", "describe_rates", "grid_edge_cautions", "refine_rates"]

RATE_ITERATIONS = 5
"""Full Levenberg-Marquardt iterations (a residual and its Jacobian) the joint search may make, fewer when the
evaluation budget does not afford them, none when it does not afford one: a rate starts on a grid whose points are a
factor of 2 apart."""
SCALED_FAMILIES = frozenset(RELATIVE_RATES) | frozenset(CENTERED_RATES)
"""The families whose terms have an inner rate worth refining."""


@dataclass(frozen=True)
class RatedRefinement:
    """The library with the refined rates (and centers) and the coefficients (d, p) refined with them."""

    library: Library
    refinement: Refinement


Group = tuple[str, int]
"""A family and the state j its terms take as argument: their terms share one rate."""


def _groups(library: Library, supports: np.ndarray) -> dict[Group, list[int]]:
    """The function terms (indices into ``library.functions``) of each family with a scale whose terms the model
    (supports (d, p)) uses, grouped by (family, state): every term of such a group, used or not, is listed."""
    n_powers = library.powers.shape[0]
    used = np.any(supports[:, n_powers:], axis=0)
    groups: dict[Group, list[int]] = {}
    for k, term in enumerate(library.functions):
        if term[0] in SCALED_FAMILIES:
            groups.setdefault((term[0], term[1]), []).append(k)
    return {group: members for group, members in groups.items() if used[members].any()}


def _data_values(problem: ShootingProblem) -> np.ndarray:
    """The observed and smoothed states, then the known inputs, (n, d + m) in the data's units: where every refined
    term must be defined."""
    inputs = [np.zeros((x.shape[0], 0)) for x in problem.xs] if problem.us is None else problem.us
    values = np.vstack([np.hstack([x, u]) for states in (problem.xs, problem.smoothed) for x, u in zip(states, inputs)])
    scale = problem.library.argument_scale
    return values if scale is None else values * np.asarray(scale, dtype=float)


def refine_rates(
    coefficients: np.ndarray,
    problem: ShootingProblem,
    *,
    laws: np.ndarray | None = None,
    grade: Callable[[np.ndarray, Library], int] | None = None,
    evaluations: int = EVALUATIONS,
) -> RatedRefinement | None:
    """The model (d, p) over ``problem.library`` with its terms' inner rates refined with its coefficients by
    multiple shooting; None when it has no term with a rate, or refining them did not lower the shooting error.

    Args:
        coefficients: the refined model (d, p); its zero pattern is kept.
        problem: the blocks, data and library to simulate (refinement's tolerance).
        laws: conservation laws (r, d) the coefficients must keep.
        grade: the stability check's grade of a model over a library (higher is better); the refined model must
            not grade lower than the start. None for no check.
        evaluations: right-hand-side evaluations the search may use.
    """
    library = problem.library
    groups = _groups(library, coefficients != 0)
    slots, basis = law_basis(coefficients != 0, np.zeros((0, coefficients.shape[0])) if laws is None else laws)
    if not groups or not slots or basis.shape[1] == 0 or not problem.plan():
        return None
    values = _data_values(problem)
    signs = {group: np.sign(library.rate(members[0])) or 1.0 for group, members in groups.items()}
    centered = [group for group in groups if group[0] in CENTERED_RATES]
    n_free = basis.shape[1]

    def model(free: np.ndarray) -> np.ndarray:
        out = np.zeros_like(coefficients)
        for (j, k), value in zip(slots, basis @ free[:n_free]):
            out[j, k] = value
        return out

    def scales_of(free: np.ndarray) -> dict[Group, tuple[float, float]]:
        logs = free[n_free : n_free + len(groups)]
        rates = {g: signs[g] * np.exp(log) for g, log in zip(groups, logs)}
        centers = dict(zip(centered, free[n_free + len(groups) :]))
        return {g: (float(rates[g]), float(centers.get(g, library.center(groups[g][0])))) for g in groups}

    def library_of(free: np.ndarray) -> Library:
        rates = [library.rate(k) for k in range(len(library.functions))]
        centers = [library.center(k) for k in range(len(library.functions))]
        for group, (rate, center) in scales_of(free).items():
            for k in groups[group]:
                rates[k], centers[k] = rate, center
        return replace(library, rates=tuple(rates), centers=tuple(centers) if any(centers) else ())

    count = EvaluationCount()
    simulated = residual_function(problem, model, count, library_of)

    def residual(free: np.ndarray) -> np.ndarray:
        usable = all(usable_scale(g[0], s, values[:, g[1]]) for g, s in scales_of(free).items())
        return simulated(free) if usable else np.full(size, FAILED_RESIDUAL)

    start = np.concatenate([
        basis.T @ np.array([coefficients[j, k] for j, k in slots]),
        [np.log(abs(library.rate(groups[g][0]))) for g in groups],
        [library.center(groups[g][0]) for g in centered],
    ])  # fmt: skip
    first = simulated(start)
    size, before = first.size, float(np.mean(first**2))
    if not np.isfinite(before) or before >= FAILED_RESIDUAL**2:
        return None
    per_iteration = max(count.calls, 1) * (start.size + 1)  # a residual and its Jacobian
    if per_iteration > evaluations:
        return None  # not one iteration fits the budget (a large model of a stiff or chaotic record)
    iterations = min(evaluations // per_iteration, RATE_ITERATIONS)
    solution = least_squares(residual, start, method="lm", x_scale="jac", max_nfev=iterations * (start.size + 1))
    after = float(np.mean(solution.fun**2))
    if not after < before:
        return None
    refined, refined_library = model(solution.x), library_of(solution.x)
    if grade is not None and grade(refined, refined_library) < grade(model(start), library):
        return None
    return RatedRefinement(refined_library, Refinement(refined, before, after))


def _scale_text(family: str, rate: float, center: float) -> str:
    """A family's inner scale as its term writes it: K = 1/r of x/(K + x), x²/(K² + x²) and K x/(K² + x²), the width
    1/r and center c of a sigmoid, r of exp(r x)."""
    if family == "sigmoid":
        return f"width {1.0 / rate:.4g}, center {center:.4g}"
    return f"r {rate:.4g}" if family == "exp" else f"K {1.0 / rate:.4g}"


def describe_rates(judged: Library, reported: Library, supports: np.ndarray) -> list[str]:
    """What rate refinement made of the inner scales of the model's terms (supports (d, p)) with one: per family and
    state, ``saturation of S: K 0.625 -> K 0.37`` (the judged library's scale, then the reported's), or ``..., kept``
    where refinement left it (it did not lower the shooting error); none when the model has no such term."""
    lines = []
    for (family, j), members in _groups(judged, supports).items():
        before = _scale_text(family, judged.rate(members[0]), judged.center(members[0]))
        after = _scale_text(family, reported.rate(members[0]), reported.center(members[0]))
        change = f"{before}, kept" if before == after else f"{before} -> {after}"
        lines.append(f"{family} of {text_name(judged.names[j])}: {change}")
    return lines


_EDGE_CAUTION = (
    "{term} of {state} took {scale}, {edge}: the law's {symbol} may lie beyond it, and the terms beside it may make"
    " up for that; discovery.refine_rates: true refines it with the coefficients (best on a nearly noise-free record)"
)
_TERMS = {"saturation": "x/(K+x)", "exp": "exp(r x)", "hill": "x^2/(K^2+x^2)", "inhibition": "K x/(K^2+x^2)"}


def _edge(family: str, relative: float, multiples: tuple[float, ...]) -> str | None:
    """Which end of its grid a rate ``relative`` to the state's largest |value| is at, in words; None inside it."""
    at = {m for m in (min(multiples), max(multiples)) if np.isclose(abs(relative), abs(m), rtol=1e-9, atol=0.0)}
    if not at:
        return None
    if family == "exp":
        return f"the steepest its grid offers ({max(multiples):g} over the state's largest |value|)"
    if max(multiples) in at:
        return f"the smallest its grid offers (1/{max(multiples):g} of the state's largest |value|)"
    return f"the largest its grid offers ({1.0 / min(multiples):g} times the state's largest |value|)"


def grid_edge_cautions(problem: ShootingProblem, coefficients: np.ndarray) -> list[str]:
    """A caution for each family and state of the model (d, p) over ``problem.library`` whose inner rate is at an end
    of its grid (:data:`~pipeline.discovery.automatic_terms.RELATIVE_RATES`: the smallest or largest K of
    x/(K + x), the steepest exp(r x)): the data asked for a scale beyond the grid, and the term stands in for the
    law's."""
    library, values, out = problem.library, _data_values(problem), []
    for (family, j), members in _groups(library, coefficients != 0).items():
        if family not in _TERMS:
            continue
        rate = library.rate(members[0])
        edge = _edge(family, rate * (float(np.max(np.abs(values[:, j]))) or 1.0), RELATIVE_RATES[family])
        if edge is not None:
            scale = _scale_text(family, rate, 0.0).replace(" ", " = ", 1)
            state, symbol = text_name(library.names[j]), scale.split(" ")[0]
            out.append(_EDGE_CAUTION.format(term=_TERMS[family], state=state, scale=scale, edge=edge, symbol=symbol))
    return out
