"""The discovery result: JSON, equation forms, simulation failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from discovery_cases import discover_config

from pipeline.discovery import DiscoveryResult, Library
from pipeline.errors import DataError, SimulationError


def test_result_round_trips_through_json() -> None:
    result = discover_config("exp_decay")
    restored = DiscoveryResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert restored.equations == result.equations
    np.testing.assert_array_equal(restored.coefficients, result.coefficients)
    t = np.linspace(0, 5, 20)
    np.testing.assert_allclose(restored.simulate([1.0], t), result.simulate([1.0], t))


def test_equations_in_latex_and_sympy_forms() -> None:
    import sympy

    result = discover_config("lotka_volterra")
    assert result.equations_latex[0].startswith(r"\dot{\mathrm{hare}} = 0.5")
    for expression, (state, terms) in zip(result.equations_sympy, result.terms().items(), strict=True):
        parsed = sympy.sympify(expression)
        hare, lynx = sympy.symbols("hare lynx")
        assert float(parsed.coeff(hare * lynx)) == pytest.approx(terms["hare lynx"], rel=1e-3), state


def test_latex_sets_names_of_several_letters_apart_and_escapes_their_special_characters() -> None:
    """``lynx hare`` in math mode reads as the one word "lynxhare", and a ``%`` in a column name comments out the rest
    of equations.tex: names of several letters are upright, products get a thin space, specials are escaped."""
    from matplotlib.mathtext import MathTextParser

    names = ("lynx", "O2 %", "theta", "x", "T_C")
    powers = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 2]])
    library = Library(names, powers, (("sin", 2), ("saturation", 0, 3)), rates=(1.0, 0.5))
    result = DiscoveryResult(names=names, library=library, coefficients=np.ones((5, 5)))
    lynx, oxygen, theta, x, celsius = result.equations_latex
    assert lynx.startswith(r"\dot{\mathrm{lynx}} = 1.000 \mathrm{lynx} \, \mathrm{O2\ \%} + 1.000 \theta \, x")
    assert r"\mathrm{T\_C}^{2} + 1.000 \sin(\theta) + 1.000 x \, \frac{\mathrm{lynx}}{2+\mathrm{lynx}}" in lynx
    sides = [equation.split(" = ")[0] for equation in (oxygen, theta, x)]
    assert sides == [r"\dot{\mathrm{O2\ \%}}", r"\dot{\theta}", r"\dot{x}"]
    assert celsius.startswith(r"\dot{\mathrm{T\_C}} = ")
    for equation in result.equations_latex:
        MathTextParser("path").parse(f"${equation}$")  # matplotlib's TeX subset reads each


def test_text_equations_bracket_the_names_that_would_read_as_something_else() -> None:
    """``prey count' = 0.9997 prey count - 0.5 prey count pred-1`` reads as a product of four names minus 1."""
    names = ("prey count", "pred-1", "hare", "2")
    powers = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]])
    library = Library(names, powers, (("sin", 1),))
    coefficients = np.array([[1.0, -0.5, 0.25, 2.0]] * len(names))
    result = DiscoveryResult(names=names, library=library, coefficients=coefficients)
    assert result.equations[0] == (
        "[prey count]' = 1.000 [prey count] - 0.5000 [prey count] [pred-1] + 0.2500 hare [2] + 2.000 sin([pred-1])"
    )
    assert result.equations[2].startswith("hare' = ")
    assert set(result.terms()["prey count"]) == {"[prey count]", "[prey count] [pred-1]", "hare [2]", "sin([pred-1])"}


def test_sympy_form_parses_to_the_states_symbols_whatever_their_names() -> None:
    """An SIR model's ``-0.3*S*I`` raised a TypeError in sympify (S and I are sympy's singletons and imaginary unit),
    and so did ``beta``, ``lambda`` or a column named ``O2 %``: such names are written ``Symbol('S')``."""
    import sympy

    names = ("S", "I", "beta", "lambda", "O2 %", "hare")
    powers = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 1]])
    library = Library(names, powers, (("saturation", 1, 0),), rates=(0.5,))
    coefficients = np.array([[-0.3, 0.1, 0.2, 0.4, 0.5]] * len(names))
    result = DiscoveryResult(names=names, library=library, coefficients=coefficients)
    symbols = {name: sympy.Symbol(name) for name in names}
    s, i, beta, lam, oxygen, hare = symbols.values()
    expected = -0.3 * s * i + 0.1 * beta + 0.2 * lam * oxygen + 0.4 * hare + 0.5 * s * i / (2 + i)
    parsed = sympy.sympify(result.equations_sympy[0])
    assert parsed.free_symbols == set(symbols.values())
    point = dict(zip(symbols.values(), [1.5, 0.7, 2.0, 0.3, 4.0, 9.0], strict=True))
    assert float(parsed.subs(point)) == pytest.approx(float(expected.subs(point)))
    assert float(parsed.subs(point)) == pytest.approx(result.predict(np.array([[1.5, 0.7, 2.0, 0.3, 4.0, 9.0]]))[0, 0])
    assert result.equations_sympy[0].endswith("*hare + 0.5000*Symbol('S')*Symbol('I')/(2.0 + Symbol('I'))")


