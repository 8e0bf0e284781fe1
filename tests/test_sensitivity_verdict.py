"""The plain-words verdict of a sensitivity result: ranking with intervals, and the cautions that qualify it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.sensitivity import SensitivityResult, sensitivity_cautions, sensitivity_headline


def _result(st: list[float], st_conf: list[float], cv_rmse: float) -> SensitivityResult:
    features = ["a", "b", "c"]
    table = pd.DataFrame(
        {"S1": [s * 0.9 for s in st], "S1_conf": st_conf, "ST": st, "ST_conf": st_conf,
         "DGSM_bound": [1.0] * 3, "clipped": [False, False, True], "rank": [1, 2, 3]},
        index=features,
    )  # fmt: skip
    return SensitivityResult(
        features=features, outputs=["y"], points=np.zeros((4, 3)), gradients=np.ones((4, 1, 3)),
        gradient_std=np.zeros((4, 1, 3)), hessians=None, indices={"y": table}, metrics={"y.cv_rmse": cv_rmse},
    )  # fmt: skip


def test_a_clear_ranking_reads_as_one_line_without_cautions_but_the_clipped_index() -> None:
    result = _result([0.6, 0.3, 0.0], [0.02, 0.02, 0.01], cv_rmse=0.1)
    (line,) = sensitivity_headline(result)
    assert line.startswith("y is driven most by a (ST 0.600 ± 0.020), b (ST 0.300 ± 0.020)")
    assert "first-order effects explain 81%" in line
    (caution,) = sensitivity_cautions(result, {"y": 1.0})
    assert "of c was estimated below 0" in caution


def test_small_indices_keep_the_digits_that_rank_them() -> None:
    """ST 0.035 ± 0.002 and 0.027 ± 0.001 printed to two decimals read as a tie, 0.03 ± 0.00 each."""
    (line,) = sensitivity_headline(_result([0.035, 0.027, 0.0], [0.002, 0.001, 0.001], cv_rmse=0.1))
    assert line.startswith("y is driven most by a (ST 0.0350 ± 0.0020), b (ST 0.0270 ± 0.0010)")


def test_overlapping_top_ranks_wide_intervals_and_a_rough_gradient_model_are_cautions() -> None:
    result = _result([0.40, 0.36, 0.0], [0.05, 0.15, 0.01], cv_rmse=0.9)
    cautions = " | ".join(sensitivity_cautions(result, {"y": 1.0}))
    assert "a and b cannot be told apart at 95 %" in cautions
    assert "intervals reach ± 0.15" in cautions
    assert "cross-validated R² is 0.19" in cautions


def test_wide_intervals_name_what_narrows_them_for_the_route_that_made_them() -> None:
    result = _result([0.40, 0.20, 0.0], [0.05, 0.15, 0.01], cv_rmse=0.1)
    for route, advice in [
        ("sobol", "raise indices.n_base"),
        ("surrogate", "raise indices.n_base"),
        ("hdmr", "more samples would narrow them"),
        ("rbd_fast", "more samples would narrow them"),
    ]:
        result.indices["y"].attrs["method"] = route
        (wide,) = [c for c in sensitivity_cautions(result, {"y": 1.0}) if "too wide" in c]
        assert advice in wide, (route, wide)
        assert ("n_base does not apply" in wide) == (route in ("hdmr", "rbd_fast"))  # it changes nothing there


def test_a_point_on_a_declared_input_bound_is_inside_the_sampled_box() -> None:
    """A queried model's inputs are drawn from their declared ranges: no sample lands on the bound itself, and a
    gradient there is no extrapolation."""
    from dataclasses import replace

    result = replace(_result([0.6, 0.3, 0.0], [0.02, 0.02, 0.01], cv_rmse=0.1), points=np.array([[1.0, 0.5, 0.5]]))
    samples = np.random.default_rng(0).uniform(0.0, 1.0, size=(200, 3)) * 0.98
    assert any("outside the samples' range (a 0.0" in c for c in sensitivity_cautions(result, {"y": 1.0}, samples))
    box = (np.zeros(3), np.ones(3))
    assert not any("outside" in c for c in sensitivity_cautions(result, {"y": 1.0}, samples, bounds=box))


def test_samples_the_features_explain_half_of_get_indices_of_the_output_not_the_surrogate() -> None:
    # y = x1 + x2 + noise with Var(noise) = Var(x1 + x2): each S1 is about 1/4 of Var(y), not 1/2 of the surrogate's
    from pipeline.sensitivity import global_indices

    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 1.0, (500, 2))
    y = X[:, 0] + X[:, 1] + rng.standard_normal(500) * np.sqrt(2 / 12)
    table = global_indices(X, y, names=["x1", "x2"])
    assert 0.35 < table.attrs["explained"] < 0.6
    np.testing.assert_allclose(table["S1"], [0.25, 0.25], atol=0.07)
    assert abs(table["S1"].sum() - table.attrs["explained"]) < 0.03
    features = ["x1", "x2"]
    result = SensitivityResult(
        features=features, outputs=["y"], points=np.zeros((1, 2)), gradients=np.ones((1, 1, 2)),
        gradient_std=np.zeros((1, 1, 2)), hessians=None, indices={"y": table},
    )  # fmt: skip
    (line,) = sensitivity_headline(result)
    assert f"{1 - table.attrs['explained']:.0%} of it no function of these features explains" in line


def test_an_input_missing_from_the_samples_counts_as_unexplained() -> None:
    # y = 2 x1 + x2² with x2 not in the data: x1's first-order share of Var(y) is about 0.79, not 1
    from pipeline.sensitivity import global_indices

    rng = np.random.default_rng(1)
    X = rng.uniform(0.0, 1.0, (500, 2))
    table = global_indices(X[:, :1], 2 * X[:, 0] + X[:, 1] ** 2, names=["x1"])
    assert abs(float(table["S1"].iloc[0]) - 4 / (4 + 12 * 4 / 45)) < 0.05


def test_a_feature_repeated_under_another_name_is_a_caution_on_the_indices() -> None:
    result = _result([0.6, 0.3, 0.0], [0.02, 0.02, 0.01], cv_rmse=0.1)
    rng = np.random.default_rng(0)
    a, b = rng.random(200), rng.random(200)
    cautions = " | ".join(sensitivity_cautions(result, {"y": 1.0}, samples=np.column_stack([a, b, a])))
    assert "a and c are correlated in the samples (|r| = 1.00): the indices assume independent inputs" in cautions
    independent = " | ".join(sensitivity_cautions(result, {"y": 1.0}, samples=np.column_stack([a, b, rng.random(200)])))
    assert "correlated" not in independent


def test_a_partial_of_an_output_that_is_itself_a_derivative_is_written_with_parentheses() -> None:
    from pipeline.sensitivity.analysis import partial_name

    assert partial_name("y", "x") == "dy/dx"
    assert partial_name("dy/dt", "x") == "d(dy/dt)/dx"
    result = SensitivityResult(
        features=["x"], outputs=["dy/dt"], points=np.zeros((2, 1)), gradients=np.ones((2, 1, 1)),
        gradient_std=np.zeros((2, 1, 1)), hessians=np.zeros((2, 1, 1, 1)),
    )  # fmt: skip
    assert list(result.gradient_table().columns) == ["x", "d(dy/dt)/dx", "d(dy/dt)/dx_std"]
    assert list(result.hessian_table().columns) == ["x", "d2(dy/dt)/dxdx"]
