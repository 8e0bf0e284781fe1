"""More published ODE systems, beyond ODEBench: textbooks and papers of biology, chemistry, mechanics, circuits.

Transcribed by hand, one entry per system, with its source. Three kinds of provenance, said in each
``source`` string:

- equation, parameters and first initial state published together (the ``dysts`` chaotic flows:
  Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven modelling", NeurIPS
  Datasets and Benchmarks 2021, ``dysts/data/chaotic_attractors.json``; the second initial state is
  the first integrated over 3 time units, a later point on the same attractor);
- published equation and published parameter values (e.g. Hodgkin-Huxley, Gardner's toggle switch,
  Hastings-Powell, Khalil's tunnel diode, Bass diffusion), initial states chosen here;
- published equation, parameter values chosen here in the regime the source discusses (marked
  "parameters chosen here").

The same conventions as :mod:`pipeline.systems_published`: states ``x, y, z, w`` in the source's
order; polynomial systems give their expanded terms (a test checks them against the formula);
each record spans [0, 10] in the system's time unit unless the published time scale makes that
useless (neuron models in ms: ``t_end`` is set per system and said in its description).
"""

from __future__ import annotations

import numpy as np

from pipeline.systems_corpus import Params, PublishedSystem, published_system

__all__ = ["MORE"]

MURRAY = "Murray, Mathematical Biology I (3rd ed., 2002)"
DYSTS = "parameters and first initial state from dysts (Gilpin 2021, chaotic_attractors.json)"
CHOSEN = "parameters chosen here"


def _vtrap(u: float, s: float) -> float:
    """u / (1 - exp(-u/s)), continuous at u = 0 (value s), as in Hodgkin-Huxley's rate functions."""
    return s if abs(u) < 1e-9 else u / -np.expm1(-u / s)


def _hodgkin_huxley(x: np.ndarray, c: Params) -> list[float]:
    """Hodgkin-Huxley (V in mV, t in ms): c = (C, gNa, gK, gL, ENa, EK, EL, I); states V, m, h, n."""
    v, m, h, n = x
    cap, g_na, g_k, g_l, e_na, e_k, e_l, current = c
    a_m, b_m = 0.1 * _vtrap(v + 40.0, 10.0), 4.0 * np.exp(-(v + 65.0) / 18.0)
    a_h, b_h = 0.07 * np.exp(-(v + 65.0) / 20.0), 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    a_n, b_n = 0.01 * _vtrap(v + 55.0, 10.0), 0.125 * np.exp(-(v + 65.0) / 80.0)
    ionic = g_na * m**3 * h * (v - e_na) + g_k * n**4 * (v - e_k) + g_l * (v - e_l)
    return [
        (current - ionic) / cap,
        a_m * (1 - m) - b_m * m,
        a_h * (1 - h) - b_h * h,
        a_n * (1 - n) - b_n * n,
    ]


def _morris_lecar(x: np.ndarray, c: Params) -> list[float]:
    """Morris-Lecar (V in mV, t in ms): c = (C, gL, gCa, gK, VL, VCa, VK, V1, V2, V3, V4, phi, I)."""
    v, w = x
    cap, g_l, g_ca, g_k, v_l, v_ca, v_k, v1, v2, v3, v4, phi, current = c
    m_inf = 0.5 * (1 + np.tanh((v - v1) / v2))
    w_inf = 0.5 * (1 + np.tanh((v - v3) / v4))
    rate = phi * np.cosh((v - v3) / (2 * v4))
    return [
        (current - g_l * (v - v_l) - g_ca * m_inf * (v - v_ca) - g_k * w * (v - v_k)) / cap,
        rate * (w_inf - w),
    ]


def _wilson_cowan_sigmoid(v: float, a: float, theta: float) -> float:
    """Wilson-Cowan response 1/(1 + exp(-a(v - theta))) - 1/(1 + exp(a theta)) (zero at v = 0)."""
    return 1 / (1 + np.exp(-a * (v - theta))) - 1 / (1 + np.exp(a * theta))


def _wilson_cowan(x: np.ndarray, c: Params) -> list[float]:
    """Wilson-Cowan: c = (c1, c2, c3, c4, a_e, theta_e, a_i, theta_i, k_e, k_i, P, Q), r_e = r_i = 1."""
    e, i = x
    c1, c2, c3, c4, a_e, th_e, a_i, th_i, k_e, k_i, p, q = c
    return [
        -e + (k_e - e) * _wilson_cowan_sigmoid(c1 * e - c2 * i + p, a_e, th_e),
        -i + (k_i - i) * _wilson_cowan_sigmoid(c3 * e - c4 * i + q, a_i, th_i),
    ]


def _hastings_powell(x: np.ndarray, c: Params) -> list[float]:
    """Hastings-Powell three-species food chain: c = (a1, b1, a2, b2, d1, d2)."""
    a1, b1, a2, b2, d1, d2 = c
    f1 = a1 * x[0] / (1 + b1 * x[0])
    f2 = a2 * x[1] / (1 + b2 * x[1])
    return [x[0] * (1 - x[0]) - f1 * x[1], f1 * x[1] - f2 * x[2] - d1 * x[1], f2 * x[2] - d2 * x[2]]


