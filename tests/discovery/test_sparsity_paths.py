"""Sparsity paths: Gram-matrix STLSQ against pysindy, stepwise paths."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.discovery.selection import effective_sample_size, windowed_sample_size
from pipeline.systems import sample_system


def test_gram_stlsq_matches_pysindy_stlsq() -> None:
    from pipeline.discovery.sindy import build_library, stlsq_support
    from pipeline.discovery.stlsq import NormalEquations, stlsq_gram

    frame = sample_system("lorenz", n=800, noise=0.01, seed=2)
    x = frame[["x", "y", "z"]].to_numpy()
    library = build_library(("x", "y", "z"), degree=3, include_bias=True)
    theta = library.evaluate(x)
    x_dot = np.gradient(x, frame.t.to_numpy(), axis=0)
    for j in range(3):
        for threshold in (1e-3, 1e-2, 5e-2, 0.2):
            ours = stlsq_gram(NormalEquations.from_data(theta, x_dot[:, j]), threshold)
            np.testing.assert_array_equal(ours, stlsq_support(theta, x_dot[:, j], threshold))


def test_stepwise_paths_propose_every_size_and_contain_a_planted_support() -> None:
    from pipeline.discovery.paths import PathRule, backward_path, forward_path
    from pipeline.discovery.stlsq import NormalEquations

    rng = np.random.default_rng(3)
    theta = rng.standard_normal((400, 8))
    theta[:, 7] = theta[:, 1] + theta[:, 2] + 1e-3 * rng.standard_normal(400)  # a near-exact collinearity
    y = 2.0 * theta[:, 0] - 0.5 * theta[:, 3] + 0.01 * rng.standard_normal(400)
    problem = NormalEquations.from_data(theta, y)
    forward, backward = forward_path(problem), backward_path(problem)
    assert [int(s.sum()) for s in forward] == list(range(1, 9))
    assert [int(s.sum()) for s in backward] == list(range(8, 0, -1))
    planted = np.isin(np.arange(8), [0, 3])
    assert any(np.array_equal(s, planted) for s in forward) and any(np.array_equal(s, planted) for s in backward)
    for kind in ("forward", "backward"):
        assert np.array_equal(PathRule(kind, tuple(range(8)), n_terms=2).apply(problem), planted)


def test_a_support_whose_held_out_error_overflows_scores_as_unboundedly_bad() -> None:
    # found by the fuzz test: values near 1e154 overflow the held-out squared errors' spread, whose standard error
    # was then inf or NaN with a numpy warning ("invalid value encountered in subtract"); a NaN compares false with
    # every error and leaves the one-standard-error rules nothing to choose
    import warnings

    from pipeline.discovery.selection import FoldedProblem

    n = 40
    theta = np.column_stack([np.ones(n), np.linspace(1.0, 2.0, n)])
    y = np.linspace(0.0, 1.0, n) ** 2
    folds = np.repeat(np.arange(4), n // 4)
    tame = FoldedProblem(theta, y, folds).score(np.array([True, True]))
    assert np.isfinite(tame.cv_mse) and np.isfinite(tame.cv_se)
    problem = FoldedProblem(theta, y, folds)
    problem.squares = problem.squares * 1e306  # held-out errors near the largest float: their spread overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = problem.score(np.array([True, True]))
    assert score.cv_se == np.inf and score.cv_mse > 1e300
    problem.squares[0] = np.nan
    assert problem.score(np.array([True, True])).cv_mse == np.inf


def test_the_windowed_sample_size_counts_a_smoother_window_as_one_sample_where_ar1_counts_almost_none() -> None:
    rng = np.random.default_rng(0)
    folds = np.repeat(np.arange(5), 400)
    white = rng.standard_normal(2000)
    assert windowed_sample_size(white, folds) == pytest.approx(2000, rel=0.25)
    window = np.exp(-0.5 * (np.arange(-60, 61) / 10.0) ** 2)  # a Gaussian of sd 10 samples: τ ≈ 35
    smooth = np.concatenate([np.convolve(block, window, mode="same") for block in np.split(white, 5)])
    windowed = windowed_sample_size(smooth, folds)
    assert 2000 / 80 < windowed < 2000 / 10
    assert effective_sample_size(smooth, folds) < windowed / 5
