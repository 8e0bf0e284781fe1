"""Further published ODE systems: physiology, cell biology, medicine, ecology, chemistry, mechanics, economics.

A third batch after :data:`pipeline.systems_published.ODEBENCH` and
:data:`pipeline.systems_published_more.MORE`, transcribed by hand, one entry per system, chosen by
source and field (not by how any method does on them). The same three kinds of provenance, said in
each ``source`` string:

- equation, parameters and first initial state published together (the ``dysts`` chaotic flows:
  Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven modelling", NeurIPS
  Datasets and Benchmarks 2021, ``dysts/data/chaotic_attractors.json`` and ``dysts/flows.py``; the
  second initial state is the first integrated over 3 time units, a later point on the attractor);
- published equation and published parameter values (e.g. Goldbeter-Dupont-Berridge calcium,
  Goldbeter's mitotic oscillator, Topp's beta-cell model, Kuznetsov's tumour-immune model,
  Perelson's HIV model, the Keen model of Grasselli & Costa Lima), initial states chosen here
  unless the source gives one;
- published equation, parameter values chosen here in the regime the source discusses (marked
  "parameters chosen here").

Where a published value was checked against a readable copy (a curated model file, the authors'
code, a textbook excerpt), the ``source`` says where; where it was not, it says so.

The same conventions as :mod:`pipeline.systems_published`: states ``x, y, z, w`` in the source's
order; polynomial systems give their expanded terms (a test checks them against the formula);
each record spans [0, 10] in the system's time unit unless the published time scale makes that
useless (then ``t_end`` is set per system and said in its description).
"""

from __future__ import annotations

import numpy as np

from pipeline.systems_corpus import Params, PublishedSystem, published_system

__all__ = ["EXTRA"]

CHOSEN = "parameters chosen here"
DYSTS = "parameters and first initial state from dysts (Gilpin 2021, chaotic_attractors.json)"


def _hill(v: float, k: float, n: float) -> float:
    """v^n / (k^n + v^n)."""
    return v**n / (k**n + v**n)


def _calcium(x: np.ndarray, c: Params) -> list[float]:
    """Goldbeter-Dupont-Berridge CICR: x cytosolic, y stored Ca2+ (uM); c = (v0, v1, beta, VM2, VM3, K2, KR, KA,
    kf, k, n, m, p)."""
    v0, v1, beta, vm2, vm3, k2, kr, ka, kf, k, n, m, p = c
    pump = vm2 * _hill(x[0], k2, n)
    release = vm3 * _hill(x[1], kr, m) * _hill(x[0], ka, p)
    return [v0 + v1 * beta - pump + release + kf * x[1] - k * x[0], pump - release - kf * x[1]]


def _mitotic(x: np.ndarray, c: Params) -> list[float]:
    """Goldbeter's minimal cascade: x cyclin (uM), y active cdc2 and z active protease fractions."""
    vi, vd, kd_half, kd, kc, vm1, k1, v2, k2, vm3, k3, v4, k4 = c
    v1 = vm1 * x[0] / (kc + x[0])
    return [
        vi - vd * x[2] * x[0] / (kd_half + x[0]) - kd * x[0],
        v1 * (1 - x[1]) / (k1 + 1 - x[1]) - v2 * x[1] / (k2 + x[1]),
        vm3 * x[1] * (1 - x[2]) / (k3 + 1 - x[2]) - v4 * x[2] / (k4 + x[2]),
    ]


def _topp(x: np.ndarray, c: Params) -> list[float]:
    """Topp et al.: x glucose (mg/dl), y insulin (uU/ml), z beta-cell mass (mg); t in days."""
    r0, eg0, si, sigma, alpha, k, d0, r1, r2 = c
    return [
        r0 - (eg0 + si * x[1]) * x[0],
        x[2] * sigma * x[0] ** 2 / (alpha + x[0] ** 2) - k * x[1],
        (-d0 + r1 * x[0] - r2 * x[0] ** 2) * x[2],
    ]


def _keen(x: np.ndarray, c: Params) -> list[float]:
    """Keen model: x wage share, y employment rate, z private debt ratio; t in years."""
    nu, alpha, beta, delta, phi0, phi1, r, kappa0, kappa1, kappa2 = c
    profit = 1 - x[0] - r * x[2]
    invest = kappa0 + kappa1 * np.exp(kappa2 * profit)
    return [
        x[0] * (phi1 / (1 - x[1]) ** 2 - phi0 - alpha),
        x[1] * (invest / nu - alpha - beta - delta),
        invest - profit - x[2] * (invest / nu - delta),
    ]


def _thomas(x: np.ndarray, c: Params) -> list[float]:
    """Thomas' substrate-inhibited reaction: x substrate, y co-substrate; c = (a, b, alpha, rho, K)."""
    a, b, alpha, rho, k = c
    rate = rho * x[0] * x[1] / (1 + x[0] + k * x[0] ** 2)
    return [a - x[0] - rate, alpha * (b - x[1]) - rate]


def _sir_deaths(x: np.ndarray, c: Params) -> list[float]:
    """SIR with standard incidence and disease deaths: N = x + y + z; c = (beta, gamma, alpha)."""
    incidence = c[0] * x[0] * x[1] / (x[0] + x[1] + x[2])
    return [-incidence, incidence - (c[1] + c[2]) * x[1], c[1] * x[1]]


def _diploid_selection(x: np.ndarray, c: Params) -> list[float]:
    """Allele frequency under viability selection; c = (w11, w12, w22)."""
    p, (w11, w12, w22) = x[0], c
    mean = p**2 * w11 + 2 * p * (1 - p) * w12 + (1 - p) ** 2 * w22
    return [p * (1 - p) * (p * (w11 - w12) + (1 - p) * (w12 - w22)) / mean]


def _elastic_pendulum(x: np.ndarray, c: Params) -> list[float]:
    """Spring pendulum in polar coordinates: x length, y angle, z and w their rates; c = (g, k/m, l0)."""
    g, stiffness, rest = c
    return [x[2], x[3], x[0] * x[3] ** 2 - stiffness * (x[0] - rest) + g * np.cos(x[1]),
            -(g * np.sin(x[1]) + 2 * x[2] * x[3]) / x[0]]  # fmt: skip