def _cstr(x: np.ndarray, c: Params) -> list[float]:
    """Uppal-Ray-Poore CSTR, dimensionless: c = (Da, B, beta, gamma); x conversion, y temperature."""
    da, b, beta, gamma = c
    rate = da * (1 - x[0]) * np.exp(x[1] / (1 + x[1] / gamma))
    return [-x[0] + rate, -x[1] + b * rate - beta * x[1]]


def _kepler(x: np.ndarray, c: Params) -> list[float]:
    """Planar Kepler problem: positions x, y, velocities z, w, c = (GM,)."""
    r3 = (x[0] ** 2 + x[1] ** 2) ** 1.5
    return [x[2], x[3], -c[0] * x[0] / r3, -c[0] * x[1] / r3]


def _tunnel_diode_h(v: float) -> float:
    """Khalil's tunnel-diode characteristic i = h(v) (mA, v in V)."""
    return 17.76 * v - 103.79 * v**2 + 229.62 * v**3 - 226.31 * v**4 + 83.72 * v**5


_BIOLOGY = [
    published_system(
        "murray_may_predator_prey", "Realistic predator-prey (May / Holling-Tanner), dimensionless",
        f"{MURRAY}, §3.4 (realistic predator-prey models, dimensionless form); {CHOSEN} (limit-cycle side)",
        "x' = x (1 - x) - c0 x y/(x + c1); y' = c2 y (1 - y/x)",
        (1.0, 0.1, 0.1), lambda x, c: [x[0] * (1 - x[0]) - c[0] * x[0] * x[1] / (x[0] + c[1]),
                                       c[2] * x[1] * (1 - x[1] / x[0])],
        (0.6, 0.3), (0.3, 0.1),
    ),
    published_system(
        "rosenzweig_macarthur_predator_prey", "Logistic prey, Holling type II predator (paradox of enrichment)",
        f"Rosenzweig & MacArthur (1963), Am. Nat. 97:209, dimensionless form; {CHOSEN} (limit cycle, K > 1 + 2 x*)",
        "x' = x (1 - x/c0) - x y/(1 + x); y' = c1 x y/(1 + x) - c2 y",
        (3.0, 0.5, 0.2), lambda x, c: [x[0] * (1 - x[0] / c[0]) - x[0] * x[1] / (1 + x[0]),
                                       c[1] * x[0] * x[1] / (1 + x[0]) - c[2] * x[1]],
        (1.0, 0.5), (2.5, 1.0),
    ),
    published_system(
        "beddington_deangelis_predator_prey", "Predator-prey with Beddington-DeAngelis functional response",
        f"Beddington (1975), J. Anim. Ecol. 44:331; DeAngelis et al. (1975), Ecology 56:881; {CHOSEN}",
        "x' = x (1 - x) - c0 x y/(1 + c1 x + c2 y); y' = c3 c0 x y/(1 + c1 x + c2 y) - c4 y",
        (2.0, 1.0, 0.5, 0.8, 0.3),
        lambda x, c: [x[0] * (1 - x[0]) - c[0] * x[0] * x[1] / (1 + c[1] * x[0] + c[2] * x[1]),
                      c[3] * c[0] * x[0] * x[1] / (1 + c[1] * x[0] + c[2] * x[1]) - c[4] * x[1]],
        (0.5, 0.5), (0.9, 0.2),
    ),
    published_system(
        "murray_holling_type3_predator_prey", "Logistic prey, sigmoidal (Holling type III) predation",
        f"Holling (1959), Can. Entomol. 91:385; {MURRAY}, §3.4 (functional responses); {CHOSEN}",
        "x' = x (1 - x/c0) - c1 x^2 y/(1 + x^2); y' = c2 x^2 y/(1 + x^2) - c3 y",
        (5.0, 1.0, 0.8, 0.4),
        lambda x, c: [x[0] * (1 - x[0] / c[0]) - c[1] * x[0] ** 2 * x[1] / (1 + x[0] ** 2),
                      c[2] * x[0] ** 2 * x[1] / (1 + x[0] ** 2) - c[3] * x[1]],
        (2.0, 1.0), (4.0, 0.5),
    ),
    published_system(
        "ivlev_predator_prey", "Logistic prey, Ivlev (exponential saturation) predation",
        f"Ivlev (1961), Experimental Ecology of the Feeding of Fishes; Kooij & Zegeling (1996), J. Math. Anal."
        f" Appl. 198:473; {CHOSEN}",
        "x' = x (1 - x/c0) - y (1 - exp(-c1 x)); y' = y (c2 (1 - exp(-c1 x)) - c3)",
        (3.0, 1.0, 0.8, 0.3),
        lambda x, c: [x[0] * (1 - x[0] / c[0]) - x[1] * (1 - np.exp(-c[1] * x[0])),
                      x[1] * (c[2] * (1 - np.exp(-c[1] * x[0])) - c[3])],
        (1.0, 0.5), (2.5, 0.2),
    ),
    published_system(
        "murray_lotka_volterra_logistic_prey", "Lotka-Volterra predator-prey with logistic prey",
        f"{MURRAY}, §3.3-3.4 (prey with carrying capacity); {CHOSEN}",
        "x' = x (c0 - c1 x - c2 y); y' = y (c3 x - c4)",
        (1.0, 0.1, 0.5, 0.2, 0.6),
        lambda x, c: [x[0] * (c[0] - c[1] * x[0] - c[2] * x[1]), x[1] * (c[3] * x[0] - c[4])],
        (5.0, 1.0), (2.0, 3.0),
        lambda c: {"x": {"x": c[0], "x^2": -c[1], "x y": -c[2]}, "y": {"x y": c[3], "y": -c[4]}},
    ),
    published_system(
        "gilpin_ayala_theta_logistic", "Theta-logistic population growth",
        f"Gilpin & Ayala (1973), PNAS 70:3590; {CHOSEN} (theta < 1)",
        "x' = c0 x (1 - (x/c1)^c2)",
        (0.5, 100.0, 0.4), lambda x, c: [c[0] * x[0] * (1 - (x[0] / c[1]) ** c[2])], (5.0,), (150.0,),
    ),
    published_system(
        "von_bertalanffy_growth", "Von Bertalanffy individual growth (anabolism ~ surface, catabolism ~ mass)",
        f"von Bertalanffy (1957), Q. Rev. Biol. 32:217; {CHOSEN}",
        "x' = c0 x^(2/3) - c1 x",
        (1.0, 0.3), lambda x, c: [c[0] * x[0] ** (2 / 3) - c[1] * x[0]], (1.0,), (60.0,),
    ),
    published_system(
        "berec_allee_mate_finding", "Logistic growth with a mate-finding Allee effect",
        f"Boukal & Berec (2002), J. Theor. Biol. 218:375 (mate-finding term x/(x + c1)); {CHOSEN}",
        "x' = c0 x (x/(x + c1)) (1 - x/c2)",
        (1.0, 2.0, 10.0), lambda x, c: [c[0] * x[0] * x[0] / (x[0] + c[1]) * (1 - x[0] / c[2])], (1.0,), (15.0,),
    ),
    published_system(
        "smith_waltman_chemostat_monod", "Chemostat with Monod uptake: substrate and biomass",
        f"Monod (1950); Smith & Waltman, The Theory of the Chemostat (1995), ch. 1; {CHOSEN}",
        "x' = c0 (c1 - x) - c2 x y/(c4 (c3 + x)); y' = c2 x y/(c3 + x) - c0 y",
        (0.3, 5.0, 1.0, 1.0, 0.5),
        lambda x, c: [c[0] * (c[1] - x[0]) - c[2] * x[0] * x[1] / (c[4] * (c[3] + x[0])),
                      c[2] * x[0] * x[1] / (c[3] + x[0]) - c[0] * x[1]],
        (5.0, 0.1), (1.0, 1.0),
    ),
    published_system(
        "hastings_powell_food_chain", "Three-species food chain with Holling type II links (chaotic 'teacup')",
        "Hastings & Powell (1991), Ecology 72:896 (a1 5, b1 3, a2 0.1, b2 2, d1 0.4, d2 0.01); second initial"
        " states points on the attractor (from (0.75, 0.15, 10) after 500 and 1000 time units); record 100"
        " time units (the slow predator barely moves in 10)",
        "x' = x (1 - x) - c0 x y/(1 + c1 x); y' = c0 x y/(1 + c1 x) - c2 y z/(1 + c3 y) - c4 y;"
        " z' = c2 y z/(1 + c3 y) - c5 z",
        (5.0, 3.0, 0.1, 2.0, 0.4, 0.01), _hastings_powell, (0.8206, 0.1139, 10.3802), (0.682, 0.2025, 9.8859),
        chaotic=True, t_end=100.0,
    ),
]

