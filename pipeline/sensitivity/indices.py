"""Global sensitivity indices: Sobol first-order and total, derivative-based measures, rank.

Four routes, chosen by what is available:

- ``sobol``: a model can be queried. Saltelli's design through SALib, the model evaluated in
  batches, Jansen/Saltelli estimators with bootstrap intervals; DGSM from central differences
  of the model on a Sobol sample, with a step chosen per feature from the model's response
  (:mod:`pipeline.sensitivity.steps`), so trees and boosting get derivatives at the data's
  scale, not the staircase's.
- ``hdmr``: only samples exist. An orthonormal-polynomial HDMR fitted to them
  (:mod:`pipeline.sensitivity.hdmr`); S1/ST read off its coefficients, pairs-bootstrap intervals.
- ``surrogate``: only samples exist. The derivative estimator fitted to the samples (GP or
  local polynomial, whichever cross-validates better) is the surrogate; Saltelli's design (at
  least 8,192 base points: the surrogate is cheap) runs on it over the data's fitted marginals.
- ``rbd_fast``: only samples exist and no surrogate is wanted: SALib's RBD-FAST on the given
  data (first order only; ST is left empty).

``auto`` is ``sobol`` with a model; without one it fits both surrogates and keeps the one with
the lower cross-validated error (``attrs["cv_mse"]`` lists both). With data, DGSM comes from the
gradient model's derivatives at the samples. Estimates below zero are clipped to 0 and flagged
in the ``clipped`` column.

DGSM is ν_i = E[(∂f/∂x_i)²]; ``DGSM_bound`` = C_i ν_i / Var(y) with C_i the Poincaré constant of
feature i's marginal, an upper bound on ST_i for independent inputs (Sobol & Kucherenko 2009).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from SALib.analyze import rbd_fast
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from pipeline.errors import SensitivityError
from pipeline.sensitivity.gradients import GradientMethod, GradientModel, _check_xy, fit_gradient_model
from pipeline.sensitivity.hdmr import HdmrSurrogate
from pipeline.sensitivity.space import InputSpace, Model, evaluate_model
from pipeline.sensitivity.steps import STEP_LADDER, StepChoice, model_dgsm

__all__ = ["IndexMethod", "global_indices", "explained_share", "INDEX_COLUMNS"]

IndexMethod = Literal["auto", "sobol", "hdmr", "surrogate", "rbd_fast"]
INDEX_COLUMNS = ["S1", "S1_conf", "ST", "ST_conf", "DGSM", "DGSM_bound", "DGSM_step", "clipped", "rank"]
INDEX_METHODS = ("auto", "sobol", "hdmr", "surrogate", "rbd_fast")
SURROGATE_BASE = 8192  # a fitted surrogate is cheap to query: its Saltelli design is at least this large
SURROGATE_ROUTES = ("hdmr", "surrogate")
"""Routes whose indices are read off a surrogate fitted to the samples: shares of the surrogate's variance, which
:func:`global_indices` scales by the share of the output's variance the surrogate explains (cross-validated), so
that noise and inputs missing from the data count as unexplained, not as the features' (y = x1 + x2 + noise of equal
variance: S1 0.56 and 0.44 of the surrogate, 0.25 and 0.20 of the output, half of which is noise)."""


def _unit_problem(d: int) -> dict:
    return {"num_vars": d, "names": [f"u{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}


def _saltelli(predict: Model, space: InputSpace, n_base: int, seed: int, name: str) -> dict:
    problem = _unit_problem(space.dim)
    U = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    U = np.clip(U, 1e-9, 1 - 1e-9)
    y = evaluate_model(predict, space.transform(U), name=name)
    if np.var(y) == 0:
        raise SensitivityError(f"{name} is constant over the input space: Sobol indices are undefined")
    return sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)


def global_indices(
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    model: Model | None = None,
    space: InputSpace | None = None,
    names: list[str] | None = None,
    method: IndexMethod = "auto",
    gradient_method: GradientMethod = "auto",
    n_base: int = 1024,
    seed: int = 0,
    fitted: GradientModel | None = None,
    steps: StepChoice | None = None,
) -> pd.DataFrame:
    """Global sensitivity of one output to each feature.

    Args:
        X, y: samples (n, d) and outputs (n,); optional when a model and a space are given.
        model: callable (m, d) -> (m,) to query; enables the exact Sobol route.
        space: input space to sample; when None, marginals fitted to the data (:meth:`InputSpace.fit`).
        names: feature names (default x1..xd, or the space's names).
        method: "auto" = sobol with a model; without one, hdmr or surrogate by cross-validated error.
        gradient_method: derivative estimator for data gradients and the surrogate.
        n_base: Saltelli base sample size N (N·(d+2) evaluations).
        seed: seed of every design.
        fitted: the ``gradient_method`` model already fitted to these X, y (the gradient stage's), reused rather
            than fitted again; it is the surrogate of the data routes.
        steps: the finite-difference steps already chosen on this model and space (the gradient stage's), reused
            by the DGSM of the model route rather than chosen again.

    Returns:
        DataFrame indexed by feature with columns S1, S1_conf, ST, ST_conf (95 % half-widths), DGSM,
        DGSM_bound, DGSM_step (finite-difference step of the model route, feature units; NaN from data),
        clipped (an estimate below 0 was set to 0) and rank (1 = most influential by ST, or by S1 when ST
        is unavailable); ``attrs["method"]`` says the route, ``attrs["cv_mse"]`` the surrogates' errors,
        ``attrs["explained"]`` the share of the output's variance the indices divide among the features (1 for a
        model; for a surrogate of samples, the share it explains by cross-validation: the indices are shares of
        the output's variance, the rest noise or inputs not in the data; NaN for RBD-FAST, whose shares of the
        samples' own variance already count the noise as unexplained).
    """
    if method not in INDEX_METHODS:
        raise SensitivityError(f"unknown index method {method!r}; expected one of {', '.join(INDEX_METHODS)}")
    if X is not None:
        if y is None:
            raise SensitivityError("samples X were given without outputs y")
        X, y = _check_xy(X, y)
        if np.ptp(y) == 0:
            raise SensitivityError("the output is constant: sensitivity indices are undefined")
    if space is None:
        if X is None:
            raise SensitivityError("give samples (X, y) or an input space to sample the model over")
        space = InputSpace.fit(X, names or [f"x{i + 1}" for i in range(X.shape[1])])
    if X is not None and X.shape[1] != space.dim:
        raise SensitivityError(f"samples have {X.shape[1]} features but the input space has {space.dim}")
    if method == "sobol" or (method == "auto" and model is not None):
        if model is None:
            raise SensitivityError("method 'sobol' needs a model to query; use 'hdmr', 'surrogate' or 'rbd_fast'")
        res = _saltelli(model, space, n_base, seed, "model")
        nu, steps = model_dgsm(model, space, n_base, seed=seed, choice=steps)
        var_y = float(np.var(evaluate_model(model, space.sample(n_base, seed=seed + 2), name="model")))
        est, route, cv = {k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}, "sobol", {}
        step, coarse = steps.steps, [name for name, smooth in zip(space.names, steps.relative == STEP_LADDER[0])
                                     if not smooth]  # fmt: skip
    else:
        if X is None:
            raise SensitivityError(f"method {method!r} needs samples (X, y)")
        fitted = fitted if fitted is not None else fit_gradient_model(X, y, gradient_method)
        est, route, cv, nu = _data_indices(X, y, space, method, fitted, n_base, seed)
        var_y, step, coarse = float(np.var(y)), np.full(space.dim, np.nan), []
    if var_y == 0:
        raise SensitivityError("the output is constant: sensitivity indices are undefined")
    explained = 1.0 if route == "sobol" else float("nan")  # RBD-FAST: shares of the samples' Var(y) as they are
    if route in SURROGATE_ROUTES:
        explained = explained_share(cv.get(route, 0.0), var_y)
        est = {key: np.asarray(values, dtype=float) * explained for key, values in est.items()}
    table = _table(space, est, nu, var_y, step, route, cv)
    table.attrs["dgsm_coarse"] = coarse  # features whose DGSM is over a step wider than the finest (jumps)
    table.attrs["explained"] = explained
    return table


def explained_share(cv_mse: float, variance: float) -> float:
    """The share of an output's ``variance`` a surrogate explains, from its cross-validated mean squared error (both
    in output units squared): 1 − cv_mse / variance, within [0, 1]."""
    return float(np.clip(1.0 - cv_mse / variance, 0.0, 1.0)) if variance > 0 else 0.0


def _data_indices(
    X: np.ndarray,
    y: np.ndarray,
    space: InputSpace,
    method: str,
    fitted: GradientModel,
    n_base: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], str, dict[str, float], np.ndarray]:
    """Indices from samples only, with ``fitted`` (a gradient model fitted to X, y) as the surrogate: (estimates,
    route, surrogate CV errors, DGSM ν from data gradients)."""
    nu = np.mean(fitted.gradient(X) ** 2, axis=0)
    cv = {"surrogate": float(fitted.choice_.cv_mse)}
    if method in ("auto", "hdmr"):
        try:
            hdmr = HdmrSurrogate(random_state=seed).fit(X, y)
            cv["hdmr"] = float(hdmr.choice_.cv_mse)
        except SensitivityError:
            if method == "hdmr":
                raise
            hdmr = None
        if hdmr is not None and (method == "hdmr" or cv["hdmr"] <= cv["surrogate"]):
            return hdmr.indices(), "hdmr", cv, nu
    if method in ("auto", "surrogate"):
        res = _saltelli(fitted.predict, space, max(n_base, SURROGATE_BASE), seed, "surrogate")
        return {k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}, "surrogate", cv, nu
    try:
        res = rbd_fast.analyze(_unit_problem(space.dim), X, y, seed=seed)
    except (ZeroDivisionError, ValueError, FloatingPointError) as exc:
        raise SensitivityError(f"RBD-FAST cannot analyse these {len(X)} samples ({exc})") from exc
    nan = np.full(space.dim, np.nan)
    return {"S1": res["S1"], "S1_conf": res["S1_conf"], "ST": nan, "ST_conf": nan}, "rbd_fast", cv, nu


def _table(
    space: InputSpace,
    est: dict[str, np.ndarray],
    nu: np.ndarray,
    var_y: float,
    step: np.ndarray,
    route: str,
    cv: dict[str, float],
) -> pd.DataFrame:
    """The index table: negatives clipped to 0 and flagged, Poincaré bound, rank."""
    s1, st = np.asarray(est["S1"], dtype=float), np.asarray(est["ST"], dtype=float)
    clipped = (s1 < 0) | (st < 0)
    bound = np.array([m.poincare_constant for m in space.marginals]) * nu / var_y
    table = pd.DataFrame(
        {
            "S1": np.where(s1 < 0, 0.0, s1),
            "S1_conf": est["S1_conf"],
            "ST": np.where(st < 0, 0.0, st),
            "ST_conf": est["ST_conf"],
            "DGSM": nu,
            "DGSM_bound": bound,
            "DGSM_step": step,
            "clipped": clipped,
        },
        index=pd.Index(space.names, name="feature"),
    )
    key = table["ST"] if np.all(np.isfinite(table["ST"])) else table["S1"]
    table["rank"] = key.rank(ascending=False, method="min").astype(int)
    table.attrs["method"] = route
    table.attrs["cv_mse"] = cv
    return table