def _droop(x: np.ndarray, c: Params) -> list[float]:
    """Droop cell-quota chemostat: x nutrient, y cell quota, z biomass; c = (D, S0, rho_m, K, mu_m, Q_min)."""
    dilution, s0, rho_m, k, mu_m, q_min = c
    uptake = rho_m * x[0] / (k + x[0])
    growth = mu_m * (1 - q_min / x[1])
    return [dilution * (s0 - x[0]) - uptake * x[2], uptake - growth * x[1], (growth - dilution) * x[2]]


def _double_pendulum(x: np.ndarray, c: Params) -> list[float]:
    """Hamiltonian double pendulum as in dysts: angles x, y, canonical momenta z, w; c = (g, l1, l2, m1, m2)."""
    g, l1, l2, m1, m2 = c
    cos_diff, sin_diff = np.cos(x[0] - x[1]), np.sin(x[0] - x[1])
    denom = l1 * l2 * (m1 + m2 * sin_diff**2)
    th1dot = (l2 * x[2] - l1 * x[3] * cos_diff) / (l1 * denom)
    th2dot = ((m1 + m2) * l1 * x[3] - m2 * l2 * x[2] * cos_diff) / (m2 * l2 * denom)
    h1 = x[2] * x[3] * sin_diff / denom
    h2 = (m2 * l2 * x[2] ** 2 / (2 * l1 * denom**2) + 0.5 * m2 * x[3] * l2 * l1 * th2dot / denom) * np.sin(
        2 * (x[0] - x[1])
    )
    return [th1dot, th2dot, -(m1 + m2) * g * l1 * np.sin(x[0]) - h1 + h2, -m2 * g * l2 * np.sin(x[1]) + h1 - h2]


def _salton_sea(x: np.ndarray, c: Params) -> list[float]:
    """Salton Sea eco-epidemiology (dysts): x healthy fish, y infected fish, z pelicans; c = (r, k, lam, m, a, mu,
    th, d)."""
    r, k, lam, m, a, mu, th, d = c
    predation = x[1] * x[2] / (x[1] + a)
    return [r * x[0] * (1 - (x[0] + x[1]) / k) - lam * x[0] * x[1], lam * x[0] * x[1] - m * predation - mu * x[1],
            th * predation - d * x[2]]  # fmt: skip