_EPIDEMICS_AND_GENES = [
    published_system(
        "hethcote_sirs", "SIRS epidemic with waning immunity (proportions)",
        f"Hethcote (2000), SIAM Rev. 42:599 (SIRS); {CHOSEN}",
        "x' = -c0 x y + c2 z; y' = c0 x y - c1 y; z' = c1 y - c2 z",
        (1.2, 0.3, 0.1),
        lambda x, c: [-c[0] * x[0] * x[1] + c[2] * x[2], c[0] * x[0] * x[1] - c[1] * x[1], c[1] * x[1] - c[2] * x[2]],
        (0.95, 0.05, 0.0), (0.7, 0.2, 0.1),
        lambda c: {"x": {"x y": -c[0], "z": c[2]}, "y": {"x y": c[0], "y": -c[1]}, "z": {"y": c[1], "z": -c[2]}},
    ),
    published_system(
        "capasso_serio_sir_saturating", "SIR with births and saturating incidence",
        f"Capasso & Serio (1978), Math. Biosci. 42:43; {CHOSEN}",
        "x' = c0 - c1 x y/(1 + c2 y) - c0 x; y' = c1 x y/(1 + c2 y) - (c3 + c0) y",
        (0.1, 1.5, 2.0, 0.3),
        lambda x, c: [c[0] - c[1] * x[0] * x[1] / (1 + c[2] * x[1]) - c[0] * x[0],
                      c[1] * x[0] * x[1] / (1 + c[2] * x[1]) - (c[3] + c[0]) * x[1]],
        (0.9, 0.1), (0.6, 0.3),
    ),
    published_system(
        "ross_macdonald_malaria", "Ross-Macdonald malaria model: infected humans and mosquitoes (proportions)",
        f"Ross (1911), The Prevention of Malaria; Macdonald (1957); form of Smith et al. (2012), PLoS Pathog."
        f" 8:e1002588; {CHOSEN}",
        "x' = c0 y (1 - x) - c1 x; y' = c2 x (1 - y) - c3 y",
        (1.5, 0.2, 0.6, 0.5),
        lambda x, c: [c[0] * x[1] * (1 - x[0]) - c[1] * x[0], c[2] * x[0] * (1 - x[1]) - c[3] * x[1]],
        (0.05, 0.02), (0.5, 0.1),
        lambda c: {"x": {"y": c[0], "x y": -c[0], "x": -c[1]}, "y": {"x": c[2], "x y": -c[2], "y": -c[3]}},
    ),
    published_system(
        "nowak_may_hiv_basic", "Basic virus dynamics: uninfected cells, infected cells, free virus",
        f"Nowak & May, Virus Dynamics (2000), ch. 3 (basic model); {CHOSEN} (R0 about 17)",
        "x' = c0 - c1 x - c2 x z; y' = c2 x z - c3 y; z' = c4 y - c5 z",
        (1.0, 0.1, 0.5, 0.5, 5.0, 3.0),
        lambda x, c: [c[0] - c[1] * x[0] - c[2] * x[0] * x[2], c[2] * x[0] * x[2] - c[3] * x[1],
                      c[4] * x[1] - c[5] * x[2]],
        (10.0, 0.0, 0.1), (5.0, 1.0, 1.0),
        lambda c: {"x": {"1": c[0], "x": -c[1], "x z": -c[2]}, "y": {"x z": c[2], "y": -c[3]},
                   "z": {"y": c[4], "z": -c[5]}},
    ),
    published_system(
        "gardner_toggle_switch", "Genetic toggle switch: two mutually repressing genes",
        "Gardner, Cantor & Collins (2000), Nature 403:339, Fig. 1 (alpha1 156.25, beta 2.5, alpha2 15.6,"
        " gamma 1)",
        "x' = c0/(1 + y^c1) - x; y' = c2/(1 + x^c3) - y",
        (156.25, 2.5, 15.6, 1.0),
        lambda x, c: [c[0] / (1 + x[1] ** c[1]) - x[0], c[2] / (1 + x[0] ** c[3]) - x[1]],
        (1.0, 1.0), (0.5, 10.0),
    ),
    published_system(
        "elowitz_repressilator_protein", "Repressilator, protein-only reduction (equal mRNA and protein lifetimes)",
        f"Elowitz & Leibler (2000), Nature 403:335 (three-gene repression ring); {CHOSEN} (oscillating)",
        "x' = c0/(1 + z^c1) - x; y' = c0/(1 + x^c1) - y; z' = c0/(1 + y^c1) - z",
        (10.0, 3.0),
        lambda x, c: [c[0] / (1 + x[2] ** c[1]) - x[0], c[0] / (1 + x[0] ** c[1]) - x[1],
                      c[0] / (1 + x[1] ** c[1]) - x[2]],
        (1.0, 2.0, 3.0), (5.0, 1.0, 1.0),
    ),
    published_system(
        "alon_negative_autoregulation", "Negatively autoregulated gene (Hill repression)",
        f"Alon, An Introduction to Systems Biology (2nd ed., 2019), ch. 3 (negative autoregulation); {CHOSEN}",
        "x' = c0/(1 + (x/c1)^c2) - c3 x",
        (1.0, 0.5, 4.0, 0.4), lambda x, c: [c[0] / (1 + (x[0] / c[1]) ** c[2]) - c[3] * x[0]], (0.0,), (2.0,),
    ),
]

