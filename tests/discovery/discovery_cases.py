"""Shared cases for the discovery tests: configs, known systems, structure checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.data import load_timeseries
from pipeline.discovery import DiscoveryResult, discover

ROOT = Path(__file__).resolve().parents[2]


def discover_config(name: str) -> DiscoveryResult:
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    series = load_timeseries(
        config.data.path, time_column=config.data.time_column, state_columns=config.data.state_columns
    )
    return discover(series.t_list(), series.x_list(), config=config.discovery, feature_names=series.names)


def assert_structure_and_coefficients(
    result: DiscoveryResult, truth: dict[str, dict[str, float]], rtol: float
) -> None:
    found = result.terms()
    for state, terms in truth.items():
        assert set(found[state]) == set(terms), f"{state}: found {found[state]}, expected {terms}"
        for term, value in terms.items():
            assert found[state][term] == pytest.approx(value, rel=rtol), f"{state}: {term}"


def trajectories(rhs, starts: tuple[float, ...], noise: float = 0.005) -> tuple[list, list]:
    from scipy.integrate import solve_ivp

    t = np.linspace(0, 8, 300)
    rng = np.random.default_rng(0)
    xs = [
        solve_ivp(rhs, (0, 8), [x0], t_eval=t, rtol=1e-10, atol=1e-12).y.T * (1 + noise * rng.standard_normal((300, 1)))
        for x0 in starts
    ]
    return [t] * len(starts), xs
