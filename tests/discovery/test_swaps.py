"""Swap neighbours: a wrong term nearly collinear with the right one on the record is exchanged for it."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.generalisation import noisy_record
from pipeline.discovery import discover
from pipeline.discovery.judging import SWAP_PREFIX
from pipeline.discovery.swaps import stand_ins
from pipeline.systems_published import PUBLISHED


def _columns() -> np.ndarray:
    """Library columns [1, x, z, x z, 3] on a record where z stays near 5: x z is nearly 5 x."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    z = 5.0 + 0.05 * rng.normal(size=300)
    return np.column_stack([np.ones_like(x), x, z, x * z, np.full_like(x, 3.0)])


def test_the_stand_in_for_a_term_is_the_column_most_like_it_beyond_the_other_terms() -> None:
    theta = _columns()
    support = np.array([True, True, False, False, False])
    # the constant column 3 is all explained by the support's other term, 1: it never stands in
    assert stand_ins(theta, support, 1, count=1) == [3]
    assert 4 not in stand_ins(theta, support, 1, count=3)


def test_stand_ins_are_taken_only_from_the_allowed_columns() -> None:
    theta = _columns()
    support = np.array([True, True, False, False, False])
    allowed = np.array([True, True, True, False, True])
    assert stand_ins(theta, support, 1, allowed, count=1) == [2]


def test_a_wrong_term_collinear_with_the_right_one_is_swapped_for_it() -> None:
    """Rössler's fixed-point regime (ODEBench 57) at 1 % noise: z' = 1 - 28.5 z + 5 x z. The record holds z near a
    constant, so the rules' choice puts x for x z (R² 0.999 on the record); exchanging it fits the record several
    times closer, and gives the law."""
    system = PUBLISHED["odebench_57_rossler_fixed_point"].system
    t, x = noisy_record(system, 0.01, 0)
    result = discover(t, x, feature_names=system.names)
    assert result.chosen["model_choice"].startswith(SWAP_PREFIX)
    assert set(result.terms()["z"]) == {"1", "z", "x z"}
    assert result.terms()["z"]["x z"] == pytest.approx(5.0, rel=0.05)