_CHEMISTRY = [
    published_system(
        "murray_michaelis_menten_mass_action", "Enzyme kinetics by mass action: substrate and complex (e0 fixed)",
        f"{MURRAY}, §6.1 (basic enzyme reaction, E + S <-> C -> E + P); {CHOSEN}",
        "x' = -c0 (c3 - y) x + c1 y; y' = c0 (c3 - y) x - (c1 + c2) y",
        (1.0, 0.5, 0.3, 1.0),
        lambda x, c: [-c[0] * (c[3] - x[1]) * x[0] + c[1] * x[1], c[0] * (c[3] - x[1]) * x[0] - (c[1] + c[2]) * x[1]],
        (2.0, 0.0), (4.0, 0.2),
        lambda c: {"x": {"x": -c[0] * c[3], "x y": c[0], "y": c[1]},
                   "y": {"x": c[0] * c[3], "x y": -c[0], "y": -(c[1] + c[2])}},
    ),
    published_system(
        "murray_michaelis_menten_qssa", "Michaelis-Menten substrate uptake (quasi-steady state)",
        f"{MURRAY}, §6.1 (quasi-steady-state reduction); {CHOSEN}",
        "x' = -c0 x/(c1 + x)",
        (0.8, 2.0), lambda x, c: [-c[0] * x[0] / (c[1] + x[0])], (8.0,), (3.0,),
    ),
    published_system(
        "haldane_substrate_inhibition", "Enzyme kinetics with substrate inhibition",
        f"Haldane, Enzymes (1930); Andrews (1968), Biotechnol. Bioeng. 10:707; {CHOSEN}",
        "x' = -c0 x/(c1 + x + x^2/c2)",
        (2.0, 1.0, 5.0), lambda x, c: [-c[0] * x[0] / (c[1] + x[0] + x[0] ** 2 / c[2])], (10.0,), (2.0,),
    ),
    published_system(
        "lindemann_mass_action", "Lindemann-Hinshelwood unimolecular reaction: A + A <-> A* + A, A* -> P",
        f"Lindemann (1922), Trans. Faraday Soc. 17:598; {CHOSEN}",
        "x' = -c0 x^2 + c1 x y; y' = c0 x^2 - c1 x y - c2 y",
        (1.0, 2.0, 0.5),
        lambda x, c: [-c[0] * x[0] ** 2 + c[1] * x[0] * x[1], c[0] * x[0] ** 2 - c[1] * x[0] * x[1] - c[2] * x[1]],
        (2.0, 0.0), (1.0, 0.3),
        lambda c: {"x": {"x^2": -c[0], "x y": c[1]}, "y": {"x^2": c[0], "x y": -c[1], "y": -c[2]}},
    ),
    published_system(
        "uppal_cstr_arrhenius", "Exothermic CSTR, first-order reaction with Arrhenius rate (dimensionless)",
        "Uppal, Ray & Poore (1974), Chem. Eng. Sci. 29:967; Da 0.072, B 8, beta 0.3, gamma 20 as in the"
        " control literature using this example",
        "x' = -x + c0 (1 - x) exp(y/(1 + y/c3)); y' = -y + c1 c0 (1 - x) exp(y/(1 + y/c3)) - c2 y",
        (0.072, 8.0, 0.3, 20.0), _cstr, (0.1, 0.5), (0.5, 3.0),
    ),
    published_system(
        "gibaldi_two_compartment_mm", "Two-compartment pharmacokinetics with Michaelis-Menten elimination",
        f"Gibaldi & Perrier, Pharmacokinetics (2nd ed., 1982), ch. 7 (nonlinear pharmacokinetics); {CHOSEN}",
        "x' = -c0 x + c1 y - c2 x/(c3 + x); y' = c0 x - c1 y",
        (0.5, 0.3, 2.0, 1.5),
        lambda x, c: [-c[0] * x[0] + c[1] * x[1] - c[2] * x[0] / (c[3] + x[0]), c[0] * x[0] - c[1] * x[1]],
        (10.0, 0.0), (4.0, 2.0),
    ),
]

