from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import DiscoveryConfig, LibraryConfig, load_config
from pipeline.data import load_timeseries
from pipeline.discovery import DiscoveryResult, Library, discover
from pipeline.errors import DataError, DiscoveryError, SimulationError
from pipeline.systems import SYSTEMS, sample_system

ROOT = Path(__file__).resolve().parents[1]


def _discover_config(name: str) -> DiscoveryResult:
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    series = load_timeseries(
        config.data.path, time_column=config.data.time_column, state_columns=config.data.state_columns
    )
    return discover(series.t_list(), series.x_list(), config=config.discovery, feature_names=series.names)


def _assert_structure_and_coefficients(
    result: DiscoveryResult, truth: dict[str, dict[str, float]], rtol: float
) -> None:
    found = result.terms()
    for state, terms in truth.items():
        assert set(found[state]) == set(terms), f"{state}: found {found[state]}, expected {terms}"
        for term, value in terms.items():
            assert found[state][term] == pytest.approx(value, rel=rtol), f"{state}: {term}"


def test_exponential_decay_from_the_seed_example() -> None:
    result = _discover_config("exp_decay")
    assert result.terms() == {"u": pytest.approx({"u": -1.0}, rel=0.05)}
    assert re.fullmatch(r"u' = -(0\.9[5-9]\d\d|1\.0[0-4]\d) u", result.equations[0]), result.equations


def test_lorenz_at_one_percent_noise_exact_structure() -> None:
    result = _discover_config("lorenz")
    _assert_structure_and_coefficients(result, SYSTEMS["lorenz"].terms, rtol=0.05)
    assert result.metrics["derivative_r2"] > 0.99


def test_lotka_volterra() -> None:
    result = _discover_config("lotka_volterra")
    _assert_structure_and_coefficients(result, SYSTEMS["lotka_volterra"].terms, rtol=0.05)
    assert result.metrics["trajectory_r2"] > 0.95


def test_real_lynx_hare_record_gives_a_predator_prey_model() -> None:
    result = _discover_config("lynx_hare")
    terms = result.terms()
    assert set(terms["hare"]) == {"hare", "hare lynx"} and set(terms["lynx"]) == {"lynx", "hare lynx"}
    # Signs of predator-prey: hare grow and are eaten; lynx die and feed on hare.
    assert terms["hare"]["hare"] > 0 > terms["hare"]["hare lynx"]
    assert terms["lynx"]["lynx"] < 0 < terms["lynx"]["hare lynx"]
    # Published least-squares rates (alpha 0.55, gamma 0.84) within a generous band for 21 noisy points.
    assert 0.4 < terms["hare"]["hare"] < 0.75 and 0.6 < -terms["lynx"]["lynx"] < 1.1


def test_several_trajectories_fit_jointly() -> None:
    frames = [
        sample_system("lotka_volterra", n=200, noise=0.01, seed=s, x0=x0, t_end=20)
        for s, x0 in [(1, (30.0, 4.0)), (2, (10.0, 10.0))]
    ]
    result = discover(
        [f.t.to_numpy() for f in frames],
        [f[["hare", "lynx"]].to_numpy() for f in frames],
        feature_names=["hare", "lynx"],
    )
    _assert_structure_and_coefficients(result, SYSTEMS["lotka_volterra"].terms, rtol=0.05)
    assert result.metrics["n_trajectories"] == 2


def test_result_round_trips_through_json() -> None:
    result = _discover_config("exp_decay")
    restored = DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert restored.equations == result.equations
    np.testing.assert_array_equal(restored.coefficients, result.coefficients)
    t = np.linspace(0, 5, 20)
    np.testing.assert_allclose(restored.simulate([1.0], t), result.simulate([1.0], t))


def test_simulation_detects_divergence_instead_of_hanging() -> None:
    blow_up = DiscoveryResult(
        names=("u",), library=Library(("u",), np.array([[0], [1], [2]])), coefficients=np.array([[0.0, 0.0, 1.0]])
    )
    with pytest.raises(SimulationError, match="diverged"):
        blow_up.simulate([1.0], np.linspace(0, 5, 50))  # u' = u^2 blows up at t = 1


