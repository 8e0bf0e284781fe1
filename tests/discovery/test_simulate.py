"""The simulator's compiled right-hand side and divergence guard agree with the reference evaluators."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.discovery.compiled_rhs import compile_model
from pipeline.discovery.library import FAMILIES, Library
from pipeline.discovery.simulate import EvaluationCount, interpolated_control, simulate_model
from pipeline.errors import SimulationError

POWERS = np.array([[0, 0], [1, 0], [0, 1], [2, 1], [0, 3], [1, 1]])


@pytest.mark.parametrize(
    "functions, scale, rates, centers",
    [
        ((), None, (), ()),
        ((("sin", 0), ("exp", 1, 0), ("saturation", 1), ("cos3", 1)), np.array([2.0, 0.5]), (), ()),
        # families interleaved, plain and combined terms of one family mixed: the evaluator reorders them by family
        ((("exp", 0), ("sin", 1, 0), ("exp", 1, 1), ("sin", 0), ("cos", 1), ("exp", 1)), np.array([0.7, 3.0]), (), ()),
        # inner rates f(r x_j), one per term, reordered with their terms
        ((("saturation", 0), ("exp", 1), ("saturation", 1, 0), ("exp", 0)), np.array([0.7, 3.0]), (4, -0.5, 0.2, 1),
         ()),
        # centers f(r (x_j - c)), reordered with their terms
        ((("sigmoid", 1), ("hill", 0), ("sigmoid", 0, 1)), np.array([0.7, 3.0]), (4, 0.5, 2), (0.3, 0.0, -1.0)),
    ],
)
def test_the_compiled_model_equals_the_library_evaluator_on_a_batch_and_one_state(
    functions, scale, rates, centers
) -> None:
    library = Library(("x", "y"), POWERS, functions, scale, rates, centers)
    rng = np.random.default_rng(0)
    states = rng.uniform(-1.5, 1.5, size=(12, 2))
    coefficients = rng.normal(size=(2, library.size)) * (rng.uniform(size=(2, library.size)) < 0.6)
    compiled = compile_model(coefficients, library)
    np.testing.assert_allclose(compiled(states), library.evaluate(states) @ coefficients.T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(compiled(states[:1]), library.evaluate(states[:1]) @ coefficients.T, rtol=1e-12)


def test_every_library_family_compiles_to_numpys_values_also_at_poles_and_outside_its_domain() -> None:
    """sin(k x) harmonics, 1/0 = inf, log 0 = -inf, log of a negative = nan: the kernel must not raise, and must
    give what the library's numpy functions give (the solver's guard then sees the non-finite state)."""
    functions = tuple((family, 0) for family in FAMILIES)
    library = Library(("x",), np.zeros((0, 1)), functions, None, tuple(np.linspace(0.5, 2.0, len(functions))))
    states = np.array([[0.7], [-1.3], [2.9], [0.0]])
    with np.errstate(all="ignore"):
        expected = library.evaluate(states)
    for k in range(len(functions)):
        coefficients = np.zeros((1, len(functions)))
        coefficients[0, k] = 1.0
        got = compile_model(coefficients, library)(states)[:, 0]
        np.testing.assert_allclose(got, expected[:, k], rtol=1e-13, err_msg=functions[k][0])


def test_a_batch_of_starts_integrates_like_each_start_alone() -> None:
    library = Library(("x", "y"), POWERS, (), None)
    coefficients = np.zeros((2, POWERS.shape[0]))
    coefficients[0, 2], coefficients[1, 1], coefficients[1, 5] = 1.0, -1.0, -0.1  # x' = y, y' = -x - 0.1 x y
    starts = np.array([[1.0, 0.0], [0.5, 0.5], [-0.2, 0.3]])
    t = np.linspace(0.0, 3.0, 31)
    batch = simulate_model(coefficients, library, starts, t)
    for k, start in enumerate(starts):
        np.testing.assert_allclose(batch[:, k], simulate_model(coefficients, library, start, t), atol=1e-5)


def test_a_batch_of_starts_under_inputs_integrates_like_each_start_alone() -> None:
    """x' = -x + u: one input for every start (m,), or one row per start (B, m)."""
    library = Library(("x", "u"), np.array([[1, 0], [0, 1]]), (), None)  # x, u
    coefficients = np.array([[-1.0, 1.0]])
    starts = np.array([[0.0], [2.0], [-1.0]])
    t = np.linspace(0.0, 3.0, 31)

    def shared(now: float) -> np.ndarray:
        return np.array([np.sin(now)])

    def per_start(now: float) -> np.ndarray:
        return np.array([[np.sin(now)], [1.0], [now]])

    batch = simulate_model(coefficients, library, starts, t, control=shared)
    rows = simulate_model(coefficients, library, starts, t, control=per_start)
    for k, start in enumerate(starts):
        np.testing.assert_allclose(batch[:, k], simulate_model(coefficients, library, start, t, control=shared),
                                   atol=1e-5)  # fmt: skip
        alone = simulate_model(coefficients, library, start, t, control=lambda now, k=k: per_start(now)[k])
        np.testing.assert_allclose(rows[:, k], alone, atol=1e-5)
    assert not np.allclose(rows[:, 0], rows[:, 1])  # the rows did drive different starts differently


