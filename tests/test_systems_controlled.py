"""The controlled corpus: well-formed entries, terms match right-hand sides, records are finite and physical."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import pipeline.systems_controlled as controlled
from pipeline.systems_controlled import CONTROLLED, TUNING, VALIDATION, ControlledSystem
from pipeline.systems_corpus import corpus_half

SYSTEMS = list(CONTROLLED.values())
IDS = [s.name for s in SYSTEMS]


def _input(system: ControlledSystem, t: float, shaped: bool = True) -> np.ndarray:
    """level + swing sin(2 pi 1.7 t / t_end), or the level alone."""
    level, swing = np.asarray(system.input_level, float), np.asarray(system.input_swing, float)
    return level + swing * np.sin(2 * np.pi * 1.7 * t / system.t_end) if shaped else level


@functools.cache
def _simulate(name: str, start: str, shaped: bool = True) -> tuple[np.ndarray, bool]:
    """The record of ``name`` from ``x0`` or ``x0_alt`` under the sinusoidal (or constant) input: (d, 301), success."""
    system = CONTROLLED[name]
    x0 = system.x0 if start == "x0" else system.x0_alt
    sol = solve_ivp(
        lambda t, x: np.asarray(system.rhs(x, _input(system, t, shaped), system.params), dtype=float),
        (0.0, system.t_end), np.asarray(x0, float), method="LSODA", rtol=1e-8, atol=1e-10,
        t_eval=np.linspace(0.0, system.t_end, 301),
    )
    return sol.y, bool(sol.success) and sol.y.shape[1] == 301


def _powers(term: str, variables: tuple[str, ...]) -> np.ndarray:
    """The exponent of each variable in a plain-text term name (``"1"``, ``"S D"``, ``"X^2"``)."""
    powers = np.zeros(len(variables), dtype=int)
    if term == "1":
        return powers
    for factor in term.split(" "):
        name, _, power = factor.partition("^")
        assert name in variables, f"{term!r}: unknown variable {name!r}"
        assert not power or (power.isdigit() and int(power) > 1), f"{term!r}: bad power"
        powers[variables.index(name)] += int(power) if power else 1
    return powers


def test_corpus_size_polynomial_share_and_names() -> None:
    assert len(SYSTEMS) >= 16
    assert sum(not s.polynomial for s in SYSTEMS) >= 0.4 * len(SYSTEMS)
    assert sum(s.polynomial for s in SYSTEMS) >= 1
    names = [s.name for s in controlled._SYSTEMS]
    assert len(names) == len(set(names)) == len(CONTROLLED)  # no entry shadowed by a duplicate name
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) for name in names)
    assert all(key == s.name for key, s in CONTROLLED.items())


def test_split_is_exactly_the_hash_split() -> None:
    assert len(TUNING) == len(set(TUNING)) and len(VALIDATION) == len(set(VALIDATION))
    assert not set(TUNING) & set(VALIDATION)
    assert set(TUNING) | set(VALIDATION) == set(CONTROLLED)
    assert all(corpus_half(name) == "tuning" == CONTROLLED[name].half for name in TUNING)
    assert all(corpus_half(name) == "validation" == CONTROLLED[name].half for name in VALIDATION)
    assert TUNING and VALIDATION


@pytest.mark.parametrize("system", SYSTEMS, ids=IDS)
def test_entry_is_well_formed(system: ControlledSystem) -> None:
    d, m = len(system.states), len(system.inputs)
    assert d >= 1 and m >= 1
    variables = system.states + system.inputs
    assert len(set(variables)) == d + m
    assert not any(re.fullmatch(r"c\d+", v) for v in variables)  # no clash with the parameter names
    assert len(system.x0) == len(system.x0_alt) == d
    assert system.x0 != system.x0_alt
    assert len(system.input_level) == len(system.input_swing) == m
    assert all(swing > 0 for swing in system.input_swing)
    assert system.t_end > 0
    assert system.description and system.source and system.equation
    indices = {int(i) for i in re.findall(r"\bc(\d+)\b", system.equation)}
    assert indices == set(range(len(system.params))), "equation must use exactly c0 .. c(n - 1), n = len(params)"
    for name in variables:
        assert re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", system.equation), f"{name} not in equation"
    value = np.asarray(system.rhs(np.asarray(system.x0, float), np.asarray(system.input_level, float),
                                  system.params), dtype=float)
    assert value.shape == (d,) and np.all(np.isfinite(value))


@pytest.mark.parametrize("system", [s for s in SYSTEMS if s.polynomial], ids=[s.name for s in SYSTEMS if s.polynomial])
def test_terms_reproduce_rhs(system: ControlledSystem) -> None:
    assert system.terms is not None and set(system.terms) == set(system.states)
    variables = system.states + system.inputs
    rows = {
        state: (np.array([_powers(t, variables) for t in terms]), np.array(list(terms.values()), float))
        for state, terms in system.terms.items()
    }
    x0, x1 = np.asarray(system.x0, float), np.asarray(system.x0_alt, float)
    center, radius = (x0 + x1) / 2, 0.75 * np.abs(x0 - x1) + 0.1 * np.abs(x0 + x1) / 2 + 0.1
    level, swing = np.asarray(system.input_level, float), np.asarray(system.input_swing, float)
    rng = np.random.default_rng(7)
    for _ in range(20):
        x = rng.uniform(center - radius, center + radius)
        u = rng.uniform(level - swing, level + swing)
        point = np.concatenate([x, u])
        truth = np.asarray(system.rhs(x, u, system.params), dtype=float)
        for i, state in enumerate(system.states):
            powers, coefficients = rows[state]
            contributions = coefficients * np.prod(point[None, :] ** powers, axis=1)
            scale = max(abs(truth[i]), float(np.sum(np.abs(contributions))), 1e-300)
            assert abs(float(np.sum(contributions)) - truth[i]) <= 1e-9 * scale, (state, x, u)


@pytest.mark.parametrize("system", SYSTEMS, ids=IDS)
@pytest.mark.parametrize("start", ["x0", "x0_alt"])
def test_record_is_finite_physical_and_not_constant(system: ControlledSystem, start: str) -> None:
    y, success = _simulate(system.name, start)
    assert success
    assert np.all(np.isfinite(y))
    x0 = system.x0 if start == "x0" else system.x0_alt
    for i, value in enumerate(x0):
        if value > 0:
            assert y[i].min() >= -1e-6, f"{system.states[i]} turns negative"
    spread = np.ptp(y, axis=1) / (np.max(np.abs(y), axis=1) + 1e-12)
    assert spread.max() > 1e-2  # some state moves by more than 1 % of its size


@pytest.mark.parametrize("system", SYSTEMS, ids=IDS)
def test_input_changes_the_record(system: ControlledSystem) -> None:
    shaped, ok_shaped = _simulate(system.name, "x0")
    constant, ok_constant = _simulate(system.name, "x0", shaped=False)
    assert ok_shaped and ok_constant
    scale = np.max(np.abs(constant), axis=1) + 1e-12
    assert np.max(np.abs(shaped - constant) / scale[:, None]) > 1e-3
