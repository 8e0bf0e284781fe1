"""Sparse identification of governing ODEs dx/dt = f(x) from sampled trajectories.

:func:`discover` smooths and differentiates each trajectory, builds the candidate
library on the smoothed states, chooses each equation's terms along STLSQ and stepwise
sparsity paths (one per polynomial degree) by blocked cross-validation, on the
derivatives and on the weak form; finds linear conservation laws the data keep and
makes the model keep them; refits the coefficients (derivative, integral or weak form)
and judges the joint choices by multiple shooting; estimates their uncertainty by
bagging, and scores the model by simulation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from pipeline.config import DifferentiationConfig, DiscoveryConfig
from pipeline.data import validate_timeseries
from pipeline.differentiation import DerivativeResult, smooth_and_differentiate
from pipeline.discovery.conservation import describe_law, detect_laws, eliminated_supports
from pipeline.discovery.ensemble import bagging
from pipeline.discovery.library import Library
from pipeline.discovery.paths import PathRule
from pipeline.discovery.refine import refine_by_shooting
from pipeline.discovery.refit import derivative_fit, integrate_library, refit_coefficients
from pipeline.discovery.result import DiscoveryResult, format_equation
from pipeline.discovery.selection import block_folds, level_choices, one_se_choice, select_support
from pipeline.discovery.sindy import build_library
from pipeline.discovery.weak import WeakSystem, weak_system
from pipeline.errors import DataError, DiscoveryError, SimulationError

__all__ = ["DiscoveryResult", "Library", "discover", "format_equation"]


class Judged(NamedTuple):
    """One joint model choice after refitting and multiple shooting."""

    label: str
    supports: np.ndarray
    rules: list[PathRule | None]
    coefficients: np.ndarray
    fit: str
    shooting: float
    conserving: bool


SHOOTING_TOLERANCE = 2.0
"""A sparser model is kept unless its multiple-shooting error is more than this factor above the best's."""