def test_more_terms_than_samples_is_a_clear_error() -> None:
    t = np.linspace(0, 1, 8)
    x = np.column_stack([np.exp(-t), np.exp(-2 * t), np.cos(t)])
    with pytest.raises(DiscoveryError, match="library has 20 terms but there are only 8 samples"):
        discover(t, x, config=DiscoveryConfig(library=LibraryConfig(degree=3)))


def test_mismatched_inputs_are_data_errors() -> None:
    t = np.linspace(0, 1, 20)
    with pytest.raises(DataError, match="2 time arrays but 1 state arrays"):
        discover([t, t], [np.exp(-t)])
    with pytest.raises(DataError, match="feature_names has 2 names for 1"):
        discover(t, np.exp(-t), feature_names=["a", "b"])


def test_equations_in_latex_and_sympy_forms() -> None:
    import sympy

    result = _discover_config("lotka_volterra")
    assert result.equations_latex[0].startswith(r"\dot{hare} = 0.5")
    for expression, (state, terms) in zip(result.equations_sympy, result.terms().items(), strict=True):
        parsed = sympy.sympify(expression)
        hare, lynx = sympy.symbols("hare lynx")
        assert float(parsed.coeff(hare * lynx)) == pytest.approx(terms["hare lynx"], rel=1e-3), state


def test_bagging_gives_inclusion_probabilities_and_intervals_around_the_truth() -> None:
    result = _discover_config("lotka_volterra")
    rows = {(r["state"], r["term"]): r for r in result.coefficient_table()}
    for state, terms in SYSTEMS["lotka_volterra"].terms.items():
        for term, value in terms.items():
            row = rows[(state, term)]
            assert row["inclusion_probability"] >= 0.9
            assert row["ci_low"] <= value <= row["ci_high"], (state, term, row)


def test_degree_is_chosen_from_the_data() -> None:
    frame = sample_system("van_der_pol", n=512, noise=0.01, seed=0)
    result = discover(frame.t.to_numpy(), frame[["x", "y"]].to_numpy(), feature_names=["x", "y"])
    assert result.chosen["degree"] == 3
    found = result.terms()
    for state, terms in SYSTEMS["van_der_pol"].terms.items():
        for term, value in terms.items():
            assert found[state][term] == pytest.approx(value, rel=0.05)
        # On this seed two spurious cubic terms survive (see benchmarks/results/discovery.md); they stay small.
        assert all(abs(c) < 0.05 for term, c in found[state].items() if term not in terms)
    decay = _discover_config("exp_decay")
    assert decay.chosen["degree"] == 1


def test_function_terms_find_a_pendulum() -> None:
    frame = sample_system("pendulum", n=512, noise=0.01, seed=0)
    config = DiscoveryConfig(library=LibraryConfig(degree=1, functions=["sin"]))
    result = discover(
        frame.t.to_numpy(), frame[["theta", "omega"]].to_numpy(), config=config, feature_names=["theta", "omega"]
    )
    assert set(result.terms()["omega"]) == {"omega", "sin(theta)"}
    assert result.terms()["omega"]["sin(theta)"] == pytest.approx(-1.0, rel=0.05)


def test_gram_stlsq_matches_pysindy_stlsq() -> None:
    from pipeline.discovery.sindy import build_library, stlsq_support
    from pipeline.discovery.stlsq import NormalEquations, stlsq_gram

    frame = sample_system("lorenz", n=800, noise=0.01, seed=2)
    x = frame[["x", "y", "z"]].to_numpy()
    library = build_library(("x", "y", "z"), degree=3, include_bias=True)
    theta = library.evaluate(x)
    x_dot = np.gradient(x, frame.t.to_numpy(), axis=0)
    for j in range(3):
        for threshold in (1e-3, 1e-2, 5e-2, 0.2):
            ours = stlsq_gram(NormalEquations.from_data(theta, x_dot[:, j]), threshold)
            np.testing.assert_array_equal(ours, stlsq_support(theta, x_dot[:, j], threshold))


def test_simulation_of_a_model_that_produces_nan_is_a_simulation_error() -> None:
    singular = DiscoveryResult(
        names=("u",),
        library=Library(("u",), np.zeros((0, 1), dtype=int), (("inverse", 0),)),
        coefficients=np.array([[-1.0]]),
        max_simulation_seconds=2.0,
    )
    with pytest.raises(SimulationError):
        singular.simulate([1.0], np.linspace(0, 2, 50))  # u' = -1/u reaches u = 0 at t = 0.5


