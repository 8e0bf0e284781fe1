"""Known dynamical systems with known equations, and deterministic noisy samples of them.

Used to generate the bundled example data, the tests' ground truth and the
benchmarks' suites. A polynomial system is defined by its terms alone
(``{state: {term: coefficient}}`` in the polynomial library's names, e.g. ``"x y"``,
``"x^2"``, ``"1"``); its right-hand side is built from them, so the truth used to
simulate and the truth used to score are one object. Non-polynomial systems give an
explicit right-hand side and no scoring terms.

Sources: standard textbook forms (Strogatz, *Nonlinear Dynamics and Chaos*; Murray,
*Mathematical Biology*; Sprott, *Chaos and Time-Series Analysis*) with commonly used
parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp

__all__ = ["SYSTEMS", "KnownSystem", "sample_system", "simulate_truth"]

Rhs = Callable[[float, np.ndarray], np.ndarray]
_FACTOR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(\^(?P<power>\d+))?$")


def _monomial(term: str, names: tuple[str, ...]) -> np.ndarray:
    """Exponent vector (d,) of a term name such as ``"x^2 y"`` over the states ``names``."""
    powers = np.zeros(len(names), dtype=int)
    if term == "1":
        return powers
    for factor in term.split():
        match = _FACTOR.match(factor)
        if not match or match["name"] not in names:
            raise ValueError(f"term '{term}': cannot read factor '{factor}' over states {names}")
        powers[names.index(match["name"])] += int(match["power"] or 1)
    return powers


def polynomial_rhs(names: tuple[str, ...], terms: dict[str, dict[str, float]]) -> Rhs:
    """The right-hand side f(t, x) of a polynomial system given by its terms."""
    rows = []
    for name in names:
        items = list(terms.get(name, {}).items())
        powers = np.array([_monomial(term, names) for term, _ in items]).reshape(len(items), len(names))
        coefficients = np.array([c for _, c in items], dtype=float)
        rows.append((powers, coefficients))

    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        return np.array([float(np.sum(c * np.prod(x[None, :] ** p, axis=1))) for p, c in rows])

    return rhs


@dataclass(frozen=True)
class KnownSystem:
    """An autonomous ODE dx/dt = f(x).

    Attributes:
        name: identifier.
        names: state names, (d,).
        x0: default initial state, (d,).
        t_end: default end time of a sampled trajectory.
        terms: the true right-hand side as ``{state: {term: coefficient}}`` (polynomial systems).
        rhs: f(t, x) for non-polynomial systems; built from ``terms`` when None.
        x0_alt: a second initial state, to test a model away from the data it was fitted on.
    """

    name: str
    names: tuple[str, ...]
    x0: tuple[float, ...]
    t_end: float = 10.0
    terms: dict[str, dict[str, float]] = field(default_factory=dict)
    rhs: Rhs | None = None
    x0_alt: tuple[float, ...] | None = None

    @property
    def polynomial(self) -> bool:
        """True when the system is given by polynomial terms (its structure can be scored)."""
        return self.rhs is None

    def f(self) -> Rhs:
        """The right-hand side for scipy's ``solve_ivp``."""
        return self.rhs if self.rhs is not None else polynomial_rhs(self.names, self.terms)


def _pendulum(_t: float, x: np.ndarray) -> np.ndarray:
    theta, omega = x
    return np.array([omega, -0.2 * omega - np.sin(theta)])


def _michaelis_menten_uptake(_t: float, x: np.ndarray) -> np.ndarray:
    (s,) = x
    return np.array([-1.5 * s / (0.5 + s)])