def _as_lists(
    t: np.ndarray | Sequence[np.ndarray], x: np.ndarray | Sequence[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ts = [np.asarray(ti, dtype=float) for ti in t] if isinstance(t, (list, tuple)) else [np.asarray(t, dtype=float)]
    xs = [np.asarray(xi, dtype=float) for xi in x] if isinstance(x, (list, tuple)) else [np.asarray(x, dtype=float)]
    if len(ts) != len(xs):
        raise DataError(f"got {len(ts)} time arrays but {len(xs)} state arrays; pass one per trajectory")
    xs = [xi[:, None] if xi.ndim == 1 else xi for xi in xs]
    dims = {xi.shape[1] for xi in xs if xi.ndim == 2}
    if any(xi.ndim != 2 for xi in xs) or len(dims) != 1:
        raise DataError(f"every trajectory must have shape (n, d) with the same d; got {[xi.shape for xi in xs]}")
    return ts, xs


def _r2(observed: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination, averaged over columns, of (n, d) arrays."""
    ss_res = np.sum((observed - predicted) ** 2, axis=0)
    ss_tot = np.sum((observed - observed.mean(axis=0)) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0)))


def _aicc(rss: float, n: int, k: int) -> float:
    """Corrected Akaike criterion of a Gaussian least-squares fit with k parameters on n rows."""
    if rss <= 0 or n - k - 1 <= 0:
        return float("nan")
    return float(n * np.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1))


def discover(
    t: np.ndarray | Sequence[np.ndarray],
    x: np.ndarray | Sequence[np.ndarray],
    *,
    config: DiscoveryConfig | None = None,
    feature_names: Sequence[str] | None = None,
    differentiation: DifferentiationConfig | None = None,
    derivatives: Sequence[DerivativeResult] | None = None,
    u: np.ndarray | Sequence[np.ndarray] | None = None,
    control_names: Sequence[str] | None = None,
) -> DiscoveryResult:
    """Discover a sparse ODE dx/dt = f(x, u) from one or several trajectories.

    Args:
        t: times (n,), or a list with one array per trajectory.
        x: states (n, d) (or (n,)), or a list matching ``t``.
        config: library, selection and ensemble settings; defaults when None.
        feature_names: the d state names (``x0, x1, ...`` when None).
        differentiation: how to differentiate when ``derivatives`` is not given.
        derivatives: precomputed smoothing/derivatives, one per trajectory.
        u: known inputs (n, m) per trajectory (same layout as ``x``); the library then spans states and
            inputs, only the states' derivatives are modelled, and simulation needs the inputs.
        control_names: the m input names (``u0, u1, ...`` when None).

    Returns:
        The chosen model with its metrics, choices, candidate table and uncertainty.

    Raises:
        DataError: inconsistent shapes or unusable data.
        DiscoveryError: the library has more terms than samples, or fitting failed.
    """
    config = config or DiscoveryConfig()
    differentiation = differentiation or DifferentiationConfig()
    ts, xs = _as_lists(t, x)
    d = xs[0].shape[1]
    names = tuple(feature_names) if feature_names is not None else tuple(f"x{j}" for j in range(d))
    if len(names) != d:
        raise DataError(f"feature_names has {len(names)} names for {d} state columns")
    for k, (ti, xi) in enumerate(zip(ts, xs)):
        validate_timeseries(ti, xi, names, f"trajectory {k}")
    if derivatives is None:
        derivatives = [
            smooth_and_differentiate(ti, xi, method=differentiation.method, **differentiation.params)
            for ti, xi in zip(ts, xs)
        ]
    if len(derivatives) != len(xs):
        raise DataError(f"got {len(derivatives)} derivative results for {len(xs)} trajectories")
    # Fit in units where every state has RMS 1, so that nothing depends on the data's units (thresholds,
    # tolerances, divergence checks); polynomial coefficients map back exactly. Function terms (sin x, e^x)
    # are not unit-covariant, so a library with them is fitted in the data's own units.
    us, controls = _controls(ts, u, control_names, names)
    unit = config.library.all_functions
    scale = state_scale(xs) if not unit else np.ones(d)
    u_scale = state_scale(us) if us is not None and not unit else np.ones(len(controls))
    scaled = [
        replace(
            r, smoothed=r.smoothed / scale, first=r.first / scale, second=r.second / scale, noise_sd=r.noise_sd / scale
        )
        for r in derivatives
    ]
    scaled_us = None if us is None else [ui / u_scale for ui in us]
    unit_xs = [xi / scale for xi in xs]
    laws = detect_laws(unit_xs, [r.smoothed for r in scaled], scale) if config.conservation_laws else np.zeros((0, d))
    result = _discover_scaled(ts, unit_xs, names, scaled, config, scaled_us, controls, laws)
    if len(laws):
        described = [describe_law(weights, scale, names) for weights in laws]
        result = replace(result, chosen={**result.chosen, "conservation_laws": described})
    return unscale_result(result, scale, u_scale)


def _controls(
    ts: list[np.ndarray], u: object, control_names: Sequence[str] | None, names: tuple[str, ...]
) -> tuple[list[np.ndarray] | None, tuple[str, ...]]:
    """Known inputs per trajectory, validated against the times, and their names."""
    if u is None:
        return None, ()
    us = [np.asarray(ui, dtype=float) for ui in u] if isinstance(u, (list, tuple)) else [np.asarray(u, dtype=float)]
    us = [ui[:, None] if ui.ndim == 1 else ui for ui in us]
    if len(us) != len(ts) or any(ui.ndim != 2 or ui.shape[0] != ti.shape[0] for ui, ti in zip(us, ts)):
        raise DataError(f"u must give (n, m) inputs per trajectory matching the times; got {[ui.shape for ui in us]}")
    m = us[0].shape[1]
    if any(ui.shape[1] != m for ui in us):
        raise DataError("every trajectory must have the same number of inputs")
    controls = tuple(control_names) if control_names is not None else tuple(f"u{k}" for k in range(m))
    if len(controls) != m or set(controls) & set(names):
        raise DataError(f"control_names {list(controls)} must name the {m} inputs and differ from the states")
    for k, ui in enumerate(us):
        bad = np.argwhere(~np.isfinite(ui))
        if bad.size:
            raise DataError(
                f"input '{controls[bad[0][1]]}' has a non-finite value at row {bad[0][0] + 1} of trajectory {k}"
            )
    return us, controls


def _weak_choices(
    weak: WeakSystem, names: tuple[str, ...], column_sets: list[np.ndarray]
) -> dict[str, tuple[np.ndarray, list[PathRule | None]]]:
    """Joint choices made on the weak form: its AICc choice and the sparsest within one SE of its best.

    Their rules were found on the weak system, not on the derivatives bagging resamples, so they are
    not carried (bagging then measures each term's sign stability instead)."""
    d, p = len(names), weak.design.shape[1]
    out = {"weak_aicc": np.zeros((d, p), dtype=bool), "weak_one_se": np.zeros((d, p), dtype=bool)}
    for j in range(d):
        chosen, candidates = select_support(weak.design, weak.target[:, j], weak.folds, column_sets=column_sets)
        out["weak_aicc"][j] = chosen.support
        out["weak_one_se"][j] = one_se_choice(candidates).support if candidates else chosen.support
    return {label: (support, [None] * d) for label, support in out.items()}


def state_scale(xs: Sequence[np.ndarray]) -> np.ndarray:
    """RMS of each state over all trajectories, (d,); 1 for an all-zero state."""
    rms = np.sqrt(np.mean(np.vstack(xs) ** 2, axis=0))
    return np.where(rms > 0, rms, 1.0)


def unscale_result(result: DiscoveryResult, scale: np.ndarray, u_scale: np.ndarray | None = None) -> DiscoveryResult:
    """Map a model fitted on states x / scale (inputs u / u_scale) back: c_ik -> c_ik s_i / prod_j s_j^p_kj."""
    u_scale = np.ones(0) if u_scale is None else u_scale
    if np.all(scale == 1.0) and np.all(u_scale == 1.0):
        return result
    library = result.library
    every = np.concatenate([scale, u_scale])  # the library's variables: states, then inputs
    term_scale = np.concatenate([np.prod(every[None, :] ** library.powers, axis=1), np.ones(len(library.functions))])
    factor = scale[:, None] / term_scale[None, :]
    position = {name: i for i, name in enumerate(result.names)}
    pareto = [
        {**row, "cv_mse": row["cv_mse"] * scale[position[row["state"]]] ** 2,
         "cv_se": row["cv_se"] * scale[position[row["state"]]] ** 2}
        for row in result.pareto
    ]  # fmt: skip
    metrics = dict(result.metrics)
    for i, name in enumerate(result.names):
        if f"noise_sd.{name}" in metrics:
            metrics[f"noise_sd.{name}"] *= float(scale[i])
    return replace(
        result,
        coefficients=result.coefficients * factor,
        intervals=None if result.intervals is None else result.intervals * factor[..., None],
        pareto=pareto,
        metrics=metrics,
        chosen={**result.chosen, "state_scale": [float(v) for v in scale]},
    )


def _discover_scaled(
    ts: list[np.ndarray],
    xs: list[np.ndarray],
    names: tuple[str, ...],
    derivatives: Sequence[DerivativeResult],
    config: DiscoveryConfig,
    us: list[np.ndarray] | None = None,
    controls: tuple[str, ...] = (),
    laws: np.ndarray | None = None,
) -> DiscoveryResult:
    """The discovery proper, on states of unit scale (see :func:`discover`); ``laws`` (r, d) are the
    conservation laws the data keep (:func:`~pipeline.discovery.conservation.detect_laws`)."""
    d = xs[0].shape[1]
    laws = np.zeros((0, d)) if laws is None else laws
    spec = config.library
    top_degree = spec.degree if spec.degree is not None else spec.max_degree
    library = build_library(
        names + controls,
        degree=top_degree,
        include_bias=spec.include_bias,
        functions=spec.all_functions,
        combinations=spec.combinations,
    )
    smoothed = np.vstack([r.smoothed for r in derivatives])
    x_dot = np.vstack([r.first for r in derivatives])
    theta = library.evaluate(smoothed if us is None else np.hstack([smoothed, np.vstack(us)]))
    n, p = theta.shape
    if not np.all(np.isfinite(theta)):
        raise DiscoveryError("the library has non-finite values on these data (e.g. 1/x at x = 0); drop that family")
    if n <= p + 1:
        raise DiscoveryError(
            f"the library has {p} terms but there are only {n} samples;"
            " lower discovery.library.degree (or max_degree) or provide more data"
        )
    lengths = [xi.shape[0] for xi in xs]
    n_folds = min(config.n_folds, min(lengths))
    folds = block_folds(lengths, n_folds)
    degrees = [top_degree] if spec.degree is not None else list(range(1, top_degree + 1))
    column_sets = [library.subset(g) for g in degrees]

    supports = np.zeros((d, p), dtype=bool)
    rules: list[PathRule | None] = [None] * d
    # Alternative choices per state, judged jointly by simulation below: the sparsest within one
    # standard error of the best score, and the best score itself.
    alternatives = {"one_se": (supports.copy(), list(rules)), "best_cv": (supports.copy(), list(rules))}
    for level in degrees:
        alternatives[f"degree_le_{level}"] = (supports.copy(), list(rules))
    pareto: list[dict[str, object]] = []
    terms = library.feature_names()
    for j, name in enumerate(names):
        chosen, candidates = select_support(
            theta,
            x_dot[:, j],
            folds,
            threshold=config.threshold,
            column_sets=column_sets,
        )
        supports[j], rules[j] = chosen.support, chosen.rule
        if candidates:
            picks = [("one_se", one_se_choice(candidates)), ("best_cv", min(candidates, key=lambda c: c.cv_mse))]
            per_level = level_choices(theta, x_dot[:, j], folds, candidates, column_sets)
            picks += [(f"degree_le_{level}", pick or chosen) for level, pick in zip(degrees, per_level)]
            for key, pick in picks:
                alternatives[key][0][j], alternatives[key][1][j] = pick.support, pick.rule
        else:
            for key in alternatives:
                alternatives[key][0][j], alternatives[key][1][j] = chosen.support, chosen.rule
        for c in sorted(candidates, key=lambda c: (c.complexity, c.cv_mse)):
            pareto.append(
                {
                    "state": name,
                    "complexity": c.complexity,
                    "cv_mse": c.cv_mse,
                    "cv_se": c.cv_se,
                    "terms": [terms[i] for i in np.flatnonzero(c.support)],
                    "chosen": bool(np.array_equal(c.support, chosen.support)),
                }
            )

    # Judge the distinct joint choices by multiple shooting: simulate each model across every
    # time block from the smoothed state at its start (short horizons keep chaos fair).
    choices = {"aicc": (supports, rules), **alternatives} if config.threshold is None else {"fixed": (supports, rules)}
    weak = weak_system(ts, xs, theta, n_folds) if config.weak_form else None
    if weak is not None and config.threshold is None:
        choices |= _weak_choices(weak, names, column_sets)
    integrated = integrate_library(theta, ts)
    smoothed_states = [r.smoothed for r in derivatives]

    def judge(label: str, candidate: np.ndarray, rules_: list[PathRule | None], keep: np.ndarray | None) -> Judged:
        coefs, form, errors = refit_coefficients(
            theta,
            integrated,
            x_dot,
            candidate,
            library,
            ts,
            xs,
            smoothed_states,
            n_blocks=n_folds,
            max_seconds=config.max_simulation_seconds,
            us=us,
            laws=keep,
            weak=weak,
        )
        active = coefs != 0
        rules_ = [rule if np.array_equal(active[j], candidate[j]) else None for j, rule in enumerate(rules_)]
        return Judged(label, active, rules_, coefs, form, min(errors.values()), keep is not None)

    judged: dict[bytes, Judged] = {}
    for label, (candidate, levels) in choices.items():
        if candidate.tobytes() not in judged:
            judged[candidate.tobytes()] = judge(label, candidate, levels, None)
    if len(laws):
        # The data keep these laws: only models that keep them too may win. Each free choice is
        # made law-keeping once per state whose equation absorbs the balancing terms.
        # A term found in only one of a law's equations is either dropped (the supports as they are)
        # or balanced by one chosen state's equation.
        tried: set[bytes] = set()
        for item in [item for item in judged.values() if not item.conserving]:
            variants = [(f"{item.label}, law-keeping", item.supports)] + [
                (f"{item.label}, law via {names[e]}", eliminated_supports(item.supports, laws, int(e)))
                for e in np.flatnonzero(np.any(laws != 0, axis=0))
            ]
            for label, candidate in variants:
                if candidate.tobytes() in tried:
                    continue
                tried.add(candidate.tobytes())
                conserving = judge(label, candidate, item.rules, laws)
                judged.setdefault(b"law" + conserving.supports.tobytes(), conserving)
    # Simulation vetoes, parsimony decides: among the choices whose shooting error is within a
    # factor SHOOTING_TOLERANCE of the best, the one with the fewest terms wins.
    pool = [item for item in judged.values() if item.conserving] or list(judged.values())
    best_error = min(item.shooting for item in pool)
    admissible = [item for item in pool if item.shooting <= SHOOTING_TOLERANCE * best_error]
    winner = min(admissible, key=lambda item: (int(item.supports.sum()), item.shooting))
    label, supports, rules, coefficients, fit_name = (
        winner.label, winner.supports, winner.rules, winner.coefficients, winner.fit
    )  # fmt: skip
    if config.refine_by_simulation:
        coefficients, before, after = refine_by_shooting(
            coefficients,
            library,
            ts,
            xs,
            smoothed_states,
            n_blocks=n_folds,
            max_seconds=config.max_simulation_seconds,
            us=us,
            laws=laws if winner.conserving else None,
            noise_sd=np.sqrt(np.mean([r.noise_sd**2 for r in derivatives], axis=0)),
        )
        if after < before:
            fit_name += " + shooting refinement"
    inclusion, intervals = (None, None)
    if config.n_bootstrap > 0:
        inclusion, intervals = bagging(theta, x_dot, supports, rules, n_models=config.n_bootstrap, seed=0, laws=laws)
    fitted = theta @ coefficients.T
    rss = float(np.sum((fitted - x_dot) ** 2))
    metrics: dict[str, float] = {
        "derivative_r2": _r2(x_dot, fitted),
        "complexity": float(np.count_nonzero(coefficients)),
        "aicc": _aicc(rss, n * d, int(np.count_nonzero(coefficients))),
        "n_samples": float(n),
        "n_trajectories": float(len(xs)),
    }
    if inclusion is not None:
        chosen_inclusion = inclusion[supports]
        metrics["min_inclusion_probability"] = float(chosen_inclusion.min()) if chosen_inclusion.size else float("nan")
    for item in judged.values():
        metrics[f"shooting_error.{item.label}"] = item.shooting
    for j, name in enumerate(names):
        metrics[f"noise_sd.{name}"] = float(np.mean([r.noise_sd[j] for r in derivatives]))
    used_degrees = library.degrees[np.any(supports, axis=0)]
    chosen_info: dict[str, object] = {
        "differentiation_method": derivatives[0].method,
        "differentiation_choice": [str(prm.get("method", derivatives[0].method)) for prm in derivatives[0].params],
        "library": f"polynomial degree <= {top_degree}, bias {spec.include_bias}, functions {spec.all_functions}"
        + (", with state x function products" if spec.combinations else ""),
        "degree": int(used_degrees.max()) if used_degrees.size else 0,
        "coefficient_fit": fit_name,
        "model_choice": label,
        "model_choices_judged": sorted(item.label for item in judged.values()),
        "selection": "fixed threshold"
        if config.threshold is not None
        else f"STLSQ and stepwise paths for degrees {degrees}, {n_folds}-fold blocked CV, effective-sample AICc,"
        " joint choice by multiple shooting",
        "selection_rules": [None if rule is None else rule.describe() for rule in rules],
    }
    result = DiscoveryResult(
        names=names,
        library=library,
        coefficients=coefficients,
        metrics=metrics,
        chosen=chosen_info,
        pareto=pareto,
        inclusion=inclusion,
        intervals=intervals,
        max_simulation_seconds=config.max_simulation_seconds,
        controls=controls,
    )
    inputs = us if us is not None else [None] * len(ts)
    try:
        simulated = [result.simulate(r.smoothed[0], ti, ui) for ti, r, ui in zip(ts, derivatives, inputs)]
        metrics["trajectory_r2"] = _r2(np.vstack(xs), np.vstack(simulated))
    except SimulationError as exc:
        metrics["trajectory_r2"] = float("nan")
        chosen_info["simulation_error"] = str(exc)
    metrics |= _held_out_scores(result, ts, xs, derivatives, theta, x_dot, supports, inputs, laws)
    return result


HELD_OUT_FRACTION = 0.2


def _held_out_scores(
    result: DiscoveryResult,
    ts: list[np.ndarray],
    xs: list[np.ndarray],
    derivatives: Sequence[DerivativeResult],
    theta: np.ndarray,
    x_dot: np.ndarray,
    supports: np.ndarray,
    inputs: Sequence[np.ndarray | None],
    laws: np.ndarray,
) -> dict[str, float]:
    """Forecast check: refit the chosen terms on the first 80 % of each trajectory's time, simulate from its
    first smoothed state across the whole span, and score the fit part and the held-out last 20 % apart,
    each as 1 - MSE / Var(whole trajectory) per state, averaged over states.

    The terms were chosen on all data (only the coefficients are refitted), so this measures how well the
    model extrapolates in time, not how well selection generalises. Chaotic systems score low on the
    held-out part by nature: a small error grows exponentially.
    """
    early_rows, starts = [], np.cumsum([0] + [len(t) for t in ts[:-1]])
    cuts = [max(2, int(round(len(t) * (1 - HELD_OUT_FRACTION)))) for t in ts]
    for start, cut in zip(starts, cuts):
        early_rows.append(np.arange(start, start + cut))
    rows = np.concatenate(early_rows)
    coefficients = derivative_fit(theta[rows], x_dot[rows], supports, laws)
    early_model = replace(result, coefficients=coefficients)
    fit_obs, fit_sim, late_obs, late_sim = [], [], [], []
    try:
        for t, x, r, cut, u in zip(ts, xs, derivatives, cuts, inputs):
            sim = early_model.simulate(r.smoothed[0], t, u)
            fit_obs.append(x[:cut])
            fit_sim.append(sim[:cut])
            late_obs.append(x[cut:])
            late_sim.append(sim[cut:])
    except SimulationError:
        return {"trajectory_r2_fit": float("nan"), "trajectory_r2_heldout": float("nan")}
    spread = np.var(np.vstack(xs), axis=0)  # scored against the whole trajectory's spread: a short tail has little

    def score(observed: list[np.ndarray], simulated: list[np.ndarray]) -> float:
        mse = np.mean((np.vstack(observed) - np.vstack(simulated)) ** 2, axis=0)
        return float(np.mean(1.0 - mse / np.where(spread > 0, spread, 1.0)))

    return {"trajectory_r2_fit": score(fit_obs, fit_sim), "trajectory_r2_heldout": score(late_obs, late_sim)}
