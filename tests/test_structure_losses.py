"""benchmarks/structure_losses.py sorts fits by where the exact structure was lost."""

from __future__ import annotations

import pipeline.discovery.chain as chain
from benchmarks.structure_losses import CLASSES, classify, true_supports
from pipeline.systems_published import PUBLISHED


def test_a_clean_record_of_a_simple_law_is_exact_and_the_judge_is_restored() -> None:
    judge = chain._judge
    assert classify(PUBLISHED["odebench_03_logistic"].system, 0.0) == CLASSES[0]
    assert chain._judge is judge  # the recording wrapper does not outlive the fit


def test_the_true_terms_map_onto_the_library_columns() -> None:
    system = PUBLISHED["odebench_27_lotka_volterra"].system
    names = ["1", "x", "y", "x^2", "x y", "y^2"]
    mask = true_supports(system, names)
    assert mask.shape == (2, 6)
    assert [[names[k] for k in row.nonzero()[0]] for row in mask] == [
        sorted(system.terms["x"], key=names.index),
        sorted(system.terms["y"], key=names.index),
    ]


def test_the_true_law_judged_beside_a_clean_records_proposals_wins() -> None:
    from typing import Any

    from benchmarks.generalisation import noisy_record
    from benchmarks.structure_losses import _truth_would_win
    from pipeline.discovery import discover

    system = PUBLISHED["odebench_27_lotka_volterra"].system
    verdicts: list[bool] = []
    original = chain._judge

    def recording(*args: Any, **kwargs: Any) -> Any:
        judged = original(*args, **kwargs)
        verdicts.append(_truth_would_win(system, judged[0], judged[2], args[1], args[5], args[6]))
        return judged

    chain._judge = recording
    try:
        discover(*noisy_record(system, 0.0, 0), feature_names=system.names)
    finally:
        chain._judge = original
    assert verdicts == [True]
