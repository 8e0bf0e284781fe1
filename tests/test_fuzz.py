"""Property tests: whatever the input, only DeltaflowError subclasses escape the entry points.

The CI profile runs 300 examples per property (fewer for the slow discovery entry point); the long
profile (``HYPOTHESIS_PROFILE=long``, ``make fuzz-long``) runs ``$FUZZ_EXAMPLES`` (default 10,000) per
property, discovery included: 37 minutes at 10,000 on a loaded 2-core machine (benchmarks/results/fuzz_long.md).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pipeline.config import parse_config
from pipeline.data import load_timeseries
from pipeline.differentiation import METHODS, differentiate
from pipeline.discovery import discover
from pipeline.errors import DeltaflowError
from pipeline.expressions import evaluate_expression
from pipeline.sensitivity import estimate_gradient, global_indices

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10000"))
settings.register_profile(
    "long", max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def ci_cap(n: int) -> int:
    """Fewer examples for a slow property in the CI profile; the full profile count otherwise."""
    return n if PROFILE == "ci" else settings.default.max_examples


floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(
    t=arrays(np.float64, st.integers(0, 40), elements=floats),
    x=arrays(np.float64, st.integers(0, 40), elements=floats),
    method=st.sampled_from(sorted(METHODS)),
    order=st.integers(0, 3),
)
def test_differentiate_raises_only_its_own_errors(t: np.ndarray, x: np.ndarray, method: str, order: int) -> None:
    try:
        out = differentiate(t, x, method=method, order=order)
    except DeltaflowError:
        return
    assert out.shape == x.shape


@given(
    data=arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 3)), elements=floats),
    step=st.floats(1e-3, 10.0),
)
@settings(max_examples=ci_cap(100))
def test_discover_raises_only_its_own_errors(data: np.ndarray, step: float) -> None:
    t = np.arange(data.shape[0]) * step
    try:
        result = discover(t, data)
    except DeltaflowError:
        return
    assert result.coefficients.shape[0] == data.shape[1]


@given(
    raw=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=12,
    )
)
def test_parse_config_raises_only_config_errors(raw: object) -> None:
    with contextlib.suppress(DeltaflowError):
        parse_config(raw)


@given(text=st.text(max_size=300))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_load_timeseries_raises_only_data_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8")
    try:
        series = load_timeseries(path, time_column="t")
    except DeltaflowError:
        return
    assert series.x.shape[0] == series.t.shape[0] >= 5


@pytest.mark.parametrize("header", ["t,u\n", "t,u,v\n"])
@given(rows=st.lists(st.tuples(floats, floats, floats), min_size=0, max_size=20))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=ci_cap(80))
def test_numeric_tables_load_or_fail_cleanly(
    tmp_path: Path, header: str, rows: list[tuple[float, float, float]]
) -> None:
    width = header.count(",") + 1
    path = tmp_path / "fuzz.csv"
    path.write_text(header + "".join(",".join(repr(v) for v in row[:width]) + "\n" for row in rows))
    with contextlib.suppress(DeltaflowError):
        load_timeseries(path, time_column="t")


@given(
    steps=arrays(np.float64, st.integers(2, 60), elements=st.floats(1e-6, 1e3)),
    values=st.data(),
    method=st.sampled_from(sorted(METHODS)),
    order=st.sampled_from([1, 2]),
)
def test_differentiate_on_valid_grids_returns_finite_values_or_its_own_error(
    steps: np.ndarray, values: st.DataObject, method: str, order: int
) -> None:
    t = np.concatenate([[0.0], np.cumsum(steps)])
    x = values.draw(arrays(np.float64, t.shape, elements=st.floats(-1e12, 1e12)))
    try:
        out = differentiate(t, x, method=method, order=order)
    except DeltaflowError:
        return
    assert out.shape == x.shape
    assert np.all(np.isfinite(out)), f"{method} returned non-finite derivatives"


def test_a_series_spanning_too_many_orders_of_magnitude_is_a_clean_error() -> None:
    data = np.zeros((30, 1))
    data[0, 0] = 2.4e153  # found by hypothesis: the smoother overflowed and scipy raised a bare ValueError
    with contextlib.suppress(DeltaflowError):
        discover(np.arange(30.0), data)


def test_a_feature_of_tiny_range_has_a_poincare_constant_not_a_lapack_error() -> None:
    """Found by the long profile: a feature spanning 3e-141 overflowed the Poincaré Laplacian (LinAlgError)."""
    X = np.array([[3.01927163e-141], [0.0], [0.0], [0.0], [0.0], [0.0], [0.0]])
    y = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    try:
        table = global_indices(X, y, method="rbd_fast")
    except DeltaflowError:
        return
    assert np.isfinite(table["DGSM_bound"]).all()


@given(
    X=arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 3)), elements=floats),
    y=arrays(np.float64, st.integers(0, 30), elements=floats),
)
@settings(max_examples=ci_cap(120))
def test_sensitivity_entry_points_raise_only_their_own_errors(X: np.ndarray, y: np.ndarray) -> None:
    try:
        grad = estimate_gradient(X, y, method="local_polynomial")
    except DeltaflowError:
        return
    assert grad.shape == X.shape and np.all(np.isfinite(grad))
    with contextlib.suppress(DeltaflowError):
        global_indices(X, y, method="rbd_fast")


@given(text=st.text(max_size=40), u=st.floats(-10, 10))
def test_expressions_raise_only_config_errors(text: str, u: float) -> None:
    with contextlib.suppress(DeltaflowError):
        evaluate_expression(text, {"u": np.array([u]), "k": 1.0})