_NEURONS_CIRCUITS_MECHANICS = [
    published_system(
        "fitzhugh_nagumo",
        "FitzHugh-Nagumo excitable neuron with constant current (relaxation oscillation; record 40 time units, about"
        " one period)",
        "FitzHugh (1961), Biophys. J. 1:445 (a 0.7, b 0.8, tau 12.5); current 0.5",
        "x' = x - x^3/3 - y + c0; y' = (x + c1 - c2 y)/c3",
        (0.5, 0.7, 0.8, 12.5),
        lambda x, c: [x[0] - x[0] ** 3 / 3 - x[1] + c[0], (x[0] + c[1] - c[2] * x[1]) / c[3]],
        (-1.0, 1.0), (2.0, 0.0),
        lambda c: {"x": {"1": c[0], "x": 1.0, "x^3": -1 / 3, "y": -1.0},
                   "y": {"1": c[1] / c[3], "x": 1 / c[3], "y": -c[2] / c[3]}},
        t_end=40.0,
    ),
    published_system(
        "morris_lecar", "Morris-Lecar barnacle muscle fibre, Hopf regime (V in mV, t in ms; record 200 ms)",
        "Morris & Lecar (1981), Biophys. J. 35:193; parameters of Rinzel & Ermentrout (1989), Methods in"
        " Neuronal Modeling, ch. 5 (Hopf set, I = 90)",
        "x' = (c12 - c1 (x - c4) - c2 m(x) (x - c5) - c3 y (x - c6))/c0; y' = c11 cosh((x - c9)/(2 c10)) (w(x) - y);"
        " m = (1 + tanh((x - c7)/c8))/2, w = (1 + tanh((x - c9)/c10))/2",
        (20.0, 2.0, 4.4, 8.0, -60.0, 120.0, -84.0, -1.2, 18.0, 2.0, 30.0, 0.04, 90.0), _morris_lecar,
        (-40.0, 0.0), (10.0, 0.3), t_end=200.0,
    ),
    published_system(
        "hodgkin_huxley", "Hodgkin-Huxley squid axon, repetitive firing at 10 uA/cm^2 (V in mV, t in ms; 30 ms)",
        "Hodgkin & Huxley (1952), J. Physiol. 117:500; modern convention (rest -65 mV) of Dayan & Abbott,"
        " Theoretical Neuroscience (2001), §5.6",
        "x' = (c7 - c1 y^3 z (x - c4) - c2 w^4 (x - c5) - c3 (x - c6))/c0; gates y, z, w = m, h, n:"
        " g' = alpha_g(x) (1 - g) - beta_g(x) g",
        (1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 10.0), _hodgkin_huxley,
        (-65.0, 0.05, 0.6, 0.32), (-60.0, 0.1, 0.5, 0.35), t_end=30.0,
    ),
    published_system(
        "wilson_cowan", "Wilson-Cowan excitatory and inhibitory populations, limit cycle",
        "Wilson & Cowan (1972), Biophys. J. 12:1 (c1 16, c2 12, c3 15, c4 3, a_e 1.3, theta_e 4, a_i 2,"
        " theta_i 3.7, r 1, P 1.25, Q 0)",
        "x' = -x + (c8 - x) S(c0 x - c1 y + c10; c4, c5); y' = -y + (c9 - y) S(c2 x - c3 y + c11; c6, c7);"
        " S(v; a, th) = 1/(1 + exp(-a (v - th))) - 1/(1 + exp(a th))",
        (16.0, 12.0, 15.0, 3.0, 1.3, 4.0, 2.0, 3.7, 0.9945, 0.9994, 1.25, 0.0), _wilson_cowan,
        (0.1, 0.05), (0.3, 0.2),
    ),
    published_system(
        "rayleigh_oscillator", "Rayleigh oscillator (self-sustained, damping in the velocity)",
        f"Rayleigh (1883), Phil. Mag. 15:229; x'' - mu (x' - x'^3/3) + x = 0; {CHOSEN}",
        "x' = y; y' = -x + c0 (y - y^3/3)",
        (1.5,), lambda x, c: [x[1], -x[0] + c[0] * (x[1] - x[1] ** 3 / 3)], (1.0, 0.0), (0.0, 3.0),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -1.0, "y": c[0], "y^3": -c[0] / 3}},
    ),
    published_system(
        "khalil_tunnel_diode", "Tunnel-diode circuit (t in ns, x in V, y in mA)",
        "Khalil, Nonlinear Systems (3rd ed., 2002), §1.2.2 and Example 2.1 (h(v) of the text; R 1.5 kOhm,"
        " E 1.2 V, C 2 pF, L 5 uH)",
        "x' = c0 (-h(x) + y); y' = c1 (-x - c2 y + c3); h(v) = 17.76 v - 103.79 v^2 + 229.62 v^3 - 226.31 v^4"
        " + 83.72 v^5",
        (0.5, 0.2, 1.5, 1.2),
        lambda x, c: [c[0] * (-_tunnel_diode_h(x[0]) + x[1]), c[1] * (-x[0] - c[2] * x[1] + c[3])],
        (0.4, 0.8), (0.2, 0.3),
        lambda c: {"x": {"x": -c[0] * 17.76, "x^2": c[0] * 103.79, "x^3": -c[0] * 229.62, "x^4": c[0] * 226.31,
                         "x^5": -c[0] * 83.72, "y": c[0]},
                   "y": {"1": c[1] * c[3], "x": -c[1], "y": -c[1] * c[2]}},
    ),
    published_system(
        "duffing_hardening_damped", "Damped Duffing oscillator with a hardening spring (unforced)",
        f"Duffing (1918); Jordan & Smith, Nonlinear Ordinary Differential Equations (4th ed., 2007), ch. 1; {CHOSEN}",
        "x' = y; y' = -c0 y - c1 x - c2 x^3",
        (0.2, 1.0, 1.0), lambda x, c: [x[1], -c[0] * x[1] - c[1] * x[0] - c[2] * x[0] ** 3], (2.0, 0.0), (-1.0, 2.0),
        lambda c: {"x": {"y": 1.0}, "y": {"y": -c[0], "x": -c[1], "x^3": -c[2]}},
    ),
    published_system(
        "strogatz_hopf_normal_form", "Supercritical Hopf normal form (Stuart-Landau) in Cartesian coordinates",
        "Strogatz, Nonlinear Dynamics and Chaos (2nd ed.), §8.2 (r' = mu r - r^3, theta' = omega); mu 1,"
        " omega 2 chosen here",
        "x' = c0 x - c1 y - (x^2 + y^2) x; y' = c1 x + c0 y - (x^2 + y^2) y",
        (1.0, 2.0),
        lambda x, c: [c[0] * x[0] - c[1] * x[1] - (x[0] ** 2 + x[1] ** 2) * x[0],
                      c[1] * x[0] + c[0] * x[1] - (x[0] ** 2 + x[1] ** 2) * x[1]],
        (0.1, 0.0), (2.0, -1.0),
        lambda c: {"x": {"x": c[0], "y": -c[1], "x^3": -1.0, "x y^2": -1.0},
                   "y": {"x": c[1], "y": c[0], "x^2 y": -1.0, "y^3": -1.0}},
    ),
    published_system(
        "hindmarsh_rose", "Hindmarsh-Rose neuron, spiking/bursting regime",
        "Hindmarsh & Rose (1984), Proc. R. Soc. Lond. B 221:87 (a 1, b 3, c 1, d 5, s 4, x_R -1.6);"
        " r 0.005, I 2 chosen here",
        "x' = y - c0 x^3 + c1 x^2 - z + c7; y' = c2 - c3 x^2 - y; z' = c4 (c5 (x - c6) - z)",
        (1.0, 3.0, 1.0, 5.0, 0.005, 4.0, -1.6, 2.0),
        lambda x, c: [x[1] - c[0] * x[0] ** 3 + c[1] * x[0] ** 2 - x[2] + c[7], c[2] - c[3] * x[0] ** 2 - x[1],
                      c[4] * (c[5] * (x[0] - c[6]) - x[2])],
        (0.5, -1.0, 2.0), (0.0, 0.0, 1.5),
        lambda c: {"x": {"y": 1.0, "x^3": -c[0], "x^2": c[1], "z": -1.0, "1": c[7]},
                   "y": {"1": c[2], "x^2": -c[3], "y": -1.0},
                   "z": {"x": c[4] * c[5], "1": -c[4] * c[5] * c[6], "z": -c[4]}},
    ),
    published_system(
        "taylor_projectile_quadratic_drag", "Projectile velocity with quadratic air drag (m/s)",
        f"Taylor, Classical Mechanics (2005), §2.4 (quadratic drag); g 9.81 m/s^2, {CHOSEN} (c/m 0.05 per m)",
        "x' = -c0 x sqrt(x^2 + y^2); y' = -c1 - c0 y sqrt(x^2 + y^2)",
        (0.05, 9.81),
        lambda x, c: [-c[0] * x[0] * np.hypot(x[0], x[1]), -c[1] - c[0] * x[1] * np.hypot(x[0], x[1])],
        (20.0, 20.0), (30.0, 5.0),
    ),
    published_system(
        "taylor_kepler_orbit", "Planar Kepler orbit: position and velocity (GM = 1)",
        "Taylor, Classical Mechanics (2005), ch. 8 (Kepler orbits); eccentric orbits chosen here",
        "x' = z; y' = w; z' = -c0 x/(x^2 + y^2)^(3/2); w' = -c0 y/(x^2 + y^2)^(3/2)",
        (1.0,), _kepler, (1.0, 0.0, 0.0, 1.1), (1.5, 0.0, 0.0, 0.7),
    ),
]

