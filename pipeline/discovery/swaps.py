"""Swap neighbours: the winner with one term exchanged for the library term that best stands in for it.

Every rule proposes whole supports, and deletions only remove terms, so a winner that carries a wrong term in place
of a right one keeps it when the two are nearly collinear on the record (Rössler's fixed-point regime: z stays near
a constant, and z' takes ``x`` instead of ``x z``). Here each term of the winner is exchanged in
turn for the :data:`STAND_INS` library terms whose part not explained by the equation's other terms is most
correlated with its own (:func:`stand_ins`), and each exchange is refitted by the winner's fit form and judged by
simulation. An exchange joins the judgement only when it fits the record so much better that the winner would not be
admissible against it (:func:`~pipeline.discovery.judging.admissible_limit`): with as many terms as the winner, it
then wins.

Addition neighbours judged the same way were tried and rejected: each state's equation of the winner with one more
term, one of the two that most lower its derivative fit's (and its integral fit's) residual, up to two rounds. On the
tuning half of benchmarks/generalisation.py no success, second-state success or exact structure changed at noise
seeds 0 and 1, and the slowest fit went from 3.3 to 5.6 s: where a 5 % record stops short of its law (sheep and
rabbits: x' = x² for x − x² − x y) the missing terms are two, and neither alone fits well enough to displace it.

Lowering neighbours were tried and rejected too: each monomial of the final winner exchanged for its neighbours of
one degree less (x² for x, x y for x or y), taken when the exchange raised the shooting error by less than a deletion
may, and then preferred among models of its size (a prior for lower degrees, where x and x² are nearly collinear on a
record that stays near x = 1: an SIR law's x' = 0.02 − 0.02 x − 2 x y found as 0.019 − 0.017 x² − 2 x y). On the
75-system tuning half over noise seeds 0-2 it found two such laws at 1 % noise and lost one (Maxwell-Bloch's y' took z
for x z); at 5 % it gained two second-state successes and lost one success and one exact structure (summed
216/180/105, 214/164/91, 202/135/72 -> 216/180/105, 214/164/92, 201/137/71 at 0 / 1 / 5 %): no clear gain for a
new stage. Run before the merges, with constants as neighbours, it lost two successes at 5 %.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.discovery.design import Design
from pipeline.discovery.judging import (
    SWAP_PREFIX,
    JudgedModel,
    Judgement,
    admissible_limit,
    judge_model,
)
from pipeline.discovery.proposals import Choice
from pipeline.discovery.shooting import ShootingProblem

__all__ = ["STAND_INS", "judge_neighbour", "judge_swaps", "ranked_stand_ins", "stand_ins"]

STAND_INS = 2
"""Library terms tried in place of each term of the winner. Four changed one count on the 75-system tuning half over
noise seeds 0-2 (a chemostat's success at 1 %, seed 2), for twice the swap simulations."""


def stand_ins(
    theta: np.ndarray, support: np.ndarray, k: int, allowed: np.ndarray | None = None, count: int = STAND_INS
) -> list[int]:
    """The ``count`` columns outside ``support`` (p,), and among the ``allowed`` ones (p,) when given, that best stand
    in for column ``k`` of ``theta`` (n, p): by the correlation of their parts not explained (least squares) by the
    support's other columns with column k's part. Columns that the other columns explain entirely are never chosen."""
    others = support.copy()
    others[k] = False
    outside = ~support if allowed is None else ~support & allowed
    return [column for column, _ in ranked_stand_ins(theta, others, theta[:, k], outside, count)]


def ranked_stand_ins(
    theta: np.ndarray, others: np.ndarray, target: np.ndarray, outside: np.ndarray, count: int
) -> list[tuple[int, float]]:
    """The ``count`` columns of ``theta`` (n, p) among ``outside`` (p,) whose parts not explained (least squares) by
    the columns ``others`` (p,) correlate most with the part of ``target`` (n,) they do not explain, with that absolute
    correlation (0 to 1), best first. Columns that ``others`` explain entirely are never chosen, nor any when they
    explain the target entirely."""
    kept, candidates = np.flatnonzero(others), np.flatnonzero(outside)
    if candidates.size == 0:
        return []
    block = np.column_stack([target, theta[:, candidates]])
    if kept.size:
        basis = theta[:, kept]
        block = block - basis @ np.linalg.lstsq(basis, block, rcond=None)[0]
    residual, parts = block[:, 0], block[:, 1:]
    norms = np.linalg.norm(parts, axis=0)
    scale = np.linalg.norm(theta[:, candidates], axis=0)
    target_norm = np.linalg.norm(residual)
    if target_norm == 0.0:
        return []
    usable = norms > 1e-8 * np.maximum(scale, 1e-300)
    correlation = np.where(usable, np.abs(residual @ parts) / (target_norm * np.where(usable, norms, 1.0)), -1.0)
    order = np.argsort(-correlation, kind="stable")
    return [(int(candidates[i]), float(correlation[i])) for i in order[:count] if correlation[i] > 0.0]


def judge_neighbour(
    model: JudgedModel,
    supports: np.ndarray,
    j: int,
    label: str,
    design: Design,
    problem: ShootingProblem,
) -> JudgedModel:
    """``model`` with its supports (d, p) changed in state ``j``'s equation to ``supports``, refitted by the model's
    own fit form (keeping the conservation laws it keeps) and judged by simulation: the other states keep their
    rules."""
    rules = tuple(None if i == j else rule for i, rule in enumerate(model.rules))
    return judge_model(Choice(label, supports, rules), design, problem, model.laws, model.fit)


def judge_swaps(
    judgement: Judgement,
    design: Design,
    problem: ShootingProblem,
    names: tuple[str, ...],
    floor: float,
    n_residuals: int,
    stable: Callable[[JudgedModel], int] | None = None,
) -> Judgement:
    """The judgement with the winner's swap neighbours against which the winner is not admissible (labelled
    ``swap.<state>.<term>><stand-in> from <rule>``); the same judgement when there are none, the winner is a dense
    expansion or it fits to within the noise. Costs one shooting error per term of the winner and stand-in."""
    current = judgement.winner(floor, n_residuals, stable)
    if current.dense:
        return judgement
    seen = {model.supports.tobytes() for model in judgement.models}
    terms = design.library.feature_names()
    if current.shooting <= admissible_limit(0.0, floor, n_residuals):
        return judgement  # no model can fit so much better that the winner stops being admissible
    root = current.label.split(" from ")[-1]
    p, monomials = current.supports.shape[1], design.library.powers.shape[0]
    better = []
    for j, k in zip(*np.nonzero(current.supports)):
        # a monomial's stand-in is a monomial: one more function term ranks a model of the same size below the winner
        allowed = np.arange(p) < monomials if k < monomials else np.ones(p, dtype=bool)
        for c in stand_ins(design.theta, current.supports[j], int(k), allowed):
            supports = current.supports.copy()
            supports[j, k], supports[j, c] = False, True
            if supports.tobytes() in seen:
                continue
            seen.add(supports.tobytes())
            label = f"{SWAP_PREFIX}.{names[j]}.{terms[k]}>{terms[c]} from {root}"
            model = judge_neighbour(current, supports, j, label, design, problem)
            if current.shooting > admissible_limit(model.shooting, floor, n_residuals):
                better.append(model)
    return Judgement(judgement.models + tuple(better)) if better else judgement