KEENER_SNEYD = "Keener & Sneyd, Mathematical Physiology I (2nd ed., 2009)"
_CELLS_AND_PHYSIOLOGY = [
    published_system(
        "keener_sneyd_goldbeter_calcium",
        "Calcium-induced calcium release, two-pool model: cytosolic and stored Ca2+ (uM, t in s)",
        "Goldbeter, Dupont & Berridge (1990), PNAS 87:1461; " + KEENER_SNEYD + ", ch. 7 (calcium dynamics);"
        " parameters and first initial state of the curated BioModels encoding BIOMD0000000098 (read here in a"
        " Modelica port of it: v0 1, v1 7.3, beta 0.301, VM2 65, VM3 500, K2 1, KR 2, KA 0.9, kf 1, k 10,"
        " n = m = 2, p = 4; Z 0.15, Y 1.6); second initial state chosen here",
        "x' = c0 + c1 c2 - c3 H(x; c5, c10) + c4 H(y; c6, c11) H(x; c7, c12) + c8 y - c9 x;"
        " y' = c3 H(x; c5, c10) - c4 H(y; c6, c11) H(x; c7, c12) - c8 y; H(v; K, n) = v^n/(K^n + v^n)",
        (1.0, 7.3, 0.301, 65.0, 500.0, 1.0, 2.0, 0.9, 1.0, 10.0, 2.0, 2.0, 4.0), _calcium, (0.15, 1.6), (0.6, 0.4),
    ),
    published_system(
        "goldbeter_mitotic_oscillator",
        "Minimal cascade model of the mitotic oscillator: cyclin, active cdc2 kinase, active cyclin protease"
        " (t in min; record 100 min, a few cycles of about 25 min)",
        "Goldbeter (1991), PNAS 88:9107 (vi 0.025, vd 0.25, Kd 0.02, kd 0.01, Kc 0.5, VM1 3, V2 1.5, VM3 1, V4 0.5,"
        " K1..K4 0.005; checked against a Python transcription and the BioModels encoding Goldbeter1991_MinMitOscil);"
        " initial states chosen here",
        "x' = c0 - c1 z x/(c2 + x) - c3 x; y' = c5 x/(c4 + x) (1 - y)/(c6 + 1 - y) - c7 y/(c8 + y);"
        " z' = c9 y (1 - z)/(c10 + 1 - z) - c11 z/(c12 + z)",
        (0.025, 0.25, 0.02, 0.01, 0.5, 3.0, 0.005, 1.5, 0.005, 1.0, 0.005, 0.5, 0.005), _mitotic,
        (0.01, 0.01, 0.01), (0.5, 0.8, 0.3), t_end=100.0,
    ),
    published_system(
        "ingalls_goodwin_oscillator", "Goodwin oscillator: mRNA, enzyme and repressing metabolite (period about 5)",
        "Goodwin (1965), Adv. Enzyme Regul. 3:425; Ingalls, Mathematical Modeling in Systems Biology (2013),"
        " model 7.22 and Fig. 7.17 (a 360, k 1.368, b 1, alpha 1, beta 0.6, gamma 1, delta 0.8, n 12; read in"
        " a transcription of the figure's caption); initial states chosen here",
        "x' = c0/(c1^c7 + z^c7) - c2 x; y' = c3 x - c4 y; z' = c5 y - c6 z",
        (360.0, 1.368, 1.0, 1.0, 0.6, 1.0, 0.8, 12.0),
        lambda x, c: [c[0] / (c[1] ** c[7] + x[2] ** c[7]) - c[2] * x[0], c[3] * x[0] - c[4] * x[1],
                      c[5] * x[1] - c[6] * x[2]],
        (0.0, 0.0, 0.0), (5.0, 10.0, 2.0),
    ),
    published_system(
        "griffith_genetic_control", "Positive-feedback genetic control: mRNA and protein, bistable",
        "Griffith (1968), J. Theor. Biol. 20:209; form of Strogatz, Nonlinear Dynamics and Chaos (2nd ed.), §8.1"
        " (x' = -a x + y, y' = x^2/(1 + x^2) - b y); " + CHOSEN + " (a b < 1/2: off state and an on state at x 2)",
        "x' = -c0 x + y; y' = x^2/(1 + x^2) - c1 y",
        (0.4, 1.0), lambda x, c: [-c[0] * x[0] + x[1], x[0] ** 2 / (1 + x[0] ** 2) - c[1] * x[1]],
        (0.3, 0.1), (1.5, 1.0),
    ),
    published_system(
        "alon_incoherent_feedforward_loop", "Type-1 incoherent feed-forward loop after an input step: repressor Y"
        " and output Z (pulse)",
        "Mangan & Alon (2003), PNAS 100:11980; Alon, An Introduction to Systems Biology (2nd ed., 2019);"
        " " + CHOSEN + " (input on from t = 0; second state: a step while Z is still high)",
        "x' = c0 - c1 x; y' = c2/(1 + (x/c3)^c4) - c5 y",
        (1.0, 1.0, 1.0, 0.2, 2.0, 1.0),
        lambda x, c: [c[0] - c[1] * x[0], c[2] / (1 + (x[0] / c[3]) ** c[4]) - c[5] * x[1]],
        (0.0, 0.0), (0.3, 0.8),
    ),
    published_system(
        "goldbeter_koshland_switch", "Zero-order ultrasensitive covalent modification: modified protein fraction",
        "Goldbeter & Koshland (1981), PNAS 78:6840 (Michaelis-Menten kinase and phosphatase on a fixed total);"
        " " + CHOSEN + " (K1 = K2 = 0.05 of the total)",
        "x' = c0 (1 - x)/(c2 + 1 - x) - c1 x/(c3 + x)",
        (1.0, 0.8, 0.05, 0.05), lambda x, c: [c[0] * (1 - x[0]) / (c[2] + 1 - x[0]) - c[1] * x[0] / (c[3] + x[0])],
        (0.05,), (0.95,),
    ),
    published_system(
        "topp_beta_cell_insulin_glucose", "Beta-cell mass, insulin and glucose (G mg/dl, I uU/ml, beta mg, t in"
        " days; record 30 days: the beta-cell mass moves over weeks)",
        "Topp, Promislow, de Vries, Miura & Finegood (2000), J. Theor. Biol. 206:605 (R0 864, EG0 1.44, SI 0.72,"
        " sigma 43.2, alpha 20000, k 432, d0 0.06, r1 0.84e-3, r2 0.24e-5; read in an R transcription, BioModels"
        " BIOMD0000000341); initial states chosen here (hyperglycaemic start; low beta-cell mass)",
        "x' = c0 - (c1 + c2 y) x; y' = z c3 x^2/(c4 + x^2) - c5 y; z' = (-c6 + c7 x - c8 x^2) z",
        (864.0, 1.44, 0.72, 43.2, 20000.0, 432.0, 0.06, 0.00084, 0.0000024), _topp,
        (250.0, 10.0, 300.0), (100.0, 5.0, 150.0), t_end=30.0,
    ),
    published_system(
        "murray_thomas_substrate_inhibition", "Thomas' substrate-inhibited enzyme reaction (uric acid and oxygen),"
        " kinetics without diffusion",
        "Thomas (1975), in Analysis and Control of Immobilized Enzyme Systems; Murray, Mathematical Biology II"
        " (3rd ed., 2003), ch. 2 (a 150, b 100, alpha 1.5, rho 13, K 0.05 as Murray quotes them; not checked"
        " against a readable copy here); initial states chosen here",
        "x' = c0 - x - c3 x y/(1 + x + c4 x^2); y' = c2 (c1 - y) - c3 x y/(1 + x + c4 x^2)",
        (150.0, 100.0, 1.5, 13.0, 0.05), _thomas, (10.0, 10.0), (80.0, 60.0),
    ),
]

