"""The weak form: rows equal the derivative form on exact data; windows widen with noise."""

from __future__ import annotations

import numpy as np

from pipeline.systems import SYSTEMS, sample_system


def test_weak_form_rows_match_the_derivative_form_on_a_known_system() -> None:
    # For exact data, −∫φ'x dt and ∫φ Θ(x) dt ξ_true agree row by row (integration by parts).
    from pipeline.discovery.sindy import build_library
    from pipeline.discovery.weak import weak_system

    system = SYSTEMS["lotka_volterra"]
    frame = sample_system(system, n=2000, noise=0.0)
    t, x = frame.t.to_numpy(), frame[list(system.names)].to_numpy()
    library = build_library(system.names, degree=2, include_bias=True)
    weak = weak_system([t], [x], library.evaluate(x), n_folds=5)
    assert weak is not None and weak.design.shape[0] >= 10
    truth = np.zeros((2, library.size))
    for i, state in enumerate(system.names):
        for term, value in system.terms[state].items():
            truth[i, library.feature_names().index(term)] = value
    np.testing.assert_allclose(weak.design @ truth.T, weak.target, atol=5e-4 * np.abs(weak.target).max())


def test_weak_form_windows_widen_with_noise() -> None:
    from pipeline.discovery.weak import corner_frequency

    system = SYSTEMS["van_der_pol"]
    corners = []
    for noise in (0.0, 0.01, 0.1):
        frame = sample_system(system, n=1024, noise=noise, seed=1)
        corners.append(corner_frequency(frame.t.to_numpy(), frame[list(system.names)].to_numpy()))
    assert corners[0] > corners[1] > corners[2] > 0