_SOCIETY = [
    published_system(
        "bass_diffusion", "Bass diffusion of a new product (adopted fraction, t in years)",
        "Bass (1969), Manag. Sci. 15:215; p 0.03, q 0.38 the averages of Sultan, Farley & Lehmann (1990),"
        " J. Mark. Res. 27:70",
        "x' = (c0 + c1 x) (1 - x)",
        (0.03, 0.38), lambda x, c: [(c[0] + c[1] * x[0]) * (1 - x[0])], (0.0,), (0.3,),
        lambda c: {"x": {"1": c[0], "x": c[1] - c[0], "x^2": -c[1]}},
    ),
    published_system(
        "solow_growth", "Solow growth model: capital per effective worker, Cobb-Douglas production",
        "Solow (1956), Q. J. Econ. 70:65; Romer, Advanced Macroeconomics (4th ed., 2012), ch. 1; s 0.2,"
        " alpha 1/3, n + g + delta 0.07 chosen here",
        "x' = c0 x^c1 - c2 x",
        (0.2, 1 / 3, 0.07), lambda x, c: [c[0] * x[0] ** c[1] - c[2] * x[0]], (1.0,), (10.0,),
    ),
    published_system(
        "richardson_arms_race", "Richardson arms race between two nations",
        f"Richardson, Arms and Insecurity (1960); {CHOSEN} (stable)",
        "x' = c0 y - c1 x + c2; y' = c3 x - c4 y + c5",
        (0.3, 0.5, 1.0, 0.2, 0.4, 0.5),
        lambda x, c: [c[0] * x[1] - c[1] * x[0] + c[2], c[3] * x[0] - c[4] * x[1] + c[5]], (1.0, 2.0), (4.0, 0.5),
        lambda c: {"x": {"y": c[0], "x": -c[1], "1": c[2]}, "y": {"x": c[3], "y": -c[4], "1": c[5]}},
    ),
    published_system(
        "braun_lanchester_square_law", "Lanchester aimed-fire combat, battle of Iwo Jima (troops, t in days)",
        "Braun, Differential Equations and Their Applications (4th ed., 1993), §4.5 (a 0.0544, b 0.0106);"
        " Engel's (1954) fit; reinforcements left out, initial states chosen here (54 000 landed the first day)",
        "x' = -c0 y; y' = -c1 x",
        (0.0544, 0.0106), lambda x, c: [-c[0] * x[1], -c[1] * x[0]], (54000.0, 21500.0), (73000.0, 21500.0),
        lambda c: {"x": {"y": -c[0]}, "y": {"x": -c[1]}},
    ),
]

