"""Published ODE systems with known control inputs: dx/dt = f(x, u), for discovering dynamics with exogenous inputs.

Each entry is a model from a textbook or paper with its published parameter values, its states and its
inputs u(t) (a dilution rate, a coolant temperature, a pump voltage, an infusion rate, an injected
current, ...). Every input has a typical operating value (``input_level``) and an amplitude
(``input_swing``) such that level ± swing stays physically valid (dilution rates and flows > 0, insulin
infusion >= 0, heater power in 0-100 %, ...). A record excites each input around its level, e.g.
u(t) = level + swing * sin(2 pi 1.7 t / t_end) (several inputs: the same shape, possibly shifted), over
[0, t_end] from ``x0`` (the fitted record) or ``x0_alt`` (a held-out initial state).

Provenance, said in each ``source``: the equation and the parameter values are published (book with
section or paper with equation/table); operating ranges of the inputs are the published nominal value
with a swing chosen here inside the range the source operates in; where a parameter set is not from
the source it is marked "parameters chosen here". Units are rescaled where a published model's
states would be far from O(0.1-100) (temperatures in degC, substrate in mg/L, cells in 1e10, ...);
each ``description`` says so. Time is in the source's unit (``t_end`` in that unit).

About half of the systems are polynomial in (states, inputs) and carry their expanded ``terms``
(checked against ``rhs`` by a test); the others are not (Monod/Haldane and Michaelis-Menten
saturations, Arrhenius exponentials, Torricelli square roots, sin of an angle, Gompertz log, the
Hodgkin-Huxley and Morris-Lecar gating functions).

The corpus splits into a tuning and a validation half by the SHA-256 of each name
(:func:`pipeline.systems_corpus.corpus_half`), the same fixed split as the autonomous corpus.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.systems_corpus import corpus_half

__all__ = ["CONTROLLED", "TUNING", "VALIDATION", "ControlledSystem"]

Params = tuple[float, ...]
Terms = dict[str, dict[str, float]]

BEQUETTE = "Bequette, Process Control: Modeling, Design, and Simulation (Prentice Hall, 2003)"
CTMS = "Messner & Tilbury, Control Tutorials for MATLAB and Simulink (Univ. of Michigan / CMU)"
WINTER = "Winter, Basic Clinical Pharmacokinetics (5th ed., 2010)"
JOHANSSON = (
    "Johansson (2000), The quadruple-tank process, IEEE Trans. Control Syst. Technol. 8(3):456, eq. (1) and"
    " Table I/II (A1 = A3 = 28, A2 = A4 = 32 cm^2, a1 = a3 = 0.071, a2 = a4 = 0.057 cm^2, g = 981 cm/s^2;"
    " minimum-phase P- setting k1 = 3.33, k2 = 3.35 cm^3/(V s), gamma1 = 0.70, gamma2 = 0.60, v = 3 V)"
)


@dataclass(frozen=True)
class ControlledSystem:
    """One published ODE system with exogenous inputs, its source and its ground truth.

    Attributes:
        name: snake_case identifier, unique and stable (the tuning/validation split hashes it).
        description: what the system models, the units of its states, inputs and time, any rescaling.
        source: the citation of the equation and the parameter values (book + section, paper + equation).
        equation: the published right-hand side in text with symbolic parameters ``c0, c1, ...``; states
            and inputs by their names.
        states: state names, (d,), e.g. ``("S", "X")``.
        inputs: input names, (m,), e.g. ``("D",)``.
        params: the values of ``c0, c1, ...`` (published values, in the units of ``description``).
        rhs: f(x, u, params) -> (d,): x the state (d,), u the input (m,), as plain numpy on scalars;
            independent of ``terms``.
        x0: the first initial state (the fitted record), (d,), in state units.
        x0_alt: a second, different physically valid initial state (the held-out record), (d,).
        t_end: the record spans [0, t_end] in the system's time unit (a few time constants or periods).
        input_level: typical operating value of each input, (m,), in input units.
        input_swing: amplitude each input is varied by around its level, (m,), > 0; level ± swing is
            physically valid.
        terms: ``{state: {term: coefficient}}`` when ``rhs`` is a polynomial in (states, inputs), term
            names over the variable list states + inputs (``"1"``, ``"S D"``, ``"X^2"``); None otherwise.
    """

    name: str
    description: str
    source: str
    equation: str
    states: tuple[str, ...]
    inputs: tuple[str, ...]
    params: tuple[float, ...]
    rhs: Callable[[np.ndarray, np.ndarray, tuple[float, ...]], Sequence[float]]
    x0: tuple[float, ...]
    x0_alt: tuple[float, ...]
    t_end: float
    input_level: tuple[float, ...]
    input_swing: tuple[float, ...]
    terms: dict[str, dict[str, float]] | None = None

    @property
    def polynomial(self) -> bool:
        """True when the right-hand side is a polynomial in (states, inputs) (its ``terms`` are given)."""
        return self.terms is not None

    @property
    def half(self) -> str:
        """``"tuning"`` or ``"validation"``, from the SHA-256 of the name."""
        return corpus_half(self.name)


# --------------------------------------------------------------------------------------------------
# Right-hand sides that do not fit a lambda
# --------------------------------------------------------------------------------------------------


def _arrhenius(k0: float, e_over_r: float, t_celsius: float) -> float:
    """k0 exp(-E/(R T)) with T given in degC."""
    return k0 * np.exp(-e_over_r / (t_celsius + 273.15))


def _seborg_cstr(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Exothermic first-order CSTR: states CA (mol/L), T (degC); input Tc (degC)."""
    ca, temp = x
    q, vol, caf, tf, k0, e_r, mdh, rho, cp, ua = c
    rate = _arrhenius(k0, e_r, temp) * ca
    return [
        q / vol * (caf - ca) - rate,
        q / vol * (tf - temp) + mdh / (rho * cp) * rate + ua / (vol * rho * cp) * (u[0] - temp),
    ]


