"""Known dynamical systems with known equations, and deterministic noisy samples of them.

Used to generate the bundled example data, the tests' ground truth and the
benchmarks' suites. Every system states its right-hand side, a default initial
state and its true terms (as ``{state: {term: coefficient}}`` in the polynomial
library's names) so recovered models can be scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp

__all__ = ["SYSTEMS", "KnownSystem", "sample_system"]

Rhs = Callable[[float, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class KnownSystem:
    """An autonomous ODE dx/dt = f(x) with known polynomial terms.

    Attributes:
        name: identifier.
        names: state names, (d,).
        rhs: f(t, x) for scipy's ``solve_ivp``.
        x0: default initial state, (d,).
        t_end: default end time of a sampled trajectory.
        terms: the true right-hand side, ``{state: {term: coefficient}}``.
    """

    name: str
    names: tuple[str, ...]
    rhs: Rhs
    x0: tuple[float, ...]
    t_end: float
    terms: dict[str, dict[str, float]] = field(default_factory=dict)


def _exp_decay(t: float, x: np.ndarray) -> np.ndarray:
    return -1.0 * x


def _lorenz(t: float, x: np.ndarray) -> np.ndarray:
    u, v, w = x
    return np.array([10.0 * (v - u), u * (28.0 - w) - v, u * v - 8.0 / 3.0 * w])


def _lotka_volterra(t: float, x: np.ndarray) -> np.ndarray:
    h, lyn = x
    return np.array([0.55 * h - 0.028 * h * lyn, -0.84 * lyn + 0.026 * h * lyn])


SYSTEMS: dict[str, KnownSystem] = {
    "exp_decay": KnownSystem(
        name="exp_decay", names=("u",), rhs=_exp_decay, x0=(1.0,), t_end=5.0, terms={"u": {"u": -1.0}}
    ),
    "lorenz": KnownSystem(
        name="lorenz",
        names=("x", "y", "z"),
        rhs=_lorenz,
        x0=(-8.0, 8.0, 27.0),
        t_end=10.0,
        terms={
            "x": {"x": -10.0, "y": 10.0},
            "y": {"x": 28.0, "y": -1.0, "x z": -1.0},
            "z": {"z": -8.0 / 3.0, "x y": 1.0},
        },
    ),
    "lotka_volterra": KnownSystem(
        name="lotka_volterra",
        names=("hare", "lynx"),
        rhs=_lotka_volterra,
        x0=(30.0, 4.0),
        t_end=40.0,
        terms={"hare": {"hare": 0.55, "hare lynx": -0.028}, "lynx": {"lynx": -0.84, "hare lynx": 0.026}},
    ),
}


def sample_system(
    system: KnownSystem | str,
    *,
    n: int,
    noise: float = 0.0,
    seed: int = 0,
    x0: tuple[float, ...] | None = None,
    t_end: float | None = None,
    absolute_noise: bool = False,
) -> pd.DataFrame:
    """Integrate a known system with tight tolerances and add Gaussian noise.

    Args:
        system: a :class:`KnownSystem` or its name in :data:`SYSTEMS`.
        n: number of uniformly spaced samples on [0, t_end].
        noise: noise level: an absolute sd if ``absolute_noise``, else a fraction of each state's std.
        seed: seed of the noise generator (the data are a pure function of the arguments).
        x0: initial state; the system's default when None.
        t_end: end time; the system's default when None.
        absolute_noise: read ``noise`` as an absolute sd.

    Returns:
        A frame with column ``t`` and one column per state.
    """
    sys_ = SYSTEMS[system] if isinstance(system, str) else system
    t = np.linspace(0.0, t_end if t_end is not None else sys_.t_end, n)
    solution = solve_ivp(
        sys_.rhs,
        (t[0], t[-1]),
        np.asarray(x0 or sys_.x0, dtype=float),
        t_eval=t,
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
    )
    x = solution.y.T
    rng = np.random.default_rng(seed)
    scale = noise if absolute_noise else noise * x.std(axis=0)
    x_noisy = x + rng.standard_normal(x.shape) * scale
    return pd.DataFrame({"t": t, **{name: x_noisy[:, j] for j, name in enumerate(sys_.names)}})
