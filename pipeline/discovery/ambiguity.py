"""Whether the record singles out the chosen terms: rival models that follow it as closely but part from it elsewhere.

A single record often pins down a law only along the path it took. Models with other terms then follow it to within
the noise, and the judge picks the sparsest of them; from other initial states they may agree (the record did decide
what matters) or part ways (it did not). The check simulates the reported model and each rival that follows the
record as closely (its shooting error within what the noise explains of the reported model's) from the fixed states
around the data of the stability check (:class:`~pipeline.discovery.stability.StabilityCheck`) and
compares the paths: a rival that stays bounded there too (the judge prefers such models, so one that runs away is no
rival) but whose paths explain less than :data:`AGREEMENT` of the variance of the reported model's (as the benchmarks
score a model against the truth) makes the choice ambiguous, and the user is told which terms the rival uses
instead, and from which of those states the two part most: a record started there would decide between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.discovery.judging import JudgedModel, Judgement
from pipeline.discovery.library import Library
from pipeline.discovery.stability import StabilityCheck

__all__ = ["AGREEMENT", "MAX_RIVALS", "Rival", "ambiguous_rival"]

AGREEMENT = 0.9
"""Two models agree away from the record when, from the states around the data, one's paths explain this share of the
variance of the other's in every state (R² > 0.9, the success bar of benchmarks/generalisation.py)."""
MAX_RIVALS = 4
"""The most rivals simulated, sparsest first."""


@dataclass(frozen=True)
class Rival:
    """A model with other terms that follows the record as closely as the reported one and parts from it away from
    the record.

    Attributes:
        model: the rival as judged.
        agreement: the lowest R² over states of its paths against the reported model's from the states around the
            data.
        start: the index of the check's start from which its paths part most from the reported model's
            (:func:`_parting_start`).
    """

    model: JudgedModel
    agreement: float
    start: int


def _agreement(reference: np.ndarray, other: np.ndarray) -> float:
    """The lowest R² over states (d) of ``other``'s paths (m, k, d) against ``reference``'s."""
    variance = np.sum((reference - reference.mean(axis=(0, 1))) ** 2, axis=(0, 1))
    error = np.sum((other - reference) ** 2, axis=(0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(variance > 0.0, 1.0 - error / np.where(variance > 0.0, variance, 1.0), 0.0)
    return float(np.min(r2))


def _parting_start(reference: np.ndarray, other: np.ndarray) -> int:
    """The start (index into k) from which ``other``'s paths (m, k, d) part most from ``reference``'s: the largest
    squared distance over time, in units of each state's variance in ``reference`` (summed over states)."""
    variance = np.var(reference, axis=(0, 1))
    scale = np.where(variance > 0.0, variance, 1.0)
    return int(np.argmax(np.sum((other - reference) ** 2 / scale, axis=(0, 2))))


def _rivals(judgement: Judgement, origin: str, reported: np.ndarray, tolerance: float) -> list[JudgedModel]:
    """The judged models other than the reported one (terms (d, p); judged as ``origin``) whose shooting error is
    within ``tolerance`` of its own or below, not dense and with other terms, sparsest first, at most
    :data:`MAX_RIVALS`: the record cannot tell them from the reported model."""
    judged = [model for model in judgement.models if model.label == origin]
    limit = (judged[0].shooting if judged else min(model.shooting for model in judgement.models)) + tolerance
    seen = {reported.tobytes()}
    rivals = []
    for model in sorted(judgement.models, key=lambda model: (int(model.supports.sum()), model.shooting)):
        key = model.supports.tobytes()
        if model.dense or key in seen or model.shooting > limit:
            continue
        seen.add(key)
        rivals.append(model)
    return rivals[:MAX_RIVALS]


def ambiguous_rival(
    judgement: Judgement,
    origin: str,
    reference: np.ndarray,
    reported: np.ndarray,
    library: Library,
    check: StabilityCheck,
    tolerance: float,
) -> Rival | None:
    """The rival (:func:`_rivals`) that parts most from the reported model away from the record, when one parts from it
    (agreement below :data:`AGREEMENT`); None when every rival agrees or there is none.

    Args:
        judgement: every model judged.
        origin: the label the reported model was judged under.
        reference: the reported model's paths (m, k, d) from the ``check``'s starts
            (:meth:`~pipeline.discovery.stability.StabilityCheck.bounded_paths`).
        reported: its terms (d, p).
        library: the terms' library, in fitting units.
        check: the stability check around the data.
        tolerance: the rise in shooting error the noise explains
            (:func:`~pipeline.discovery.judging.deletion_tolerance`).
    """
    worst: Rival | None = None
    for model in _rivals(judgement, origin, reported, tolerance):
        paths = check.bounded_paths(model.coefficients, library)
        if paths is None:
            continue  # a rival that runs away from states near the data is not a law the judge would prefer
        agreement = _agreement(reference, paths)
        if agreement < AGREEMENT and (worst is None or agreement < worst.agreement):
            worst = Rival(model, agreement, _parting_start(reference, paths))
    return worst