def _van_de_vusse(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Van de Vusse CSTR with jacket (Chen et al. 1995): states cA, cB, T, TK; inputs D = F/V (1/h), Q (MJ/h)."""
    ca, cb, temp, temp_k = x
    dil, heat = u
    k10, k20, k30, e1, e2, e3, h_ab, h_bc, h_ad, rho, cp, kw, area, vol, m_k, cp_k, ca0, t0 = c
    k1 = _arrhenius(k10, e1, temp)
    k2 = _arrhenius(k20, e2, temp)
    k3 = _arrhenius(k30, e3, temp)
    return [
        dil * (ca0 - ca) - k1 * ca - k3 * ca**2,
        -dil * cb + k1 * ca - k2 * cb,
        dil * (t0 - temp)
        - (k1 * ca * h_ab + k2 * cb * h_bc + k3 * ca**2 * h_ad) / (rho * cp)
        + kw * area * (temp_k - temp) / (rho * cp * vol),
        (1000.0 * heat + kw * area * (temp - temp_k)) / (m_k * cp_k),
    ]


def _torricelli(a: float, g: float, h: float) -> float:
    """Outflow a sqrt(2 g h) of an orifice of area a (zero for an empty tank)."""
    return a * np.sqrt(2.0 * g * max(h, 0.0))


def _quadruple_tank(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Johansson's quadruple tank: states h1..h4 (cm); inputs v1, v2 (V)."""
    h1, h2, h3, h4 = x
    v1, v2 = u
    a1_, a2_, a3_, a4_, o1, o2, o3, o4, g, k1, k2, g1, g2 = c
    return [
        (-_torricelli(o1, g, h1) + _torricelli(o3, g, h3) + g1 * k1 * v1) / a1_,
        (-_torricelli(o2, g, h2) + _torricelli(o4, g, h4) + g2 * k2 * v2) / a2_,
        (-_torricelli(o3, g, h3) + (1 - g2) * k2 * v2) / a3_,
        (-_torricelli(o4, g, h4) + (1 - g1) * k1 * v1) / a4_,
    ]


def _two_tanks(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Two gravity-drained tanks in series: states h_up, h_low (cm); input v (V)."""
    h_up, h_low = x
    area_up, area_low, o_up, o_low, g, k = c
    return [
        (k * u[0] - _torricelli(o_up, g, h_up)) / area_up,
        (_torricelli(o_up, g, h_up) - _torricelli(o_low, g, h_low)) / area_low,
    ]


def _martin_tumour(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Gompertz tumour with chemotherapy: states N (1e10 cells), v (drug concentration); input u (delivery)."""
    n, v = x
    lam, theta, kappa, v_th, gamma = c
    return [
        -lam * n * np.log(max(n, 1e-300) / theta) - kappa * max(v - v_th, 0.0) * n,
        u[0] - gamma * v,
    ]


def _vtrap(v: float, s: float) -> float:
    """v / (1 - exp(-v/s)), continuous at v = 0 (value s)."""
    return s if abs(v) < 1e-9 else v / -np.expm1(-v / s)


def _hodgkin_huxley(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Hodgkin-Huxley (V in mV, t in ms): states V, m, h, n; input I (uA/cm^2)."""
    v, m, h, n = x
    cap, g_na, g_k, g_l, e_na, e_k, e_l = c
    a_m, b_m = 0.1 * _vtrap(v + 40.0, 10.0), 4.0 * np.exp(-(v + 65.0) / 18.0)
    a_h, b_h = 0.07 * np.exp(-(v + 65.0) / 20.0), 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    a_n, b_n = 0.01 * _vtrap(v + 55.0, 10.0), 0.125 * np.exp(-(v + 65.0) / 80.0)
    ionic = g_na * m**3 * h * (v - e_na) + g_k * n**4 * (v - e_k) + g_l * (v - e_l)
    return [
        (u[0] - ionic) / cap,
        a_m * (1 - m) - b_m * m,
        a_h * (1 - h) - b_h * h,
        a_n * (1 - n) - b_n * n,
    ]


def _morris_lecar(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """Morris-Lecar (V in mV, t in ms): states V, w; input I (uA/cm^2)."""
    v, w = x
    cap, g_l, g_ca, g_k, v_l, v_ca, v_k, v1, v2, v3, v4, phi = c
    m_inf = 0.5 * (1 + np.tanh((v - v1) / v2))
    w_inf = 0.5 * (1 + np.tanh((v - v3) / v4))
    return [
        (u[0] - g_l * (v - v_l) - g_ca * m_inf * (v - v_ca) - g_k * w * (v - v_k)) / cap,
        phi * np.cosh((v - v3) / (2 * v4)) * (w_inf - w),
    ]


# --------------------------------------------------------------------------------------------------
# Parameter sets used by both a right-hand side and its polynomial terms
# --------------------------------------------------------------------------------------------------

_VDV_ISO = (5.0 / 6.0, 5.0 / 3.0, 1.0 / 6.0, 10.0)  # k1, k2 (1/min), k3 (L/(mol min)), cAf (mol/L)
_DUFFING = (0.25, 1.0, 1.0)  # delta, linear (negative) stiffness, cubic stiffness
_DC_MOTOR = (0.01, 0.1, 0.01, 1.0, 0.5)  # J (kg m^2), b (N m s), K (N m/A = V s), R (ohm), L (H)
_CRUISE = (1000.0, 50.0)  # m (kg), b (N s/m)
_MSD = (1.0, 10.0, 20.0)  # m (kg), b (N s/m), k (N/m)
_THEO = (35.0, math.log(2.0) / 8.0)  # V (L), k (1/h) from t1/2 = 8 h
_MARSH = (0.228 * 70.0, 0.119, 0.112, 0.0419, 0.055, 0.0033)  # V1 (L), k10, k12, k13, k21, k31 (1/min)
_BERGMAN = (0.028735, 0.028344, 5.035e-5, 5.0 / 54.0, 12.0, 4.5, 15.0)  # p1, p2, p3, n, V1, Gb, Ib
_SIR = (0.218, 0.44)  # r (per 100 pupils per day), a (1/day)
_HALIBUT = (0.71, 80.5)  # r (1/yr), K (1e6 kg)
_TCLAB = (10.0, 12.0e-4, 4.0e-3, 500.0, 0.9, 5.67e-8, 0.01, 23.0)  # U, A, m, Cp, eps, sigma, alpha, Ta (degC)
_FHN = (0.7, 0.8, 12.5)  # a, b, tau


def _tclab_rhs(x: np.ndarray, u: np.ndarray, c: Params) -> list[float]:
    """TCLab heater: state T (degC); input Q (% of full heater power)."""
    ua, area, mass, cp, eps, sigma, alpha, t_a = c
    tk, tak = x[0] + 273.15, t_a + 273.15
    return [(ua * area * (t_a - x[0]) + eps * sigma * area * (tak**4 - tk**4) + alpha * u[0]) / (mass * cp)]


def _tclab_terms(c: Params) -> Terms:
    """The TCLab energy balance expanded in T (degC): (T + 273.15)^4 by the binomial theorem."""
    ua, area, mass, cp, eps, sigma, alpha, t_a = c
    heat = mass * cp
    rad = eps * sigma * area / heat
    coefficients = {k: -rad * math.comb(4, k) * 273.15 ** (4 - k) for k in range(5)}  # -rad (T + 273.15)^4
    coefficients[0] += ua * area * t_a / heat + rad * (t_a + 273.15) ** 4
    coefficients[1] -= ua * area / heat
    terms = {"1" if k == 0 else ("T" if k == 1 else f"T^{k}"): v for k, v in coefficients.items()}
    return {"T": {**terms, "Q": alpha / heat}}


# --------------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------------

_SYSTEMS = (
    # ---------------- bioprocesses and reactors ----------------
    ControlledSystem(
        name="chemostat_monod_herbert",
        description="Chemostat with Monod growth, dilution rate as input: substrate S (mg/L), biomass X (g/L),"
        " t in h; Aerobacter cloacae on glycerol. S rescaled to mg/L (the factor 1000 converts g to mg).",
        source="Monod (1950); Herbert, Elsworth & Telling (1956), J. Gen. Microbiol. 14:601"
        " (mu_max 0.85 1/h, Ks 0.0123 g/L, Y 0.53); chemostat equations as in Smith & Waltman, The Theory of"
        " the Chemostat (1995), ch. 1; feed concentration 2 g/L chosen here",
        equation="S' = D (c3 - S) - 1000 c0 S X/((c1 + S) c2); X' = c0 S X/(c1 + S) - D X",
        states=("S", "X"),
        inputs=("D",),
        params=(0.85, 12.3, 0.53, 2000.0),
        rhs=lambda x, u, c: [
            u[0] * (c[3] - x[0]) - 1000.0 * c[0] * x[0] * x[1] / ((c[1] + x[0]) * c[2]),
            c[0] * x[0] * x[1] / (c[1] + x[0]) - u[0] * x[1],
        ],
        x0=(100.0, 0.5),
        x0_alt=(1000.0, 0.1),
        t_end=30.0,
        input_level=(0.4,),
        input_swing=(0.25,),
    ),
    ControlledSystem(
        name="bioreactor_haldane_bequette",
        description="Continuous bioreactor with substrate-inhibited (Haldane) growth, dilution rate as input:"
        " biomass X and substrate S (g/L), t in h; level at the published stable steady state (D = 0.3,"
        " X = 1.53, S = 0.174), swing kept below the fold at max mu = 0.361 1/h.",
        source=f"{BEQUETTE}, bioreactor (Haldane kinetics) example; mu_max 0.53 1/h, km 0.12 g/L,"
        " k1 0.4545 L/g, Y 0.4, feed 4.0 g/L, D = 0.3 1/h",
        equation="X' = (c0 S/(c1 + S + c2 S^2) - D) X; S' = D (c4 - S) - c0 S X/((c1 + S + c2 S^2) c3)",
        states=("X", "S"),
        inputs=("D",),
        params=(0.53, 0.12, 0.4545, 0.4, 4.0),
        rhs=lambda x, u, c: [
            (c[0] * x[1] / (c[1] + x[1] + c[2] * x[1] ** 2) - u[0]) * x[0],
            u[0] * (c[4] - x[1]) - c[0] * x[1] * x[0] / ((c[1] + x[1] + c[2] * x[1] ** 2) * c[3]),
        ],
        x0=(1.5302, 0.1745),
        x0_alt=(1.2, 0.5),
        t_end=60.0,
        input_level=(0.3,),
        input_swing=(0.05,),
    ),
    ControlledSystem(
        name="cstr_exothermic_seborg",
        description="Non-isothermal CSTR, first-order exothermic A -> B, coolant temperature as input:"
        " concentration CA (mol/L), reactor temperature T (degC), t in min; temperatures rescaled from K to"
        " degC (Arrhenius uses T + 273.15). At the published Tc = 300 K the published point (CA 0.5 mol/L,"
        " T 350 K) is the open-loop unstable middle steady state; the records start on and around the stable"
        " low-temperature branch (CA 0.877, T 324.5 K), Tc swinging 296-304 K (runaway past about 305 K).",
        source="Seborg, Edgar, Mellichamp & Doyle, Process Dynamics and Control (3rd ed., 2011), exothermic"
        " CSTR model of ch. 2 and its parameter set of the book's examples (q = V = 100 L(/min), CAf 1 mol/L, Tf 350 K,"
        " k0 7.2e10 1/min, E/R 8750 K, -dH 5e4 J/mol, rho 1000 g/L, Cp 0.239 J/(g K), UA 5e4 J/(min K))",
        equation="CA' = c0/c1 (c2 - CA) - c4 exp(-c5/(T + 273.15)) CA; T' = c0/c1 (c3 - T) + c6/(c7 c8) c4"
        " exp(-c5/(T + 273.15)) CA + c9/(c1 c7 c8) (Tc - T)",
        states=("CA", "T"),
        inputs=("Tc",),
        params=(100.0, 100.0, 1.0, 76.85, 7.2e10, 8750.0, 5.0e4, 1000.0, 0.239, 5.0e4),
        rhs=_seborg_cstr,
        x0=(0.877, 51.3),
        x0_alt=(1.0, 30.0),
        t_end=10.0,
        input_level=(26.85,),
        input_swing=(4.0,),
    ),
    ControlledSystem(
        name="cstr_van_de_vusse_klatt_engell",
        description="Van de Vusse reactions A -> B -> C, 2A -> D in a jacketed CSTR, inputs dilution rate D = F/V"
        " (1/h) and jacket heat removal Q (MJ/h, published in kJ/h): cA, cB (mol/L), T, TK (degC), t in h.",
        source="Chen, Kremling & Allgoewer (1995), Nonlinear predictive control of a benchmark CSTR, Proc."
        " ECC'95, model and parameter table; Klatt & Engell (1998), Comput. Chem. Eng. 22:491; nominal"
        " F/V 14.19 1/h, Q -1113.5 kJ/h (steady state cA 2.14, cB 1.09, T 114.2, TK 112.9)",
        equation="cA' = D (c16 - cA) - k1 cA - k3 cA^2; cB' = -D cB + k1 cA - k2 cB; T' = D (c17 - T) - (k1 cA c6"
        " + k2 cB c7 + k3 cA^2 c8)/(c9 c10) + c11 c12 (TK - T)/(c9 c10 c13); TK' = (1000 Q + c11 c12 (T - TK))"
        "/(c14 c15); k1 = c0 exp(-c3/(T + 273.15)), k2 = c1 exp(-c4/(T + 273.15)), k3 = c2 exp(-c5/(T + 273.15))",
        states=("cA", "cB", "T", "TK"),
        inputs=("D", "Q"),
        params=(1.287e12, 1.287e12, 9.043e9, 9758.3, 9758.3, 8560.0, 4.2, -11.0, -41.85, 0.9342, 3.01, 4032.0,
                0.215, 10.0, 5.0, 2.0, 5.1, 104.9),
        rhs=_van_de_vusse,
        x0=(2.14, 1.09, 114.2, 112.9),
        x0_alt=(3.5, 0.5, 105.0, 100.0),
        t_end=0.5,
        input_level=(14.19, -1.1135),
        input_swing=(5.0, 0.8),
    ),
    ControlledSystem(
        name="cstr_van_de_vusse_isothermal",
        description="Isothermal Van de Vusse CSTR, dilution rate F/V as input: cA, cB (mol/L), t in min;"
        " nominal F/V = 4/7 1/min (steady state cA 3.0, cB 1.117).",
        source=f"Van de Vusse (1964), Chem. Eng. Sci. 19:994; {BEQUETTE}, isothermal Van de Vusse reactor"
        " example (k1 5/6 1/min, k2 5/3 1/min, k3 1/6 L/(mol min), cAf 10 mol/L, F/V 4/7 1/min)",
        equation="cA' = D (c3 - cA) - c0 cA - c2 cA^2; cB' = -D cB + c0 cA - c1 cB",
        states=("cA", "cB"),
        inputs=("D",),
        params=_VDV_ISO,
        rhs=lambda x, u, c: [
            u[0] * (c[3] - x[0]) - c[0] * x[0] - c[2] * x[0] ** 2,
            -u[0] * x[1] + c[0] * x[0] - c[1] * x[1],
        ],
        x0=(3.0, 1.117),
        x0_alt=(6.0, 0.2),
        t_end=10.0,
        input_level=(4.0 / 7.0,),
        input_swing=(0.3,),
        terms={
            "cA": {"D": _VDV_ISO[3], "cA D": -1.0, "cA": -_VDV_ISO[0], "cA^2": -_VDV_ISO[2]},
            "cB": {"cB D": -1.0, "cA": _VDV_ISO[0], "cB": -_VDV_ISO[1]},
        },
    ),
    # ---------------- tanks ----------------
    ControlledSystem(
        name="quadruple_tank_johansson",
        description="Quadruple-tank process, two pump voltages as inputs: levels h1..h4 (cm; h3, h4 the upper"
        " tanks), t in s; minimum-phase setting, nominal v1 = v2 = 3 V (h = 12.4, 12.7, 1.8, 1.4 cm).",
        source=JOHANSSON,
        equation="h1' = (-c4 sqrt(2 c8 h1) + c6 sqrt(2 c8 h3) + c11 c9 v1)/c0; h2' = (-c5 sqrt(2 c8 h2) + c7"
        " sqrt(2 c8 h4) + c12 c10 v2)/c1; h3' = (-c6 sqrt(2 c8 h3) + (1 - c12) c10 v2)/c2; h4' = (-c7 sqrt(2 c8"
        " h4) + (1 - c11) c9 v1)/c3",
        states=("h1", "h2", "h3", "h4"),
        inputs=("v1", "v2"),
        params=(28.0, 32.0, 28.0, 32.0, 0.071, 0.057, 0.071, 0.057, 981.0, 3.33, 3.35, 0.70, 0.60),
        rhs=_quadruple_tank,
        x0=(12.4, 12.7, 1.8, 1.4),
        x0_alt=(5.0, 20.0, 4.0, 0.5),
        t_end=600.0,
        input_level=(3.0, 3.0),
        input_swing=(1.0, 1.0),
    ),
    ControlledSystem(
        name="two_tank_cascade_johansson",
        description="Two gravity-drained tanks in series (Torricelli outflow), pump voltage as input: upper and"
        " lower levels hu, hl (cm), t in s; the left column of Johansson's rig with all of pump 1 into the"
        " upper tank (gamma1 = 0; the configuration is chosen here, the tank data are published).",
        source=f"{JOHANSSON}; tanks 3 (upper) and 1 (lower), pump 1; Torricelli's law as in"
        " Seborg et al., Process Dynamics and Control (3rd ed.), sec. 2.4.5",
        equation="hu' = (c5 v - c2 sqrt(2 c4 hu))/c0; hl' = (c2 sqrt(2 c4 hu) - c3 sqrt(2 c4 hl))/c1",
        states=("hu", "hl"),
        inputs=("v",),
        params=(28.0, 28.0, 0.071, 0.071, 981.0, 3.33),
        rhs=_two_tanks,
        x0=(2.0, 5.0),
        x0_alt=(18.0, 1.0),
        t_end=600.0,
        input_level=(3.0,),
        input_swing=(1.0,),
    ),
    # ---------------- mechanics and circuits ----------------
    ControlledSystem(
        name="pendulum_torque",
        description="Damped pendulum with applied torque: angle theta (rad), angular velocity omega (rad/s),"
        " t in s; torque level 0 (hanging), swing below m g l so the pendulum is not driven over the top.",
        source="Khalil, Nonlinear Systems (3rd ed., 2002), sec. 1.2.1 with torque input"
        " (pendulum equation, with an applied torque and written with the inertia m l^2); parameters chosen"
        " here (m = 1 kg, l = 1 m, g = 9.81 m/s^2, damping b = 0.5 N m s)",
        equation="theta' = omega; omega' = -c0/c1 sin(theta) - c3/(c2 c1^2) omega + tau/(c2 c1^2)",
        states=("theta", "omega"),
        inputs=("tau",),
        params=(9.81, 1.0, 1.0, 0.5),
        rhs=lambda x, u, c: [
            x[1],
            -c[0] / c[1] * np.sin(x[0]) - c[3] / (c[2] * c[1] ** 2) * x[1] + u[0] / (c[2] * c[1] ** 2),
        ],
        x0=(-1.0, 0.0),
        x0_alt=(-2.0, 0.0),
        t_end=20.0,
        input_level=(0.0,),
        input_swing=(4.0,),
    ),
    ControlledSystem(
        name="duffing_forced",
        description="Duffing oscillator (double well) with the external force as input: position x, velocity v"
        " (dimensionless), t dimensionless; force swing the published forcing amplitude 0.3.",
        source="Guckenheimer & Holmes, Nonlinear Oscillations, Dynamical Systems, and Bifurcations of Vector"
        " Fields (1983), sec. 2.2: x'' + delta x' - x + x^3 = gamma cos(omega t), delta 0.25,"
        " gamma 0.3",
        equation="x' = v; v' = -c0 v + c1 x - c2 x^3 + F",
        states=("x", "v"),
        inputs=("F",),
        params=_DUFFING,
        rhs=lambda x, u, c: [x[1], -c[0] * x[1] + c[1] * x[0] - c[2] * x[0] ** 3 + u[0]],
        x0=(-1.0, 0.0),
        x0_alt=(-0.2, -0.8),
        t_end=40.0,
        input_level=(0.0,),
        input_swing=(0.3,),
        terms={
            "x": {"v": 1.0},
            "v": {"v": -_DUFFING[0], "x": _DUFFING[1], "x^3": -_DUFFING[2], "F": 1.0},
        },
    ),
    ControlledSystem(
        name="dc_motor_speed_ctms",
        description="Armature-controlled DC motor, voltage as input: speed omega (rad/s), current i (A), t in s;"
        " voltage range chosen here (the tutorial uses a 1 V step).",
        source=f"{CTMS}, 'DC Motor Speed: System Modeling' (J 0.01 kg m^2, b 0.1 N m s, K 0.01 N m/A, R 1 ohm,"
        " L 0.5 H); equations as in Franklin, Powell & Emami-Naeini, Feedback Control of Dynamic Systems,"
        " sec. 2.3 (DC motor)",
        equation="omega' = (c2 i - c1 omega)/c0; i' = (V - c3 i - c2 omega)/c4",
        states=("omega", "i"),
        inputs=("V",),
        params=_DC_MOTOR,
        rhs=lambda x, u, c: [(c[2] * x[1] - c[1] * x[0]) / c[0], (u[0] - c[3] * x[1] - c[2] * x[0]) / c[4]],
        x0=(0.0, 0.0),
        x0_alt=(1.0, 8.0),
        t_end=5.0,
        input_level=(6.0,),
        input_swing=(4.0,),
        terms={
            "omega": {"i": _DC_MOTOR[2] / _DC_MOTOR[0], "omega": -_DC_MOTOR[1] / _DC_MOTOR[0]},
            "i": {"V": 1 / _DC_MOTOR[4], "i": -_DC_MOTOR[3] / _DC_MOTOR[4], "omega": -_DC_MOTOR[2] / _DC_MOTOR[4]},
        },
    ),
    ControlledSystem(
        name="cruise_control_ctms",
        description="Vehicle cruise control, engine force as input: speed v (m/s), t in s; force in kN (the"
        " tutorial's 500 N is 0.5 kN; the factor 1000 converts kN to N).",
        source=f"{CTMS}, 'Cruise Control: System Modeling' (m 1000 kg, b 50 N s/m, u 500 N, reference 10 m/s)",
        equation="v' = (1000 F - c1 v)/c0",
        states=("v",),
        inputs=("F",),
        params=_CRUISE,
        rhs=lambda x, u, c: [(1000.0 * u[0] - c[1] * x[0]) / c[0]],
        x0=(5.0,),
        x0_alt=(20.0,),
        t_end=100.0,
        input_level=(0.5,),
        input_swing=(0.3,),
        terms={"v": {"F": 1000.0 / _CRUISE[0], "v": -_CRUISE[1] / _CRUISE[0]}},
    ),
    ControlledSystem(
        name="mass_spring_damper_ctms",
        description="Mass-spring-damper with applied force: position x (m), velocity v (m/s), t in s; force level"
        " chosen here (the tutorial's 1 N step gives 0.05 m).",
        source=f"{CTMS}, 'Introduction: PID Controller Design' (m 1 kg, b 10 N s/m, k 20 N/m)",
        equation="x' = v; v' = (F - c1 v - c2 x)/c0",
        states=("x", "v"),
        inputs=("F",),
        params=_MSD,
        rhs=lambda x, u, c: [x[1], (u[0] - c[1] * x[1] - c[2] * x[0]) / c[0]],
        x0=(0.0, 0.0),
        x0_alt=(0.8, 0.0),
        t_end=5.0,
        input_level=(10.0,),
        input_swing=(8.0,),
        terms={"x": {"v": 1.0}, "v": {"F": 1 / _MSD[0], "v": -_MSD[1] / _MSD[0], "x": -_MSD[2] / _MSD[0]}},
    ),
    ControlledSystem(
        name="tclab_heater",
        description="Temperature Control Lab transistor heater, convection and radiation to ambient 23 degC,"
        " heater output as input: temperature T (degC), t in s; heater Q in % (0-100). Polynomial in T"
        " (the fourth power of the absolute temperature, expanded).",
        source="Park, Martin, Kelly & Hedengren (2020), Benchmark temperature microcontroller for process"
        " dynamics and control, Comput. Chem. Eng. 135:106736, energy balance; parameters of APMonitor's TCLab"
        " model (U 10 W/(m^2 K), A 12 cm^2, m 4 g, Cp 500 J/(kg K), eps 0.9, alpha 0.01 W/%)",
        equation="T' = (c0 c1 (c7 - T) + c4 c5 c1 ((c7 + 273.15)^4 - (T + 273.15)^4) + c6 Q)/(c2 c3)",
        states=("T",),
        inputs=("Q",),
        params=_TCLAB,
        rhs=_tclab_rhs,
        x0=(23.0,),
        x0_alt=(60.0,),
        t_end=1200.0,
        input_level=(50.0,),
        input_swing=(40.0,),
        terms=_tclab_terms(_TCLAB),
    ),
    # ---------------- pharmacokinetics and physiology ----------------
    ControlledSystem(
        name="theophylline_infusion",
        description="One-compartment pharmacokinetics with IV infusion (theophylline, 70 kg adult): plasma"
        " concentration C (mg/L), infusion rate R (mg/h), t in h; steady state R/(k V) about 13 mg/L.",
        source=f"Gibaldi & Perrier, Pharmacokinetics (2nd ed., 1982), ch. 1 (constant-rate infusion); {WINTER},"
        " theophylline (V 0.5 L/kg, t1/2 8 h for adult non-smokers, maintenance 0.4-0.6 mg/kg/h)",
        equation="C' = R/c0 - c1 C",
        states=("C",),
        inputs=("R",),
        params=_THEO,
        rhs=lambda x, u, c: [u[0] / c[0] - c[1] * x[0]],
        x0=(5.0,),
        x0_alt=(20.0,),
        t_end=48.0,
        input_level=(40.0,),
        input_swing=(20.0,),
        terms={"C": {"R": 1 / _THEO[0], "C": -_THEO[1]}},
    ),
    ControlledSystem(
        name="propofol_marsh_infusion",
        description="Three-compartment propofol pharmacokinetics with infusion (Marsh, 70 kg): central"
        " concentration Cc and fast/slow peripheral amounts per central volume Cf, Cs (mg/L), infusion R (mg/min),"
        " t in min; R = 7 mg/min is 6 mg/kg/h.",
        source="Marsh, White, Morton & Kenny (1991), Br. J. Anaesth. 67:41 (V1 0.228 L/kg, k10 0.119, k12 0.112,"
        " k13 0.0419, k21 0.055, k31 0.0033 1/min); mammillary model as in Gibaldi & Perrier (1982), ch. 2",
        equation="Cc' = R/c0 - (c1 + c2 + c3) Cc + c4 Cf + c5 Cs; Cf' = c2 Cc - c4 Cf; Cs' = c3 Cc - c5 Cs",
        states=("Cc", "Cf", "Cs"),
        inputs=("R",),
        params=_MARSH,
        rhs=lambda x, u, c: [
            u[0] / c[0] - (c[1] + c[2] + c[3]) * x[0] + c[4] * x[1] + c[5] * x[2],
            c[2] * x[0] - c[4] * x[1],
            c[3] * x[0] - c[5] * x[2],
        ],
        x0=(3.0, 1.0, 0.5),
        x0_alt=(0.5, 4.0, 8.0),
        t_end=180.0,
        input_level=(7.0,),
        input_swing=(4.0,),
        terms={
            "Cc": {"R": 1 / _MARSH[0], "Cc": -(_MARSH[1] + _MARSH[2] + _MARSH[3]), "Cf": _MARSH[4], "Cs": _MARSH[5]},
            "Cf": {"Cc": _MARSH[2], "Cf": -_MARSH[4]},
            "Cs": {"Cc": _MARSH[3], "Cs": -_MARSH[5]},
        },
    ),
    ControlledSystem(
        name="phenytoin_michaelis_menten",
        description="One-compartment pharmacokinetics with Michaelis-Menten elimination (phenytoin, 70 kg):"
        " concentration C (mg/L), dosing rate R (mg/day, as a continuous rate), t in days.",
        source=f"Gibaldi & Perrier, Pharmacokinetics (2nd ed., 1982), ch. 7 (nonlinear pharmacokinetics); {WINTER},"
        " phenytoin (Vmax 7 mg/kg/day, Km 4 mg/L, V 0.65 L/kg)",
        equation="C' = (R - c0 C/(c1 + C))/c2",
        states=("C",),
        inputs=("R",),
        params=(490.0, 4.0, 45.5),
        rhs=lambda x, u, c: [(u[0] - c[0] * x[0] / (c[1] + x[0])) / c[2]],
        x0=(2.0,),
        x0_alt=(25.0,),
        t_end=30.0,
        input_level=(300.0,),
        input_swing=(100.0,),
    ),
    ControlledSystem(
        name="bergman_minimal_insulin",
        description="Bergman minimal model with an insulin compartment, insulin infusion as input: glucose G"
        " (mmol/L), remote insulin action X (1e-3 1/min; rescaled, hence the factors 1e-3 and 1e3), plasma"
        " insulin I (mU/L), infusion U (mU/min), t in min; basal U = n Ib V1 = 16.7 mU/min.",
        source="Bergman, Phillips & Cobelli (1981), J. Clin. Invest. 68:1456 (minimal model); insulin"
        " compartment and parameters of Fisher (1991), IEEE Trans. Biomed. Eng. 38:57, as used by Lynch &"
        " Bequette (2002), Proc. ACC (p1 0.028735, p2 0.028344 1/min, p3 5.035e-5 L/(mU min^2), n 5/54 1/min,"
        " V1 12 L, Gb 4.5 mmol/L, Ib 15 mU/L)",
        equation="G' = -c0 (G - c5) - 1e-3 X G; X' = -c1 X + 1e3 c2 (I - c6); I' = -c3 I + U/c4",
        states=("G", "X", "I"),
        inputs=("U",),
        params=_BERGMAN,
        rhs=lambda x, u, c: [
            -c[0] * (x[0] - c[5]) - 1e-3 * x[1] * x[0],
            -c[1] * x[1] + 1e3 * c[2] * (x[2] - c[6]),
            -c[3] * x[2] + u[0] / c[4],
        ],
        x0=(10.0, 0.0, 15.0),
        x0_alt=(6.0, -5.0, 8.0),
        t_end=400.0,
        input_level=(50.0 / 3.0,),
        input_swing=(12.0,),
        terms={
            "G": {"1": _BERGMAN[0] * _BERGMAN[5], "G": -_BERGMAN[0], "G X": -1e-3},
            "X": {"X": -_BERGMAN[1], "I": 1e3 * _BERGMAN[2], "1": -1e3 * _BERGMAN[2] * _BERGMAN[6]},
            "I": {"I": -_BERGMAN[3], "U": 1 / _BERGMAN[4]},
        },
    ),
    ControlledSystem(
        name="gompertz_tumour_chemotherapy_martin",
        description="Gompertz tumour growth with a cell-kill above a drug threshold, drug delivery rate as"
        " input: tumour size N (1e10 cells; the plateau 1e12 is 100), drug concentration v (Martin's units),"
        " t in days; delivery range chosen here so v crosses the threshold 10.",
        source="Martin (1992), Optimal control drug scheduling of cancer chemotherapy, Automatica 28:1113;"
        " Martin & Teo, Optimal Control of Drug Administration in Cancer Chemotherapy (1994)"
        " (lambda 9.9e-4 1/day, theta 1e12 cells, kappa 8.4e-3, v_th 10, gamma 0.27 1/day)",
        equation="N' = -c0 N log(N/c1) - c2 max(v - c3, 0) N; v' = u - c4 v",
        states=("N", "v"),
        inputs=("u",),
        params=(9.9e-4, 100.0, 8.4e-3, 10.0, 0.27),
        rhs=_martin_tumour,
        x0=(1.0, 0.0),
        x0_alt=(20.0, 15.0),
        t_end=60.0,
        input_level=(4.0,),
        input_swing=(3.0,),
    ),
    # ---------------- epidemics and resources ----------------
    ControlledSystem(
        name="sir_boarding_school_vaccination",
        description="SIR epidemic (1978 English boarding-school influenza) with a vaccination rate as input:"
        " susceptibles S and infectives I in hundreds of pupils (so r = 2.18e-3 per pupil per day becomes"
        " 0.218), vaccination rate v (1/day, chosen here), t in days.",
        source="Murray, Mathematical Biology I (3rd ed., 2002), sec. 10.2 and Fig. 10.2"
        " (r 2.18e-3 1/day, a 0.44 1/day, N 763, S0 762, I0 1); vaccination of susceptibles as in Hethcote"
        " (2000), SIAM Rev. 42:599, sec. 4",
        equation="S' = -c0 S I - v S; I' = c0 S I - c1 I",
        states=("S", "I"),
        inputs=("v",),
        params=_SIR,
        rhs=lambda x, u, c: [-c[0] * x[0] * x[1] - u[0] * x[0], c[0] * x[0] * x[1] - c[1] * x[1]],
        x0=(7.62, 0.01),
        x0_alt=(6.0, 0.5),
        t_end=20.0,
        input_level=(0.05,),
        input_swing=(0.04,),
        terms={"S": {"S I": -_SIR[0], "S v": -1.0}, "I": {"S I": _SIR[0], "I": -_SIR[1]}},
    ),
    ControlledSystem(
        name="schaefer_halibut_harvest",
        description="Schaefer logistic fishery, fishing mortality F = q E (effort times catchability) as input:"
        " biomass B (1e6 kg), t in years; F level r/2 (the effort at maximum sustainable yield).",
        source="Schaefer (1954), Bull. Inter-Am. Trop. Tuna Comm. 1(2):27; Clark, Mathematical Bioeconomics"
        " (2nd ed., 1990), ch. 1 (Pacific halibut r 0.71 1/yr, K 80.5e6 kg)",
        equation="B' = c0 B (1 - B/c1) - F B",
        states=("B",),
        inputs=("F",),
        params=_HALIBUT,
        rhs=lambda x, u, c: [c[0] * x[0] * (1 - x[0] / c[1]) - u[0] * x[0]],
        x0=(40.0,),
        x0_alt=(75.0,),
        t_end=30.0,
        input_level=(0.355,),
        input_swing=(0.2,),
        terms={"B": {"B": _HALIBUT[0], "B^2": -_HALIBUT[0] / _HALIBUT[1], "B F": -1.0}},
    ),
    # ---------------- neurons with injected current ----------------
    ControlledSystem(
        name="hodgkin_huxley_current",
        description="Hodgkin-Huxley squid axon with injected current as input: V (mV), gates m, h, n, current I"
        " (uA/cm^2), t in ms; current swings through the onset of repetitive firing.",
        source="Hodgkin & Huxley (1952), J. Physiol. 117:500; modern convention (rest -65 mV) of"
        " Dayan & Abbott, Theoretical Neuroscience (2001), sec. 5.6 (C 1, gNa 120, gK 36, gL 0.3, ENa 50,"
        " EK -77, EL -54.387)",
        equation="V' = (I - c1 m^3 h (V - c4) - c2 n^4 (V - c5) - c3 (V - c6))/c0; g' = alpha_g(V) (1 - g) -"
        " beta_g(V) g for g = m, h, n (Dayan & Abbott rate functions)",
        states=("V", "m", "h", "n"),
        inputs=("I",),
        params=(1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387),
        rhs=_hodgkin_huxley,
        x0=(-65.0, 0.05, 0.6, 0.32),
        x0_alt=(-60.0, 0.1, 0.5, 0.35),
        t_end=50.0,
        input_level=(8.0,),
        input_swing=(6.0,),
    ),
    ControlledSystem(
        name="morris_lecar_current",
        description="Morris-Lecar barnacle muscle fibre with injected current as input: V (mV), K+ activation w,"
        " current I (uA/cm^2), t in ms; current swings across the Hopf onset.",
        source="Morris & Lecar (1981), Biophys. J. 35:193; parameters of Rinzel & Ermentrout (1989), Methods in"
        " Neuronal Modeling, ch. 5 (Hopf set)",
        equation="V' = (I - c1 (V - c4) - c2 m(V) (V - c5) - c3 w (V - c6))/c0; w' = c11 cosh((V - c9)/(2 c10))"
        " (w(V) - w); m = (1 + tanh((V - c7)/c8))/2, w = (1 + tanh((V - c9)/c10))/2",
        states=("V", "w"),
        inputs=("I",),
        params=(20.0, 2.0, 4.4, 8.0, -60.0, 120.0, -84.0, -1.2, 18.0, 2.0, 30.0, 0.04),
        rhs=_morris_lecar,
        x0=(-40.0, 0.0),
        x0_alt=(-20.0, 0.3),
        t_end=500.0,
        input_level=(90.0,),
        input_swing=(25.0,),
    ),
    ControlledSystem(
        name="fitzhugh_nagumo_current",
        description="FitzHugh-Nagumo excitable neuron with injected current as input: voltage v, recovery w, current"
        " I (dimensionless), t dimensionless; current swings through the oscillatory range.",
        source="FitzHugh (1961), Biophys. J. 1:445 (a 0.7, b 0.8, tau 12.5); form of Izhikevich & FitzHugh"
        " (2006), Scholarpedia 1(9):1349",
        equation="v' = v - v^3/3 - w + I; w' = (v + c0 - c1 w)/c2",
        states=("v", "w"),
        inputs=("I",),
        params=_FHN,
        rhs=lambda x, u, c: [x[0] - x[0] ** 3 / 3 - x[1] + u[0], (x[0] + c[0] - c[1] * x[1]) / c[2]],
        x0=(-1.0, -0.5),
        x0_alt=(-2.0, -0.2),
        t_end=150.0,
        input_level=(0.6,),
        input_swing=(0.3,),
        terms={
            "v": {"v": 1.0, "v^3": -1 / 3, "w": -1.0, "I": 1.0},
            "w": {"1": _FHN[0] / _FHN[2], "v": 1 / _FHN[2], "w": -_FHN[1] / _FHN[2]},
        },
    ),
)

CONTROLLED: dict[str, ControlledSystem] = {s.name: s for s in _SYSTEMS}

TUNING: tuple[str, ...] = (
    "bioreactor_haldane_bequette",
    "cruise_control_ctms",
    "cstr_van_de_vusse_klatt_engell",
    "duffing_forced",
    "gompertz_tumour_chemotherapy_martin",
    "mass_spring_damper_ctms",
    "phenytoin_michaelis_menten",
    "propofol_marsh_infusion",
    "sir_boarding_school_vaccination",
    "theophylline_infusion",
)

VALIDATION: tuple[str, ...] = (
    "bergman_minimal_insulin",
    "chemostat_monod_herbert",
    "cstr_exothermic_seborg",
    "cstr_van_de_vusse_isothermal",
    "dc_motor_speed_ctms",
    "fitzhugh_nagumo_current",
    "hodgkin_huxley_current",
    "morris_lecar_current",
    "pendulum_torque",
    "quadruple_tank_johansson",
    "schaefer_halibut_harvest",
    "tclab_heater",
    "two_tank_cascade_johansson",
)
