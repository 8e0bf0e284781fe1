"""Merge neighbours: the winner with two or three terms of one equation replaced by the one library term that best
stands in for their sum.

Over a short stretch of a record a product is close to its first-order expansion: x z near (x0, z0) is
x0 z + z0 x - x0 z0. The rules, the deletions and the one-for-one swaps (:mod:`~pipeline.discovery.swaps`) then keep the
expansion's terms (Maxwell-Bloch at 1 % noise: y' = c + a x - b y + d z for the law's y' = -b y + a x z), since no
one of them can go alone. Here each pair and triple of terms of each equation of the winner (with at most
:data:`MAX_TERMS` terms) is replaced by its :data:`STAND_INS` best stand-ins among the library's other terms: those
whose part not explained by the equation's remaining terms correlates most with the part of the group's fitted sum
(at least :data:`MIN_CORRELATION`); each is refitted by the winner's fit form and judged by simulation, and joins the
judgement when it raises the shooting error by no more than a deletion may
(:func:`~pipeline.discovery.judging.deletion_tolerance`): it is sparser, so it wins. Rounds repeat on the new winner,
up to :data:`ROUNDS`.

Measured on the tuning half of benchmarks/generalisation.py over noise seeds 0-2 (with the judge as it was): exact
structure at 1 % 72 -> 74 of 78 fits, at 5 % 53 -> 55, success and second-state success unchanged or better, median
fit time 0.33 s either way. On the 34-system suite of benchmarks/discovery.py exact structure at 0 % 29 -> 30 of 32,
at 1 % 27 either way (the Duffing double well gained, the food chain lost), second-state success at 1 % 27 -> 28.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np

from pipeline.discovery.design import Design
from pipeline.discovery.judging import MERGE_PREFIX, JudgedModel, Judgement, deletion_tolerance
from pipeline.discovery.shooting import ShootingProblem
from pipeline.discovery.swaps import judge_neighbour, ranked_stand_ins

__all__ = ["GROUP_SIZES", "MAX_TERMS", "MIN_CORRELATION", "ROUNDS", "STAND_INS", "judge_merges"]

GROUP_SIZES = (2, 3)
"""How many terms of one equation a merge replaces."""
MAX_TERMS = 6
"""Equations with more terms are not merged (a dense equation has too many groups, 20 triples at six terms)."""
STAND_INS = 2
"""Library terms tried in place of each group."""
MIN_CORRELATION = 0.9
"""A stand-in is tried only when its unexplained part correlates at least this well with the group's."""
ROUNDS = 4
"""Rounds of merges at most, each on the winner the last one left."""


def judge_merges(
    judgement: Judgement,
    design: Design,
    problem: ShootingProblem,
    names: tuple[str, ...],
    floor: float,
    n_residuals: int,
    stable: Callable[[JudgedModel], int] | None = None,
) -> Judgement:
    """The judgement with the winner's merge neighbours that fit the record as well as it does (within
    :func:`~pipeline.discovery.judging.deletion_tolerance`), labelled ``merge.<state>.<term>+<term>><stand-in> from
    <rule>``, round after round while the winner changes; the same judgement when the winner is dense or none does.
    Costs one shooting error per group and stand-in tried."""
    tolerance = deletion_tolerance(floor, n_residuals)
    current = judgement.winner(floor, n_residuals, stable)
    for _ in range(ROUNDS):
        if current.dense:
            break
        merged = _merge_round(judgement, current, design, problem, names, tolerance)
        if merged is judgement:
            break
        judgement, previous = merged, current
        current = judgement.winner(floor, n_residuals, stable)
        if current.supports.tobytes() == previous.supports.tobytes():
            break
    return judgement


def _merge_round(
    judgement: Judgement,
    current: JudgedModel,
    design: Design,
    problem: ShootingProblem,
    names: tuple[str, ...],
    tolerance: float,
) -> Judgement:
    """The judgement with ``current``'s merge neighbours whose shooting error is within ``tolerance`` of its own."""
    seen = {model.supports.tobytes() for model in judgement.models}
    terms = design.library.feature_names()
    root = current.label.split(" from ")[-1]
    kept = []
    for j, group, stand_in in _candidates(current, design):
        supports = current.supports.copy()
        supports[j, list(group)], supports[j, stand_in] = False, True
        if supports.tobytes() in seen:
            continue
        seen.add(supports.tobytes())
        label = f"{MERGE_PREFIX}.{names[j]}.{'+'.join(terms[k] for k in group)}>{terms[stand_in]} from {root}"
        model = judge_neighbour(current, supports, j, label, design, problem)
        if model.shooting <= current.shooting + tolerance:
            kept.append(model)
    return Judgement(judgement.models + tuple(kept)) if kept else judgement


def _candidates(current: JudgedModel, design: Design) -> list[tuple[int, tuple[int, ...], int]]:
    """(state, group of its terms, stand-in) for every group of :data:`GROUP_SIZES` terms of each equation of the
    winner with at most :data:`MAX_TERMS` terms, and each of the group's :data:`STAND_INS` best stand-ins that
    correlate at least :data:`MIN_CORRELATION` (monomials for a group of monomials: one more function term would rank a
    model below the winner)."""
    p, monomials = current.supports.shape[1], design.library.powers.shape[0]
    found = []
    for j, support in enumerate(current.supports):
        active = np.flatnonzero(support)
        if not 2 <= active.size <= MAX_TERMS:
            continue
        for size in GROUP_SIZES:
            for group in combinations(active.tolist(), size):
                members = np.zeros(p, dtype=bool)
                members[list(group)] = True
                allowed = np.arange(p) < monomials if max(group) < monomials else np.ones(p, dtype=bool)
                target = design.theta[:, members] @ current.coefficients[j, members]
                for stand_in, correlation in ranked_stand_ins(
                    design.theta, support & ~members, target, ~support & allowed, STAND_INS
                ):
                    if correlation >= MIN_CORRELATION:
                        found.append((j, group, stand_in))
    return found