@pytest.mark.parametrize("scale", [1e-40, 1e-6, 1e6, 1e40])
def test_the_model_does_not_depend_on_the_data_units(scale: float) -> None:
    frame = sample_system("lotka_volterra", n=400, noise=0.01, seed=0)
    t, x = frame["t"].to_numpy(), frame.drop(columns="t").to_numpy()
    names = list(frame.columns[1:])
    reference = discover(t, x, feature_names=names)
    scaled = discover(t, x * scale, feature_names=names)
    assert np.array_equal(scaled.coefficients != 0, reference.coefficients != 0)  # the same terms
    # a term of degree k in equation i scales by scale^(1 - k): map back and compare
    degrees = reference.library.degrees
    mapped = scaled.coefficients * scale ** (degrees[None, :] - 1.0)
    np.testing.assert_allclose(mapped, reference.coefficients, rtol=1e-6, atol=1e-12)
    assert scaled.metrics["trajectory_r2"] == pytest.approx(reference.metrics["trajectory_r2"], abs=1e-6)


def test_held_out_time_is_scored_separately() -> None:
    frame = sample_system("lotka_volterra", n=400, noise=0.01, seed=0)
    result = discover(frame["t"].to_numpy(), frame.drop(columns="t").to_numpy(), feature_names=list(frame.columns[1:]))
    assert result.metrics["trajectory_r2_fit"] > 0.95
    assert result.metrics["trajectory_r2_heldout"] > 0.95  # refit on the first 80 %, forecast the last 20 %


def test_control_inputs_enter_the_model_and_the_simulation() -> None:
    series = load_timeseries(
        ROOT / "data" / "forced_oscillator.csv", time_column="t", state_columns=["x", "v"], control_columns=["force"]
    )
    assert series.control_names == ("force",) and series.u.shape == (800, 1)
    result = discover(series.t, series.x, feature_names=series.names, u=series.u, control_names=series.control_names)
    assert result.controls == ("force",)
    terms = result.terms()
    assert set(terms["x"]) == {"v"} and set(terms["v"]) == {"x", "v", "force"}
    assert terms["v"]["force"] == pytest.approx(1.0, rel=0.02) and terms["v"]["x"] == pytest.approx(-2.0, rel=0.02)
    assert result.metrics["trajectory_r2"] > 0.99
    with pytest.raises(DataError, match="pass u"):
        result.simulate(series.x[0], series.t)
    restored = DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict())))
    np.testing.assert_allclose(
        restored.simulate(series.x[0], series.t, series.u), result.simulate(series.x[0], series.t, series.u)
    )


def _trajectories(rhs, starts: tuple[float, ...], noise: float = 0.005) -> tuple[list, list]:
    from scipy.integrate import solve_ivp

    t = np.linspace(0, 8, 300)
    rng = np.random.default_rng(0)
    xs = [
        solve_ivp(rhs, (0, 8), [x0], t_eval=t, rtol=1e-10, atol=1e-12).y.T * (1 + noise * rng.standard_normal((300, 1)))
        for x0 in starts
    ]
    return [t] * len(starts), xs


def test_rational_saturation_terms() -> None:
    ts, xs = _trajectories(lambda _t, x: 0.8 - 1.5 * x / (1 + x), (0.05, 3.0, 6.0))
    result = discover(
        ts, xs, feature_names=["s"], config=DiscoveryConfig(library={"degree": 1, "functions": ["saturation"]})
    )
    assert result.terms() == {"s": pytest.approx({"1": 0.8, "s/(1+s)": -1.5}, rel=0.02)}


def test_fourier_library_finds_a_second_harmonic() -> None:
    ts, xs = _trajectories(lambda _t, x: 0.4 - np.sin(2 * x), (0.1, 1.5, 2.5))
    result = discover(
        ts, xs, feature_names=["a"], config=DiscoveryConfig(library={"degree": 1, "fourier_frequencies": 2})
    )
    # 3 %: the shooting refinement moves this case's rate by 2 % (0.3985, -0.9973 -> 0.3906, -0.9803; the fixed
    # point stays), a cost measured against its gains on the discovery benchmark.
    assert result.terms() == {"a": pytest.approx({"1": 0.4, "sin(2 a)": -1.0}, rel=0.03)}
    assert result.equations_sympy[0].endswith("*sin(2*a)")


