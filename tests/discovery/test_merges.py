"""Merge neighbours: a product that a short record lets its first-order expansion stand in for comes back."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.generalisation import noisy_record
from pipeline.discovery import discover
from pipeline.discovery.judging import MERGE_PREFIX
from pipeline.discovery.swaps import ranked_stand_ins
from pipeline.systems_published import PUBLISHED


def test_the_stand_in_for_a_group_is_the_column_most_like_its_sum_beyond_the_other_terms() -> None:
    """Columns [1, x, z, x z, y]: near (x, z) = (1, 5), 0.08 x z is close to its expansion 0.08 (5 x + z - 5)."""
    rng = np.random.default_rng(0)
    x, z, y = 1.0 + 0.05 * rng.normal(size=400), 5.0 + 0.05 * rng.normal(size=400), rng.normal(size=400)
    theta = np.column_stack([np.ones_like(x), x, z, x * z, y])
    target = theta[:, :3] @ np.array([-0.4, 0.4, 0.08])
    (best, correlation), *_ = ranked_stand_ins(theta, np.zeros(5, bool), target, np.array([0, 0, 0, 1, 1], bool), 2)
    assert best == 3 and correlation > 0.9
    assert [c for c, _ in ranked_stand_ins(theta, np.zeros(5, bool), target, np.array([0, 0, 0, 0, 1], bool), 2)] == [4]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_linear_expansion_of_a_product_is_merged_back_into_it(seed: int) -> None:
    """Maxwell-Bloch (ODEBench 52) at 1 % noise: y' = -0.21 y + 0.21 x z and z' = 1.394 - 0.34 z - 1.054 x y. Over
    the record x stays near 1.2, and the rules keep the expansion y' = c + a x - b y + d z (seed 0; at seed 1 the
    same for z'); merging its terms into x z (x y) gives the law."""
    system = PUBLISHED["odebench_52_maxwell_bloch"].system
    t, x = noisy_record(system, 0.01, seed)
    result = discover(t, x, feature_names=system.names)
    assert {state: set(terms) for state, terms in result.terms().items()} == {
        "x": {"x", "y"}, "y": {"y", "x z"}, "z": {"1", "z", "x y"}
    }  # fmt: skip
    assert result.terms()["y"]["x z"] == pytest.approx(0.21, rel=0.05)
    assert any(row["label"].startswith(MERGE_PREFIX) for row in result.judged)
