"""Conservation laws: found, kept exactly, never claimed where there is none."""

from __future__ import annotations

import numpy as np
from discovery_cases import assert_structure_and_coefficients

from pipeline.discovery import discover
from pipeline.systems import SYSTEMS, sample_system


def test_a_conserved_quantity_is_found_and_kept_exactly() -> None:
    # S + E + I + R = 1 makes the constant and the linear terms collinear; unconstrained fits kept
    # large opposite coefficients on them, or left the law unstable, and the simulation diverged.
    from pipeline.systems import simulate_truth

    system = SYSTEMS["seir"]
    frame = sample_system(system, n=512, noise=0.01, multiplicative=True, seed=0)
    t = frame.t.to_numpy()
    result = discover(t, frame[list(system.names)].to_numpy(), feature_names=system.names)
    assert result.chosen["conservation_laws"] == ["S + E + I + R = const"]
    np.testing.assert_allclose(result.coefficients.sum(axis=0), 0.0, atol=1e-9)  # d(S+E+I+R)/dt ≡ 0
    unseen = simulate_truth(system, t, system.x0_alt)
    simulated = result.simulate(np.asarray(system.x0_alt), t)
    assert np.max(np.abs(simulated - unseen)) < 0.05


def test_sis_structure_with_its_conservation_law() -> None:
    system = SYSTEMS["sis"]
    frame = sample_system(system, n=512, noise=0.01, multiplicative=True, seed=0)
    result = discover(frame.t.to_numpy(), frame[list(system.names)].to_numpy(), feature_names=system.names)
    assert_structure_and_coefficients(result, system.terms, rtol=0.05)


def test_no_conservation_law_is_claimed_where_there_is_none() -> None:
    from pipeline.discovery.conservation import detect_laws

    for name in ("lotka_volterra_3", "food_chain", "competition", "lorenz"):
        for noise in (0.0, 0.01, 0.05):
            frame = sample_system(name, n=512, noise=noise, multiplicative=True, seed=0)
            x = frame[list(SYSTEMS[name].names)].to_numpy()
            assert detect_laws([x], [x], np.ones(x.shape[1])).shape[0] == 0, (name, noise)
    for n in (12, 30):  # too few samples to tell noise from a transient: no law is claimed
        frame = sample_system("lotka_volterra", n=n, noise=0.01, seed=0)
        x = frame[list(SYSTEMS["lotka_volterra"].names)].to_numpy()
        assert detect_laws([x], [x], np.ones(2)).shape[0] == 0, n
