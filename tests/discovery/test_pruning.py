"""Pruning by shooting: small terms the record does not need are deleted, with the rest refitted by shooting."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pipeline.discovery import pruning
from pipeline.discovery.library import Library
from pipeline.discovery.pruning import SMALL_SHARE, prune_by_shooting, small_terms
from pipeline.discovery.shooting import ShootingProblem
from pipeline.discovery.simulate import EvaluationCount

LIBRARY = Library(("x",), np.array([[0], [1], [2]]))  # 1, x, x^2


def _problem(rate: float, square: float) -> ShootingProblem:
    """Clean record of x' = rate x + square x^2 from x = 2 over [0, 4], 400 samples, 5 blocks."""
    t = np.linspace(0.0, 4.0, 400)
    x = solve_ivp(lambda _, v: rate * v + square * v**2, (0, 4), [2.0], t_eval=t, rtol=1e-10, atol=1e-12).y.T
    return ShootingProblem.binned(LIBRARY, [t], [x], [x], None, n_blocks=5)


def test_small_terms_are_those_under_a_share_of_their_equations_rate() -> None:
    theta = np.column_stack([np.ones(4), np.array([1.0, -1.0, 1.0, -1.0]), np.ones(4)])  # rms 1 each
    x_dot = np.full((4, 1), 2.0)  # rms 2
    coefficients = np.array([[2.0 * SMALL_SHARE * 0.9, 2.0, 2.0 * SMALL_SHARE * 1.1]])
    np.testing.assert_array_equal(small_terms(coefficients, theta, x_dot), [[True, False, False]])
    assert not small_terms(np.zeros((1, 3)), theta, x_dot).any()  # a term the model lacks is not a candidate


def test_a_spurious_small_term_is_deleted_and_the_rest_refitted() -> None:
    problem = _problem(-1.0, 0.0)
    offset = np.array([[0.02, -1.03, 0.0]])  # a small constant offsetting a biased rate
    pruned = prune_by_shooting(offset, problem, np.array([[True, False, False]]), tolerance=1e-6)
    np.testing.assert_array_equal(pruned != 0, [[False, True, False]])
    assert pruned[0, 1] == pytest.approx(-1.0, abs=1e-3)


def test_a_model_whose_refit_step_overruns_a_trials_budget_is_not_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _problem(-1.0, 0.0)
    offset = np.array([[0.02, -1.03, 0.0]])
    one_simulation = EvaluationCount()
    problem.error(offset, one_simulation)
    # a budget that one simulation per coefficient (the Jacobian of one refit step) just overruns
    monkeypatch.setattr(pruning, "TRIAL_EVALUATIONS", 2 * one_simulation.calls - 1)
    kept = prune_by_shooting(offset, problem, np.array([[True, False, False]]), tolerance=1e-6)
    np.testing.assert_array_equal(kept, offset)  # the deletion would fit (the test above), but is not tried


def test_a_small_term_the_record_needs_stays() -> None:
    problem = _problem(-1.0, 0.05)  # the square is about 5 % of the rate, and the record needs it
    model = np.array([[0.0, -1.0, 0.05]])
    pruned = prune_by_shooting(model, problem, np.array([[False, False, True]]), tolerance=1e-6)
    np.testing.assert_array_equal(pruned, model)


def test_a_pruned_model_must_stay_stable_when_the_refined_one_is() -> None:
    problem = _problem(-1.0, 0.0)
    offset = np.array([[0.02, -1.03, 0.0]])
    kept = prune_by_shooting(offset, problem, np.array([[True, False, False]]), tolerance=1e-6, stable=_only(offset))
    np.testing.assert_array_equal(kept, offset)  # the deletion fits, but the (stand-in) check refuses it


def _only(model: np.ndarray) -> Callable[[np.ndarray], bool]:
    """A stand-in stability check that passes ``model`` alone."""
    return lambda coefficients: bool(np.array_equal(coefficients, model))


def test_the_brusselator_at_5_percent_noise_loses_its_spurious_constant() -> None:
    """Judged by linear fits, y' keeps a constant of 3 % of its rate that offsets their bias; refitted by shooting,
    the record does not need it, and the exact law is left."""
    from benchmarks.generalisation import noisy_record
    from pipeline.discovery import discover
    from pipeline.systems_published import PUBLISHED

    system = PUBLISHED["odebench_49_brusselator"].system
    t, x = noisy_record(system, 0.05, 0)
    result = discover(t, x, feature_names=system.names)
    terms = result.library.feature_names()
    found = {name: {terms[k] for k in np.flatnonzero(row)} for name, row in zip(system.names, result.coefficients)}
    assert found == {name: set(system.terms[name]) for name in system.names}
    assert str(result.chosen["model_choice"]).endswith("pruned by shooting (y: 1)")  # the choice names the deletion


def test_with_a_conservation_law_every_refit_keeps_it() -> None:
    """x + y conserved: deleting the small constant from x' alone would break the law, so the refit (kept even when
    the search is skipped at the noise floor) drops its partner in y' too."""
    library = Library(("x", "y"), np.array([[0, 0], [1, 0]]))  # 1, x
    t = np.linspace(0.0, 4.0, 400)
    x = np.column_stack([2.0 * np.exp(-t), 2.0 - 2.0 * np.exp(-t)])  # x' = -x, y' = x
    problem = ShootingProblem.binned(library, [t], [x], [x], None, n_blocks=5)
    model = np.array([[0.02, -1.0], [-0.02, 1.0]])
    law = np.array([[1.0, 1.0]]) / np.sqrt(2.0)
    for noise_sd in (None, np.array([0.5, 0.5])):  # searched, and skipped as already at a (large) noise floor
        pruned = prune_by_shooting(model, problem, np.array([[True, False], [False, False]]), tolerance=1.0, laws=law,
                                   noise_sd=noise_sd)  # fmt: skip
        np.testing.assert_allclose(law @ pruned, 0.0, atol=1e-12)
        np.testing.assert_array_equal(pruned != 0, [[False, True], [False, True]])


def test_a_model_that_cannot_be_simulated_keeps_its_terms() -> None:
    problem = _problem(-1.0, 0.0)
    exploding = np.array([[0.01, -1.0, 1e6]])  # blows up within the first block
    np.testing.assert_array_equal(prune_by_shooting(exploding, problem, exploding != 0, tolerance=1e-6), exploding)
