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


def test_a_costly_model_gets_fewer_refinement_iterations_and_never_none() -> None:
    """The search's evaluations are bounded: ``per_residual`` evaluations for each residual and n_free more residuals
    for each Jacobian; a cheap model keeps every iteration, a costly one fewer, the costliest one."""
    from pipeline.discovery.refinement import EVALUATIONS, ITERATIONS, _affordable_iterations

    assert _affordable_iterations(400, 6) == ITERATIONS
    costly = _affordable_iterations(1800, 17)
    assert 1 < costly < ITERATIONS and costly * 1800 * 18 <= EVALUATIONS
    assert _affordable_iterations(EVALUATIONS, 40) == 1
    assert _affordable_iterations(0, 3) == ITERATIONS  # a residual whose simulation failed at once costs nothing