_CATALOGUE = [
    KnownSystem("exp_decay", ("u",), (1.0,), 5.0, {"u": {"u": -1.0}}, x0_alt=(2.5,)),
    KnownSystem("logistic", ("x",), (0.1,), 10.0, {"x": {"x": 1.0, "x^2": -1.0}}, x0_alt=(1.6,)),
    KnownSystem("pitchfork", ("x",), (0.1,), 10.0, {"x": {"x": 1.0, "x^3": -1.0}}, x0_alt=(1.8,)),
    KnownSystem("allee", ("x",), (0.5,), 10.0, {"x": {"x": -0.2, "x^2": 1.2, "x^3": -1.0}}, x0_alt=(0.9,)),
    KnownSystem(
        "lotka_volterra",
        ("hare", "lynx"),
        (30.0, 4.0),
        40.0,
        {"hare": {"hare": 0.55, "hare lynx": -0.028}, "lynx": {"lynx": -0.84, "hare lynx": 0.026}},
        x0_alt=(20.0, 10.0),
    ),
    KnownSystem(
        "predator_prey_logistic",
        ("x", "y"),
        (2.0, 1.0),
        10.0,
        {"x": {"x": 1.0, "x^2": -0.2, "x y": -1.0}, "y": {"y": -1.0, "x y": 0.5}},
        x0_alt=(3.0, 0.5),
    ),
    KnownSystem(
        "competition",
        ("x", "y"),
        (0.2, 0.3),
        10.0,
        {"x": {"x": 1.0, "x^2": -1.0, "x y": -0.5}, "y": {"y": 0.8, "x y": -0.6, "y^2": -1.0}},
        x0_alt=(0.8, 0.1),
    ),
    KnownSystem(
        "damped_oscillator",
        ("x", "y"),
        (2.0, 0.0),
        10.0,
        {"x": {"y": 1.0}, "y": {"x": -1.0, "y": -0.2}},
        x0_alt=(0.0, 1.5),
    ),
    KnownSystem(
        "linear_spiral",
        ("x", "y"),
        (2.0, 0.0),
        10.0,
        {"x": {"x": -0.1, "y": 2.0}, "y": {"x": -2.0, "y": -0.1}},
        x0_alt=(-1.0, 1.0),
    ),
    KnownSystem(
        "linear_3d",
        ("x", "y", "z"),
        (2.0, 0.0, 1.0),
        10.0,
        {"x": {"x": -0.1, "y": 2.0}, "y": {"x": -2.0, "y": -0.1}, "z": {"z": -0.3}},
        x0_alt=(0.0, 1.0, 2.0),
    ),
    KnownSystem(
        "van_der_pol",
        ("x", "y"),
        (2.0, 0.0),
        10.0,
        {"x": {"y": 1.0}, "y": {"x": -1.0, "y": 1.0, "x^2 y": -1.0}},
        x0_alt=(0.5, 1.0),
    ),
    KnownSystem(
        "duffing_double_well",
        ("x", "y"),
        (0.5, 0.0),
        10.0,
        {"x": {"y": 1.0}, "y": {"x": 1.0, "y": -0.3, "x^3": -1.0}},
        x0_alt=(-1.5, 0.5),
    ),
    KnownSystem(
        "cubic_oscillator",
        ("x", "y"),
        (2.0, 0.0),
        10.0,
        {"x": {"x^3": -0.1, "y^3": 2.0}, "y": {"x^3": -2.0, "y^3": -0.1}},
        x0_alt=(1.0, 1.0),
    ),
    KnownSystem(
        "hopf",
        ("x", "y"),
        (0.1, 0.0),
        10.0,
        {"x": {"x": 1.0, "y": -1.0, "x^3": -1.0, "x y^2": -1.0}, "y": {"x": 1.0, "y": 1.0, "x^2 y": -1.0, "y^3": -1.0}},
        x0_alt=(1.5, 1.0),
    ),
    KnownSystem(
        "brusselator",
        ("x", "y"),
        (1.0, 1.0),
        10.0,
        {"x": {"1": 1.0, "x": -4.0, "x^2 y": 1.0}, "y": {"x": 3.0, "x^2 y": -1.0}},
        x0_alt=(2.0, 2.0),
    ),
    KnownSystem(
        "selkov_glycolysis",
        ("x", "y"),
        (0.5, 0.5),
        10.0,
        {"x": {"x": -1.0, "y": 0.08, "x^2 y": 1.0}, "y": {"1": 0.6, "y": -0.08, "x^2 y": -1.0}},
        x0_alt=(1.0, 1.0),
    ),
    KnownSystem(
        "fitzhugh_nagumo",
        ("v", "w"),
        (-1.0, 1.0),
        10.0,
        {"v": {"1": 0.5, "v": 1.0, "v^3": -1.0 / 3.0, "w": -1.0}, "w": {"1": 0.056, "v": 0.08, "w": -0.064}},
        x0_alt=(1.5, -0.5),
    ),
    KnownSystem(
        "sir",
        ("S", "I", "R"),
        (0.99, 0.01, 0.0),
        10.0,
        {"S": {"S I": -2.0}, "I": {"S I": 2.0, "I": -0.5}, "R": {"I": 0.5}},
        x0_alt=(0.9, 0.1, 0.0),
    ),
    KnownSystem(
        "sis",
        ("S", "I"),
        (0.95, 0.05),
        10.0,
        {"S": {"S I": -1.5, "I": 0.5}, "I": {"S I": 1.5, "I": -0.5}},
        x0_alt=(0.7, 0.3),
    ),
    KnownSystem(
        "seir",
        ("S", "E", "I", "R"),
        (0.99, 0.0, 0.01, 0.0),
        10.0,
        {"S": {"S I": -3.0}, "E": {"S I": 3.0, "E": -1.0}, "I": {"E": 1.0, "I": -0.5}, "R": {"I": 0.5}},
        x0_alt=(0.9, 0.05, 0.05, 0.0),
    ),
    KnownSystem(
        "lorenz",
        ("x", "y", "z"),
        (-8.0, 8.0, 27.0),
        10.0,
        {
            "x": {"x": -10.0, "y": 10.0},
            "y": {"x": 28.0, "y": -1.0, "x z": -1.0},
            "z": {"z": -8.0 / 3.0, "x y": 1.0},
        },
        x0_alt=(5.0, -5.0, 20.0),
    ),
    KnownSystem(
        "rossler",
        ("x", "y", "z"),
        (1.0, 1.0, 0.0),
        10.0,
        {"x": {"y": -1.0, "z": -1.0}, "y": {"x": 1.0, "y": 0.2}, "z": {"1": 0.2, "z": -5.7, "x z": 1.0}},
        x0_alt=(-2.0, 0.0, 0.5),
    ),
    KnownSystem(
        "chen",
        ("x", "y", "z"),
        (-3.0, 2.0, 20.0),
        5.0,
        {"x": {"x": -35.0, "y": 35.0}, "y": {"x": -7.0, "y": 28.0, "x z": -1.0}, "z": {"z": -3.0, "x y": 1.0}},
        x0_alt=(3.0, -2.0, 15.0),
    ),
    KnownSystem(
        "sprott_a",
        ("x", "y", "z"),
        (0.0, 5.0, 0.0),
        10.0,
        {"x": {"y": 1.0}, "y": {"x": -1.0, "y z": 1.0}, "z": {"1": 1.0, "y^2": -1.0}},
        x0_alt=(1.0, 3.0, 0.0),
    ),
    KnownSystem(
        "rikitake",
        ("x", "y", "z"),
        (1.0, 0.5, 2.0),
        10.0,
        {"x": {"x": -1.0, "y z": 1.0}, "y": {"y": -1.0, "x z": 1.0, "x": -5.0}, "z": {"1": 1.0, "x y": -1.0}},
        x0_alt=(0.5, 1.0, 1.0),
    ),
    KnownSystem(
        "food_chain",
        ("x", "y", "z"),
        (1.5, 0.5, 0.5),
        10.0,
        {"x": {"x": 1.0, "x y": -1.0}, "y": {"y": -1.0, "x y": 1.0, "y z": -1.0}, "z": {"z": -1.0, "y z": 1.0}},
        x0_alt=(1.0, 1.0, 1.0),
    ),
    KnownSystem(
        "enzyme_mass_action",
        ("S", "C", "P"),
        (1.0, 0.0, 0.0),
        10.0,
        {"S": {"S": -1.0, "S C": 1.0, "C": 0.5}, "C": {"S": 1.0, "S C": -1.0, "C": -0.8}, "P": {"C": 0.3}},
        x0_alt=(2.0, 0.1, 0.0),
    ),
    KnownSystem(
        "coupled_decay",
        ("a", "b", "c"),
        (1.0, 0.0, 0.0),
        10.0,
        {"a": {"a": -0.8}, "b": {"a": 0.8, "b": -0.3}, "c": {"b": 0.3}},
        x0_alt=(0.5, 0.5, 0.0),
    ),
    KnownSystem(
        "bimolecular",
        ("A", "B"),
        (1.0, 0.6),
        10.0,
        {"A": {"A B": -1.0}, "B": {"A B": -1.0}},
        x0_alt=(2.0, 1.0),
    ),
    KnownSystem(
        "quadratic_growth",
        ("x", "y"),
        (0.5, 0.2),
        10.0,
        {"x": {"x": 0.5, "x^2": -0.25}, "y": {"x": 0.2, "y": -0.4}},
        x0_alt=(1.5, 1.0),
    ),
    KnownSystem(
        "lotka_volterra_3",
        ("x", "y", "z"),
        (0.5, 0.3, 0.2),
        10.0,
        {
            "x": {"x": 1.0, "x^2": -1.0, "x y": -0.5, "x z": -0.3},
            "y": {"y": 0.8, "x y": -0.4, "y^2": -1.0},
            "z": {"z": 0.6, "y z": -0.2, "z^2": -1.0},
        },
        x0_alt=(0.2, 0.6, 0.4),
    ),
    KnownSystem(
        "harmonic",
        ("x", "y"),
        (1.0, 0.0),
        10.0,
        {"x": {"y": 1.5}, "y": {"x": -1.5}},
        x0_alt=(0.0, 2.0),
    ),
    KnownSystem("pendulum", ("theta", "omega"), (1.0, 0.0), 10.0, rhs=_pendulum, x0_alt=(2.0, 0.5)),
    KnownSystem("michaelis_menten", ("s",), (3.0,), 10.0, rhs=_michaelis_menten_uptake, x0_alt=(6.0,)),
]
SYSTEMS: dict[str, KnownSystem] = {s.name: s for s in _CATALOGUE}


