"""Judging: runner-up proposals, and the bar of admissibility they may not move."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.discovery import discover
from pipeline.discovery.judging import RUNNER_UP_PREFIX, JudgedModel, Judgement
from pipeline.systems import simulate_truth
from pipeline.systems_published import PUBLISHED


def _model(label: str, n_terms: int, shooting: float) -> JudgedModel:
    supports = np.zeros((1, 8), dtype=bool)
    supports[0, :n_terms] = True
    return JudgedModel(label, supports, (None,), supports.astype(float), "derivative", shooting, False)


def test_a_runner_up_that_fits_closer_does_not_push_the_sparse_rule_choice_out() -> None:
    sparse = _model("one_se", 2, 1.5e-3)
    dense = _model("aicc", 4, 1.0e-3)
    closer = _model(f"{RUNNER_UP_PREFIX}3.x", 5, 3.0e-4)
    # against the runner-up's 3e-4 the sparse model (1.5e-3 > 2 x 3e-4) would be inadmissible
    assert Judgement((sparse, dense, closer)).winner() is sparse


def test_a_sparser_runner_up_within_the_bar_wins() -> None:
    dense = _model("aicc", 4, 1.0e-3)
    sparser = _model(f"{RUNNER_UP_PREFIX}2.x", 2, 1.8e-3)
    too_far = _model(f"{RUNNER_UP_PREFIX}4.x", 1, 2.5e-3)
    assert Judgement((dense, sparser, too_far)).winner() is sparser


def test_a_law_only_proposed_as_a_runner_up_is_found() -> None:
    """Laser photon number (ODEBench 12), x' = 1.8 x - 0.1107 x², 1 % noise: the cross-validation ranks the exact
    law below a constant-plus-linear fit; judged by simulation as a runner-up swap, it wins."""
    system = PUBLISHED["odebench_12_laser_photons"].system
    t = np.linspace(0.0, 10.0, 512)
    clean = simulate_truth(system, t)
    x = clean * (1.0 + 0.01 * np.random.default_rng(0).standard_normal(clean.shape))
    result = discover(t, x, feature_names=system.names)
    assert result.terms() == {"x": {"x": pytest.approx(1.8, rel=0.02), "x^2": pytest.approx(-0.1107, rel=0.02)}}
    assert result.chosen["model_choice"].startswith(RUNNER_UP_PREFIX)


def test_below_the_shooting_resolution_a_rule_based_choice_goes_before_an_equally_sparse_runner_up() -> None:
    rule = _model("aicc", 3, 3.1e-12)
    runner_up = _model(f"{RUNNER_UP_PREFIX}2.z", 3, 2.0e-12)  # lower, but both errors are rounding noise
    assert Judgement((runner_up, rule)).winner() is rule


def test_a_runner_up_at_the_noise_floor_sets_the_bar_when_every_rule_based_choice_misses_the_record() -> None:
    """Laser photons at 5 % noise: the rule-based choices (a constant, 1.74; denser, 1.88) miss a record whose noise
    floor is 0.43, and the runner-up x' = 1.8 x - 0.11 x² reaches it; the constant must not win by being sparse."""
    floor, n_residuals = 0.4335, 512
    constant = _model("one_se", 1, 1.738)
    dense = _model("aicc", 3, 1.878)
    law = _model(f"{RUNNER_UP_PREFIX}3.x", 2, 0.4308)
    assert Judgement((constant, dense, law)).winner(floor, n_residuals) is law
    # a runner-up above the noise floor does not move the bar, however much closer than the rule-based choices
    above = _model(f"{RUNNER_UP_PREFIX}3.x", 2, 0.6)
    assert Judgement((constant, dense, above)).winner(floor, n_residuals) is constant


def test_near_the_noise_floor_a_runner_up_does_not_move_the_bar() -> None:
    """0.4 - sin(2a) with a little noise (floor 7.4e-5): the exact two-term law (9.1e-5) is a hair above runner-ups
    with extra terms (7.7e-5, 8.5e-5); it misses the record by less than the noise does, so it keeps the bar."""
    floor, n_residuals = 7.41e-5, 1300
    law = _model("aicc", 2, 9.06e-5)
    extra_term = _model(f"{RUNNER_UP_PREFIX}2.a", 3, 8.51e-5)
    dense = _model(f"{RUNNER_UP_PREFIX}5.a", 5, 7.74e-5)
    assert Judgement((law, extra_term, dense)).winner(floor, n_residuals) is law