_MEDICINE_AND_ECOLOGY = [
    published_system(
        "kuznetsov_tumor_immune", "Effector cells and an immunogenic tumour (dimensionless; record 100 time units,"
        " damped cycles of about 11)",
        "Kuznetsov, Makalkin, Taylor & Perelson (1994), Bull. Math. Biol. 56:295 (sigma 0.1181, rho 1.131, eta"
        " 20.19, mu 0.00311, delta 0.3743, alpha 1.636, beta 0.002; checked against course code citing the paper"
        " and BioModels BIOMD0000000762); initial states chosen here",
        "x' = c0 + c1 x y/(c2 + y) - c3 x y - c4 x; y' = c5 y (1 - c6 y) - x y",
        (0.1181, 1.131, 20.19, 0.00311, 0.3743, 1.636, 0.002),
        lambda x, c: [c[0] + c[1] * x[0] * x[1] / (c[2] + x[1]) - c[3] * x[0] * x[1] - c[4] * x[0],
                      c[5] * x[1] * (1 - c[6] * x[1]) - x[0] * x[1]],
        (1.0, 50.0), (0.5, 300.0), t_end=100.0,
    ),
    published_system(
        "perelson_hiv_cd4", "HIV infection of CD4+ T cells: uninfected, latently and actively infected cells, virus"
        " (per mm^3, t in days; record 1000 days: the infection takes months to grow)",
        "Perelson, Kirschner & De Boer (1993), Math. Biosci. 114:81, Table 1 (s 10, r 0.03, Tmax 1500, muT 0.02,"
        " mub 0.24, muV 2.4, k1 2.4e-5, k2 3e-3; read in an mrgsolve transcription, BioModels BIOMD0000000874);"
        " N 1200 virions per cell chosen here (the paper varies N; above its threshold 774); first initial state"
        " the paper's (T 1000, V 1e-3), second chosen here",
        "x' = c0 - c3 x + c1 x (1 - (x + y + z)/c2) - c6 w x; y' = c6 w x - c3 y - c7 y; z' = c7 y - c4 z;"
        " w' = c8 c4 z - c6 w x - c5 w",
        (10.0, 0.03, 1500.0, 0.02, 0.24, 2.4, 2.4e-5, 3e-3, 1200.0),
        lambda x, c: [c[0] - c[3] * x[0] + c[1] * x[0] * (1 - (x[0] + x[1] + x[2]) / c[2]) - c[6] * x[3] * x[0],
                      c[6] * x[3] * x[0] - c[3] * x[1] - c[7] * x[1], c[7] * x[1] - c[4] * x[2],
                      c[8] * c[4] * x[2] - c[6] * x[3] * x[0] - c[5] * x[3]],
        (1000.0, 0.0, 0.0, 0.001), (800.0, 5.0, 1.0, 50.0),
        lambda c: {
            "x": {"1": c[0], "x": c[1] - c[3], "x^2": -c[1] / c[2], "x y": -c[1] / c[2], "x z": -c[1] / c[2],
                  "x w": -c[6]},
            "y": {"x w": c[6], "y": -(c[3] + c[7])},
            "z": {"y": c[7], "z": -c[4]},
            "w": {"z": c[8] * c[4], "x w": -c[6], "w": -c[5]},
        },
        t_end=1000.0,
    ),
    published_system(
        "dayneka_jusko_indirect_response", "Indirect pharmacodynamic response, inhibition of production: plasma"
        " drug (mg/l) and response (t in h; record 24 h)",
        "Dayneka, Garg & Jusko (1993), J. Pharmacokinet. Biopharm. 21:457 (model I) with mono-exponential drug"
        " decline; " + CHOSEN + " (k 0.3/h, kin 10, kout 0.5/h, Imax 0.9, IC50 2)",
        "x' = -c0 x; y' = c1 (1 - c3 x/(c4 + x)) - c2 y",
        (0.3, 10.0, 0.5, 0.9, 2.0),
        lambda x, c: [-c[0] * x[0], c[1] * (1 - c[3] * x[0] / (c[4] + x[0])) - c[2] * x[1]],
        (10.0, 20.0), (3.0, 12.0), t_end=24.0,
    ),
    published_system(
        "brauer_sir_disease_deaths", "SIR epidemic with standard incidence and disease deaths (people, t in weeks)",
        "Brauer & Castillo-Chavez, Mathematical Models in Population Biology and Epidemiology (2nd ed., 2012),"
        " (SIR with disease deaths, standard incidence); " + CHOSEN
        + " (R0 2.5; 1/6 of removals are deaths)",
        "x' = -c0 x y/(x + y + z); y' = c0 x y/(x + y + z) - (c1 + c2) y; z' = c1 y",
        (1.5, 0.5, 0.1), _sir_deaths, (990.0, 10.0, 0.0), (600.0, 150.0, 250.0),
    ),
    published_system(
        "brauer_sir_endemic", "SIR with births and deaths (endemic equilibrium, proportions)",
        "Brauer & Castillo-Chavez, Mathematical Models in Population Biology and Epidemiology (2nd ed., 2012),"
        " (SIR model with births and deaths); Hethcote (2000), SIAM Rev. 42:599; " + CHOSEN + " (R0 3.8)",
        "x' = c0 - c1 x y - c0 x; y' = c1 x y - (c2 + c0) y",
        (0.02, 2.0, 0.5),
        lambda x, c: [c[0] - c[1] * x[0] * x[1] - c[0] * x[0], c[1] * x[0] * x[1] - (c[2] + c[0]) * x[1]],
        (0.99, 0.01), (0.3, 0.05),
        lambda c: {"x": {"1": c[0], "x y": -c[1], "x": -c[0]}, "y": {"x y": c[1], "y": -(c[2] + c[0])}},
    ),
    published_system(
        "munz_zombie_szr", "Basic zombie outbreak (susceptible, zombie, removed; individuals)",
        "Munz, Hudea, Imad & Smith? (2009), in Infectious Disease Modelling Research Progress, ch. 4 (basic SZR"
        " model; beta 0.0095, delta 0.0001, zeta 0.0001, alpha 0.005, Pi 0, N 500; checked against BioModels"
        " MODEL1009230000 and the authors' MATLAB code); initial states chosen here",
        "x' = -c0 x y - c1 x; y' = c0 x y + c2 z - c3 x y; z' = c1 x + c3 x y - c2 z",
        (0.0095, 0.0001, 0.0001, 0.005),
        lambda x, c: [-c[0] * x[0] * x[1] - c[1] * x[0], c[0] * x[0] * x[1] + c[2] * x[2] - c[3] * x[0] * x[1],
                      c[1] * x[0] + c[3] * x[0] * x[1] - c[2] * x[2]],
        (499.0, 1.0, 0.0), (300.0, 50.0, 150.0),
        lambda c: {"x": {"x y": -c[0], "x": -c[1]}, "y": {"x y": c[0] - c[3], "z": c[2]},
                   "z": {"x": c[1], "x y": c[3], "z": -c[2]}},
    ),
    published_system(
        "may_leonard_cyclic_competition", "Three competitors with cyclic (rock-paper-scissors) dominance",
        "May & Leonard (1975), SIAM J. Appl. Math. 29:243; " + CHOSEN + " (alpha < 1 < beta, alpha + beta > 2:"
        " the orbit approaches the heteroclinic cycle)",
        "x' = x (1 - x - c0 y - c1 z); y' = y (1 - c1 x - y - c0 z); z' = z (1 - c0 x - c1 y - z)",
        (0.8, 1.3),
        lambda x, c: [x[0] * (1 - x[0] - c[0] * x[1] - c[1] * x[2]), x[1] * (1 - c[1] * x[0] - x[1] - c[0] * x[2]),
                      x[2] * (1 - c[0] * x[0] - c[1] * x[1] - x[2])],
        (0.5, 0.3, 0.2), (0.1, 0.1, 0.7),
        lambda c: {"x": {"x": 1.0, "x^2": -1.0, "x y": -c[0], "x z": -c[1]},
                   "y": {"y": 1.0, "x y": -c[1], "y^2": -1.0, "y z": -c[0]},
                   "z": {"z": 1.0, "x z": -c[0], "y z": -c[1], "z^2": -1.0}},
    ),
    published_system(
        "gard_hallam_food_chain", "Lotka-Volterra food chain: plant, herbivore, carnivore",
        "Gard & Hallam (1979), Bull. Math. Biol. 41:877 (persistence in Lotka-Volterra food chains); " + CHOSEN
        + " (persistent chain, interior equilibrium (2, 1, 1.875))",
        "x' = x (c0 - c1 x - y); y' = y (-c2 + x - c3 z); z' = z (-c4 + c5 y)",
        (2.0, 0.5, 0.5, 0.8, 0.6, 0.6),
        lambda x, c: [x[0] * (c[0] - c[1] * x[0] - x[1]), x[1] * (-c[2] + x[0] - c[3] * x[2]),
                      x[2] * (-c[4] + c[5] * x[1])],
        (1.0, 0.5, 0.5), (3.0, 2.0, 1.0),
        lambda c: {"x": {"x": c[0], "x^2": -c[1], "x y": -1.0}, "y": {"y": -c[2], "x y": 1.0, "y z": -c[3]},
                   "z": {"z": -c[4], "y z": c[5]}},
    ),
    published_system(
        "hofbauer_sigmund_rock_paper_scissors", "Replicator dynamics of rock-paper-scissors (win 1, loss 0.5)",
        "Hofbauer & Sigmund, Evolutionary Games and Population Dynamics (1998) (rock-scissors-paper game);"
        " " + CHOSEN + " (win a 1 above loss b 0.5: orbits spiral into the interior equilibrium)",
        "x' = x (-c1 y + c0 z - (c0 - c1)(x y + y z + z x)); y' = y (c0 x - c1 z - (c0 - c1)(x y + y z + z x));"
        " z' = z (-c1 x + c0 y - (c0 - c1)(x y + y z + z x))",
        (1.0, 0.5),
        lambda x, c: [
            x[i] * (c[0] * x[(i + 2) % 3] - c[1] * x[(i + 1) % 3]
                    - (c[0] - c[1]) * (x[0] * x[1] + x[1] * x[2] + x[2] * x[0]))
            for i in range(3)
        ],
        (0.7, 0.2, 0.1), (0.1, 0.3, 0.6),
        lambda c: {
            "x": {"x y": -c[1], "x z": c[0], "x^2 y": c[1] - c[0], "x y z": c[1] - c[0], "x^2 z": c[1] - c[0]},
            "y": {"x y": c[0], "y z": -c[1], "x y^2": c[1] - c[0], "y^2 z": c[1] - c[0], "x y z": c[1] - c[0]},
            "z": {"x z": -c[1], "y z": c[0], "x y z": c[1] - c[0], "y z^2": c[1] - c[0], "x z^2": c[1] - c[0]},
        },
    ),
    published_system(
        "crow_kimura_diploid_selection", "Allele frequency under diploid viability selection, heterozygote advantage"
        " (t in generations; record 100 generations)",
        "Crow & Kimura, An Introduction to Population Genetics Theory (1970) (continuous-time selection"
        " with mean fitness); " + CHOSEN + " (w11 0.8, w12 1, w22 0.7: stable polymorphism at p 0.6)",
        "x' = x (1 - x) (x (c0 - c1) + (1 - x)(c1 - c2))/(x^2 c0 + 2 x (1 - x) c1 + (1 - x)^2 c2)",
        (0.8, 1.0, 0.7), _diploid_selection, (0.05,), (0.95,), t_end=100.0,
    ),
    published_system(
        "droop_cell_quota_chemostat", "Droop cell-quota chemostat: nutrient, internal quota, phytoplankton biomass"
        " (t in days)",
        "Droop (1968), J. Mar. Biol. Assoc. UK 48:689; Smith & Waltman, The Theory of the Chemostat (1995)"
        " (variable-yield model); " + CHOSEN,
        "x' = c0 (c1 - x) - c2 x z/(c3 + x); y' = c2 x/(c3 + x) - c4 (1 - c5/y) y; z' = c4 (1 - c5/y) z - c0 z",
        (0.3, 10.0, 1.0, 0.5, 1.2, 0.1), _droop, (10.0, 0.3, 1.0), (2.0, 0.15, 40.0),
    ),
]

