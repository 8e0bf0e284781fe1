"""discover() end to end: known systems, real data, options and errors (real pysindy)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from discovery_cases import ROOT, assert_structure_and_coefficients, discover_config, trajectories
from scipy.integrate import solve_ivp

from benchmarks.generalisation import noisy_record
from pipeline.config import DifferentiationConfig, DiscoveryConfig, LibraryConfig
from pipeline.data import load_timeseries
from pipeline.discovery import DiscoveryResult, discover
from pipeline.discovery.library_size import check_library_samples
from pipeline.errors import ConfigError, DataError, DiscoveryError
from pipeline.systems import SYSTEMS, sample_system
from pipeline.systems_published import PUBLISHED


def test_exponential_decay_from_the_seed_example() -> None:
    result = discover_config("exp_decay")
    assert result.terms() == {"u": pytest.approx({"u": -1.0}, rel=0.05)}
    assert re.fullmatch(r"u' = -(0\.9[5-9]\d\d|1\.0[0-4]\d) u", result.equations[0]), result.equations


def test_lorenz_at_one_percent_noise_exact_structure() -> None:
    result = discover_config("lorenz")
    assert_structure_and_coefficients(result, SYSTEMS["lorenz"].terms, rtol=0.05)
    assert result.metrics["derivative_r2"] > 0.99


def test_lotka_volterra() -> None:
    result = discover_config("lotka_volterra")
    assert_structure_and_coefficients(result, SYSTEMS["lotka_volterra"].terms, rtol=0.05)
    assert result.metrics["trajectory_r2"] > 0.95


def test_real_lynx_hare_record_gives_a_predator_prey_model() -> None:
    result = discover_config("lynx_hare")
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
    assert_structure_and_coefficients(result, SYSTEMS["lotka_volterra"].terms, rtol=0.05)
    assert result.metrics["n_trajectories"] == 2


def test_more_terms_than_samples_is_a_clear_error() -> None:
    t = np.linspace(0, 1, 8)
    x = np.column_stack([np.exp(-t), np.exp(-2 * t), np.cos(t)])
    with pytest.raises(DiscoveryError, match="library has 20 terms, which needs at least 22 samples, and there are 8"):
        discover(t, x, config=DiscoveryConfig(library=LibraryConfig(degree=3)))


def test_too_few_samples_names_only_remedies_that_apply() -> None:
    """At degree 1 lowering the degree cannot help; with listed functions, dropping them can."""
    t = np.linspace(0, 1, 5)
    x = np.exp(-t)[:, None]
    spec = LibraryConfig(degree=1, functions=["sin", "cos"])
    with pytest.raises(DiscoveryError, match=r"4 terms.*6 samples.*there are 5; drop function terms") as caught:
        discover(t, x, config=DiscoveryConfig(library=spec))
    assert "degree" not in str(caught.value)


def test_the_smallest_library_is_checked_against_the_file_before_anything_runs(tmp_path) -> None:
    path = tmp_path / "three.csv"
    path.write_text("t,x,y\n0,1.0,0.5\n0.5,1.2,0.4\n1.1,1.5,0.35\n")
    series = load_timeseries(path, time_column="t")
    with pytest.raises(DataError, match=rf"{path}: the library has 3 terms, which needs at least 5 samples.*; provide"):
        check_library_samples(series, LibraryConfig())
    path.write_text("t,x,y\n0,1.0,0.5\n0.5,1.2,0.4\n1.1,1.5,0.35\n1.4,1.6,0.3\n")
    check_library_samples(load_timeseries(path, time_column="t"), LibraryConfig(include_bias=False))  # 2 terms, 4


def test_mismatched_inputs_are_data_errors() -> None:
    t = np.linspace(0, 1, 20)
    with pytest.raises(DataError, match="2 time arrays but 1 state arrays"):
        discover([t, t], [np.exp(-t)])
    with pytest.raises(DataError, match="feature_names has 2 names for 1"):
        discover(t, np.exp(-t), feature_names=["a", "b"])


def test_settings_may_be_dicts_of_their_fields_and_anything_else_is_a_config_error_naming_the_argument() -> None:
    """A dict for config or differentiation (or a config of the other kind) was an AttributeError from inside."""
    t = np.linspace(0, 5, 40)
    x = np.exp(-t)
    by_dict = discover(t, x, config={"n_bootstrap": 0, "library": {"degree": 1}}, differentiation={"method": "kalman"})
    by_object = discover(
        t, x, config=DiscoveryConfig(n_bootstrap=0, library=LibraryConfig(degree=1)),
        differentiation=DifferentiationConfig(method="kalman"),
    )  # fmt: skip
    assert by_dict.equations == by_object.equations and by_dict.intervals is None
    assert by_dict.chosen["differentiation_method"] == "kalman"
    with pytest.raises(ConfigError, match=r"config: unknown key 'n_bootstrp' .*takes library, threshold"):
        discover(t, x, config={"n_bootstrp": 0})
    with pytest.raises(ConfigError, match=r"differentiation: field 'method': Input should be 'auto'.*got 'sgolay'"):
        discover(t, x, differentiation={"method": "sgolay"})
    with pytest.raises(ConfigError, match="config must be a DiscoveryConfig or a dict of its fields; got Differentiat"):
        discover(t, x, config=DifferentiationConfig())
    with pytest.raises(ConfigError, match="differentiation must be a DifferentiationConfig .*; got str"):
        discover(t, x, differentiation="kalman")


def test_bagging_gives_inclusion_probabilities_and_intervals_around_the_truth() -> None:
    result = discover_config("lotka_volterra")
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
    decay = discover_config("exp_decay")
    assert decay.chosen["degree"] == 1


def test_function_terms_find_a_pendulum() -> None:
    frame = sample_system("pendulum", n=512, noise=0.01, seed=0)
    config = DiscoveryConfig(library=LibraryConfig(degree=1, functions=["sin"]))
    result = discover(
        frame.t.to_numpy(), frame[["theta", "omega"]].to_numpy(), config=config, feature_names=["theta", "omega"]
    )
    assert set(result.terms()["omega"]) == {"omega", "sin(theta)"}
    assert result.terms()["omega"]["sin(theta)"] == pytest.approx(-1.0, rel=0.05)


@pytest.mark.parametrize("scale", [1e-40, 1e-6, 1e6, 1e40])
def test_the_model_does_not_depend_on_the_data_units(scale: float) -> None:
    frame = sample_system("lotka_volterra", n=400, noise=0.01, seed=0)
    t, x = frame["t"].to_numpy(), frame.drop(columns="t").to_numpy()
    names = list(frame.columns[1:])
    reference = discover(t, x, feature_names=names)
    scaled = discover(t, x * scale, feature_names=names)
    # Automatic function terms are tried where the data's units make them meaningful (sin x of a state in
    # units of 1e-6 is x), so the libraries may differ in them; neither model may use one, and the
    # polynomial parts must be the same model.
    poly = reference.library.powers.shape[0]
    assert not reference.coefficients[:, poly:].any() and not scaled.coefficients[:, poly:].any()
    reference_poly, scaled_poly = reference.coefficients[:, :poly], scaled.coefficients[:, :poly]
    assert np.array_equal(scaled_poly != 0, reference_poly != 0)  # the same terms
    # a term of degree k in equation i scales by scale^(1 - k): map back and compare
    degrees = reference.library.degrees[:poly]
    mapped = scaled_poly * scale ** (degrees[None, :] - 1.0)
    np.testing.assert_allclose(mapped, reference_poly, rtol=1e-6, atol=1e-12)
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
    assert result.cautions == []  # the stability check, driven by the record's force, passes the law from every start
    with pytest.raises(DataError, match="pass u"):
        result.simulate(series.x[0], series.t)
    restored = DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict())))
    np.testing.assert_allclose(
        restored.simulate(series.x[0], series.t, series.u), result.simulate(series.x[0], series.t, series.u)
    )


def test_an_input_constant_in_every_trajectory_is_refused_before_discovery() -> None:
    ts = [np.linspace(0, 2, 30), np.linspace(0, 3, 40)]
    xs = [np.exp(-t)[:, None] for t in ts]
    with pytest.raises(DataError, match=r"input 'heater' is constant \(1.5\) in every trajectory"):
        discover(ts, xs, u=[np.full(30, 1.5), np.full(40, 1.5)], control_names=["heater"])


def test_rational_saturation_terms() -> None:
    ts, xs = trajectories(lambda _t, x: 0.8 - 1.5 * x / (1 + x), (0.05, 3.0, 6.0))
    result = discover(
        ts, xs, feature_names=["s"], config=DiscoveryConfig(library={"degree": 1, "functions": ["saturation"]})
    )
    assert result.terms() == {"s": pytest.approx({"1": 0.8, "s/(1+s)": -1.5}, rel=0.02)}


def test_hill_terms_find_a_gene_switch() -> None:
    # Strogatz's gene switch (Nonlinear Dynamics and Chaos, ex. 3.7.4): x' = s - r x + x^2/(1 + x^2).
    ts, xs = trajectories(lambda _t, x: 0.1 - 0.4 * x + x**2 / (1 + x**2), (0.0, 1.0, 3.0))
    result = discover(ts, xs, feature_names=["g"], config=DiscoveryConfig(library={"degree": 1, "functions": ["hill"]}))
    assert result.terms() == {"g": pytest.approx({"1": 0.1, "g": -0.4, "g^2/(1+g^2)": 1.0}, rel=0.02)}
    assert result.equations_sympy[0].endswith("*g**2/(1 + g**2)")


def test_a_listed_hill_family_takes_its_constant_from_the_data_not_from_their_unit() -> None:
    # Hill activation with K = 40 (e.g. nM): x' = 5 - 0.1 x + 8 x^2/(40^2 + x^2); at K = 1 the term would be ~1
    # over the whole record, indistinguishable from the constant. The grid's K nearest 40 is 1/8 ... 4 times the
    # largest value: the test asks for the data's scale, not the exact constant.
    # (At K = 1 the model found is g' = 5.14 - 0.030 g, 9.7 off from the start 120.)
    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        return 5.0 - 0.1 * x + 8.0 * x**2 / (40.0**2 + x**2)

    ts, xs = trajectories(rhs, (0.0, 60.0, 120.0))
    result = discover(ts, xs, feature_names=["g"], config=DiscoveryConfig(library={"degree": 1, "functions": ["hill"]}))
    (term,) = [name for name in result.terms()["g"] if name.startswith("g^2/(")]
    constant = float(term.split("(")[1].split("^")[0])
    assert 20.0 <= constant <= 80.0, result.equations
    _, clean = trajectories(rhs, (0.0, 60.0, 120.0), noise=0.0)
    errors = [np.max(np.abs(result.simulate(x[0], t)[:, 0] - x[:, 0])) for t, x in zip(ts, clean)]
    assert max(errors) < 0.02 * np.ptp(np.vstack(clean)), (result.equations, errors)


def test_a_listed_sigmoid_takes_its_center_and_width_from_the_data() -> None:
    # A firing-rate unit with a logistic gain: r' = 2/(1 + exp(-(r - 3)/0.5)) - 0.2 r, from four starts
    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        return 2.0 / (1 + np.exp(-(x - 3.0) / 0.5)) - 0.2 * x

    starts = (1.0, 2.0, 3.5, 5.0)
    ts, xs = trajectories(rhs, starts)
    config = DiscoveryConfig(library={"degree": 1, "functions": ["sigmoid"]})
    result = discover(ts, xs, feature_names=["r"], config=config)
    ((rate, center),) = zip(result.library.rates, result.library.centers)
    assert (1 / rate, center) == (pytest.approx(0.5, rel=0.1), pytest.approx(3.0, rel=0.05)), result.equations
    assert result.terms()["r"]["r"] == pytest.approx(-0.2, rel=0.05)
    _, clean = trajectories(rhs, starts, noise=0.0)
    errors = [np.max(np.abs(result.simulate(x[0], t)[:, 0] - x[:, 0])) for t, x in zip(ts, clean)]
    assert max(errors) < 0.01 * np.ptp(np.vstack(clean)), (result.equations, errors)
    assert "1/(1+exp(-(r - " in result.equations[0]


def test_inhibition_terms_find_substrate_inhibition() -> None:
    # Uptake inhibited by its own substrate (Lengyel-Epstein's x/(1 + x^2) form): x' = a - x - b x/(1 + x^2).
    def rhs(_t: float, x: np.ndarray) -> np.ndarray:
        return 2.0 - 0.5 * x - 3.0 * x / (1 + x**2)

    ts, xs = trajectories(rhs, (0.2, 4.0, 8.0))
    config = DiscoveryConfig(library={"degree": 1, "functions": ["inhibition"]})
    result = discover(ts, xs, feature_names=["c"], config=config)
    assert result.terms() == {"c": pytest.approx({"1": 2.0, "c": -0.5, "c/(1+c^2)": -3.0}, rel=0.02)}
    grid = np.linspace(0.0, 8.0, 50)[:, None]  # the law the model states, over the data's range
    np.testing.assert_allclose(result.predict(grid)[:, 0], rhs(0.0, grid[:, 0]), atol=0.02 * 3.0)


def test_fourier_library_finds_a_second_harmonic() -> None:
    ts, xs = trajectories(lambda _t, x: 0.4 - np.sin(2 * x), (0.1, 1.5, 2.5))
    result = discover(
        ts, xs, feature_names=["a"], config=DiscoveryConfig(library={"degree": 1, "fourier_frequencies": 2})
    )
    # 3 %: the shooting refinement moves this case's rate by 2 % (0.3985, -0.9973 -> 0.3906, -0.9803; the fixed
    # point stays), a cost measured against its gains on the discovery benchmark.
    assert result.terms() == {"a": pytest.approx({"1": 0.4, "sin(2 a)": -1.0}, rel=0.03)}
    assert result.equations_sympy[0].endswith("*sin(2*a)")


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
    assert_structure_and_coefficients(
        result,
        {"S": {"S I/(1+I)": -3.0}, "I": {"S I/(1+I)": 3.0, "I": -0.5}, "R": {"I": 0.5}},
        rtol=0.05,
    )
    assert result.chosen["conservation_laws"] == ["S + I + R = const"]
    assert "Symbol('S')*Symbol('I')/(1 + Symbol('I'))" in result.equations_sympy[0]  # sympy's own S and I
    again = DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.equations == result.equations
    np.testing.assert_allclose(again.predict(x[:50]), result.predict(x[:50]))


@pytest.mark.parametrize("samples", [3, 4, 5, 6])
def test_panel_data_of_many_short_trajectories(samples: int) -> None:
    # 40 trajectories of 6 samples: five shooting blocks per trajectory left none of 3 samples, and the
    # refinement took the minimum of an empty list. Short trajectories now get fewer, longer blocks.
    # Of 5 samples (the fewest a file may hold per trajectory): 'auto' differentiation chose the Kalman smoother,
    # which needs 6, and failed; it now takes the smoothing spline there.
    rng = np.random.default_rng(0)
    ts = [np.sort(rng.uniform(0.0, 1.0, samples)) for _ in range(40)]
    starts = rng.uniform(0.5, 3, 40)
    xs = [x0 * np.exp(-0.7 * t) * (1 + 0.01 * rng.standard_normal(samples)) for x0, t in zip(starts, ts)]
    result = discover(ts, xs, feature_names=["u"])
    assert result.terms() == {"u": pytest.approx({"u": -0.7}, rel=0.03)}
    assert result.metrics["trajectory_r2"] > 0.99


def test_intervals_contain_the_reported_estimate() -> None:
    # The shooting refinement moves the estimate after bagging; each interval is widened to contain it
    # (on the bundled examples 6 of 17 estimates lay outside their own interval).
    for name in ("exp_decay", "lotka_volterra"):
        result = discover_config(name)
        inside = (result.intervals[..., 0] <= result.coefficients) & (result.coefficients <= result.intervals[..., 1])
        assert inside[result.coefficients != 0].all(), name



def test_a_state_changing_at_a_steady_rate_is_a_good_fit_not_a_poor_one() -> None:
    # A ramp's derivative varies only by its noise: scored about its mean, x' = 2.000 explained none of it (R² 0).
    t = np.linspace(0.0, 10.0, 300)
    x = 2.0 * t + 1.0 + 0.01 * np.random.default_rng(0).standard_normal(300)
    result = discover(t, x[:, None], feature_names=["x"])
    assert result.equations == ["x' = 2.000"]
    assert result.metrics["derivative_r2"] > 0.99
    assert not [caution for caution in result.chosen.get("cautions", []) if "poor fit" in caution]


def test_a_chaotic_record_and_a_poor_fit_carry_cautions() -> None:
    # Over 10 time units (9 Lyapunov times) Lorenz amplifies any error past the record: its trajectory R² cannot
    # be the headline (a nudge that had to reach 10 % of the spread missed this chaos and called the model poor)
    frame = sample_system("lorenz", n=2500, noise=0.01, multiplicative=True, seed=0, t_end=10.0)
    result = discover(frame.t.to_numpy(), frame[["x", "y", "z"]].to_numpy(), feature_names=("x", "y", "z"))
    assert [caution for caution in result.chosen["cautions"] if "chaotic" in caution]
    assert not [caution for caution in result.chosen["cautions"] if "poor fit" in caution]
    # ... and is scored where a simulation can follow it: over the first 20 % of the span, and by how long it does,
    # in Lyapunov times of the model (Lorenz's largest exponent is 0.906: 1.10 time units)
    assert result.metrics["trajectory_r2"] < 0.5 < 0.9 < result.metrics["trajectory_r2_short"]
    assert 1.0 < result.metrics["forecast_horizon"] < 10.0
    assert result.metrics["lyapunov_time"] == pytest.approx(1 / 0.906, rel=0.2)
    assert any("forecast horizon" in caution for caution in result.chosen["cautions"])
    # Judged on blocks half a Lyapunov time long (not the 5 blocks of 2 time units a calm record gets), where the
    # true law follows the record to within a few times the noise: exactly Lorenz's terms are found
    assert result.chosen["shooting_blocks"] >= 15  # 10 time units over half of a Lyapunov time within 20 %
    assert {name: set(terms) for name, terms in result.terms().items()} == {
        name: set(terms) for name, terms in SYSTEMS["lorenz"].terms.items()
    }
    # White noise has no law: whatever is found describes it badly, and the result says so.
    t = np.linspace(0.0, 10.0, 300)
    noise = np.random.default_rng(1).standard_normal((300, 1))
    assert any("poor fit" in caution for caution in discover(t, noise, feature_names=["u"]).chosen["cautions"])
    calm = discover_config("lotka_volterra")
    assert "cautions" not in calm.chosen
    # A model that follows its record but, refitted on its first 80 %, forecasts the last 20 % badly is not pinned
    # down by the data: Morris-Lecar's neuron at 5 % noise (its library lacks the law's tanh and cosh).
    neuron = PUBLISHED["morris_lecar"].system
    loose = discover(*noisy_record(neuron, 0.05, 0), feature_names=neuron.names)
    assert loose.metrics["trajectory_r2_heldout"] < 0.9
    assert any(caution.startswith("weak forecast: refitted on the first 80%") for caution in loose.chosen["cautions"])
    times = load_timeseries(
        ROOT / "data" / "lotka_volterra.csv", time_column="t", state_columns=["hare", "lynx"]
    ).t_list()
    span = float(np.median([t[-1] - t[0] for t in times]))
    assert calm.metrics["forecast_horizon"] == pytest.approx(span)  # it follows the whole record
    assert calm.chosen["shooting_blocks"] == DiscoveryConfig().n_folds * len(times)  # n_folds per trajectory


def test_a_model_that_runs_away_or_crosses_zero_near_the_data_carries_a_caution() -> None:
    # x' = x^2 - 1 from x = 0.9, 1 % noise: the record falls to the stable state -1, and from starts above the
    # unstable state +1, near the data, the law itself blows up: found exactly, with the caution
    t = np.linspace(0.0, 5.0, 400)
    path = solve_ivp(lambda _t, x: x**2 - 1.0, (0.0, 5.0), [0.9], t_eval=t, rtol=1e-10, atol=1e-12).y.T
    noisy = path * (1.0 + 0.01 * np.random.default_rng(0).standard_normal(path.shape))
    blowing_up = discover(t, noisy, feature_names=["x"])
    assert blowing_up.terms() == {"x": {"1": pytest.approx(-1.0, rel=0.02), "x^2": pytest.approx(1.0, rel=0.02)}}
    assert any(caution.startswith("from some states near the data") for caution in blowing_up.chosen["cautions"])
    # exponential growth x' = 0.23 x, 1 % noise: found exactly, and though it runs away from starts above the data,
    # so does the record itself (still rising at its end): no caution
    growth = PUBLISHED["odebench_02_exponential_growth"].system
    found = discover(*noisy_record(growth, 0.01, 0), feature_names=growth.names)
    assert found.terms() == {"x": {"x": pytest.approx(0.23, rel=0.02)}}
    assert not any(caution.startswith("from some states near") for caution in found.chosen.get("cautions", []))
    # Haldane's substrate inhibition at 5 % noise: only models with a constant rate fit the record, and from small
    # substrate levels they drive it below zero; the caution names the state
    haldane = PUBLISHED["haldane_substrate_inhibition"].system
    crossing = discover(*noisy_record(haldane, 0.05, 0), feature_names=haldane.names)
    assert any(caution.startswith("the model drives x below zero") for caution in crossing.chosen["cautions"])


def test_automatic_families_are_chosen_where_the_smoothed_states_lie_too() -> None:
    # seed 162 of the scaling benchmark: the raw P stays positive but its smoothed start dips to 0, where the
    # automatic log family chosen from the raw data alone made the library non-finite (a DiscoveryError)
    frame = sample_system("enzyme_mass_action", n=512, noise=0.01, seed=162, t_end=10.0).round(8)
    names = ["S", "C", "P"]
    result = discover(frame.t.to_numpy(), frame[names].to_numpy(), feature_names=names)
    assert np.all(np.isfinite(result.coefficients)) and result.complexity > 0


def test_the_forecast_horizon_ends_where_the_simulation_departs_from_the_record() -> None:
    from pipeline.discovery.scoring import FORECAST_TOLERANCE, forecast_horizon

    t = np.linspace(2.0, 22.0, 21)
    reference = np.zeros((21, 2))
    spread = np.array([1.0, 4.0])
    assert forecast_horizon(t, reference + 0.1, reference, spread) == 20.0  # never departs: the whole span
    departing = reference.copy()
    departing[12:, 1] = 4.0 * FORECAST_TOLERANCE * np.sqrt(2.0) * 1.01  # just past tolerance, RMS over 2 states
    assert forecast_horizon(t, departing, reference, spread) == 12.0
    departing[5, :] = 100.0  # one wild sample (noise) does not end it ...
    assert forecast_horizon(t, departing, reference, spread) == 12.0
    departing[5:8, 0] = np.nan  # ... a simulation that is no longer finite for several samples does
    assert forecast_horizon(t, departing, reference, spread) == 5.0


def test_inputs_that_are_not_numbers_or_hold_several_trajectories_are_named() -> None:
    t = np.linspace(0, 5, 40)
    with pytest.raises(DataError, match=r"t is a function or method, not data \(call it"):
        discover(t.tolist, np.exp(-t))
    with pytest.raises(DataError, match="x must hold numbers: an array, or a list of arrays"):
        discover(t, ["a"] * 40)
    both = np.r_[t, t]  # two trajectories stacked in one array
    with pytest.raises(DataError, match="decreasing time .* pass one array per trajectory in lists"):
        discover(both, np.exp(-both))


def test_plain_lists_of_one_record_are_one_trajectory_and_a_transposed_x_or_a_name_string_is_named() -> None:
    t = np.linspace(0, 5, 40)
    x = np.c_[np.exp(-t), 2 * np.exp(-0.5 * t)]
    config = DiscoveryConfig(n_bootstrap=0)
    expected = discover(t, x, config=config, feature_names=["a", "b"]).equations
    # a column's and a table's tolist(), as a notebook passes them: one record, not one trajectory per number or row
    assert discover(t.tolist(), x.tolist(), config=config, feature_names=["a", "b"]).equations == expected
    assert discover(tuple(t), x, config=config, feature_names=["a", "b"]).equations == expected
    with pytest.raises(DataError, match=r"x has shape \(2, 40\), expected \(40, d\).*looks transposed \(pass x\.T\)"):
        discover(t, x.T, feature_names=["a", "b"])  # named by its shape, not as 2 names for 40 columns
    with pytest.raises(DataError, match="feature_names must be a list of 2 names.*got the string 'ab'"):
        discover(t, x, feature_names="ab")  # not silently the states 'a' and 'b'


def test_the_judged_models_are_a_table_of_their_own_not_metrics() -> None:
    result = discover_config("lotka_volterra")
    assert not [key for key in result.metrics if key.startswith("shooting_error")]  # 14 metrics, not 40
    errors = [row["shooting_error"] for row in result.judged]
    assert len(errors) > 10 and errors == sorted(errors)
    (chosen,) = [row for row in result.judged if row["chosen"]]
    assert chosen["label"] == result.chosen["model_choice"]
    assert chosen["terms"] == "hare: hare + hare lynx; lynx: lynx + hare lynx" and chosen["n_terms"] == 4
    assert DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict()))).judged == result.judged


def test_a_long_discovery_reports_its_stages_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """From Python, logging at INFO shows where a long discovery is: differentiating, judging, refining, bagging."""
    import logging

    t = np.linspace(0.0, 5.0, 200)
    x = np.column_stack([np.exp(-t), 2.0 * np.exp(-0.5 * t)])
    with caplog.at_level(logging.INFO, logger="pipeline.discovery.chain"):
        discover(t, x, feature_names=["a", "b"], config={"n_bootstrap": 5})
    stages = [record.getMessage().split()[0] for record in caplog.records if record.name == "pipeline.discovery.chain"]
    assert stages == ["smoothing", "judging", "refining", "bagging"]


def test_the_smoothing_of_each_state_is_reported_in_the_data_units() -> None:
    """What the run chose for each state's smoothing (method, parameters, noise sd) is among the choices; the noise sd
    is in the state's own units, not the fitting units (a state 1000 times larger: a noise sd 1000 times larger)."""
    t = np.linspace(0, 10, 300)
    noise = 0.01 * np.random.default_rng(0).standard_normal((300, 2))
    x = np.column_stack([np.exp(-0.5 * t), np.cos(t)]) + noise
    sds = []
    for factor in (1.0, 1000.0):
        smoothing = discover(t, x * factor, feature_names=["u", "v"], config={"n_bootstrap": 0}).chosen["smoothing"]
        assert set(smoothing) == {"u", "v"}
        assert all(text.split(",")[0] in {"kalman", "savgol+kalman", "spectral"} for text in smoothing.values())
        sds.append([float(text.rsplit("noise sd ", 1)[1]) for text in smoothing.values()])
    assert sds[0] == pytest.approx([0.01, 0.01], rel=0.5)
    assert np.array(sds[1]) == pytest.approx(1000 * np.array(sds[0]), rel=1e-3)
