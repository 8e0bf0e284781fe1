"""Published ODE systems nobody on this project designed: a corpus to measure how discovery generalises.

The corpus (:data:`PUBLISHED`, 149 systems, 73 non-polynomial, 19 chaotic) is

- :data:`ODEBENCH`, 63 systems transcribed by hand from ODEBench (d'Ascoli, Becker, Mathis,
  Schwaller, Kilbertus, "ODEFormer: Symbolic Regression of Dynamical Systems with Transformers",
  ICLR 2024; ids 1-63), which in turn takes most systems from Strogatz, *Nonlinear Dynamics and
  Chaos* (2nd ed., 2015; page numbers below as ODEBench gives them) and a few from other
  publications (cited per system). Each keeps ODEBench's parameter values, its two published
  initial states and its time span [0, 10]; 26 are non-polynomial, 4 chaotic.
- :data:`pipeline.systems_published_more.MORE`, 46 further systems from textbooks and papers of
  mathematical biology, epidemiology, chemical kinetics, neuroscience, circuits, mechanics and
  economics, and 7 chaotic flows of the ``dysts`` package (26 non-polynomial, 8 chaotic); see
  that module for their provenance.
- :data:`pipeline.systems_published_extra.EXTRA`, 40 further systems from textbooks and papers of
  physiology and cell biology (calcium, mitotic and Goodwin oscillators, beta cells), medicine
  (tumour-immune, HIV, pharmacodynamics), epidemiology, ecology and population genetics, chemical
  kinetics, neurons, mechanics, lasers and economics (Goodwin and Keen models), and 7 further chaotic
  flows of ``dysts`` (21 non-polynomial, 7 chaotic); see that module for their provenance.

Every system has two initial states (the first is the one sampled for fitting, the second is held
out to check generalisation) and its published formula as a numpy right-hand side (``formula``).
Polynomial systems also give their expanded terms (``{state: {term: coefficient}}`` in the
polynomial library's names, states ``x, y, z, w``; ODEBench's ``x_0 .. x_3``), so exact structure
can be scored; their simulated truth is built from those terms (one object for simulating and
scoring) and a test checks the terms against the formula. Non-polynomial systems simulate the
formula. The entry type and its builder live in :mod:`pipeline.systems_corpus`.

The corpus is split once, by a stable hash of the system name (:func:`corpus_half`), into a
tuning half (methods may be tuned on it) and a validation half (reported, never tuned on). The
split is written out in :data:`TUNING` and :data:`VALIDATION`; a test checks it against the hash.
Adding systems never moves an existing one between halves: the systems of ``EXTRA`` were appended to
the halves their names hash to (2026-12-07). Tuning-half counts recorded in docstrings and the README before
then (e.g. 156/135/78 summed over three noise seeds) are of the 52-system tuning half of ODEBench and ``MORE``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.systems_corpus import Formula, Params, PublishedSystem, Terms, corpus_half, published_system
from pipeline.systems_corpus import sigmoid as _sigmoid
from pipeline.systems_published_extra import EXTRA
from pipeline.systems_published_more import MORE

__all__ = ["ODEBENCH", "PUBLISHED", "TUNING", "VALIDATION", "PublishedSystem", "corpus_half"]

STROGATZ = "Strogatz, Nonlinear Dynamics and Chaos (2nd ed.)"


def _system(
    number: int,
    slug: str,
    description: str,
    source: str,
    equation: str,
    params: Params,
    formula: Formula,
    x0: tuple[float, ...],
    x0_alt: tuple[float, ...],
    terms: Callable[[Params], Terms] | None = None,
    chaotic: bool = False,
) -> PublishedSystem:
    """One ODEBench entry named ``odebench_<id>_<slug>``, its source suffixed with the ODEBench id."""
    return published_system(
        f"odebench_{number:02d}_{slug}", description, f"{source}; ODEBench id {number} (d'Ascoli et al. 2024)",
        equation, params, formula, x0, x0_alt, terms, chaotic,
    )


S = STROGATZ
_ONE_D = [
    _system(
        1, "rc_charging", "RC circuit (charging capacitor)", f"{S}, p. 20", "x' = (c0 - x/c1)/c2",
        (0.7, 1.2, 2.31), lambda x, c: [(c[0] - x[0] / c[1]) / c[2]], (10.0,), (3.54,),
        lambda c: {"x": {"1": c[0] / c[2], "x": -1.0 / (c[1] * c[2])}},
    ),
    _system(
        2, "exponential_growth", "Population growth (naive)", f"{S}, p. 22", "x' = c0 x",
        (0.23,), lambda x, c: [c[0] * x[0]], (4.78,), (0.87,), lambda c: {"x": {"x": c[0]}},
    ),
    _system(
        3, "logistic", "Population growth with carrying capacity", f"{S}, p. 22", "x' = c0 x (1 - x/c1)",
        (0.79, 74.3), lambda x, c: [c[0] * x[0] * (1 - x[0] / c[1])], (7.3,), (21.0,),
        lambda c: {"x": {"x": c[0], "x^2": -c[0] / c[1]}},
    ),
    _system(
        4, "rc_nonlinear_resistor", "RC circuit with non-linear resistor (charging capacitor)", f"{S}, p. 38",
        "x' = 1/(1 + exp(c0 - x/c1)) - 0.5",
        (0.5, 0.96), lambda x, c: [_sigmoid(c[0] - x[0] / c[1]) - 0.5], (0.8,), (0.02,),
    ),
    _system(
        5, "falling_with_drag", "Velocity of a falling object with air resistance", f"{S}, p. 38",
        "x' = c0 - c1 x^2", (9.81, 0.0021175), lambda x, c: [c[0] - c[1] * x[0] ** 2], (0.5,), (73.0,),
        lambda c: {"x": {"1": c[0], "x^2": -c[1]}},
    ),
    _system(
        6, "autocatalysis", "Autocatalysis with one fixed abundant chemical", f"{S}, p. 39", "x' = c0 x - c1 x^2",
        (2.1, 0.5), lambda x, c: [c[0] * x[0] - c[1] * x[0] ** 2], (0.13,), (2.24,),
        lambda c: {"x": {"x": c[0], "x^2": -c[1]}},
    ),
    _system(
        7, "gompertz", "Gompertz law for tumour growth", f"{S}, p. 39", "x' = c0 x log(c1 x)",
        (0.032, 2.29), lambda x, c: [c[0] * x[0] * np.log(c[1] * x[0])], (1.73,), (9.5,),
    ),
    _system(
        8, "logistic_allee", "Logistic equation with Allee effect", f"{S}, p. 39", "x' = c0 x (1 - x/c1)(x/c2 - 1)",
        (0.14, 130.0, 4.4), lambda x, c: [c[0] * x[0] * (1 - x[0] / c[1]) * (x[0] / c[2] - 1)], (6.123,), (2.1,),
        lambda c: {"x": {"x": -c[0], "x^2": c[0] * (1 / c[2] + 1 / c[1]), "x^3": -c[0] / (c[1] * c[2])}},
    ),
    _system(
        9, "language_death", "Language death model for two languages", f"{S}, p. 40", "x' = (1 - x) c0 - x c1",
        (0.32, 0.28), lambda x, c: [(1 - x[0]) * c[0] - x[0] * c[1]], (0.14,), (0.55,),
        lambda c: {"x": {"1": c[0], "x": -(c[0] + c[1])}},
    ),
    _system(
        10, "language_death_refined", "Refined language death model for two languages", f"{S}, p. 40",
        "x' = (1 - x) c0 x^c1 - x (1 - c0) (1 - x)^c1",
        (0.2, 1.2), lambda x, c: [(1 - x[0]) * c[0] * x[0] ** c[1] - x[0] * (1 - c[0]) * (1 - x[0]) ** c[1]],
        (0.83,), (0.34,),
    ),
    _system(
        11, "critical_slowing_down", "Naive critical slowing down (statistical mechanics)", f"{S}, p. 41",
        "x' = -x^3", (), lambda x, c: [-x[0] ** 3], (3.4,), (1.6,), lambda c: {"x": {"x^3": -1.0}},
    ),
    _system(
        12, "laser_photons", "Photons in a laser (simple)", f"{S}, p. 55", "x' = c0 x - c1 x^2",
        (1.8, 0.1107), lambda x, c: [c[0] * x[0] - c[1] * x[0] ** 2], (11.0,), (1.3,),
        lambda c: {"x": {"x": c[0], "x^2": -c[1]}},
    ),
    _system(
        13, "overdamped_hoop_bead", "Overdamped bead on a rotating hoop", f"{S}, p. 63",
        "x' = c0 sin(x) (c1 cos(x) - 1)",
        (0.0981, 9.7), lambda x, c: [c[0] * np.sin(x[0]) * (c[1] * np.cos(x[0]) - 1)], (3.1,), (2.4,),
    ),
    _system(
        14, "budworm", "Budworm outbreak model with predation", f"{S}, p. 75",
        "x' = c0 x (1 - x/c1) - c3 x^2/(c2^2 + x^2)",
        (0.78, 81.0, 21.2, 0.9),
        lambda x, c: [c[0] * x[0] * (1 - x[0] / c[1]) - c[3] * x[0] ** 2 / (c[2] ** 2 + x[0] ** 2)], (2.76,), (23.3,),
    ),
    _system(
        15, "budworm_dimensionless", "Budworm outbreak with predation (dimensionless)", f"{S}, p. 76",
        "x' = c0 x (1 - x/c1) - x^2/(1 + x^2)",
        (0.4, 95.0), lambda x, c: [c[0] * x[0] * (1 - x[0] / c[1]) - x[0] ** 2 / (1 + x[0] ** 2)], (44.3,), (4.5,),
    ),
    _system(
        16, "landau", "Landau equation (time scale 1)", f"{S}, p. 87", "x' = c0 x - c1 x^3 - c2 x^5",
        (0.1, -0.04, 0.001), lambda x, c: [c[0] * x[0] - c[1] * x[0] ** 3 - c[2] * x[0] ** 5], (0.94,), (1.65,),
        lambda c: {"x": {"x": c[0], "x^3": -c[1], "x^5": -c[2]}},
    ),
    _system(
        17, "logistic_harvesting", "Logistic equation with harvesting", f"{S}, p. 89", "x' = c0 x (1 - x/c1) - c2",
        (0.4, 100.0, 0.3), lambda x, c: [c[0] * x[0] * (1 - x[0] / c[1]) - c[2]], (14.3,), (34.2,),
        lambda c: {"x": {"1": -c[2], "x": c[0], "x^2": -c[0] / c[1]}},
    ),
    _system(
        18, "logistic_harvesting_saturating", "Improved logistic equation with harvesting", f"{S}, p. 90",
        "x' = c0 x (1 - x/c1) - c2 x/(c3 + x)",
        (0.4, 100.0, 0.24, 50.0),
        lambda x, c: [c[0] * x[0] * (1 - x[0] / c[1]) - c[2] * x[0] / (c[3] + x[0])], (21.1,), (44.1,),
    ),
    _system(
        19, "logistic_harvesting_dimensionless", "Improved logistic equation with harvesting (dimensionless)",
        f"{S}, p. 90", "x' = x (1 - x) - c0 x/(c1 + x)",
        (0.08, 0.8), lambda x, c: [x[0] * (1 - x[0]) - c[0] * x[0] / (c[1] + x[0])], (0.13,), (0.03,),
    ),
    _system(
        20, "gene_switch", "Autocatalytic gene switching (dimensionless)", f"{S}, p. 91",
        "x' = c0 - c1 x + x^2/(1 + x^2)",
        (0.1, 0.55), lambda x, c: [c[0] - c[1] * x[0] + x[0] ** 2 / (1 + x[0] ** 2)], (0.002,), (0.25,),
    ),
    _system(
        21, "sir_dead_reduced", "Dimensionally reduced SIR model for the dead (dimensionless)", f"{S}, p. 92",
        "x' = c0 - c1 x - exp(-x)",
        (1.2, 0.2), lambda x, c: [c[0] - c[1] * x[0] - np.exp(-x[0])], (0.0,), (0.8,),
    ),
    _system(
        22, "protein_hysteresis", "Hysteretic activation of protein expression (positive feedback)", f"{S}, p. 93",
        "x' = c0 + c1 x^5/(c2 + x^5) - c3 x",
        (1.4, 0.4, 123.0, 0.89),
        lambda x, c: [c[0] + c[1] * x[0] ** 5 / (c[2] + x[0] ** 5) - c[3] * x[0]], (3.1,), (6.3,),
    ),
    _system(
        23, "driven_overdamped_pendulum", "Overdamped pendulum with constant torque / Josephson junction",
        f"{S}, p. 104", "x' = c0 - sin(x)", (0.21,), lambda x, c: [c[0] - np.sin(x[0])], (-2.74,), (1.65,),
    ),
]
_TWO_D = [
    _system(
        24, "harmonic_oscillator", "Harmonic oscillator without damping", f"{S}, p. 126", "x' = y; y' = -c0 x",
        (2.1,), lambda x, c: [x[1], -c[0] * x[0]], (0.4, -0.03), (0.0, 0.2),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -c[0]}},
    ),
    _system(
        25, "damped_harmonic_oscillator", "Harmonic oscillator with damping", f"{S}, p. 144",
        "x' = y; y' = -c0 x - c1 y",
        (4.5, 0.43), lambda x, c: [x[1], -c[0] * x[0] - c[1] * x[1]], (0.12, 0.043), (0.0, -0.3),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -c[0], "y": -c[1]}},
    ),
    _system(
        26, "competition_sheep_rabbits", "Lotka-Volterra competition (rabbits and sheep)", f"{S}, p. 157",
        "x' = x (c0 - x - c1 y); y' = y (c2 - x - y)",
        (3.0, 2.0, 2.0), lambda x, c: [x[0] * (c[0] - x[0] - c[1] * x[1]), x[1] * (c[2] - x[0] - x[1])],
        (5.0, 4.3), (2.3, 3.6),
        lambda c: {"x": {"x": c[0], "x^2": -1.0, "x y": -c[1]}, "y": {"y": c[2], "x y": -1.0, "y^2": -1.0}},
    ),
    _system(
        27, "lotka_volterra", "Lotka-Volterra predator-prey", "Wikipedia, Lotka-Volterra equations",
        "x' = x (c0 - c1 y); y' = -y (c2 - c3 x)",
        (1.84, 1.45, 3.0, 1.62), lambda x, c: [x[0] * (c[0] - c[1] * x[1]), -x[1] * (c[2] - c[3] * x[0])],
        (8.3, 3.4), (0.4, 0.65),
        lambda c: {"x": {"x": c[0], "x y": -c[1]}, "y": {"y": -c[2], "x y": c[3]}},
    ),
    _system(
        28, "pendulum", "Pendulum without friction", f"{S}, p. 169", "x' = y; y' = -c0 sin(x)",
        (0.9,), lambda x, c: [x[1], -c[0] * np.sin(x[0])], (-1.9, 0.0), (0.3, 0.8),
    ),
    _system(
        29, "dipole_fixed_point", "Dipole fixed point", f"{S}, p. 181", "x' = c0 x y; y' = y^2 - x^2",
        (0.65,), lambda x, c: [c[0] * x[0] * x[1], x[1] ** 2 - x[0] ** 2], (3.2, 1.4), (1.3, 0.2),
        lambda c: {"x": {"x y": c[0]}, "y": {"x^2": -1.0, "y^2": 1.0}},
    ),
    _system(
        30, "rna_replication", "RNA molecules catalysing each other's replication", f"{S}, p. 187",
        "x' = x (y - c0 x y); y' = y (x - c0 x y)",
        (1.61,), lambda x, c: [x[0] * (x[1] - c[0] * x[0] * x[1]), x[1] * (x[0] - c[0] * x[0] * x[1])],
        (0.3, 0.04), (0.1, 0.21),
        lambda c: {"x": {"x y": 1.0, "x^2 y": -c[0]}, "y": {"x y": 1.0, "x y^2": -c[0]}},
    ),
    _system(
        31, "sir_two_state", "SIR infection model for susceptibles and infected", f"{S}, p. 188",
        "x' = -c0 x y; y' = c0 x y - c1 y",
        (0.4, 0.314), lambda x, c: [-c[0] * x[0] * x[1], c[0] * x[0] * x[1] - c[1] * x[1]], (7.2, 0.98), (20.0, 12.4),
        lambda c: {"x": {"x y": -c[0]}, "y": {"y": -c[1], "x y": c[0]}},
    ),
    _system(
        32, "damped_double_well", "Damped double-well oscillator", f"{S}, p. 190", "x' = y; y' = -c0 y + x - x^3",
        (0.18,), lambda x, c: [x[1], -c[0] * x[1] + x[0] - x[0] ** 3], (-1.8, -1.8), (5.8, 0.0),
        lambda c: {"x": {"y": 1.0}, "y": {"x": 1.0, "y": -c[0], "x^3": -1.0}},
    ),
    _system(
        33, "glider", "Glider (dimensionless)", f"{S}, p. 190", "x' = -sin(y) - c0 x^2; y' = x - cos(y)/x",
        (0.08,), lambda x, c: [-np.sin(x[1]) - c[0] * x[0] ** 2, x[0] - np.cos(x[1]) / x[0]], (5.0, 0.7), (9.81, -0.8),
    ),
    _system(
        34, "frictionless_hoop_bead", "Frictionless bead on a rotating hoop (dimensionless)", f"{S}, p. 191",
        "x' = y; y' = sin(x) (cos(x) - c0)",
        (0.93,), lambda x, c: [x[1], np.sin(x[0]) * (np.cos(x[0]) - c[0])], (2.1, 0.0), (-1.2, -0.2),
    ),
    _system(
        35, "shear_flow_rotation", "Rotational dynamics of an object in a shear flow", f"{S}, p. 194",
        "x' = cot(y) cos(x); y' = sin(x) (cos(y)^2 + c0 sin(y)^2)",
        (4.2,),
        lambda x, c: [
            np.cos(x[0]) / np.tan(x[1]),
            np.sin(x[0]) * (np.cos(x[1]) ** 2 + c[0] * np.sin(x[1]) ** 2),
        ],
        (1.13, -0.3), (2.4, 1.7),
    ),
    _system(
        36, "pendulum_nonlinear_damping", "Pendulum with non-linear damping, no driving (dimensionless)",
        f"{S}, p. 195", "x' = y; y' = -sin(x) - y - c0 cos(x) y",
        (0.07,), lambda x, c: [x[1], -np.sin(x[0]) - x[1] - c[0] * np.cos(x[0]) * x[1]], (0.45, 0.9), (1.34, -0.8),
    ),
    _system(
        37, "van_der_pol", "Van der Pol oscillator (standard form)", f"{S}, p. 200",
        "x' = y; y' = -x - c0 (x^2 - 1) y",
        (0.43,), lambda x, c: [x[1], -x[0] - c[0] * (x[0] ** 2 - 1) * x[1]], (2.2, 0.0), (0.1, 3.2),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -1.0, "y": c[0], "x^2 y": -c[0]}},
    ),
    _system(
        38, "van_der_pol_lienard", "Van der Pol oscillator (Lienard form)", f"{S}, p. 214",
        "x' = c0 (y - x^3/3 + x); y' = -x/c0",
        (3.37,), lambda x, c: [c[0] * (x[1] - x[0] ** 3 / 3 + x[0]), -x[0] / c[0]], (0.7, 0.0), (-1.1, -0.7),
        lambda c: {"x": {"x": c[0], "y": c[0], "x^3": -c[0] / 3}, "y": {"x": -1.0 / c[0]}},
    ),
    _system(
        39, "glycolysis", "Glycolytic oscillator (Sel'kov, dimensionless; as ODEBench lists it, with c0 x in y'"
        " where Strogatz has c0 y)", f"{S}, p. 207",
        "x' = -x + c0 y + x^2 y; y' = c1 - c0 x - x^2 y",
        (2.4, 0.07),
        lambda x, c: [-x[0] + c[0] * x[1] + x[0] ** 2 * x[1], c[1] - c[0] * x[0] - x[0] ** 2 * x[1]],
        (0.4, 0.31), (0.2, -0.7),
        lambda c: {"x": {"x": -1.0, "y": c[0], "x^2 y": 1.0}, "y": {"1": c[1], "x": -c[0], "x^2 y": -1.0}},
    ),
    _system(
        40, "weakly_nonlinear_oscillator", "Weakly non-linear (van der Pol type) oscillator", f"{S}, p. 217",
        "x' = y; y' = -x + c0 y (1 - x^2)",
        (0.886,), lambda x, c: [x[1], -x[0] + c[0] * x[1] * (1 - x[0] ** 2)], (0.63, -0.03), (0.2, 0.2),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -1.0, "y": c[0], "x^2 y": -c[0]}},
    ),
    _system(
        41, "tyson_cell_cycle", "Tyson's cell cycle model, cdc2 and cyclin (dimensionless)", f"{S}, p. 238",
        "x' = c0 (y - x)(c1 + x^2) - x; y' = c2 - x",
        (15.3, 0.001, 0.3), lambda x, c: [c[0] * (x[1] - x[0]) * (c[1] + x[0] ** 2) - x[0], c[2] - x[0]],
        (0.8, 0.3), (0.02, 1.2),
        lambda c: {
            "x": {"x": -(c[0] * c[1] + 1), "y": c[0] * c[1], "x^3": -c[0], "x^2 y": c[0]},
            "y": {"1": c[2], "x": -1.0},
        },
    ),
    _system(
        42, "cima_reaction", "Chlorine dioxide-iodine-malonic acid reaction (dimensionless)", f"{S}, p. 260",
        "x' = c0 - x - c1 x y/(1 + x^2); y' = c2 x (1 - y/(1 + x^2))",
        (8.9, 4.0, 1.4),
        lambda x, c: [
            c[0] - x[0] - c[1] * x[0] * x[1] / (1 + x[0] ** 2),
            c[2] * x[0] * (1 - x[1] / (1 + x[0] ** 2)),
        ],
        (0.2, 0.35), (3.0, 7.8),
    ),
    _system(
        43, "driven_damped_pendulum", "Driven pendulum with linear damping / Josephson junction", f"{S}, p. 269",
        "x' = y; y' = c0 - sin(x) - c1 y",
        (1.67, 0.64), lambda x, c: [x[1], c[0] - np.sin(x[0]) - c[1] * x[1]], (1.47, -0.2), (-1.9, 0.03),
    ),
    _system(
        44, "driven_pendulum_quadratic_damping", "Driven pendulum with quadratic damping (dimensionless)",
        f"{S}, p. 300", "x' = y; y' = c0 - sin(x) - c1 y |y|",
        (1.67, 0.64), lambda x, c: [x[1], c[0] - np.sin(x[0]) - c[1] * x[1] * np.abs(x[1])], (1.47, -0.2),
        (-1.9, 0.03),
    ),
    _system(
        45, "gray_scott", "Isothermal autocatalytic reaction (Gray and Scott 1985, dimensionless)", f"{S}, p. 288",
        "x' = c0 (1 - x) - x y^2; y' = x y^2 - c1 y",
        (0.5, 0.02), lambda x, c: [c[0] * (1 - x[0]) - x[0] * x[1] ** 2, x[0] * x[1] ** 2 - c[1] * x[1]],
        (1.4, 0.2), (0.32, 0.64),
        lambda c: {"x": {"1": c[0], "x": -c[0], "x y^2": -1.0}, "y": {"y": -c[1], "x y^2": 1.0}},
    ),
    _system(
        46, "bar_magnets", "Interacting bar magnets", f"{S}, p. 289",
        "x' = c0 sin(x - y) - sin(x); y' = c0 sin(y - x) - sin(y)",
        (0.33,),
        lambda x, c: [c[0] * np.sin(x[0] - x[1]) - np.sin(x[0]), c[0] * np.sin(x[1] - x[0]) - np.sin(x[1])],
        (0.54, -0.1), (0.43, 1.21),
    ),
    _system(
        47, "binocular_rivalry", "Binocular rivalry model (no oscillations)", f"{S}, p. 290",
        "x' = -x + 1/(1 + exp(c0 y - c1)); y' = -y + 1/(1 + exp(c0 x - c1))",
        (4.89, 1.4),
        lambda x, c: [-x[0] + _sigmoid(c[0] * x[1] - c[1]), -x[1] + _sigmoid(c[0] * x[0] - c[1])],
        (0.65, 0.59), (3.2, 10.3),
    ),
    _system(
        48, "bacterial_respiration", "Bacterial respiration model for nutrients and oxygen", f"{S}, p. 293",
        "x' = c0 - x - x y/(1 + c1 x^2); y' = c2 - x y/(1 + c1 x^2)",
        (18.3, 0.48, 11.23),
        lambda x, c: [
            c[0] - x[0] - x[0] * x[1] / (1 + c[1] * x[0] ** 2),
            c[2] - x[0] * x[1] / (1 + c[1] * x[0] ** 2),
        ],
        (0.1, 30.4), (13.2, 5.21),
    ),
    _system(
        49, "brusselator", "Brusselator chemical oscillator (dimensionless)", f"{S}, p. 296",
        "x' = 1 - (c0 + 1) x + c1 x^2 y; y' = c0 x - c1 x^2 y",
        (3.03, 3.1),
        lambda x, c: [1 - (c[0] + 1) * x[0] + c[1] * x[0] ** 2 * x[1], c[0] * x[0] - c[1] * x[0] ** 2 * x[1]],
        (0.7, -1.4), (2.1, 1.3),
        lambda c: {"x": {"1": 1.0, "x": -(c[0] + 1), "x^2 y": c[1]}, "y": {"x": c[0], "x^2 y": -c[1]}},
    ),
    _system(
        50, "schnakenberg", "Chemical oscillator (Schnakenberg 1979, dimensionless)", f"{S}, p. 296",
        "x' = c0 - x + x^2 y; y' = c1 - x^2 y",
        (0.24, 1.43), lambda x, c: [c[0] - x[0] + x[0] ** 2 * x[1], c[1] - x[0] ** 2 * x[1]], (0.14, 0.6), (1.5, 0.9),
        lambda c: {"x": {"1": c[0], "x": -1.0, "x^2 y": 1.0}, "y": {"1": c[1], "x^2 y": -1.0}},
    ),
    _system(
        51, "oscillator_death", "Oscillator death model (Ermentrout and Kopell 1990)", f"{S}, p. 301",
        "x' = c0 + sin(y) cos(x); y' = c1 + sin(y) cos(x)",
        (1.432, 0.972),
        lambda x, c: [c[0] + np.sin(x[1]) * np.cos(x[0]), c[1] + np.sin(x[1]) * np.cos(x[0])],
        (2.2, 0.67), (0.03, -0.12),
    ),
]


def _apoptosis(x: np.ndarray, c: Params) -> list[float]:
    """Caspase activation model: x = initiator, y = active and z = inactive effector caspase."""
    transfer = c[1] * x[2] * (c[8] + x[1]) - c[2] * x[1] / (c[6] + x[1]) - c[3] * x[0] * x[1] / (c[7] + x[1])
    return [c[0] - c[5] * x[1] * x[0] / (c[9] + x[0]) - c[4] * x[0], transfer, -transfer]


def _lorenz_terms(c: Params) -> Terms:
    return {"x": {"x": -c[0], "y": c[0]}, "y": {"x": c[1], "y": -1.0, "x z": -1.0}, "z": {"z": -c[2], "x y": 1.0}}


def _lorenz(x: np.ndarray, c: Params) -> list[float]:
    return [c[0] * (x[1] - x[0]), c[1] * x[0] - x[1] - x[0] * x[2], x[0] * x[1] - c[2] * x[2]]


def _rossler_terms(c: Params) -> Terms:
    return {
        "x": {"y": -c[3], "z": -c[3]},
        "y": {"x": c[3], "y": c[3] * c[0]},
        "z": {"1": c[3] * c[1], "z": -c[3] * c[2], "x z": c[3]},
    }


def _rossler(x: np.ndarray, c: Params) -> list[float]:
    return [c[3] * (-x[1] - x[2]), c[3] * (x[0] + c[0] * x[1]), c[3] * (c[1] + x[2] * (x[0] - c[2]))]


def _aizawa(x: np.ndarray, c: Params) -> list[float]:
    return [
        x[0] * (x[2] - c[1]) - c[3] * x[1],
        c[3] * x[0] + x[1] * (x[2] - c[1]),
        c[2] + c[0] * x[2] - x[2] ** 3 / 3 - (x[0] ** 2 + x[1] ** 2) * (1 + c[4] * x[2]) + c[5] * x[2] * x[0] ** 3,
    ]


def _binocular_adaptation(x: np.ndarray, c: Params) -> list[float]:
    return [
        -x[0] + _sigmoid(c[0] * x[2] + c[1] * x[1] - c[2]),
        c[3] * (x[0] - x[1]),
        -x[2] + _sigmoid(c[0] * x[0] + c[1] * x[3] - c[2]),
        c[3] * (x[2] - x[3]),
    ]


LORENZ = "x' = c0 (y - x); y' = c1 x - y - x z; z' = x y - c2 z"
ROSSLER = "x' = c3 (-y - z); y' = c3 (x + c0 y); z' = c3 (c1 + z (x - c2))"
WIKI_ROSSLER = "Wikipedia, Rossler attractor (time scaled by c3)"
_HIGHER_D = [
    _system(
        52, "maxwell_bloch", "Maxwell-Bloch equations (laser dynamics)", f"{S}, p. 82",
        "x' = c0 (y - x); y' = c1 (x z - y); z' = c2 (c3 + 1 - z - c3 x y)",
        (0.1, 0.21, 0.34, 3.1),
        lambda x, c: [c[0] * (x[1] - x[0]), c[1] * (x[0] * x[2] - x[1]), c[2] * (c[3] + 1 - x[2] - c[3] * x[0] * x[1])],
        (1.3, 1.1, 0.89), (0.89, 1.3, 1.1),
        lambda c: {
            "x": {"x": -c[0], "y": c[0]},
            "y": {"y": -c[1], "x z": c[1]},
            "z": {"1": c[2] * (c[3] + 1), "z": -c[2], "x y": -c[2] * c[3]},
        },
    ),
    _system(
        53, "apoptosis", "Model for apoptosis (cell death)",
        "Model for apoptosis, SIAM J. Appl. Dyn. Syst., doi:10.1137/20M1318043",
        "x' = c0 - c5 y x/(c9 + x) - c4 x; y' = c1 z (c8 + y) - c2 y/(c6 + y) - c3 x y/(c7 + y); z' = -y'",
        (0.1, 0.6, 0.2, 7.95, 0.05, 0.4, 0.1, 2.0, 0.1, 0.1), _apoptosis, (0.005, 0.26, 2.15), (0.248, 0.0973, 0.0027),
    ),
    _system(
        54, "lorenz_periodic", "Lorenz equations, well-behaved periodic regime", f"{S}, p. 319", LORENZ,
        (5.1, 12.0, 1.67), _lorenz, (2.3, 8.1, 12.4), (10.0, 20.0, 30.0), _lorenz_terms,
    ),
    _system(
        55, "lorenz_complex_periodic", "Lorenz equations, complex periodic regime", f"{S}, p. 319", LORENZ,
        (10.0, 99.96, 8.0 / 3.0), _lorenz, (2.3, 8.1, 12.4), (10.0, 20.0, 30.0), _lorenz_terms,
    ),
    _system(
        56, "lorenz_chaotic", "Lorenz equations, standard (chaotic) parameters", f"{S}, p. 319", LORENZ,
        (10.0, 28.0, 8.0 / 3.0), _lorenz, (2.3, 8.1, 12.4), (10.0, 20.0, 30.0), _lorenz_terms, chaotic=True,
    ),
    _system(
        57, "rossler_fixed_point", "Rossler system, stable fixed point", WIKI_ROSSLER, ROSSLER,
        (-0.2, 0.2, 5.7, 5.0), _rossler, (2.3, 1.1, 0.8), (-0.1, 4.1, -2.1), _rossler_terms,
    ),
    _system(
        58, "rossler_periodic", "Rossler system, periodic", WIKI_ROSSLER, ROSSLER,
        (0.1, 0.2, 5.7, 5.0), _rossler, (2.3, 1.1, 0.8), (-0.1, 4.1, -2.1), _rossler_terms,
    ),
    _system(
        59, "rossler_chaotic", "Rossler system, chaotic", WIKI_ROSSLER, ROSSLER,
        (0.2, 0.2, 5.7, 5.0), _rossler, (2.3, 1.1, 0.8), (-0.1, 4.1, -2.1), _rossler_terms, chaotic=True,
    ),
    _system(
        60, "aizawa", "Aizawa attractor (chaotic)", "Ulmann, Analog Paradigm application note alpaca_17",
        "x' = x (z - c1) - c3 y; y' = c3 x + y (z - c1); z' = c2 + c0 z - z^3/3 - (x^2 + y^2)(1 + c4 z) + c5 z x^3",
        (0.95, 0.7, 0.65, 3.5, 0.25, 0.1), _aizawa, (0.1, 0.05, 0.05), (-0.3, 0.2, 0.1),
        lambda c: {
            "x": {"x": -c[1], "y": -c[3], "x z": 1.0},
            "y": {"x": c[3], "y": -c[1], "y z": 1.0},
            "z": {
                "1": c[2], "z": c[0], "z^3": -1.0 / 3.0, "x^2": -1.0, "y^2": -1.0,
                "x^2 z": -c[4], "y^2 z": -c[4], "x^3 z": c[5],
            },
        },
        chaotic=True,
    ),
    _system(
        61, "chen_lee", "Chen-Lee attractor, gyro motion with feedback control (chaotic)",
        "Chen and Lee, Chaos Solitons Fractals, doi:10.1016/j.chaos.2003.12.034",
        "x' = c0 x - y z; y' = c1 y + x z; z' = c2 z + x y/c3",
        (5.0, -10.0, -3.8, 3.0),
        lambda x, c: [c[0] * x[0] - x[1] * x[2], c[1] * x[1] + x[0] * x[2], c[2] * x[2] + x[0] * x[1] / c[3]],
        (15.0, -15.0, -15.0), (8.0, 14.0, -10.0),
        lambda c: {"x": {"x": c[0], "y z": -1.0}, "y": {"y": c[1], "x z": 1.0}, "z": {"z": c[2], "x y": 1.0 / c[3]}},
        chaotic=True,
    ),
    _system(
        62, "binocular_rivalry_adaptation", "Binocular rivalry model with adaptation (oscillations)", f"{S}, p. 295",
        "x' = -x + 1/(1 + exp(c0 z + c1 y - c2)); y' = c3 (x - y); z' = -z + 1/(1 + exp(c0 x + c1 w - c2)); "
        "w' = c3 (z - w)",
        (0.89, 0.4, 1.4, 1.0), _binocular_adaptation, (2.25, -0.5, -1.13, 0.4), (0.342, -0.431, -0.86, 0.041),
    ),
    _system(
        63, "seir", "SEIR infection model (proportions)", "Wikipedia (de), SEIR-Modell",
        "x' = -c1 x z; y' = c1 x z - c0 y; z' = c0 y - c2 z; w' = c2 z",
        (0.47, 0.28, 0.3),
        lambda x, c: [-c[1] * x[0] * x[2], c[1] * x[0] * x[2] - c[0] * x[1], c[0] * x[1] - c[2] * x[2], c[2] * x[2]],
        (0.6, 0.3, 0.09, 0.01), (0.4, 0.3, 0.25, 0.05),
        lambda c: {"x": {"x z": -c[1]}, "y": {"y": -c[0], "x z": c[1]}, "z": {"y": c[0], "z": -c[2]}, "w": {"z": c[2]}},
    ),
]

ODEBENCH: dict[str, PublishedSystem] = {s.name: s for s in (*_ONE_D, *_TWO_D, *_HIGHER_D)}
"""The 63 ODEBench systems by name, in ODEBench order."""

PUBLISHED: dict[str, PublishedSystem] = {**ODEBENCH, **MORE, **EXTRA}
"""Every corpus system by name: ODEBench first, then :data:`pipeline.systems_published_more.MORE`, then
:data:`pipeline.systems_published_extra.EXTRA`."""

# The split, fixed once (2026-12-02) by corpus_half(name); a test checks it still matches the hash.
TUNING: tuple[str, ...] = (  # 75 systems (33 ODEBench, 19 more, 23 extra): 40 polynomial, 35 not; 10 chaotic
    "odebench_01_rc_charging",
    "odebench_02_exponential_growth",
    "odebench_03_logistic",
    "odebench_04_rc_nonlinear_resistor",
    "odebench_06_autocatalysis",
    "odebench_10_language_death_refined",
    "odebench_12_laser_photons",
    "odebench_13_overdamped_hoop_bead",
    "odebench_16_landau",
    "odebench_18_logistic_harvesting_saturating",
    "odebench_19_logistic_harvesting_dimensionless",
    "odebench_23_driven_overdamped_pendulum",
    "odebench_24_harmonic_oscillator",
    "odebench_26_competition_sheep_rabbits",
    "odebench_29_dipole_fixed_point",
    "odebench_31_sir_two_state",
    "odebench_32_damped_double_well",
    "odebench_34_frictionless_hoop_bead",
    "odebench_36_pendulum_nonlinear_damping",
    "odebench_38_van_der_pol_lienard",
    "odebench_42_cima_reaction",
    "odebench_43_driven_damped_pendulum",
    "odebench_44_driven_pendulum_quadratic_damping",
    "odebench_46_bar_magnets",
    "odebench_49_brusselator",
    "odebench_50_schnakenberg",
    "odebench_52_maxwell_bloch",
    "odebench_53_apoptosis",
    "odebench_57_rossler_fixed_point",
    "odebench_58_rossler_periodic",
    "odebench_60_aizawa",
    "odebench_62_binocular_rivalry_adaptation",
    "odebench_63_seir",
    "ivlev_predator_prey",
    "berec_allee_mate_finding",
    "hastings_powell_food_chain",
    "hethcote_sirs",
    "gardner_toggle_switch",
    "alon_negative_autoregulation",
    "murray_michaelis_menten_mass_action",
    "haldane_substrate_inhibition",
    "uppal_cstr_arrhenius",
    "gibaldi_two_compartment_mm",
    "fitzhugh_nagumo",
    "morris_lecar",
    "hodgkin_huxley",
    "bass_diffusion",
    "richardson_arms_race",
    "dysts_halvorsen",
    "dysts_sprott_b",
    "dysts_nose_hoover",
    "dysts_arneodo",
    "ingalls_goodwin_oscillator",
    "alon_incoherent_feedforward_loop",
    "goldbeter_koshland_switch",
    "topp_beta_cell_insulin_glucose",
    "dayneka_jusko_indirect_response",
    "brauer_sir_disease_deaths",
    "brauer_sir_endemic",
    "munz_zombie_szr",
    "may_leonard_cyclic_competition",
    "hofbauer_sigmund_rock_paper_scissors",
    "droop_cell_quota_chemostat",
    "schlogl_bistable_reaction",
    "atkins_consecutive_reactions",
    "semenov_thermal_ignition",
    "statz_demars_class_b_laser",
    "nayfeh_mook_elastic_pendulum",
    "goldstein_relativistic_oscillator",
    "moore_greitzer_jet_engine",
    "jordan_smith_circle_limit_cycle",
    "dysts_rucklidge",
    "dysts_rikitake_dynamo",
    "dysts_finance",
    "dysts_double_pendulum",
)
VALIDATION: tuple[str, ...] = (  # 74 systems (30 ODEBench, 27 more, 17 extra): 36 polynomial, 38 not; 9 chaotic
    "odebench_05_falling_with_drag",
    "odebench_07_gompertz",
    "odebench_08_logistic_allee",
    "odebench_09_language_death",
    "odebench_11_critical_slowing_down",
    "odebench_14_budworm",
    "odebench_15_budworm_dimensionless",
    "odebench_17_logistic_harvesting",
    "odebench_20_gene_switch",
    "odebench_21_sir_dead_reduced",
    "odebench_22_protein_hysteresis",
    "odebench_25_damped_harmonic_oscillator",
    "odebench_27_lotka_volterra",
    "odebench_28_pendulum",
    "odebench_30_rna_replication",
    "odebench_33_glider",
    "odebench_35_shear_flow_rotation",
    "odebench_37_van_der_pol",
    "odebench_39_glycolysis",
    "odebench_40_weakly_nonlinear_oscillator",
    "odebench_41_tyson_cell_cycle",
    "odebench_45_gray_scott",
    "odebench_47_binocular_rivalry",
    "odebench_48_bacterial_respiration",
    "odebench_51_oscillator_death",
    "odebench_54_lorenz_periodic",
    "odebench_55_lorenz_complex_periodic",
    "odebench_56_lorenz_chaotic",
    "odebench_59_rossler_chaotic",
    "odebench_61_chen_lee",
    "murray_may_predator_prey",
    "rosenzweig_macarthur_predator_prey",
    "beddington_deangelis_predator_prey",
    "murray_holling_type3_predator_prey",
    "murray_lotka_volterra_logistic_prey",
    "gilpin_ayala_theta_logistic",
    "von_bertalanffy_growth",
    "smith_waltman_chemostat_monod",
    "capasso_serio_sir_saturating",
    "ross_macdonald_malaria",
    "nowak_may_hiv_basic",
    "elowitz_repressilator_protein",
    "murray_michaelis_menten_qssa",
    "lindemann_mass_action",
    "wilson_cowan",
    "rayleigh_oscillator",
    "khalil_tunnel_diode",
    "duffing_hardening_damped",
    "strogatz_hopf_normal_form",
    "hindmarsh_rose",
    "taylor_projectile_quadratic_drag",
    "taylor_kepler_orbit",
    "solow_growth",
    "braun_lanchester_square_law",
    "dysts_thomas",
    "dysts_yu_wang",
    "dysts_lorenz84",
    "keener_sneyd_goldbeter_calcium",
    "goldbeter_mitotic_oscillator",
    "griffith_genetic_control",
    "murray_thomas_substrate_inhibition",
    "kuznetsov_tumor_immune",
    "perelson_hiv_cd4",
    "gard_hallam_food_chain",
    "crow_kimura_diploid_selection",
    "wilson_cortical_neuron",
    "euler_free_rigid_body",
    "lennard_jones_vibration",
    "holmes_rand_duffing_van_der_pol",
    "grasselli_goodwin_growth_cycle",
    "grasselli_keen_debt",
    "dysts_rabinovich_fabrikant",
    "dysts_isothermal_autocatalator",
    "dysts_salton_sea",
)