_CHEMISTRY_AND_NEURONS = [
    published_system(
        "schlogl_bistable_reaction", "Schlögl's second model, A + 2X <-> 3X, B <-> X: bistable autocatalysis",
        "Schlögl (1972), Z. Phys. 253:147; " + CHOSEN + " (rates such that the steady states are 1, 2 and 3)",
        "x' = c0 - c1 x + c2 x^2 - c3 x^3",
        (6.0, 11.0, 6.0, 1.0), lambda x, c: [c[0] - c[1] * x[0] + c[2] * x[0] ** 2 - c[3] * x[0] ** 3],
        (0.5,), (3.8,), lambda c: {"x": {"1": c[0], "x": -c[1], "x^2": c[2], "x^3": -c[3]}},
    ),
    published_system(
        "atkins_consecutive_reactions", "Consecutive first-order reactions A -> B -> C",
        "Atkins & de Paula, Physical Chemistry (9th ed., 2010) (consecutive elementary reactions); " + CHOSEN,
        "x' = -c0 x; y' = c0 x - c1 y; z' = c1 y",
        (0.5, 0.2), lambda x, c: [-c[0] * x[0], c[0] * x[0] - c[1] * x[1], c[1] * x[1]],
        (1.0, 0.0, 0.0), (0.4, 0.5, 0.1),
        lambda c: {"x": {"x": -c[0]}, "y": {"x": c[0], "y": -c[1]}, "z": {"y": c[1]}},
    ),
    published_system(
        "semenov_thermal_ignition", "Semenov's thermal explosion with Arrhenius heating (dimensionless temperature),"
        " below ignition",
        "Semenov (1928), Z. Phys. 48:571; Arrhenius factor exp(x/(1 + eps x)) of the Frank-Kamenetskii"
        " approximation; " + CHOSEN + " (Semenov number 0.2 < 1/e: a cool stable state)",
        "x' = c0 exp(x/(1 + c1 x)) - x",
        (0.2, 0.05), lambda x, c: [c[0] * np.exp(x[0] / (1 + c[1] * x[0])) - x[0]], (0.0,), (2.0,),
    ),
    published_system(
        "wilson_cortical_neuron", "Wilson's polynomial reduction of the Hodgkin-Huxley neuron, repetitive firing"
        " (V in units of 100 mV, t in ms; a spike every 3.5 ms)",
        "Wilson, Spikes, Decisions, and Actions (1999) (polynomial Hodgkin-Huxley approximation; coefficients"
        " 17.81, 47.71, 32.63, 0.55, 26, 0.92, 1.35, 1.03 and tau 1.9 ms as transcribed in a neuron-model library"
        " and a course notebook read here, with unit capacitance; the book not checked);"
        " stimulus current 1 chosen here",
        "x' = -(17.81 + 47.71 x + 32.63 x^2)(x - 0.55) - 26 y (x + 0.92) + c0; y' = (-y + 1.35 x + 1.03)/c1",
        (1.0, 1.9),
        lambda x, c: [-(17.81 + 47.71 * x[0] + 32.63 * x[0] ** 2) * (x[0] - 0.55) - 26.0 * x[1] * (x[0] + 0.92) + c[0],
                      (-x[1] + 1.35 * x[0] + 1.03) / c[1]],
        (-0.7, 0.088), (-0.3, 0.5),
        lambda c: {"x": {"1": 0.55 * 17.81 + c[0], "x": 0.55 * 47.71 - 17.81, "x^2": 0.55 * 32.63 - 47.71,
                         "x^3": -32.63, "x y": -26.0, "y": -26.0 * 0.92},
                   "y": {"1": 1.03 / c[1], "x": 1.35 / c[1], "y": -1.0 / c[1]}},
    ),
    published_system(
        "statz_demars_class_b_laser", "Class-B laser rate equations: photon number and population inversion"
        " (dimensionless; damped relaxation oscillations)",
        "Statz & deMars (1960), Quantum Electronics 530; dimensionless form of Erneux & Glorieux, Laser Dynamics"
        " (2010); " + CHOSEN + " (pump 2 times threshold; lifetime ratio 20, far below real lasers so that"
        " the record is not stiff)",
        "x' = c0 x (y - 1); y' = c1 - y - x y",
        (20.0, 2.0), lambda x, c: [c[0] * x[0] * (x[1] - 1), c[1] - x[1] - x[0] * x[1]], (0.1, 1.0), (2.0, 0.5),
        lambda c: {"x": {"x y": c[0], "x": -c[0]}, "y": {"1": c[1], "y": -1.0, "x y": -1.0}},
    ),
]