def test_simulation_is_bounded_by_the_results_evaluation_budget_not_by_wall_time() -> None:
    """A stiff model (rates 1e4 apart) needs thousands of solver evaluations: over a result's small budget it
    fails naming the budget, within the default one it simulates; the budget survives the JSON round trip."""
    library = Library(("u", "v"), np.array([[1, 0], [0, 1]]))
    stiff = DiscoveryResult(names=("u", "v"), library=library, coefficients=np.array([[-1e4, 0.0], [1.0, -1.0]]))
    t = np.linspace(0, 50, 200)
    assert np.isfinite(stiff.simulate([1.0, 1.0], t)).all()
    tight = DiscoveryResult.from_dict(stiff.to_dict() | {"max_simulation_evaluations": 1000})
    assert tight.max_simulation_evaluations == 1000
    with pytest.raises(SimulationError, match="evaluations"):
        tight.simulate([1.0, 1.0], np.linspace(0, 1e6, 200))


def test_simulation_detects_divergence_instead_of_hanging() -> None:
    blow_up = DiscoveryResult(
        names=("u",), library=Library(("u",), np.array([[0], [1], [2]])), coefficients=np.array([[0.0, 0.0, 1.0]])
    )
    with pytest.raises(SimulationError, match="diverged"):
        blow_up.simulate([1.0], np.linspace(0, 5, 50))  # u' = u^2 blows up at t = 1


def test_a_start_or_input_that_is_not_finite_or_of_the_wrong_size_is_a_data_error_naming_it() -> None:
    """A NaN in a control or the start state used to run the solver and come back as "simulation diverged"; a
    start of the wrong size or inputs of the wrong length as a bare RuntimeError or ValueError from numpy."""
    forced = DiscoveryResult(  # x' = -x + heat
        names=("x",), library=Library(("x", "heat"), np.array([[1, 0], [0, 1]])), coefficients=np.array([[-1.0, 1.0]]),
        controls=("heat",),
    )  # fmt: skip
    t = np.linspace(0, 2, 5)
    heat = np.array([0.0, 1.0, np.nan, 1.0, 0.0])
    with pytest.raises(DataError, match=r"input 'heat' is nan at 0-based row 2 \(expected finite numbers\)"):
        forced.simulate([1.0], t, heat)
    with pytest.raises(DataError, match=r"start state 'x' is nan \(expected a finite number\)"):
        forced.simulate([np.nan], t, np.zeros(5))
    with pytest.raises(DataError, match=r"x0 has 2 values; expected one per state \['x'\]"):
        forced.simulate([1.0, 0.0], t, np.zeros(5))
    with pytest.raises(DataError, match=r"u has shape \(4,\); expected \(5, 1\): one row per time in t"):
        forced.simulate([1.0], t, np.zeros(4))
    with pytest.raises(DataError, match=r"u has shape \(2,\); expected \(3, 1\): one row per row of x"):
        forced.predict(np.ones((3, 1)), np.zeros(2))
    assert forced.predict(np.zeros((0, 1)), np.zeros((0, 1))).shape == (0, 1)
    np.testing.assert_allclose(forced.simulate([1.0], t, np.ones(5))[-1], [1.0])  # at rest where heat balances x


def _predator_prey() -> DiscoveryResult:
    """hare' = 0.5 hare - 0.02 hare lynx, lynx' = -0.9 lynx + 0.03 hare lynx, built by hand."""
    powers = np.array([[1, 0], [0, 1], [1, 1]])
    coefficients = np.array([[0.5, 0.0, -0.02], [0.0, -0.9, 0.03]])
    return DiscoveryResult(names=("hare", "lynx"), library=Library(("hare", "lynx"), powers), coefficients=coefficients)


def test_predict_reads_one_column_per_state_by_name_and_names_a_wrong_shape() -> None:
    """predict used to evaluate the library on whatever columns it got: x.T, or three columns for two states,
    came back as numbers, and a table with its columns in another order as the other state's rates."""
    import pandas as pd

    model = _predator_prey()
    x = np.array([[30.0, 4.0], [47.0, 6.0], [70.0, 10.0]])
    expected = np.c_[0.5 * x[:, 0] - 0.02 * x[:, 0] * x[:, 1], -0.9 * x[:, 1] + 0.03 * x[:, 0] * x[:, 1]]
    np.testing.assert_allclose(model.predict(x), expected, atol=1e-12)
    np.testing.assert_allclose(model.predict(pd.DataFrame({"lynx": x[:, 1], "hare": x[:, 0]})), expected, atol=1e-12)
    np.testing.assert_allclose(model.predict(x[0]), expected[:1], atol=1e-12)
    with pytest.raises(DataError, match=r"x has shape \(2, 3\); expected \(n, 2\).*looks transposed: pass x\.T"):
        model.predict(x.T)
    with pytest.raises(DataError, match=r"x has shape \(3, 3\); expected \(n, 2\): one row per point"):
        model.predict(np.ones((3, 3)))
    with pytest.raises(DataError, match="x must hold numbers"):
        model.predict([["a", "b"]])


