"""Output-error refinement by multiple shooting."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import DiscoveryConfig
from pipeline.discovery import discover
from pipeline.systems import SYSTEMS, sample_system


def test_shooting_refinement_lowers_the_residual_and_keeps_terms_and_laws() -> None:
    from pipeline.discovery.refinement import refine_by_shooting
    from pipeline.discovery.shooting import ShootingProblem

    system = SYSTEMS["sir"]
    frame = sample_system(system, n=400, noise=0.05, multiplicative=True, seed=3)
    t, x = frame.t.to_numpy(), frame[list(system.names)].to_numpy()
    config = DiscoveryConfig(refine_by_simulation=False, n_bootstrap=0)
    result = discover(t, x, config=config, feature_names=system.names)
    laws = np.ones((1, 3)) / np.sqrt(3)
    smoothed = [result.simulate(x[0], t)]  # any reasonable block starts will do
    problem = ShootingProblem(result.library, [t], [x], smoothed, None, n_blocks=5)
    refinement = refine_by_shooting(result.coefficients, problem, laws=laws)
    refined = refinement.coefficients
    assert refinement.after < refinement.before
    np.testing.assert_array_equal(refined != 0, result.coefficients != 0)
    np.testing.assert_allclose(refined.sum(axis=0), 0.0, atol=1e-9)  # S + I + R still conserved


def test_a_long_record_is_judged_on_bin_means_whose_noise_floor_shrinks_with_the_bin() -> None:
    from pipeline.discovery.library import Library
    from pipeline.discovery.shooting import ShootingProblem

    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 5.0, 20_000)
    clean = np.exp(-t)[:, None]
    x = clean + 0.01 * rng.standard_normal(clean.shape)
    library = Library(("u",), np.array([[0], [1]]))
    problem = ShootingProblem.binned(library, [t], [x], [clean], None, n_blocks=5, max_samples=1000)
    assert problem.ts[0].shape == (1000,) and problem.xs[0].shape == (1000, 1) and problem.averaged == 20
    np.testing.assert_allclose(problem.xs[0][:, 0], np.exp(-problem.ts[0]), atol=0.01)  # on the path, noise sd 0.0022
    exact = np.array([[0.0, -1.0]])
    floor = problem.noise_floor(np.array([0.01]))
    assert problem.error(exact) == pytest.approx(floor, rel=0.3)  # what is left is the bins' own noise
    short = ShootingProblem.binned(library, [t[:900]], [x[:900]], [clean[:900]], None, n_blocks=5, max_samples=1000)
    assert short.averaged == 1 and short.xs[0] is not None and short.xs[0].shape == (900, 1)


def _noisy_lotka_volterra(seed: int) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    """x' = x - x y, y' = -y + x y over 10 time units (400 samples) with 3 % noise, as a shooting problem whose blocks
    start from the noisy samples themselves: the problem, the true coefficients (2, 4) and the noise sd (2,)."""
    from pipeline.discovery.library import Library
    from pipeline.discovery.shooting import ShootingProblem
    from pipeline.discovery.simulate import simulate_model

    library = Library(("x", "y"), np.array([[0, 0], [1, 0], [0, 1], [1, 1]]))
    truth = np.array([[0.0, 1.0, 0.0, -1.0], [0.0, 0.0, -1.0, 1.0]])
    t = np.linspace(0.0, 10.0, 400)
    clean = simulate_model(truth, library, np.array([1.8, 0.6]), t, rtol=1e-10)
    sd = 0.03 * clean.std(axis=0)
    x = clean + sd * np.random.default_rng(seed).standard_normal(clean.shape)
    return ShootingProblem(library, [t], [x], [x], None, n_blocks=5), truth, sd


def test_blocks_starting_from_noisy_states_bias_held_starts_and_free_starts_remove_most_of_it() -> None:
    from pipeline.discovery.refinement import refine_by_shooting

    ratios = []
    for seed in range(5):
        problem, truth, sd = _noisy_lotka_volterra(seed)
        start = 1.03 * truth
        held = refine_by_shooting(start, problem).coefficients  # without a noise level the starts are held
        free = refine_by_shooting(start, problem, noise_sd=sd).coefficients
        np.testing.assert_array_equal(free != 0, truth != 0)
        assert np.abs(free - truth).max() < np.abs(held - truth).max()
        ratios.append(np.abs(free - truth).max() / np.abs(held - truth).max())
    assert np.mean(ratios) < 0.5  # measured 0.42: the largest coefficient error falls 1.5- to 6-fold


def test_the_search_stops_within_its_evaluations_but_one_simulation() -> None:
    """Its right-hand-side evaluations are counted (a sensitivity solve's as 1 + k + d) and bounded: it stops once the
    budget is spent, finishing the simulation under way, and still returns its best coefficients."""
    from pipeline.discovery.refinement import refine_by_shooting
    from pipeline.discovery.simulate import EvaluationCount

    problem, truth, sd = _noisy_lotka_volterra(0)
    ample, scarce = EvaluationCount(), EvaluationCount()
    full = refine_by_shooting(1.03 * truth, problem, noise_sd=sd, count=ample)
    short = refine_by_shooting(1.03 * truth, problem, noise_sd=sd, evaluations=5_000, count=scarce)
    assert scarce.calls < ample.calls
    one_jacobian = 40 * 400 * (1 + 4 + 2)  # generous: a solve of the 400 samples with its sensitivities
    assert scarce.calls <= 5_000 + one_jacobian
    assert short.after < short.before and full.after <= 1.001 * short.after  # the held starts judge both
