"""One sensitivity analysis of samples: gradients (with errors), optional Hessians, global indices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass

import numpy as np
import pandas as pd

from pipeline.data import check_outputs_vary
from pipeline.errors import SensitivityError
from pipeline.sensitivity.gradients import GradientMethod, fit_gradient_model
from pipeline.sensitivity.indices import IndexMethod, global_indices
from pipeline.sensitivity.space import InputSpace
from pipeline.sensitivity.steps import StepChoice, choose_steps, model_gradient_at

__all__ = ["MODEL_DIFFERENCES", "SensitivityResult", "analyze_samples", "describe_choice", "partial_name"]

MODEL_DIFFERENCES = "central differences on the model itself"
"""How an output's ``chosen`` begins when its gradients at the named points are the model's own
(:func:`_model_gradients`)."""


def _readable(value: object) -> str:
    """A number to 4 significant digits (numpy scalars as plain numbers), a tuple of them, or the value's text."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_readable(v) for v in value) + ")"
    return str(value)


def describe_choice(choice: object) -> str:
    """What an estimator chose, for people: ``length_scales=(275.1, 24.87), noise_variance=3.197e-12, ...``."""
    if is_dataclass(choice):
        return ", ".join(f"{item.name}={_readable(getattr(choice, item.name))}" for item in fields(choice))
    return str(choice)


@dataclass(frozen=True)
class SensitivityResult:
    """Local and global sensitivities of q outputs to d features at m points.

    Attributes:
        features, outputs: names (d and q).
        points: evaluation points (m, d).
        gradients: partial derivatives (m, q, d), output units per feature unit.
        gradient_std: their standard errors (m, q, d).
        hessians: second derivatives (m, q, d, d), or None if not asked.
        indices: per output, the global-index table (see :func:`global_indices`), empty if not asked.
        chosen: per output, the estimator and its data-chosen settings.
        metrics: summary numbers (cross-validated error per output, index values).
    """

    features: list[str]
    outputs: list[str]
    points: np.ndarray
    gradients: np.ndarray
    gradient_std: np.ndarray
    hessians: np.ndarray | None
    indices: dict[str, pd.DataFrame] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def gradient_table(self) -> pd.DataFrame:
        """One row per point: the point's features, then d<output>/d<feature> and its std for every pair."""
        table = pd.DataFrame(self.points, columns=self.features)
        for j, out in enumerate(self.outputs):
            for i, feat in enumerate(self.features):
                table[partial_name(out, feat)] = self.gradients[:, j, i]
                table[f"{partial_name(out, feat)}_std"] = self.gradient_std[:, j, i]
        return table

    def hessian_table(self) -> pd.DataFrame | None:
        """One row per point with every second partial d2<output>/d<a>d<b> (a <= b)."""
        if self.hessians is None:
            return None
        table = pd.DataFrame(self.points, columns=self.features)
        d = len(self.features)
        for j, out in enumerate(self.outputs):
            for a in range(d):
                for b in range(a, d):
                    table[f"d2{_operand(out)}/d{self.features[a]}d{self.features[b]}"] = self.hessians[:, j, a, b]
        return table


def _operand(name: str) -> str:
    """An output's name as the operand of d: in parentheses when it holds a slash (a model's ``dy/dt``)."""
    return f"({name})" if "/" in name else name


def partial_name(output: str, feature: str) -> str:
    """The name of d<output>/d<feature>: ``dy/dx``, or ``d(dy/dt)/dx`` for an output that is itself a derivative."""
    return f"d{_operand(output)}/d{feature}"


