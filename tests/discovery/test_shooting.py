"""Multiple shooting: blocks of a record sampled on one grid run as one batch, also when the times were rounded."""

from __future__ import annotations

import numpy as np

from pipeline.discovery.library import Library
from pipeline.discovery.shooting import ShootingProblem
from pipeline.discovery.simulate import EvaluationCount


def _problem(t: np.ndarray) -> ShootingProblem:
    x = np.column_stack([np.exp(-0.3 * t)])
    library = Library(("x",), np.array([[0], [1]]), (), None)
    return ShootingProblem(library, [t], [x], [x], None, n_blocks=5)


def test_times_read_back_from_a_file_still_share_one_grid() -> None:
    """512 times on [0, 10] written with 8 significant digits differ from a uniform grid by up to 5e-8: still one
    grid (blocks simulated together), and the error equals the per-block error to rounding."""
    exact = np.linspace(0.0, 10.0, 512)
    rounded = np.array([float(f"{v:.8g}") for v in exact])
    assert _problem(exact).shared_grid() is not None
    assert _problem(rounded).shared_grid() is not None
    truth = np.array([[0.0, -0.3]])
    assert _problem(rounded).error(truth) < 1e-10


def test_irregular_times_do_not_share_a_grid() -> None:
    t = np.sort(np.random.default_rng(0).uniform(0.0, 10.0, 512))
    assert _problem(t).shared_grid() is None


def test_judging_loosens_the_solver_only_as_far_as_the_noise_allows() -> None:
    """A hundredth of the noise's relative size, between refinement's 1e-6 and 1e-4: a noise-free record is judged
    as tightly as it is refined; at 1 % noise the model errors a looser solver adds stay 1e-4 of the noise floor."""
    t = np.linspace(0.0, 10.0, 512)
    problem = _problem(t)
    spread = problem.spread()
    assert problem.for_judging(np.zeros(1)).tolerance == problem.tolerance == 1e-6
    assert problem.for_judging(0.01 * spread).tolerance == 1e-4
    assert problem.for_judging(0.001 * spread).tolerance == 1e-5
    truth, wrong = np.array([[0.0, -0.3]]), np.array([[0.0, -0.303]])  # a 1 % rate error against 1 % noise
    loose = problem.for_judging(0.01 * spread)
    floor = problem.noise_floor(0.01 * spread)
    assert abs(loose.error(truth) - problem.error(truth)) < 1e-4 * floor
    assert loose.error(wrong) - loose.error(truth) > 100 * abs(loose.error(truth) - problem.error(truth))


def test_relative_noise_weighs_each_residual_alike_in_a_batch_and_block_by_block() -> None:
    """Residuals divided by spread x relative noise: the batched error (one grid) equals the mean of the blocks'
    own errors to the solver's tolerance, and doubling every sample's relative noise quarters the error."""
    t = np.linspace(0.0, 10.0, 200)
    x = np.exp(-0.3 * t)[:, None] * (1.0 + 0.05 * np.random.default_rng(0).standard_normal((200, 1)))
    library = Library(("x",), np.array([[0], [1]]), (), None)
    scale = [np.linspace(0.5, 1.5, 200)[:, None]]
    problem = ShootingProblem(library, [t], [x], [x], None, n_blocks=5, noise_scale=scale)
    length = problem.shared_grid()[1]  # the batch cuts every block to the shortest block's samples
    model = np.array([[0.0, -0.29]])
    blocks = [
        ((problem.simulate_block(model, b) - problem.observed(b)) / problem.scale(b))[:length] for b in problem.plan()
    ]
    assert np.isclose(problem.error(model), np.mean(np.square(blocks)), rtol=1e-4)
    doubled = ShootingProblem(library, [t], [x], [x], None, n_blocks=5, noise_scale=[2.0 * scale[0]])
    assert np.isclose(doubled.error(model), problem.error(model) / 4.0, rtol=1e-9)


def test_blocks_within_a_span_only_ever_add_blocks() -> None:
    """Blocks at most 0.55 time units long on a 10-unit record: 19 of them, each within the span; a span longer
    than the record's blocks already are leaves the 5 blocks as they were."""
    t = np.linspace(0.0, 10.0, 512)
    short = _problem(t).with_blocks_within(0.55)
    assert len(short.plan()) == 19
    assert max(float(t[b.last] - t[b.first]) for b in short.plan()) <= 0.55
    assert len(_problem(t).with_blocks_within(3.0).plan()) == 5


def test_an_error_counts_its_solver_evaluations_when_asked() -> None:
    """Pruning bounds its cost by solver evaluations, the scoring of each trial included: a stiff trial's error
    simulation can cost more than its refit."""
    t = np.linspace(0.0, 10.0, 512)
    count = EvaluationCount()
    error = _problem(t).error(np.array([[0.0, -0.3]]), count)
    assert error < 1e-10 and count.calls > 0
    irregular = np.sort(np.random.default_rng(0).uniform(0.0, 10.0, 512))  # blocks simulated one by one
    one_by_one = EvaluationCount()
    _problem(irregular).error(np.array([[0.0, -0.3]]), one_by_one)
    assert one_by_one.calls > 0