def test_the_bound_is_never_stricter_than_every_state_within_it() -> None:
    """Eight starts whose every entry stays at 0.9 of the bound: the cheap norm test must not call that divergence."""
    library = Library(("x", "y"), POWERS, (), None)
    starts = np.full((8, 2), 0.9)
    kept = simulate_model(np.zeros((2, POWERS.shape[0])), library, starts, np.linspace(0.0, 1.0, 5), bound=1.0)
    np.testing.assert_array_equal(kept[-1], starts)
    growth = np.zeros((2, POWERS.shape[0]))
    growth[0, 1] = 1.0  # x' = x: leaves any bound
    with pytest.raises(SimulationError, match="diverged"):
        simulate_model(growth, library, starts, np.linspace(0.0, 10.0, 5), bound=1.0)


def test_a_model_running_into_a_pole_stops_as_stalled_long_before_its_budget() -> None:
    """x' = -1/x from x = 1 reaches its pole at t = 0.5 with x bounded: the solver crawls instead of diverging."""
    library = Library(("x",), np.array([[-1.0]]), ())
    count = EvaluationCount()
    with pytest.raises(SimulationError, match="stalled at t = 0.5"):
        simulate_model(
            np.array([[-1.0]]), library, np.array([1.0]), np.linspace(0.0, 10.0, 50), max_evaluations=10**5, count=count
        )
    assert count.calls <= 10**5 // 4


def test_a_stiff_batch_that_finishes_within_its_budget_is_not_called_stalled() -> None:
    """x' = -10^4 (x - y), y' = -y from 40 starts: a fast transient, then a slow decay. The solver ramps up from
    tiny steps and estimates 81-column Jacobians, and still needs only about half its budget of 2000."""
    library = Library(("x", "y"), POWERS, (), None)
    coefficients = np.zeros((2, POWERS.shape[0]))
    coefficients[0, 1], coefficients[0, 2], coefficients[1, 2] = -1e4, 1e4, -1.0
    starts = np.random.default_rng(0).uniform(0.5, 2.0, (40, 2))
    count = EvaluationCount()
    t = np.linspace(0.0, 10.0, 101)
    paths = simulate_model(coefficients, library, starts, t, max_evaluations=2000, count=count)
    np.testing.assert_allclose(paths[-1], np.exp(-10.0) * starts[:, [1, 1]], rtol=1e-2)
    assert 0 < count.calls <= 2000


def test_interpolated_inputs_equal_numpys_linear_interpolation_and_hold_at_the_ends() -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.01, 0.5, 40))  # irregular samples
    u = rng.normal(size=(40, 3))
    control = interpolated_control(t, u)
    for when in [t[0] - 1.0, t[0], *rng.uniform(t[0], t[-1], 200), *t[1:-1], t[-1], t[-1] + 5.0]:
        expected = [np.interp(when, t, u[:, k]) for k in range(3)]
        np.testing.assert_allclose(control(when), expected, rtol=1e-12, atol=1e-12)
    first = control(t[0] - 1.0)
    first[0] = 99.0  # the caller may change what it got without changing the inputs
    assert control(t[0] - 1.0)[0] == u[0, 0]
