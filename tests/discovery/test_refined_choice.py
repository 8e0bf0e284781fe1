"""Refined choice: a judged subset of the winner whose left-out terms add up to little replaces it when refinement
makes it admissible."""

from __future__ import annotations

import numpy as np

from benchmarks.generalisation import noisy_record
from pipeline.discovery import discover
from pipeline.discovery.pruning import SMALL_SHARE
from pipeline.discovery.refined_choice import _small_group
from pipeline.systems_published import PUBLISHED


def test_large_terms_that_cancel_are_a_small_group_and_one_large_term_is_not() -> None:
    x = np.linspace(-1.5, 1.5, 200)
    theta = np.column_stack([x, x**3, np.sin(x)])  # sin x = x - x^3/6 + ...: the three nearly cancel
    x_dot = np.column_stack([np.cos(x)])  # a rate of order 1
    winner = np.array([[1.0, -1.0 / 6.0, -1.0]])
    assert _small_group(winner, np.zeros((1, 3), dtype=bool), theta, x_dot)  # net 2.6 % of the rate
    assert not _small_group(winner, np.array([[True, True, False]]), theta, x_dot)  # sin x alone is not small
    assert not _small_group(np.array([[SMALL_SHARE * 2.0, 0.0, 0.0]]), np.zeros((1, 3), dtype=bool), theta, x_dot)


def test_a_damped_duffing_oscillator_at_1_percent_noise_keeps_only_its_true_terms() -> None:
    # Judged by linear fits, its true law is 14x the noise floor and a model adding x, x^3 and sin x to x' (nearly
    # cancelling) 3.7x; refined by shooting, 2.7x and 2.3x: the true law is admissible, and the sparser
    system = PUBLISHED["duffing_hardening_damped"].system
    t, x = noisy_record(system, 0.01, 0)
    result = discover(t, x, feature_names=system.names)
    assert {name: set(terms) for name, terms in result.terms().items()} == {
        name: set(terms) for name, terms in system.terms.items()
    }
    assert "refined (a subset of the" in result.chosen["model_choice"]
