"""Global sensitivity indices: Sobol first-order and total, derivative-based measures, rank.

Three routes, chosen by what is available:

- ``sobol``: a model can be queried. Saltelli's design through SALib, the model evaluated in
  batches, Jansen/Saltelli estimators with bootstrap intervals; DGSM from central differences
  of the model on a Sobol sample.
- ``surrogate``: only samples exist. The derivative estimator fitted to the samples (local
  polynomial or GP, whichever cross-validates better) is the surrogate; Saltelli's design runs
  on it over the data's empirical marginals; DGSM comes from the data's own gradients.
- ``rbd_fast``: only samples exist and no surrogate is wanted: SALib's RBD-FAST on the given
  data (first order only; ST is left empty).

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
from pipeline.sensitivity.gradients import GradientMethod, _check_xy, fit_gradient_model
from pipeline.sensitivity.space import InputSpace, Model, evaluate_model

__all__ = ["IndexMethod", "global_indices", "INDEX_COLUMNS"]

IndexMethod = Literal["auto", "sobol", "surrogate", "rbd_fast"]
INDEX_COLUMNS = ["S1", "S1_conf", "ST", "ST_conf", "DGSM", "DGSM_bound", "rank"]


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


def _model_dgsm(model: Model, space: InputSpace, n: int, seed: int, name: str) -> np.ndarray:
    """ν_i by central differences of the model at n Sobol points, steps scaled to each marginal's spread."""
    X = space.sample(n, seed=seed + 1)
    steps = np.array([1e-4 * np.sqrt(m.variance) for m in space.marginals])
    nu = np.empty(space.dim)
    for i in range(space.dim):
        shift = np.zeros(space.dim)
        shift[i] = steps[i]
        fp = evaluate_model(model, X + shift, name=name)
        fm = evaluate_model(model, X - shift, name=name)
        nu[i] = np.mean(((fp - fm) / (2 * steps[i])) ** 2)
    return nu


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
) -> pd.DataFrame:
    """Global sensitivity of one output to each feature.

    Args:
        X, y: samples (n, d) and outputs (n,); optional when a model and a space are given.
        model: callable (m, d) -> (m,) to query; enables the exact Sobol route.
        space: input space to sample; the data's empirical marginals when None.
        names: feature names (default x1..xd, or the space's names).
        method: "auto" = sobol with a model, surrogate without.
        gradient_method: derivative estimator for data gradients and the surrogate.
        n_base: Saltelli base sample size N (N·(d+2) evaluations).
        seed: seed of every design.

    Returns:
        DataFrame indexed by feature with columns S1, S1_conf, ST, ST_conf, DGSM, DGSM_bound, rank
        (1 = most influential by ST, or by S1 when ST is unavailable); ``attrs["method"]`` says the route.
    """
    if method not in ("auto", "sobol", "surrogate", "rbd_fast"):
        raise SensitivityError(f"unknown index method {method!r}; expected auto, sobol, surrogate or rbd_fast")
    if method == "auto":
        method = "sobol" if model is not None else "surrogate"
    if X is not None:
        if y is None:
            raise SensitivityError("samples X were given without outputs y")
        X, y = _check_xy(X, y)
        if np.ptp(y) == 0:
            raise SensitivityError("the output is constant: sensitivity indices are undefined")
    if space is None:
        if X is None:
            raise SensitivityError("give samples (X, y) or an input space to sample the model over")
        space = InputSpace.from_data(X, names or [f"x{i + 1}" for i in range(X.shape[1])])
    d = space.dim
    if X is not None and X.shape[1] != d:
        raise SensitivityError(f"samples have {X.shape[1]} features but the input space has {d}")

    nan = np.full(d, np.nan)
    if method == "sobol":
        if model is None:
            raise SensitivityError("method 'sobol' needs a model to query; use 'surrogate' or 'rbd_fast' for data only")
        res = _saltelli(model, space, n_base, seed, "model")
        nu = _model_dgsm(model, space, n_base, seed, "model")
        var_y = float(np.var(evaluate_model(model, space.sample(n_base, seed=seed + 2), name="model")))
        s1, s1c, st, stc = res["S1"], res["S1_conf"], res["ST"], res["ST_conf"]
    else:
        if X is None:
            raise SensitivityError(f"method {method!r} needs samples (X, y)")
        fitted = fit_gradient_model(X, y, gradient_method)
        nu = np.mean(fitted.gradient(X) ** 2, axis=0)
        var_y = float(np.var(y))
        if method == "surrogate":
            res = _saltelli(fitted.predict, space, n_base, seed, "surrogate")
            s1, s1c, st, stc = res["S1"], res["S1_conf"], res["ST"], res["ST_conf"]
        else:
            try:
                res = rbd_fast.analyze(_unit_problem(d), X, y, seed=seed)
            except (ZeroDivisionError, ValueError, FloatingPointError) as exc:
                raise SensitivityError(f"RBD-FAST cannot analyse these {len(X)} samples ({exc})") from exc
            s1, s1c, st, stc = res["S1"], res["S1_conf"], nan, nan
    if var_y == 0:
        raise SensitivityError("the output is constant: sensitivity indices are undefined")
    bound = np.array([m.poincare_constant for m in space.marginals]) * nu / var_y
    table = pd.DataFrame(
        {"S1": s1, "S1_conf": s1c, "ST": st, "ST_conf": stc, "DGSM": nu, "DGSM_bound": bound},
        index=pd.Index(space.names, name="feature"),
    )
    key = table["ST"] if np.all(np.isfinite(table["ST"])) else table["S1"]
    table["rank"] = key.rank(ascending=False, method="min").astype(int)
    table.attrs["method"] = method
    return table