def simulate_truth(system: KnownSystem, t: np.ndarray, x0: tuple[float, ...] | np.ndarray | None = None) -> np.ndarray:
    """The system integrated with tight tolerances at times ``t`` (m,) → (m, d)."""
    solution = solve_ivp(
        system.f(),
        (t[0], t[-1]),
        np.asarray(x0 if x0 is not None else system.x0, dtype=float),
        t_eval=t,
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
    )
    if solution.status != 0 or solution.y.shape[1] != t.shape[0]:
        raise RuntimeError(f"{system.name}: integration failed ({solution.message})")
    return solution.y.T


def sample_system(
    system: KnownSystem | str,
    *,
    n: int,
    noise: float = 0.0,
    seed: int = 0,
    x0: tuple[float, ...] | None = None,
    t_end: float | None = None,
    absolute_noise: bool = False,
    multiplicative: bool = False,
) -> pd.DataFrame:
    """Integrate a known system with tight tolerances and add Gaussian noise.

    Args:
        system: a :class:`KnownSystem` or its name in :data:`SYSTEMS`.
        n: number of uniformly spaced samples on [0, t_end].
        noise: noise level: an absolute sd if ``absolute_noise``; a relative factor
            x·(1 + noise·N(0,1)) if ``multiplicative``; else a fraction of each state's std.
        seed: seed of the noise generator (the data are a pure function of the arguments).
        x0: initial state; the system's default when None.
        t_end: end time; the system's default when None.
        absolute_noise: read ``noise`` as an absolute sd.
        multiplicative: apply ``noise`` multiplicatively.

    Returns:
        A frame with column ``t`` and one column per state.
    """
    sys_ = SYSTEMS[system] if isinstance(system, str) else system
    t = np.linspace(0.0, t_end if t_end is not None else sys_.t_end, n)
    x = simulate_truth(sys_, t, x0)
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal(x.shape)
    if multiplicative:
        x_noisy = x * (1.0 + noise * draws)
    else:
        scale = noise if absolute_noise else noise * x.std(axis=0)
        x_noisy = x + draws * scale
    return pd.DataFrame({"t": t, **{name: x_noisy[:, j] for j, name in enumerate(sys_.names)}})