_CHAOTIC_FLOWS = [
    published_system(
        "dysts_thomas", "Thomas' cyclically symmetric attractor (labyrinth chaos)",
        f"Thomas (1999), Int. J. Bifurc. Chaos 9:1889; {DYSTS}",
        "x' = -c0 x + c1 sin(y); y' = -c0 y + c1 sin(z); z' = -c0 z + c1 sin(x)",
        (1.85, 10.0),
        lambda x, c: [-c[0] * x[0] + c[1] * np.sin(x[1]), -c[0] * x[1] + c[1] * np.sin(x[2]),
                      -c[0] * x[2] + c[1] * np.sin(x[0])],
        (2.199442, 2.3634225, 3.220197), (2.6989, 2.6829, 2.5134), chaotic=True,
    ),
    published_system(
        "dysts_yu_wang", "Yu-Wang attractor with an exponential nonlinearity",
        f"Yu & Wang (2012), Eng. Technol. Appl. Sci. Res. 2:209; {DYSTS}",
        "x' = c0 (y - x); y' = c1 x - c2 x z; z' = exp(x y) - c3 z",
        (10.0, 40.0, 2.0, 2.5),
        lambda x, c: [c[0] * (x[1] - x[0]), c[1] * x[0] - c[2] * x[0] * x[2], np.exp(x[0] * x[1]) - c[3] * x[2]],
        (-0.21422356, -0.17935495, 14.105516), (0.7365, -2.4568, 38.234), chaotic=True,
    ),
    published_system(
        "dysts_halvorsen", "Halvorsen's cyclically symmetric attractor",
        f"Sprott, Elegant Chaos (2010); {DYSTS}",
        "x' = -c0 x - c1 y - c1 z - y^2; y' = -c0 y - c1 z - c1 x - z^2; z' = -c0 z - c1 x - c1 y - x^2",
        (1.4, 4.0),
        lambda x, c: [-c[0] * x[0] - c[1] * x[1] - c[1] * x[2] - x[1] ** 2,
                      -c[0] * x[1] - c[1] * x[2] - c[1] * x[0] - x[2] ** 2,
                      -c[0] * x[2] - c[1] * x[0] - c[1] * x[1] - x[0] ** 2],
        (-8.6807408, -2.4741399, 0.070775762), (-12.2003, -3.8752, -3.9967),
        lambda c: {"x": {"x": -c[0], "y": -c[1], "z": -c[1], "y^2": -1.0},
                   "y": {"y": -c[0], "z": -c[1], "x": -c[1], "z^2": -1.0},
                   "z": {"z": -c[0], "x": -c[1], "y": -c[1], "x^2": -1.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_sprott_b", "Sprott's simple chaotic flow B",
        f"Sprott (1994), Phys. Rev. E 50:R647, case B; {DYSTS}",
        "x' = y z; y' = x - y; z' = 1 - x y",
        (), lambda x, c: [x[1] * x[2], x[0] - x[1], 1 - x[0] * x[1]],
        (1.6878282, 1.4848132, -0.53706628), (-0.0905, 0.0658, 0.9694),
        lambda c: {"x": {"y z": 1.0}, "y": {"x": 1.0, "y": -1.0}, "z": {"1": 1.0, "x y": -1.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_nose_hoover", "Nose-Hoover thermostated oscillator (Sprott case A)",
        f"Nose (1984), J. Chem. Phys. 81:511; Hoover (1985), Phys. Rev. A 31:1695; {DYSTS}",
        "x' = y; y' = -x + y z; z' = c0 - y^2",
        (1.5,), lambda x, c: [x[1], -x[0] + x[1] * x[2], c[0] - x[1] ** 2],
        (-1.9758582, 0.24647527, 0.79024299), (0.6619, -0.5496, 0.2086),
        lambda c: {"x": {"y": 1.0}, "y": {"x": -1.0, "y z": 1.0}, "z": {"1": c[0], "y^2": -1.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_lorenz84", "Lorenz's 1984 general-circulation model",
        f"Lorenz (1984), Tellus A 36:98; {DYSTS}",
        "x' = -c0 x - y^2 - z^2 + c0 c2; y' = -y + x y - c1 x z + c3; z' = -z + c1 x y + x z",
        (1.32, 7.91, 4.83, 4.194),
        lambda x, c: [-c[0] * x[0] - x[1] ** 2 - x[2] ** 2 + c[0] * c[2],
                      -x[1] + x[0] * x[1] - c[1] * x[0] * x[2] + c[3],
                      -x[2] + c[1] * x[0] * x[1] + x[0] * x[2]],
        (1.926479236120359, -0.13402110197257552, -1.72146730664761), (-0.6398, 2.2691, -1.6291),
        lambda c: {"x": {"x": -c[0], "y^2": -1.0, "z^2": -1.0, "1": c[0] * c[2]},
                   "y": {"y": -1.0, "x y": 1.0, "x z": -c[1], "1": c[3]},
                   "z": {"z": -1.0, "x y": c[1], "x z": 1.0}},
        chaotic=True,
    ),
    published_system(
        "dysts_arneodo", "Arneodo-Coullet-Tresser jerk system",
        f"Arneodo, Coullet & Tresser (1980), Phys. Lett. A 79:259; {DYSTS}",
        "x' = y; y' = z; z' = -c0 x - c1 y - c2 z + c3 x^3",
        (-5.5, 4.5, 1.0, -1.0),
        lambda x, c: [x[1], x[2], -c[0] * x[0] - c[1] * x[1] - c[2] * x[2] + c[3] * x[0] ** 3],
        (-2.7515698, 0.19079818, 3.4703629), (-2.6906, 3.1461, 6.8807),
        lambda c: {"x": {"y": 1.0}, "y": {"z": 1.0}, "z": {"x": -c[0], "y": -c[1], "z": -c[2], "x^3": c[3]}},
        chaotic=True,
    ),
]

MORE: dict[str, PublishedSystem] = {
    s.name: s for s in (*_BIOLOGY, *_EPIDEMICS_AND_GENES, *_CHEMISTRY, *_NEURONS_CIRCUITS_MECHANICS, *_SOCIETY,
                        *_CHAOTIC_FLOWS)
}
"""The systems beyond ODEBench by name, grouped by field."""