_MECHANICS_AND_CIRCUITS = [
    published_system(
        "euler_free_rigid_body", "Torque-free rigid body, angular velocities in the principal frame",
        "Euler's equations; Goldstein, Poole & Safko, Classical Mechanics (3rd ed., 2002), ch. 5;"
        " principal moments 1, 2, 3 and initial states chosen here (near the major and the unstable middle axis)",
        "x' = (c1 - c2)/c0 y z; y' = (c2 - c0)/c1 z x; z' = (c0 - c1)/c2 x y",
        (1.0, 2.0, 3.0),
        lambda x, c: [(c[1] - c[2]) / c[0] * x[1] * x[2], (c[2] - c[0]) / c[1] * x[2] * x[0],
                      (c[0] - c[1]) / c[2] * x[0] * x[1]],
        (0.1, 1.0, 0.1), (0.3, 0.2, 1.0),
        lambda c: {"x": {"y z": (c[1] - c[2]) / c[0]}, "y": {"x z": (c[2] - c[0]) / c[1]},
                   "z": {"x y": (c[0] - c[1]) / c[2]}},
    ),
    published_system(
        "nayfeh_mook_elastic_pendulum", "Elastic (spring) pendulum: length, angle and their rates (m, rad, s)",
        "Nayfeh & Mook, Nonlinear Oscillations (1979) (spring pendulum, autoparametric); " + CHOSEN
        + " (g 9.81, k/m 40/s^2, rest length 1 m) and initial states (moderate swings)",
        "x' = z; y' = w; z' = x w^2 - c1 (x - c2) + c0 cos(y); w' = -(c0 sin(y) + 2 z w)/x",
        (9.81, 40.0, 1.0), _elastic_pendulum, (1.3, 0.3, 0.0, 0.0), (1.2, -0.5, 0.5, 0.0),
    ),
    published_system(
        "goldstein_relativistic_oscillator", "Relativistic harmonic oscillator: position and momentum (units m = c"
        " = k = 1)",
        "Goldstein, Poole & Safko, Classical Mechanics (3rd ed., 2002), ch. 7 (relativistic Lagrangian; the"
        " oscillator is an exercise there); " + CHOSEN + " (and initial states from nearly classical to strongly"
        " relativistic)",
        "x' = y/(c0 sqrt(1 + (y/(c0 c1))^2)); y' = -c2 x",
        (1.0, 1.0, 1.0), lambda x, c: [x[1] / (c[0] * np.sqrt(1 + (x[1] / (c[0] * c[1])) ** 2)), -c[2] * x[0]],
        (2.0, 0.0), (0.5, 0.0),
    ),
    published_system(
        "lennard_jones_vibration", "Vibration of a diatomic molecule in the Lennard-Jones potential (reduced units)",
        "Lennard-Jones (1924), Proc. R. Soc. A 106:463 (the 12-6 potential); reduced units eps = sigma = mu = 1"
        " and bound initial states chosen here",
        "x' = y; y' = 4 c0/c2 (12 c1^12/x^13 - 6 c1^6/x^7)",
        (1.0, 1.0, 1.0),
        lambda x, c: [x[1], 4 * c[0] / c[2] * (12 * c[1] ** 12 / x[0] ** 13 - 6 * c[1] ** 6 / x[0] ** 7)],
        (1.05, 0.0), (1.4, 0.0),
    ),
    published_system(
        "moore_greitzer_jet_engine", "Moore-Greitzer compressor (jet engine) model in closed loop, shifted"
        " coordinates: mass flow and pressure rise",
        "Moore & Greitzer (1986), J. Eng. Gas Turbines Power 108:68; closed-loop form of Aylward, Parrilo &"
        " Slotine (2008), Automatica 44:2163, as used in the Flow* / CORA reachability benchmarks (jet engine,"
        " coefficients read there); initial states chosen here (the benchmark's box centre (1, 1) and another)",
        "x' = -y - c0 x^2 - c1 x^3 - c2; y' = c3 x - y",
        (1.5, 0.5, 0.5, 3.0),
        lambda x, c: [-x[1] - c[0] * x[0] ** 2 - c[1] * x[0] ** 3 - c[2], c[3] * x[0] - x[1]],
        (1.0, 1.0), (-1.5, 0.5),
        lambda c: {"x": {"y": -1.0, "x^2": -c[0], "x^3": -c[1], "1": -c[2]}, "y": {"x": c[3], "y": -1.0}},
    ),
    published_system(
        "holmes_rand_duffing_van_der_pol", "Duffing-van der Pol oscillator, symmetric Takens-Bogdanov unfolding"
        " (large limit cycle around the three equilibria)",
        "Holmes & Rand (1980), Q. Appl. Math. 38:157; Guckenheimer & Holmes, Nonlinear Oscillations, Dynamical"
        " Systems, and Bifurcations of Vector Fields (1983), ch. 7; " + CHOSEN + " (mu1 1, mu2 1.2: beyond the"
        " Hopf bifurcation of the side equilibria at mu2 = mu1)",
        "x' = y; y' = c0 x + c1 y - x^3 - x^2 y",
        (1.0, 1.2), lambda x, c: [x[1], c[0] * x[0] + c[1] * x[1] - x[0] ** 3 - x[0] ** 2 * x[1]],
        (0.1, 0.0), (2.0, 1.0),
        lambda c: {"x": {"y": 1.0}, "y": {"x": c[0], "y": c[1], "x^3": -1.0, "x^2 y": -1.0}},
    ),
    published_system(
        "jordan_smith_circle_limit_cycle", "Oscillator whose limit cycle is the unit circle",
        "Jordan & Smith, Nonlinear Ordinary Differential Equations (4th ed., 2007) (x'' + (x^2 + x'^2 - 1)"
        " x' + x = 0, an example with a known limit cycle); coefficient 1 as in that example (from memory of the"
        " text, not checked against a copy here); initial states chosen here (inside and outside the cycle)",
        "x' = y; y' = -x - c0 (x^2 + y^2 - 1) y",
        (1.0,), lambda x, c: [x[1], -x[0] - c[0] * (x[0] ** 2 + x[1] ** 2 - 1) * x[1]], (0.1, 0.0), (2.0, 0.0),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -1.0, "y": c[0], "x^2 y": -c[0], "y^3": -c[0]}},
    ),
]

