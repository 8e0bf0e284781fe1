"""Where exact structure is lost: never proposed, or proposed and passed over (issue 14's exact-structure target).

    python benchmarks/structure_losses.py [--noises 0,0.01,0.05]

For every polynomial system of ``pipeline/systems_published.py`` whose true law the default library can write
(total degree <= 3), sampled and noised as ``benchmarks/generalisation.py`` samples it, deltaflow runs with default
settings while this script records every model its judge simulated. Each fit then falls in one class:

- exact: the reported model has exactly the true terms;
- judged, not chosen: a judged model had exactly the true terms, and another won (the choice, or the deletions
  and pruning after it, lost the law);
- every true equation judged: no judged model had all the true terms at once, but each state's true equation was
  in some judged model (the joint combination was never tried);
- not proposed, would win: some state's true equation was in no judged model (the proposals never reached it), and
  the true terms, fitted and judged like any proposal and added to what was judged, would have won the judge's choice
  (the proposals lost the law);
- not proposed, record prefers another: as above, but the judge given the true terms still chooses another model (a
  sparser one that follows the record as closely, or one that follows it measurably closer): the record does not
  single out the law, and only a prior outside it (or a second record) would.

The truth is read only here, to sort the fits; deltaflow never sees it. Writes
``benchmarks/results/structure_losses.md``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

import pipeline.discovery.chain as chain
from benchmarks.generalisation import noisy_record
from pipeline.discovery import discover
from pipeline.discovery.design import Design
from pipeline.discovery.judging import Judgement, judge_model
from pipeline.discovery.proposals import Choice
from pipeline.discovery.shooting import ShootingProblem
from pipeline.systems_published import PUBLISHED, TUNING

RESULTS = Path(__file__).resolve().parent / "results"
CLASSES = (
    "exact", "judged, not chosen", "every true equation judged", "not proposed, would win",
    "not proposed, record prefers another",
)  # fmt: skip


def true_supports(system: Any, names: list[str]) -> np.ndarray:
    """The true terms as a (d, p) mask over the library's term ``names`` (each true term is one of them: the systems
    are those whose law has total degree <= 3, which the default library writes)."""
    mask = np.zeros((len(system.names), len(names)), dtype=bool)
    for i, state in enumerate(system.names):
        for term in system.terms.get(state, {}):
            mask[i, names.index(term)] = True
    return mask


def classify(system: Any, noise: float) -> str:
    """Fit one record and sort it into one of :data:`CLASSES`."""
    judged: list[np.ndarray] = []
    truth_wins: list[bool] = []
    original = chain._judge

    def recording(*args: Any, **kwargs: Any) -> Any:
        judged_all = original(*args, **kwargs)  # the judgement first, then what the chain needs besides
        judged.extend(model.supports for model in judged_all[0].models)
        design, noise_sd, stable = args[1], args[5], args[6]  # chain._judge(data, design, ..., noise_sd, stable)
        truth_wins.append(_truth_would_win(system, judged_all[0], judged_all[2], design, noise_sd, stable))
        return judged_all

    chain._judge = recording
    try:
        t, x = noisy_record(system, noise, 0)
        result = discover(t, x, feature_names=system.names)
    finally:
        chain._judge = original
    names = result.library.feature_names()
    truth = true_supports(system, names)
    if np.array_equal(result.coefficients != 0, truth):
        return CLASSES[0]
    if any(np.array_equal(supports, truth) for supports in judged):
        return CLASSES[1]
    if all(any(np.array_equal(supports[i], truth[i]) for supports in judged) for i in range(truth.shape[0])):
        return CLASSES[2]
    return CLASSES[3] if truth_wins[-1] else CLASSES[4]


def _truth_would_win(
    system: Any,
    judgement: Judgement,
    problem: ShootingProblem,
    design: Design,
    noise_sd: np.ndarray,
    stable: Any,
) -> bool:
    """Whether the true terms, fitted and judged like a proposal on the ``problem`` the chain judged on
    (:func:`~pipeline.discovery.judging.judge_model`) and added to its ``judgement``, win the judge's choice."""
    truth = true_supports(system, design.library.feature_names())
    candidate = judge_model(Choice("truth", truth, (None,) * truth.shape[0]), design, problem.for_judging(noise_sd))
    floor, n_residuals = problem.noise_floor(noise_sd), problem.residual_count()
    winner = Judgement(judgement.models + (candidate,)).winner(floor, n_residuals, stable)
    return bool(np.array_equal(winner.supports, truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noises", type=str, default="0,0.01,0.05")
    args = parser.parse_args()
    noises = [float(v) for v in args.noises.split(",")]
    systems = [s for s in PUBLISHED.values() if s.polynomial and s.degree <= 3]
    counts: dict[tuple[str, float], Counter[str]] = {}
    with threadpool_limits(1):
        for entry in systems:
            half = "tuning" if entry.name in TUNING else "validation"
            row = []
            for noise in noises:
                label = classify(entry.system, noise)
                counts.setdefault((half, noise), Counter())[label] += 1
                row.append(label)
            print(f"{entry.name:42s} " + " | ".join(row), flush=True)
    lines = [
        "# Where exact structure is lost",
        "",
        f"`python benchmarks/structure_losses.py --noises {args.noises}`: the {len(systems)} polynomial systems of"
        " `pipeline/systems_published.py` whose law has total degree <= 3, sampled as `benchmarks/generalisation.py`"
        " samples them (512 points, multiplicative noise, seed 0), deltaflow with default settings. Classes (see the"
        " script): the reported model is exact; a judged model was exact but another won; every true equation was"
        " judged but never together; some true equation was never judged, and the true terms, had they been"
        " judged, would have won; or would not have: the judge prefers another model on this record.",
        "",
        "| half | noise | systems | " + " | ".join(CLASSES) + " |",
        "|---|---|---|" + "---|" * len(CLASSES),
    ]
    for (half, noise), counter in sorted(counts.items()):
        total = sum(counter.values())
        cells = [f"{counter[c]} ({counter[c] / total:.0%})" for c in CLASSES]
        lines.append(f"| {half} | {noise:.0%} | {total} | " + " | ".join(cells) + " |")
    out = RESULTS / "structure_losses.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