def test_stepwise_paths_propose_every_size_and_contain_a_planted_support() -> None:
    from pipeline.discovery.paths import PathRule, backward_path, forward_path
    from pipeline.discovery.stlsq import NormalEquations

    rng = np.random.default_rng(3)
    theta = rng.standard_normal((400, 8))
    theta[:, 7] = theta[:, 1] + theta[:, 2] + 1e-3 * rng.standard_normal(400)  # a near-exact collinearity
    y = 2.0 * theta[:, 0] - 0.5 * theta[:, 3] + 0.01 * rng.standard_normal(400)
    problem = NormalEquations.from_data(theta, y)
    forward, backward = forward_path(problem), backward_path(problem)
    assert [int(s.sum()) for s in forward] == list(range(1, 9))
    assert [int(s.sum()) for s in backward] == list(range(8, 0, -1))
    planted = np.isin(np.arange(8), [0, 3])
    assert any(np.array_equal(s, planted) for s in forward) and any(np.array_equal(s, planted) for s in backward)
    for kind in ("forward", "backward"):
        assert np.array_equal(PathRule(kind, tuple(range(8)), n_terms=2).apply(problem), planted)


def test_a_conserved_quantity_is_found_and_kept_exactly() -> None:
    # S + E + I + R = 1 makes the constant and the linear terms collinear; unconstrained fits kept
    # large opposite coefficients on them, or left the law unstable, and the simulation diverged.
    from pipeline.systems import simulate_truth

    system = SYSTEMS["seir"]
    frame = sample_system(system, n=512, noise=0.01, multiplicative=True, seed=0)
    t = frame.t.to_numpy()
    result = discover(t, frame[list(system.names)].to_numpy(), feature_names=system.names)
    assert result.chosen["conservation_laws"] == ["S + E + I + R = const"]
    np.testing.assert_allclose(result.coefficients.sum(axis=0), 0.0, atol=1e-9)  # d(S+E+I+R)/dt ≡ 0
    unseen = simulate_truth(system, t, system.x0_alt)
    simulated = result.simulate(np.asarray(system.x0_alt), t)
    assert np.max(np.abs(simulated - unseen)) < 0.05


def test_sis_structure_with_its_conservation_law() -> None:
    system = SYSTEMS["sis"]
    frame = sample_system(system, n=512, noise=0.01, multiplicative=True, seed=0)
    result = discover(frame.t.to_numpy(), frame[list(system.names)].to_numpy(), feature_names=system.names)
    _assert_structure_and_coefficients(result, system.terms, rtol=0.05)


def test_no_conservation_law_is_claimed_where_there_is_none() -> None:
    from pipeline.discovery.conservation import detect_laws

    for name in ("lotka_volterra_3", "food_chain", "competition", "lorenz"):
        for noise in (0.0, 0.01, 0.05):
            frame = sample_system(name, n=512, noise=noise, multiplicative=True, seed=0)
            x = frame[list(SYSTEMS[name].names)].to_numpy()
            assert detect_laws([x], [x], np.ones(x.shape[1])).shape[0] == 0, (name, noise)
    for n in (12, 30):  # too few samples to tell noise from a transient: no law is claimed
        frame = sample_system("lotka_volterra", n=n, noise=0.01, seed=0)
        x = frame[list(SYSTEMS["lotka_volterra"].names)].to_numpy()
        assert detect_laws([x], [x], np.ones(2)).shape[0] == 0, n