def test_predict_evaluates_only_the_model_s_terms_where_the_library_has_others_undefined() -> None:
    """A library term outside the model (log S, zero coefficient) made predict NaN at S = 0 and S < 0, where the
    model (-0.8 S/(2.5 + S)) is defined: 0 x (-inf) is NaN; simulate, which compiles only the model's terms, ran."""
    library = Library(("S",), np.array([[0], [1]]), (("log", 0), ("saturation", 0)), rates=(1.0, 0.4))
    model = DiscoveryResult(names=("S",), library=library, coefficients=np.array([[0.0, 0.0, 0.0, -0.8]]))
    with np.errstate(all="raise"):
        np.testing.assert_allclose(model.predict([[0.0], [-1.0], [2.5]]), [[0.0], [0.8 / 1.5], [-0.4]], atol=1e-12)


def test_simulation_times_not_a_one_way_array_of_numbers_are_a_data_error_and_one_time_is_the_start() -> None:
    """A scalar t was an IndexError, a NaN or a turn in t a SimulationError quoting the solver, and a single time
    "simulation failed: Nothing was done"."""
    model = _predator_prey()
    with pytest.raises(DataError, match=r"t must be a 1-D array of the times to simulate at, \(m,\); got shape \(\)"):
        model.simulate([30.0, 4.0], 5.0)
    with pytest.raises(DataError, match=r"t is nan at 0-based index 2 \(expected finite times\)"):
        model.simulate([30.0, 4.0], [0.0, 1.0, np.nan])
    with pytest.raises(DataError, match=r"t turns back at 0-based index 2 \(2.0 then 1.0\)"):
        model.simulate([30.0, 4.0], [0.0, 2.0, 1.0])
    np.testing.assert_array_equal(model.simulate([30.0, 4.0], [1900.0]), [[30.0, 4.0]])
    backwards = model.simulate([30.0, 4.0], [2.0, 1.0, 0.0])  # decreasing times integrate backwards
    forwards = model.simulate(backwards[-1], [0.0, 1.0, 2.0])
    np.testing.assert_allclose(forwards[-1], [30.0, 4.0], rtol=1e-4)


def test_from_dict_of_something_else_is_a_data_error_saying_what_it_takes() -> None:
    text = json.dumps(_predator_prey().to_dict())
    assert DiscoveryResult.from_dict(json.loads(text)).equations == _predator_prey().equations
    with pytest.raises(DataError, match="got str: parse it with json.loads first"):
        DiscoveryResult.from_dict(text)
    with pytest.raises(DataError, match="this one does not fit \\(key 'library' missing\\)"):
        DiscoveryResult.from_dict({"names": ["hare"]})


def test_simulation_of_a_model_that_produces_nan_is_a_simulation_error() -> None:
    singular = DiscoveryResult(
        names=("u",),
        library=Library(("u",), np.zeros((0, 1), dtype=int), (("inverse", 0),)),
        coefficients=np.array([[-1.0]]),
        max_simulation_evaluations=50_000,
    )
    with pytest.raises(SimulationError):
        singular.simulate([1.0], np.linspace(0, 2, 50))  # u' = -1/u reaches u = 0 at t = 0.5


def test_states_of_extreme_size_give_a_finite_model_or_a_named_error() -> None:
    """At RMS 1e-120 the unused cubic term's unit factor overflows: its coefficient stays 0, not 0 x inf = NaN.
    A used term whose coefficient cannot be written in the data's units is a DiscoveryError that names it."""
    from pipeline.config import DiscoveryConfig
    from pipeline.discovery import discover
    from pipeline.discovery.scaling import _in_data_units
    from pipeline.errors import DiscoveryError

    t = np.linspace(0.0, 4.0, 200)
    result = discover(t, 1e-120 * np.exp(-t)[:, None], config=DiscoveryConfig(n_bootstrap=0))
    assert np.all(np.isfinite(result.coefficients))
    assert result.equations == ["x0' = -1.000 x0"]
    with pytest.raises(DiscoveryError, match="'x\\^3'"):
        _in_data_units(np.array([[0.0, 2.0]]), np.array([[np.inf, np.inf]]), ["1", "x^3"])


def test_cautions_are_a_list_whether_or_not_the_model_has_any() -> None:
    model = _predator_prey()
    assert model.cautions == []
    warned = DiscoveryResult(
        names=model.names, library=model.library, coefficients=model.coefficients, chosen={"cautions": ["poor fit: x"]}
    )
    assert warned.cautions == ["poor fit: x"]


def test_a_simulation_from_states_near_the_largest_accepted_magnitude_runs() -> None:
    """Data up to 1e150 are accepted; the divergence bound squared its limit with ** and raised OverflowError (a bare
    traceback) when a model was simulated from a state of 1e149."""
    library = Library(("u",), np.array([[1]]))
    model = DiscoveryResult(names=("u",), library=library, coefficients=np.array([[-1.0]]))
    path = model.simulate([1e149], np.linspace(0.0, 1.0, 5))
    np.testing.assert_allclose(path[:, 0], 1e149 * np.exp(-np.linspace(0.0, 1.0, 5)), rtol=1e-4)