GRASSELLI = (
    "Grasselli & Costa Lima (2012), Math. Financ. Econ. 6:191 (nu 3, alpha 0.025, beta 0.02, delta 0.01,"
    " Phillips curve Phi(l) = phi1/(1 - l)^2 - phi0 with phi0 0.04/(1 - 0.04^2), phi1 0.04^3/(1 - 0.04^2);"
    " checked against the authors' MATLAB code keen.m)"
)
_ECONOMICS = [
    published_system(
        "grasselli_goodwin_growth_cycle", "Goodwin growth cycle with a nonlinear Phillips curve: wage share and"
        " employment rate (t in years; cycles of about 7 years)",
        f"Goodwin (1967), in Socialism, Capitalism and Economic Growth; {GRASSELLI}; initial states chosen here",
        "x' = x (c5/(1 - y)^2 - c4 - c1); y' = y ((1 - x)/c0 - c1 - c2 - c3)",
        (3.0, 0.025, 0.02, 0.01, 0.04 / (1 - 0.04**2), 0.04**3 / (1 - 0.04**2)),
        lambda x, c: [x[0] * (c[5] / (1 - x[1]) ** 2 - c[4] - c[1]), x[1] * ((1 - x[0]) / c[0] - c[1] - c[2] - c[3])],
        (0.8, 0.92), (0.7, 0.95),
    ),
    published_system(
        "grasselli_keen_debt", "Keen model of debt-financed investment: wage share, employment rate, debt ratio"
        " (t in years; record 100 years: the debt ratio settles over decades)",
        f"Keen (1995), J. Post Keynes. Econ. 17:607; {GRASSELLI[:-1]}; r 0.03, investment kappa(pi) = kappa0 +"
        " kappa1 exp(kappa2 pi) with kappa0 -0.0065, kappa1 exp(-5), kappa2 20); initial states chosen here (both"
        " in the basin of the good equilibrium)",
        "x' = x (c5/(1 - y)^2 - c4 - c1); y' = y (k(p)/c0 - c1 - c2 - c3); z' = k(p) - p - z (k(p)/c0 - c3);"
        " p = 1 - x - c6 z, k(p) = c7 + c8 exp(c9 p)",
        (3.0, 0.025, 0.02, 0.01, 0.04 / (1 - 0.04**2), 0.04**3 / (1 - 0.04**2), 0.03, -0.0065, float(np.exp(-5.0)),
         20.0),
        _keen, (0.75, 0.75, 0.1), (0.9, 0.9, 0.5), t_end=100.0,
    ),
]