def test_weak_form_rows_match_the_derivative_form_on_a_known_system() -> None:
    # For exact data, −∫φ'x dt and ∫φ Θ(x) dt ξ_true agree row by row (integration by parts).
    from pipeline.discovery.sindy import build_library
    from pipeline.discovery.weak import weak_system

    system = SYSTEMS["lotka_volterra"]
    frame = sample_system(system, n=2000, noise=0.0)
    t, x = frame.t.to_numpy(), frame[list(system.names)].to_numpy()
    library = build_library(system.names, degree=2, include_bias=True)
    weak = weak_system([t], [x], library.evaluate(x), n_folds=5)
    assert weak is not None and weak.design.shape[0] >= 10
    truth = np.zeros((2, library.size))
    for i, state in enumerate(system.names):
        for term, value in system.terms[state].items():
            truth[i, library.feature_names().index(term)] = value
    np.testing.assert_allclose(weak.design @ truth.T, weak.target, atol=5e-4 * np.abs(weak.target).max())


def test_weak_form_windows_widen_with_noise() -> None:
    from pipeline.discovery.weak import corner_frequency

    system = SYSTEMS["van_der_pol"]
    corners = []
    for noise in (0.0, 0.01, 0.1):
        frame = sample_system(system, n=1024, noise=noise, seed=1)
        corners.append(corner_frequency(frame.t.to_numpy(), frame[list(system.names)].to_numpy()))
    assert corners[0] > corners[1] > corners[2] > 0


def test_laws_and_weak_form_can_be_switched_off() -> None:
    system = SYSTEMS["sis"]
    frame = sample_system(system, n=300, noise=0.01, multiplicative=True, seed=0)
    config = DiscoveryConfig(conservation_laws=False, weak_form=False, n_bootstrap=0)
    result = discover(
        frame.t.to_numpy(), frame[list(system.names)].to_numpy(), config=config, feature_names=system.names
    )
    assert "conservation_laws" not in result.chosen
    assert not any("weak" in label or "law" in label for label in result.chosen["model_choices_judged"])


def test_combination_terms_find_saturating_incidence() -> None:
    # SIR with saturating incidence: S' = -b S I/(1+I), I' = b S I/(1+I) - g I, R' = g I.
    from scipy.integrate import solve_ivp

    def rhs(_t: float, v: np.ndarray) -> np.ndarray:
        s, i, _ = v
        force = 3.0 * s * i / (1.0 + i)
        return np.array([-force, force - 0.5 * i, 0.5 * i])

    t = np.linspace(0, 10, 600)
    x = solve_ivp(rhs, (0, 10), [0.95, 0.05, 0.0], t_eval=t, rtol=1e-10, atol=1e-12).y.T
    x = x * (1 + 0.005 * np.random.default_rng(0).standard_normal(x.shape))
    library = LibraryConfig(max_degree=2, functions=["saturation"], combinations=True)
    result = discover(t, x, config=DiscoveryConfig(library=library), feature_names=("S", "I", "R"))
    _assert_structure_and_coefficients(
        result,
        {"S": {"S I/(1+I)": -3.0}, "I": {"S I/(1+I)": 3.0, "I": -0.5}, "R": {"I": 0.5}},
        rtol=0.05,
    )
    assert result.chosen["conservation_laws"] == ["S + I + R = const"]
    assert "S*I/(1 + I)" in result.equations_sympy[0]
    again = DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.equations == result.equations
    np.testing.assert_allclose(again.predict(x[:50]), result.predict(x[:50]))


def test_shooting_refinement_lowers_the_residual_and_keeps_terms_and_laws() -> None:
    from pipeline.discovery.refinement import refine_by_shooting
    from pipeline.discovery.shooting import ShootingProblem

    system = SYSTEMS["sir"]
    frame = sample_system(system, n=400, noise=0.05, multiplicative=True, seed=3)
    t, x = frame.t.to_numpy(), frame[list(system.names)].to_numpy()
    config = DiscoveryConfig(refine_by_simulation=False, n_bootstrap=0)
    result = discover(t, x, config=config, feature_names=system.names)
    laws = np.ones((1, 3)) / np.sqrt(3)
    smoothed = [result.simulate(x[0], t)]  # any reasonable block starts will do
    problem = ShootingProblem(result.library, [t], [x], smoothed, None, n_blocks=5, max_seconds=5.0)
    refinement = refine_by_shooting(result.coefficients, problem, laws=laws)
    refined = refinement.coefficients
    assert refinement.after < refinement.before
    np.testing.assert_array_equal(refined != 0, result.coefficients != 0)
    np.testing.assert_allclose(refined.sum(axis=0), 0.0, atol=1e-9)  # S + I + R still conserved
