"""The ambiguous-structure caution: a rival with other terms that follows the record as closely but parts from the
reported model away from it (pipeline/discovery/ambiguity.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pipeline.discovery import discover
from pipeline.discovery.ambiguity import _agreement, _parting_start

AMBIGUOUS = "ambiguous structure"


def _coupled_decay(x0: tuple[float, float], noise: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """x' = -2x + y, y' = x - 2y from ``x0`` over [0, 5] (200 samples), 0.5 % multiplicative noise: slow mode
    (1, 1) decays as e^-t, fast mode (1, -1) as e^-3t."""
    t = np.linspace(0.0, 5.0, 200)
    solution = solve_ivp(
        lambda _, z: [-2 * z[0] + z[1], z[0] - 2 * z[1]], (0.0, 5.0), x0, t_eval=t, rtol=1e-10, atol=1e-12
    )
    x = solution.y.T * (1.0 + noise * np.random.default_rng(0).standard_normal(solution.y.T.shape))
    return t, x


def _discovered(x0: tuple[float, float]) -> tuple[list[str], list[dict[str, object]]]:
    """The cautions and judged-model rows of the default discovery on the record from ``x0``."""
    t, x = _coupled_decay(x0)
    result = discover(t, x, feature_names=["x", "y"])
    return [str(caution) for caution in result.chosen.get("cautions", [])], result.judged


def test_a_record_along_one_mode_is_ambiguous() -> None:
    # started on the slow mode, x = y all along: x' = -x and x' = -y (and the law, -2x + y) fit alike, and from
    # states off the diagonal they part
    cautions, judged = _discovered((1.0, 1.0))
    ambiguous = [c for c in cautions if c.startswith(AMBIGUOUS)]
    assert len(ambiguous) == 1
    assert "instead of" in ambiguous[0] and "another initial state" in ambiguous[0]
    rivals = [row for row in judged if row["rival"]]
    assert len(rivals) == 1 and not rivals[0]["chosen"]
    # it names the state, in the data's units, from which the two part most: off the diagonal x = y the record ran
    # along (x' = -x and x' = -y agree on it), inside the box around the data (0 to 1 in each state, widened by a
    # quarter on each side)
    start = re.search(r"they part most from x = (\S+), y = (\S+)\)$", ambiguous[0])
    assert start, ambiguous[0]
    x, y = (float(value) for value in start.groups())
    assert min(x, y) >= -0.25 and max(x, y) <= 1.25 + 1e-9
    assert abs(x - y) > 0.25


def test_the_parting_start_is_where_the_paths_differ_most_in_units_of_each_states_spread() -> None:
    rng = np.random.default_rng(1)
    reference = rng.standard_normal((20, 4, 2)) * np.array([1.0, 100.0])  # (times, starts, states)
    other = reference.copy()
    other[:, 1, 1] += 5.0  # a large shift of the wide state from start 1: small in its units
    other[:, 2, 0] += 0.5  # a smaller shift of the narrow state from start 2: large in its units
    assert _parting_start(reference, other) == 2


def test_a_record_that_excites_both_modes_is_not() -> None:
    cautions, judged = _discovered((1.0, 0.0))
    assert not [c for c in cautions if c.startswith(AMBIGUOUS)]
    assert not [row for row in judged if row["rival"]]


def test_agreement_is_the_worst_state_r2_of_the_paths() -> None:
    reference = np.linspace(0.0, 1.0, 40).reshape(10, 2, 2)  # (times, starts, states)
    assert _agreement(reference, reference) == pytest.approx(1.0)
    shifted = reference.copy()
    shifted[..., 1] += 0.5
    r2_shifted = 1.0 - np.sum(0.5**2 * np.ones((10, 2))) / np.sum((reference[..., 1] - reference[..., 1].mean()) ** 2)
    assert _agreement(reference, shifted) == pytest.approx(r2_shifted)


def test_a_record_no_model_follows_gets_no_rival_that_follows_it_as_closely() -> None:
    """Pure noise: the model is a poor fit (R² below 0.5), so no rival can follow the record 'as closely' in any
    sense worth a caution; the ambiguity caution used to say so beside the poor-fit one."""
    rng = np.random.default_rng(2)  # seeds 0, 2, 4, 5, ... drew the caution
    t = np.linspace(0.0, 10.0, 200)
    result = discover(t, rng.standard_normal((200, 2)), feature_names=["a", "b"])
    cautions = result.chosen.get("cautions", [])
    assert any(c.startswith("poor fit") for c in cautions)
    assert not any(AMBIGUOUS in c for c in cautions) and not any(row["rival"] for row in result.judged)