_CHAOTIC_FLOWS = [
    published_system(
        "dysts_rucklidge", "Rucklidge's model of double convection",
        f"Rucklidge (1992), J. Fluid Mech.; {DYSTS}",
        "x' = -c0 x + c1 y - y z; y' = x; z' = -z + y^2",
        (2.0, 6.7), lambda x, c: [-c[0] * x[0] + c[1] * x[1] - x[1] * x[2], x[0], -x[2] + x[1] ** 2],
        (1.9257158, 3.1923835, 5.7829655), (0.6588, 0.5533, 1.9244),
        lambda c: {"x": {"x": -c[0], "y": c[1], "y z": -1.0}, "y": {"x": 1.0}, "z": {"z": -1.0, "y^2": 1.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_rikitake_dynamo", "Rikitake's two-disk dynamo (reversals of the geomagnetic field)",
        f"Rikitake (1958), Proc. Camb. Phil. Soc.; {DYSTS}",
        "x' = -c1 x + y z; y' = -c1 y - c0 x + x z; z' = 1 - x y",
        (1.0, 1.0),
        lambda x, c: [-c[1] * x[0] + x[1] * x[2], -c[1] * x[1] - c[0] * x[0] + x[0] * x[2], 1 - x[0] * x[1]],
        (-0.7791562791136255, -0.6302244598741468, 2.671200187214492), (-0.6, -0.1139, 1.3632),
        lambda c: {"x": {"x": -c[1], "y z": 1.0}, "y": {"y": -c[1], "x": -c[0], "x z": 1.0},
                   "z": {"1": 1.0, "x y": -1.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_rabinovich_fabrikant", "Rabinovich-Fabrikant stochastic self-modulation of waves",
        f"Rabinovich & Fabrikant (1979), Sov. Phys. JETP; {DYSTS}",
        "x' = y z - y + y x^2 + c1 x; y' = 3 x z + x - x^3 + c1 y; z' = -2 c0 z - 2 x y z",
        (1.1, 0.87),
        lambda x, c: [x[1] * x[2] - x[1] + x[1] * x[0] ** 2 + c[1] * x[0],
                      3 * x[0] * x[2] + x[0] - x[0] ** 3 + c[1] * x[1], -2 * c[0] * x[2] - 2 * x[0] * x[1] * x[2]],
        (-1.8207276, 0.83440917, 0.2078248), (-0.9035, 1.6819, 1.0905),
        lambda c: {"x": {"y z": 1.0, "y": -1.0, "x^2 y": 1.0, "x": c[1]},
                   "y": {"x z": 3.0, "x": 1.0, "x^3": -1.0, "y": c[1]},
                   "z": {"z": -2 * c[0], "x y z": -2.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_finance", "Chaotic finance system: interest rate, investment demand, price index",
        f"Cai & Huang (2007), Int. J. Nonlinear Sci. 3; {DYSTS}",
        "x' = (1/c1 - c0) x + z + x y; y' = -c1 y - x^2; z' = -x - c2 z",
        (0.001, 0.2, 1.1),
        lambda x, c: [(1 / c[1] - c[0]) * x[0] + x[2] + x[0] * x[1], -c[1] * x[1] - x[0] ** 2, -x[0] - c[2] * x[2]],
        (-0.51664739, -3.9568707, 0.0012893581), (-0.391, -4.5162, 0.7406),
        lambda c: {"x": {"x": 1 / c[1] - c[0], "z": 1.0, "x y": 1.0}, "y": {"y": -c[1], "x^2": -1.0},
                   "z": {"x": -1.0, "z": -c[2]}},
        chaotic=True,
    ),
    published_system(
        "dysts_isothermal_autocatalator", "Three-variable isothermal autocatalator (mixed-mode oscillations)",
        f"Petrov, Scott & Showalter (1992), J. Chem. Phys.; {DYSTS} (IsothermalChemical)",
        "x' = c2 (c1 + z) - x y^2 - x; y' = (x y^2 + x - y)/c3; z' = (y - z)/c0",
        (1.0, 2.5, 0.29786, 0.013),
        lambda x, c: [c[2] * (c[1] + x[2]) - x[0] * x[1] ** 2 - x[0], (x[0] * x[1] ** 2 + x[0] - x[1]) / c[3],
                      (x[1] - x[2]) / c[0]],
        (0.5141505602006595, 0.9984288208727641, 1.0061777118724), (0.512, 0.9222, 1.0078),
        lambda c: {"x": {"1": c[2] * c[1], "z": c[2], "x y^2": -1.0, "x": -1.0},
                   "y": {"x y^2": 1 / c[3], "x": 1 / c[3], "y": -1 / c[3]},
                   "z": {"y": 1 / c[0], "z": -1 / c[0]}},
        chaotic=True,
    ),
    published_system(
        "dysts_double_pendulum", "Double pendulum, canonical momenta (unit masses and lengths)",
        f"Marion & Thornton, Classical Dynamics of Particles and Systems, as dysts cites it; {DYSTS}",
        "x' = (c2 z - c1 w cos(x - y))/(c1 D); y' = ((c3 + c4) c1 w - c4 c2 z cos(x - y))/(c4 c2 D);"
        " z' = -(c3 + c4) c0 c1 sin(x) - h1 + h2; w' = -c4 c0 c2 sin(y) + h1 - h2; D = c1 c2 (c3 + c4 sin(x - y)^2),"
        " h1 = z w sin(x - y)/D, h2 = (c4 c2 z^2/(2 c1 D^2) + c4 w c1 c2 y'/(2 D)) sin(2 (x - y))",
        (9.81, 1.0, 1.0, 1.0, 1.0), _double_pendulum,
        (-44.334542, 223.53554, -1.2249799, 2.535486), (-43.9129, 224.6179, 7.1736, 1.2964), chaotic=True,
    ),
    published_system(
        "dysts_salton_sea", "Salton Sea eco-epidemiology: healthy fish, infected fish, pelicans",
        f"Upadhyay, Bairagi, Kundu & Chattopadhyay (2007), Appl. Math. Comput.; {DYSTS}",
        "x' = c0 x (1 - (x + y)/c1) - c2 x y; y' = c2 x y - c3 y z/(y + c4) - c5 y; z' = c6 y z/(y + c4) - c7 z",
        (22.0, 400.0, 0.06, 15.5, 15.0, 3.4, 10.0, 8.3), _salton_sea,
        (231.92548, 89.511944, 56.753804), (245.9317, 95.2045, 49.132), chaotic=True,
    ),
]

EXTRA: dict[str, PublishedSystem] = {
    s.name: s
    for s in (*_CELLS_AND_PHYSIOLOGY, *_MEDICINE_AND_ECOLOGY, *_CHEMISTRY_AND_NEURONS, *_MECHANICS_AND_CIRCUITS,
              *_ECONOMICS, *_CHAOTIC_FLOWS)
}
"""The third batch of published systems by name, grouped by field."""
