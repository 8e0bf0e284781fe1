"""Output-error refinement by multiple shooting."""

from __future__ import annotations

import numpy as np

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
