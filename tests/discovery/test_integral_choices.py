"""Choices ranked on the integral form: a law whose fast transient the smoother rounds off is still proposed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid

from benchmarks.generalisation import noisy_record
from pipeline.discovery import discover
from pipeline.discovery.proposals import INTEGRAL_PREFIX, _integral_scores
from pipeline.discovery.selection import SupportScore
from pipeline.systems_published import PUBLISHED


def test_an_enzyme_law_with_a_fast_transient_is_found_through_the_integral_form() -> None:
    """Mass-action enzyme kinetics at 1 % noise: the substrate falls within the first tenth of the record, where the
    smoothed derivatives err most, and every derivative-ranked choice carried x^3, x^2 y and y^3 for x and y. Ranked
    on the integral form, the law x' = -x + 0.5 y + x y, y' = x - 0.8 y - x y comes first for both states, and wins."""
    system = PUBLISHED["murray_michaelis_menten_mass_action"].system
    t, x = noisy_record(system, 0.01, 0)
    result = discover(t, x, feature_names=system.names)
    assert result.chosen["model_choice"].startswith(INTEGRAL_PREFIX)
    terms = result.terms()
    assert {state: set(found) for state, found in terms.items()} == {"x": {"x", "y", "x y"}, "y": {"x", "y", "x y"}}
    truth = system.terms
    for state in ("x", "y"):
        for term, value in truth[state].items():
            assert terms[state][term] == pytest.approx(value, rel=0.1, abs=0.05)


def test_the_integral_score_prefers_the_law_to_a_term_more_or_a_term_less() -> None:
    """x' = -x + 0.5 x^2 from x = 1, with 1 % noise on the record: on the integral form (x(t) against ∫ [1, x, x^2] dt,
    both centred) the two-term law scores best; dropping x^2 fits worse, adding 1 costs its penalty."""
    t = np.linspace(0.0, 4.0, 400)
    clean = 1.0 / (0.5 + 0.5 * np.exp(t))  # solves x' = -x + 0.5 x^2, x(0) = 1
    x = clean * (1.0 + 0.01 * np.random.default_rng(0).standard_normal(t.size))
    library = np.column_stack([np.ones_like(clean), clean, clean**2])
    integrated = cumulative_trapezoid(library, t, axis=0, initial=0.0)
    supports = {"law": [False, True, True], "less": [False, True, False], "more": [True, True, True]}
    candidates = [SupportScore(np.array(mask), 0.0, 0.0) for mask in supports.values()]
    scores = dict(zip(supports, _integral_scores(integrated - integrated.mean(0), x - x.mean(), candidates)))
    assert min(scores, key=scores.get) == "law"