def _checked(
    X: np.ndarray, Y: np.ndarray, at: np.ndarray | None, features: list[str], outputs: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples X (n, d), outputs Y (n, q) and the points (m, d) where gradients are wanted (X when ``at`` is None)
    as float arrays, checked against the d ``features`` and q ``outputs``; else a :class:`SensitivityError`."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float).reshape(len(X), -1)
    if Y.shape[1] != len(outputs) or X.shape[1] != len(features):
        raise SensitivityError(
            f"{X.shape[1]} features / {Y.shape[1]} outputs do not match names {features} / {outputs}"
        )
    points = X if at is None else np.atleast_2d(np.asarray(at, dtype=float))
    if points.shape[1] != len(features):
        raise SensitivityError(f"gradient.at points need {len(features)} values each (features {features})")
    if not np.all(np.isfinite(points)):
        row = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
        raise SensitivityError(f"gradient.at point {row + 1} holds {points[row].tolist()}; expected finite numbers")
    return X, Y, points


def _model_steps(
    model: Callable[[np.ndarray], np.ndarray] | None, space: InputSpace | None, needed: bool, source: str
) -> StepChoice | None:
    """A queryable model's finite-difference steps (:func:`~pipeline.sensitivity.steps.choose_steps`), chosen once
    for its gradients at named points and its DGSM, when either is ``needed``; else None."""
    if not needed or model is None or space is None:
        return None
    return choose_steps(model, space, name=source)


def _model_gradients(
    model: Callable[[np.ndarray], np.ndarray] | None,
    choice: StepChoice | None,
    at: np.ndarray | None,
    points: np.ndarray,
    source: str,
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """At the points a config names (``at``), a queryable model's own gradients (m, d), their error (m, d) and how
    they were taken, when the model has a derivative at a point (its steps' ``choice`` is
    :attr:`~pipeline.sensitivity.steps.StepChoice.smooth`); else None: a fitted stand-in's slope over the
    neighbourhood it resolves (a ReLU network's slope at a point was 2.52 +- 0.015 from a local quadratic over 32
    neighbours, 2.80-2.84 by its own differences)."""
    if model is None or choice is None or at is None or not choice.smooth:
        return None
    g, error = model_gradient_at(model, points, choice, name=source)
    return g, error, f"{MODEL_DIFFERENCES} (steps 1e-4 sd; error from the step doubled)"


def analyze_samples(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    features: list[str],
    outputs: list[str],
    at: np.ndarray | None = None,
    method: GradientMethod = "auto",
    hessian: bool = False,
    indices: bool = True,
    index_method: IndexMethod = "auto",
    n_base: int = 2048,
    model: Callable[[np.ndarray], np.ndarray] | None = None,
    space: InputSpace | None = None,
    progress: Callable[[str], None] | None = None,
    source: str = "the samples",
) -> SensitivityResult:
    """Gradients at ``at`` (every sample when None), optional Hessians and global indices of each output.

    Args:
        X: samples (n, d); Y: outputs (n, q).
        model: when the samples come from a queryable single-output model, Sobol indices use it directly, and the
            gradients at the points ``at`` are its own central differences where it has a derivative at a point
            (:func:`_model_gradients`).
        space: the input space the model was sampled over (empirical marginals of X when None).
        progress: called with a short message as each stage starts.
        source: where the samples come from (the file, or the model by its URI), named by a constant output's error.

    Raises:
        SensitivityError: names or ``at`` do not fit the samples; DataError: with ``indices``, a constant output.
    """
    X, Y, points = _checked(X, Y, at, features, outputs)
    if indices:
        check_outputs_vary(Y, outputs, source=source)
    say = progress or (lambda _message: None)
    queryable = model if len(outputs) == 1 else None
    steps = _model_steps(queryable, space, at is not None or (indices and index_method in ("auto", "sobol")), source)
    grads, stds, hess, tables, chosen, metrics = [], [], [], {}, {}, {}
    for j, out in enumerate(outputs):
        say(f"gradients of {out}")
        fitted = fit_gradient_model(X, Y[:, j], method)
        g, s = fitted.gradient(points, return_std=True)
        chosen[out] = f"{type(fitted).__name__}: {describe_choice(fitted.choice_)}"
        own = _model_gradients(queryable, steps, at, points, source)
        if own is not None:
            g, s, chosen[out] = *own[:2], f"{own[2]}; Hessians and indices: {chosen[out]}"
        grads.append(g)
        stds.append(s)
        metrics[f"{out}.cv_rmse"] = float(np.sqrt(fitted.choice_.cv_mse))
        for i, feat in enumerate(features):
            metrics[f"{out}.mean_abs_gradient.{feat}"] = float(np.mean(np.abs(g[:, i])))
        if hessian:
            say(f"Hessians of {out}")
            hess.append(fitted.hessian(points))
        if indices:
            say(f"global indices of {out}")
            table = global_indices(
                X, Y[:, j], model=queryable, space=space, names=features, method=index_method,
                gradient_method=method, n_base=n_base, fitted=fitted, steps=steps,
            )  # fmt: skip
            tables[out] = table
            cv = ", ".join(f"{k} {v:.3g}" for k, v in table.attrs.get("cv_mse", {}).items())
            chosen[out] += f"; indices: {table.attrs['method']}" + (f" (cross-validated MSE: {cv})" if cv else "")
            if np.isfinite(table.attrs.get("explained", float("nan"))):
                metrics[f"{out}.explained_variance"] = float(table.attrs["explained"])
            for feat, row in table.iterrows():
                for column in ("S1", "S1_conf", "ST", "ST_conf", "DGSM_bound", "DGSM_step"):
                    if np.isfinite(row[column]):
                        metrics[f"{out}.{column}.{feat}"] = float(row[column])
    return SensitivityResult(
        features=list(features),
        outputs=list(outputs),
        points=points,
        gradients=np.stack(grads, axis=1),
        gradient_std=np.stack(stds, axis=1),
        hessians=np.stack(hess, axis=1) if hessian else None,
        indices=tables,
        chosen=chosen,
        metrics=metrics,
    )
