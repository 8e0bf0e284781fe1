"""Generalisation: discovery on published systems nobody here designed, tuning and validation halves side by side.

    PYTHONPATH=. python benchmarks/generalisation.py [--half tuning|validation|both] [--systems a,b]
        [--noises 0,0.01,0.05] [--methods deltaflow,pysindy-default,pysindy-grid,pysindy-grid-sim] [--jobs 1]
        [--cap 60] [--seed 0] [--reuse] [--merge]

Corpus: ``pipeline.systems_published`` (149 systems: the 63 of ODEBench and 86 more from textbooks,
papers and ``dysts``; 73 non-polynomial, 19 chaotic), split by a hash of the name into a
tuning half (75) and a validation half (74). Scored exactly like ``benchmarks/discovery.py`` (its
scoring functions are imported): 512 points on [0, t_end] (10 time units unless the system sets its
own, e.g. neuron models in ms), multiplicative noise x·(1 + γ·N(0,1)) with the same seed for every
system; per system, noise and method:

- success: trajectory R² > 0.9 of the model simulated (deltaflow's capped integrator, 5 s) from the
  clean first initial state against the clean trajectory (R² averaged over states);
- second IC: the same from the second published initial state, never seen in fitting (chaotic
  systems also by short horizon); the report splits it by where that state lies: inside the range
  the fitted record spans, up to 25 % of that range outside, or further, where any model extrapolates;
- exact: exactly the true terms in every equation (polynomial systems; also reported only over those
  the default library, degree <= 3, can express);
- short-horizon R²: the same R² on the first 20 % of the span (informative on chaotic systems); the
  column "success, chaotic by short horizon" scores the corpus's chaotic systems by it (R² > 0.9),
  every other system as "success";
- time of the fit alone. A fit over ``--cap`` seconds is stopped and counts as a failure, named in
  the report (the cap is wall clock, so a case near it can flip on a loaded machine: read the times).

Methods: deltaflow with default settings; pysindy 2.x defaults (STLSQ threshold 0.1, polynomial
degree 2, finite differences); pysindy grid-tuned over finite / smoothed finite differences ×
degree 2, 3, 4 × column normalisation off / on × 12 thresholds (chosen by derivative error on
the last 20 % of the record after fitting the first 80 %, as in benchmarks/discovery.py; with
normalised columns the thresholds are multiplied by sqrt(n) since pysindy divides each column by
its L2 norm); and pysindy grid-tuned by simulation: the same 144 grid points, each fitted on the whole
record and judged by the R² of its simulation from the first noisy sample against the noisy record
(a stronger anchor at noise than the derivative criterion, which a flat tail can fool into x' = 0).

Each fit runs in a forked worker process (``--jobs`` at a time; BLAS limited to one thread), so a
hanging fit is killed at the cap. Results of each half are kept in
``benchmarks/results/generalisation_<half>.json``; the report ``benchmarks/results/generalisation.md``
is built from every half on file. With ``--systems`` or ``--methods`` the output files get the
suffix ``_subset`` and the canonical ones are left alone; ``--reuse`` then adds the methods not run
from the canonical files, so ``--methods deltaflow --reuse`` compares a changed deltaflow with the
stored anchors in a fraction of the time (about 5 of the 38 minutes of a full run).

``--merge`` adds rows to the canonical files without rerunning the others: it runs only the cases
(system, noise, method) not yet on file, or with ``--systems`` every case of those systems, and
merges them in, replacing rows of the same system, noise and method; the report is rebuilt from the
files and names any method on file for fewer systems than the others. After adding systems to the
corpus, ``--merge --methods pysindy-default,pysindy-grid,pysindy-grid-sim`` runs the anchors on the
new systems only, and ``--merge --methods deltaflow`` then adds deltaflow's rows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import signal
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np
import pysindy as ps
from threadpoolctl import threadpool_limits

from benchmarks.discovery import _r2, _structure, pysindy_default, trajectory_r2_and_short
from pipeline.discovery import discover
from pipeline.discovery.compiled_rhs import compile_model  # noqa: F401 (the kernel loads here, not in a timed fit)
from pipeline.discovery.library import Library
from pipeline.discovery.scoring import forecast_horizon
from pipeline.discovery.simulate import interpolated_control, simulate_model
from pipeline.errors import DeltaflowError
from pipeline.systems import KnownSystem, simulate_truth
from pipeline.systems_published import PUBLISHED, TUNING, VALIDATION

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
N = 512
START_MARGIN = 0.25
"""How far (a share of the record's range) a second initial state may lie outside the range the first record spans
and still count as "near" it in the report: deltaflow's stability check starts models up to this far above the
range (and below it, for a state that is not positive throughout)."""
THRESHOLDS = np.geomspace(1e-3, 2.0, 12)
GRID_SIMULATION_EVALUATIONS = 100_000
"""Cap on the solver evaluations of one grid point's simulation in pysindy-grid-sim (about 0.5 s of solver work
here): a count, so which grid point wins does not depend on how busy the machine is."""
Fit = Callable[[np.ndarray, np.ndarray, tuple[str, ...]], tuple[Library, np.ndarray]]


def _pysindy_fit(
    t: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    *,
    degree: int,
    threshold: float,
    smoothed: bool,
    normalize: bool,
    u: np.ndarray | None = None,
) -> tuple[Library, np.ndarray]:
    """One pysindy fit; the model as our Library (p terms) and coefficients (d, p). With known inputs ``u`` (n, m),
    ``names`` names the states, then the inputs, and the library spans both (benchmarks/controlled.py)."""
    model = ps.SINDy(
        optimizer=ps.STLSQ(threshold=threshold, normalize_columns=normalize),
        feature_library=ps.PolynomialLibrary(degree=degree),
        differentiation_method=ps.SmoothedFiniteDifference() if smoothed else ps.FiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, t=t, u=u, feature_names=list(names))
    powers = np.asarray(model.feature_library.powers_, dtype=int)
    return Library(tuple(names), powers), np.asarray(model.coefficients(), dtype=float)


def grid_points(n: int) -> list[dict[str, Any]]:
    """The 144 pysindy settings tuned over: differentiation × degree 2-4 × normalisation × 12 thresholds.

    With normalised columns pysindy divides each column by its L2 norm over the n samples, so the
    threshold is multiplied by sqrt(n) to stay comparable with the unnormalised one.
    """
    grid = itertools.product((False, True), (2, 3, 4), (False, True), THRESHOLDS)
    return [
        {
            "degree": degree,
            "threshold": float(threshold * (np.sqrt(n) if normalize else 1.0)),
            "smoothed": smoothed,
            "normalize": normalize,
        }
        for smoothed, degree, normalize, threshold in grid
    ]


def pysindy_grid(t: np.ndarray, x: np.ndarray, names: tuple[str, ...]) -> tuple[Library, np.ndarray]:
    """pysindy tuned over differentiation × degree 2-4 × normalisation × threshold on a held-out 20 % tail.

    Args:
        t: times (n,); x: noisy states (n, d); names: the d state names.

    Returns:
        The best grid point refitted on the whole record: Library (p terms), coefficients (d, p).
    """
    split = int(0.8 * t.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x_dot_val = ps.SmoothedFiniteDifference()._differentiate(x, t)[split:]
    best: tuple[float, dict[str, Any]] | None = None
    for options in grid_points(split):
        try:
            library, coef = _pysindy_fit(t[:split], x[:split], names, **options)
        except Exception:  # noqa: BLE001 - a failing grid point is skipped
            continue
        with np.errstate(all="ignore"):
            err = float(np.mean((library.evaluate(x[split:]) @ coef.T - x_dot_val) ** 2))
        if np.isfinite(err) and (best is None or err < best[0]):
            best = (err, options)
    if best is None:
        raise RuntimeError("every pysindy grid point failed")
    return _pysindy_fit(t, x, names, **best[1])


def pysindy_grid_by_simulation(
    t: np.ndarray, x: np.ndarray, names: tuple[str, ...], u: np.ndarray | None = None
) -> tuple[Library, np.ndarray]:
    """pysindy tuned over the same grid, each point fitted on the whole record and judged by simulation.

    The winner is the grid point whose model, simulated from the first (noisy) sample (under the record's inputs,
    if any), best matches the noisy record (R² averaged over states; each simulation capped at
    :data:`GRID_SIMULATION_EVALUATIONS` right-hand-side evaluations); the data alone decide, no truth.

    Args:
        t: times (n,); x: noisy states (n, d); names: the d state names (then the m input names, with ``u``);
        u: known inputs (n, m) or None (benchmarks/controlled.py).

    Returns:
        The chosen model: Library (p terms), coefficients (d, p).
    """
    best: tuple[float, Library, np.ndarray] | None = None
    control, budget = (None if u is None else interpolated_control(t, u)), GRID_SIMULATION_EVALUATIONS
    for options in grid_points(t.shape[0]):
        try:
            library, coef = _pysindy_fit(t, x, names, u=u, **options)
            with np.errstate(all="ignore"):
                path = simulate_model(coef, library, x[0], t, control=control, max_evaluations=budget)
                score = _r2(x, path)
        except Exception:  # noqa: BLE001 - a failing or diverging grid point is skipped
            continue
        if np.isfinite(score) and (best is None or score > best[0]):
            best = (score, library, coef)
    if best is None:
        raise RuntimeError("every pysindy grid point failed")
    return best[1], best[2]


def _deltaflow_with_intervals(
    t: np.ndarray, x: np.ndarray, names: tuple[str, ...], config: dict[str, object] | None = None
) -> tuple[Library, np.ndarray, np.ndarray | None, dict[str, float]]:
    """deltaflow with default settings (or ``config``'s discovery settings): its library, coefficients (d, p),
    95 % intervals (d, p, 2) and what it reports about chaos (its forecast horizon, and its Lyapunov time when it
    finds the model chaotic) and about the fit (1.0 under ``poor_fit``, ``weak_forecast`` and ``ambiguous`` when it
    carries those cautions)."""
    result = discover(t, x, feature_names=names, config=config)
    reported = {key: result.metrics[key] for key in ("forecast_horizon", "lyapunov_time") if key in result.metrics}
    cautions = result.cautions
    for key, opening in (("poor_fit", "poor fit"), ("weak_forecast", "weak forecast"), ("ambiguous", "ambiguous")):
        reported[key] = float(any(caution.startswith(opening) for caution in cautions))
    return result.library, result.coefficients, result.intervals, reported


def interval_scores(
    library: Library, coef: np.ndarray, intervals: np.ndarray, system: KnownSystem
) -> tuple[int, int, int, int]:
    """Coverage counts of the 95 % intervals (d, p, 2): (true terms whose true coefficient lies inside its
    term's interval, true terms; model terms whose estimate lies inside its own interval, model terms).
    A true term the model left out counts as not covered."""
    names = library.feature_names()
    covered = total = 0
    for i, state in enumerate(system.names):
        for term, value in system.terms.get(state, {}).items():
            total += 1
            if term in names:
                low, high = intervals[i, names.index(term)]
                covered += int(coef[i, names.index(term)] != 0 and low <= value <= high)
    active = coef != 0
    inside = (intervals[..., 0] <= coef) & (coef <= intervals[..., 1])
    return covered, total, int(np.sum(inside & active)), int(np.sum(active))


METHODS: dict[str, Fit] = {
    "deltaflow": lambda t, x, names: _deltaflow_with_intervals(t, x, names),
    "deltaflow-rates": lambda t, x, names: _deltaflow_with_intervals(t, x, names, {"refine_rates": True}),
    "pysindy-default": pysindy_default(2),
    "pysindy-grid": pysindy_grid,
    "pysindy-grid-sim": pysindy_grid_by_simulation,
}
LABELS = {
    "deltaflow": "deltaflow defaults",
    "deltaflow-rates": "deltaflow, inner rates refined (refine_rates)",
    "pysindy-default": "pysindy defaults (deg 2)",
    "pysindy-grid": "pysindy grid-tuned (deg 2-4 × norm.)",
    "pysindy-grid-sim": "pysindy grid-tuned by simulation",
}


@dataclass(frozen=True)
class Case:
    """One fit to run: a corpus system at one noise level by one method."""

    system: str
    noise: float
    method: str
    seed: int
    cap: float


class FitTimeout(BaseException):  # noqa: N818 - BaseException so that no `except Exception` in a fit swallows it
    """The fit ran past the cap."""


def _raise_timeout(_signum: int, _frame: object) -> None:
    raise FitTimeout


def noisy_record(system: KnownSystem, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Times (N,) on [0, t_end] and states (N, d) with multiplicative noise, drawn as benchmarks/discovery.py does."""
    t = np.linspace(0, system.t_end, N)
    clean = simulate_truth(system, t)
    draws = np.random.default_rng(seed).standard_normal(clean.shape)
    return t, clean * (1 + noise * draws)


def trajectory_scores(
    library: Library, coef: np.ndarray, system: KnownSystem, x0: tuple[float, ...]
) -> tuple[float, float]:
    """R² of the model simulated from x0 against the truth over the span and over its first 20 % (−inf if it fails)."""
    return trajectory_r2_and_short(library, coef, system, np.linspace(0, system.t_end, N), x0)


def true_horizon(library: Library, coef: np.ndarray, system: KnownSystem) -> float:
    """How long the model simulated from the clean first initial state stays within the forecast tolerance of the
    truth (:func:`~pipeline.discovery.scoring.forecast_horizon`, each state's spread that of the truth)."""
    t = np.linspace(0, system.t_end, N)
    truth = simulate_truth(system, t, system.x0)
    try:
        model = simulate_model(coef, library, np.asarray(system.x0, dtype=float), t)
    except DeltaflowError:
        return 0.0
    spread = truth.std(axis=0)
    return forecast_horizon(t, model, truth, np.where(spread > 0, spread, 1.0))


def chaos_table(records: list[dict[str, Any]]) -> list[str]:
    """deltaflow's chaos detection against the corpus's published regimes, and the forecast horizon it reports
    against the one its model really has from the clean initial state, per half and noise."""
    rows = [r for r in records if r["method"] == "deltaflow" and "detected_chaotic" in r]
    if not rows:
        return []
    lines = [
        "",
        "## What deltaflow reports about chaos",
        "",
        "Detected: the discovered model amplifies a nudge of 1e-6 of the spread 1000-fold over the record (its result"
        " then carries a Lyapunov time and a caution). Horizon: how long the simulation stays within half the"
        " spread (RMS over states) of the record, as deltaflow reports it (against the noisy record) and as it"
        " is (against the clean truth from the clean first initial state), median over the published chaotic"
        " systems; the last column is the median of reported / true. A published chaotic regime whose record spans too"
        " few Lyapunov times (fewer than about 7) is not chaotic on that record: its model follows all of it.",
        "",
        "| half | noise | chaotic detected | false alarms (non-chaotic) | reported horizon | true horizon |"
        " reported / true |",
        "|---|---|---|---|---|---|---|",
    ]
    for half, noise, cell in _cells(rows):
        chaotic = [r for r in cell if r["chaotic"]]
        reported = [r["horizon_reported"] for r in chaotic]
        true = [r["horizon_true"] for r in chaotic]
        ratio = [a / b for a, b in zip(reported, true) if b > 0 and np.isfinite(a)]
        lines.append(
            f"| {half} | {noise:.0%} | {_share([r['detected_chaotic'] for r in chaotic])} |"
            f" {_share([r['detected_chaotic'] for r in cell if not r['chaotic']])} |"
            f" {np.nanmedian(reported):.2f} | {np.nanmedian(true):.2f} |"
            f" {np.median(ratio) if ratio else float('nan'):.2f} |"
        )
    return lines


def _cells(rows: list[dict[str, Any]]) -> list[tuple[str, float, list[dict[str, Any]]]]:
    """The ``rows`` grouped by half and noise level, (half, noise, rows) in report order, empty groups left out."""
    groups = [
        (half, noise, [r for r in rows if r["half"] == half and r["noise"] == noise])
        for half in ("tuning", "validation")
        for noise in sorted({r["noise"] for r in rows})
    ]
    return [group for group in groups if group[2]]


def caution_table(records: list[dict[str, Any]]) -> list[str]:
    """How well deltaflow's weak-forecast and ambiguous-structure cautions mark the models that fail away from the
    record, per half and noise, over the records whose published regime is not chaotic."""
    rows = [r for r in records if r["method"] == "deltaflow" and "weak_forecast" in r and not r["chaotic"]]
    if not rows:
        return []
    lines = [
        "",
        "## deltaflow's weak-forecast and ambiguous-structure cautions",
        "",
        "A model refitted on the first 80 % of its record that forecasts the last 20 % with R² below 0.9 carries a"
        " *weak forecast* caution; one with a rival of other terms that follows the record as closely and stays bounded"
        " around the data, but whose paths from the states around it explain less than 90 % of its own (R² < 0.9), an"
        " *ambiguous structure* caution"
        " (`pipeline/discovery/ambiguity.py`). Non-chaotic published regimes; failing = R² <= 0.9 from the clean"
        " first or the second initial state; models with a *poor fit* caution are counted apart (they carry that one"
        " instead).",
        "",
        "| half | noise | records | failing | flagged weak forecast | of which failing | flagged ambiguous | of which"
        " failing | flagged either | of which failing | failing, not flagged | poor fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for half, noise, cell in _cells(rows):
        failing = [r for r in cell if not ((r["r2"] or -np.inf) > 0.9 and (r["r2_alt"] or -np.inf) > 0.9)]
        weak = [r for r in cell if r["weak_forecast"]]
        ambiguous = [r for r in cell if r.get("ambiguous")]
        either = [r for r in cell if r["weak_forecast"] or r.get("ambiguous")]
        lines.append(
            f"| {half} | {noise:.0%} | {len(cell)} | {len(failing)} | {len(weak)} | {sum(r in failing for r in weak)}"
            f" | {len(ambiguous)} | {sum(r in failing for r in ambiguous)} | {len(either)} |"
            f" {sum(r in failing for r in either)} |"
            f" {sum(r not in either and not r['poor_fit'] for r in failing)} | {sum(r['poor_fit'] for r in cell)} |"
        )
    return lines


def render_equations(names: tuple[str, ...], terms: dict[str, dict[str, float]]) -> str:
    """``x' = +0.5 x -0.2 x^2; y' = ...`` from ``{state: {term: coefficient}}``."""
    parts = []
    for state in names:
        items = [f"{c:+.4g}" + ("" if term == "1" else f" {term}") for term, c in terms.get(state, {}).items()]
        parts.append(f"{state}' = {' '.join(items) if items else '0'}")
    return "; ".join(parts)


def model_terms(library: Library, coef: np.ndarray, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """A fitted model's nonzero terms per state from its library (p terms) and coefficients (d, p)."""
    features = library.feature_names()
    return {state: {features[k]: float(coef[i, k]) for k in np.flatnonzero(coef[i])} for i, state in enumerate(names)}


def _record(case: Case, status: str, seconds: float) -> dict[str, Any]:
    entry = PUBLISHED[case.system]
    return {
        **asdict(case),
        "half": "tuning" if case.system in TUNING else "validation",
        "polynomial": entry.polynomial,
        "expressible": entry.polynomial and entry.degree <= 3,
        "chaotic": entry.chaotic,
        "status": status,
        "time": seconds,
        "r2": -np.inf,
        "r2_alt": -np.inf,
        "r2_short": -np.inf,
        "r2_alt_short": -np.inf,
        "exact": np.nan,
        "coef_err": np.nan,
        "model": "",
    }


def run_case(case: Case) -> dict[str, Any]:
    """Fit one case under the time cap and score it; a fit that raises or runs over the cap is a failure."""
    system = PUBLISHED[case.system].system
    t, x = noisy_record(system, case.noise, case.seed)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, case.cap)
    start = time.perf_counter()
    try:
        library, coef, *extra = METHODS[case.method](t, x, system.names)
    except FitTimeout:
        return _record(case, "over cap", time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - a failed fit is scored as a failure
        return _record(case, f"error: {type(exc).__name__}: {exc}"[:200], time.perf_counter() - start)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    record = _record(case, "ok", time.perf_counter() - start)
    record["r2"], record["r2_short"] = trajectory_scores(library, coef, system, system.x0)
    record["r2_alt"], record["r2_alt_short"] = trajectory_scores(library, coef, system, system.x0_alt)
    if system.polynomial:
        exact, err = _structure(library, coef, system)
        record["exact"], record["coef_err"] = float(exact), float(err)
        if extra and extra[0] is not None:
            keys = ("ci_truth_covered", "ci_truth_terms", "ci_estimate_inside", "ci_terms")
            record |= dict(zip(keys, interval_scores(library, coef, extra[0], system)))
    if len(extra) > 1:  # what deltaflow tells its user about chaos, and the horizon it really has
        record["detected_chaotic"] = "lyapunov_time" in extra[1]
        record["lyapunov_time"] = extra[1].get("lyapunov_time", np.nan)
        record["horizon_reported"] = extra[1].get("forecast_horizon", np.nan)
        record["horizon_true"] = true_horizon(library, coef, system)
        record["poor_fit"] = bool(extra[1].get("poor_fit", 0.0))
        record["weak_forecast"] = bool(extra[1].get("weak_forecast", 0.0))
        record["ambiguous"] = bool(extra[1].get("ambiguous", 0.0))
    record["model"] = render_equations(system.names, model_terms(library, coef, system.names))
    return record


def _child(case: Case, conn: Connection) -> None:
    try:
        conn.send(run_case(case))
    finally:
        conn.close()


def run_cases(cases: list[Case], jobs: int, on_result: Callable[[dict[str, Any]], None]) -> None:
    """Run every case in a forked worker, ``jobs`` at a time; a worker past its cap (plus scoring) is killed."""
    context = multiprocessing.get_context("fork")
    pending = list(reversed(cases))
    running: dict[Connection, tuple[Any, Case, float]] = {}
    while pending or running:
        while pending and len(running) < jobs:
            case = pending.pop()
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(case, writer), daemon=True)
            process.start()
            writer.close()
            running[reader] = (process, case, time.monotonic())
        for reader in wait(list(running), timeout=0.5):
            process, case, started = running.pop(reader)  # type: ignore[index]
            try:
                record = reader.recv()  # type: ignore[union-attr]
            except EOFError:
                record = _record(case, "error: worker died", time.monotonic() - started)
            reader.close()  # type: ignore[union-attr]
            process.join()
            on_result(record)
        for reader, (process, case, started) in list(running.items()):
            if time.monotonic() - started > case.cap + 30.0:  # the fit's cap plus room for data and scoring
                process.kill()
                process.join()
                reader.close()
                del running[reader]
                on_result(_record(case, "over cap (killed)", time.monotonic() - started))


def _share(values: list[bool]) -> str:
    return f"{np.mean(values):.1%} ({sum(values)}/{len(values)})" if values else "–"


def _summary_line(label: str, noise: float, records: list[dict[str, Any]]) -> str:
    """One table row: success, second IC, per class, structure and times over the records of one method and noise."""
    poly = [r for r in records if r["polynomial"]]
    other = [r for r in records if not r["polynomial"]]
    exact = [r["exact"] == 1.0 for r in poly]
    exact_default = [r["exact"] == 1.0 for r in poly if r["expressible"]]
    errors = [r["coef_err"] for r in poly if np.isfinite(r["coef_err"])]
    times = np.array([r["time"] for r in records])
    capped = [r["system"] for r in records if r["status"].startswith("over cap")]
    cells = [
        label,
        f"{noise:.0%}",
        _share([r["r2"] > 0.9 for r in records]),
        _share([(r["r2_short"] if r["chaotic"] else r["r2"]) > 0.9 for r in records]),
        _share([r["r2_alt"] > 0.9 for r in records]),
        _share([r["r2"] > 0.9 for r in poly]),
        _share([r["r2"] > 0.9 for r in other]),
        _share([r["r2_alt"] > 0.9 for r in poly]),
        _share([r["r2_alt"] > 0.9 for r in other]),
        _share(exact),
        _share(exact_default),
        f"{np.median(errors):.3f}" if errors else "–",
        f"{np.median(times):.2f}",
        f"{np.quantile(times, 0.9):.2f}",
        f"{times.max():.2f}",
        ", ".join(capped) or "0",
    ]
    return "| " + " | ".join(cells) + " |"


SUMMARY_HEADER = [
    "| method | noise | success | success, chaotic by short horizon | success 2nd IC | success poly"
    " | success non-poly | 2nd IC poly | 2nd IC non-poly"
    " | exact (poly) | exact (poly, deg ≤ 3) | median coef. error (poly) | median time (s) | p90 time (s)"
    " | max time (s) | over cap |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def summary_tables(records: list[dict[str, Any]]) -> list[str]:
    """Per half (and both), per method and noise: the summary table; then the chaotic systems' short horizon."""
    methods = [m for m in METHODS if any(r["method"] == m for r in records)]
    noises = sorted({r["noise"] for r in records})
    halves = [h for h in ("tuning", "validation") if any(r["half"] == h for r in records)]
    lines: list[str] = []
    for half in [*halves, "both"] if len(halves) > 1 else halves:
        chosen = [r for r in records if half in ("both", r["half"])]
        count = len({r["system"] for r in chosen})
        poly = len({r["system"] for r in chosen if r["polynomial"]})
        title = "both halves" if half == "both" else f"{half} half"
        lines += ["", f"### {title}: {count} systems ({poly} polynomial)", ""]
        lines += SUMMARY_HEADER
        for method in methods:
            for noise in noises:
                cell = [r for r in chosen if r["method"] == method and r["noise"] == noise]
                lines.append(_summary_line(LABELS[method], noise, cell))
    chaotic = [r for r in records if r["chaotic"]]
    if chaotic:
        lines += ["", "### Chaotic systems: R² over the span and over its first 20 % (short horizon)", ""]
        lines += ["| method | noise | success (R² > 0.9) | short-horizon success |", "|---|---|---|---|"]
        for method in methods:
            for noise in noises:
                cell = [r for r in chaotic if r["method"] == method and r["noise"] == noise]
                lines.append(
                    f"| {LABELS[method]} | {noise:.0%} | {_share([r['r2'] > 0.9 for r in cell])}"
                    f" | {_share([r['r2_short'] > 0.9 for r in cell])} |"
                )
    return lines


def alt_distance(system: KnownSystem) -> float:
    """How far the second initial state lies outside the range of the clean record from the first: the largest
    over states of its distance beyond that state's [min, max], in units of the range (0 inside the range)."""
    clean = simulate_truth(system, np.linspace(0, system.t_end, N))
    low, high = clean.min(axis=0), clean.max(axis=0)
    size = np.maximum(high - low, np.finfo(float).tiny)
    alt = np.asarray(system.x0_alt, dtype=float)
    return float(max(0.0, np.max(np.maximum(low - alt, alt - high) / size)))


def _alt_success(record: dict[str, Any]) -> bool:
    """Second-IC success, chaotic records scored by their short horizon (rows from before that score was kept
    fall back to the whole span)."""
    score = record.get("r2_alt_short", record["r2_alt"]) if record["chaotic"] else record["r2_alt"]
    return bool(score > 0.9)


def second_state_tables(records: list[dict[str, Any]]) -> list[str]:
    """Per half, method and noise: second-IC success (chaotic records by short horizon) split by where the second
    initial state lies relative to the range the fitted record spans: inside, near (up to :data:`START_MARGIN` of
    the range outside), or further out, where any model extrapolates."""
    distance = {name: alt_distance(PUBLISHED[name].system) for name in {r["system"] for r in records}}
    places = {
        "inside the record's range": lambda d: d == 0.0,
        f"up to {START_MARGIN:.0%} of the range outside": lambda d: 0.0 < d <= START_MARGIN,
        "further outside": lambda d: d > START_MARGIN,
    }
    methods = [m for m in METHODS if any(r["method"] == m for r in records)]
    lines = [
        "",
        "### Second initial state: where it lies, and success from it",
        "",
        "2nd IC success with chaotic systems scored by their short horizon (as the first IC's column above), split by"
        " how far the second initial state lies outside the range (per state, min to max) of the clean record the"
        " model was fitted to. Beyond the range the record says nothing about the law; only a model with the true"
        " law's form extrapolates.",
        "",
        "| half | method | noise | 2nd IC, chaotic by short horizon | " + " | ".join(places) + " |",
        "|---|---|---|---|" + "---|" * len(places),
    ]
    for half in ("tuning", "validation"):
        for method in methods:
            for noise in sorted({r["noise"] for r in records}):
                cell = [r for r in records if r["half"] == half and r["method"] == method and r["noise"] == noise]
                if not cell:
                    continue
                split = [
                    _share([_alt_success(r) for r in cell if where(distance[r["system"]])]) for where in places.values()
                ]
                lines.append(
                    f"| {half} | {LABELS[method]} | {noise:.0%} | {_share([_alt_success(r) for r in cell])} | "
                    + " | ".join(split)
                    + " |"
                )
    return lines


def _fmt(r2: float) -> str:
    """An R² for a table: three decimals, with very negative and non-finite values shortened."""
    if not np.isfinite(r2):
        return "fail"
    return f"{r2:.3f}" if r2 > -10 else "< −10"


def _cell(record: dict[str, Any] | None, structure: bool) -> str:
    if record is None:
        return "–"
    if not record["status"].startswith("ok"):
        return record["status"].split(":")[0]
    text = f"{_fmt(record['r2'])} / {_fmt(record['r2_alt'])}"
    if structure and record["polynomial"]:
        text += f" / {int(record['exact'])}"
    return text


def system_table(records: list[dict[str, Any]]) -> list[str]:
    """Per system and noise: each method's trajectory R² / second-IC R² (/ exact structure for deltaflow)."""
    methods = [m for m in METHODS if any(r["method"] == m for r in records)]
    index = {(r["system"], r["noise"], r["method"]): r for r in records}
    lines = [
        "",
        "## Per system: trajectory R² / second-IC R² (/ exact structure, deltaflow, polynomial systems)",
        "",
        "| system | half | class | noise | " + " | ".join(LABELS[m] for m in methods) + " | deltaflow fit (s) |",
        "|---|---|---|---|" + "---|" * (len(methods) + 1),
    ]
    for name in PUBLISHED:
        for noise in sorted({r["noise"] for r in records}):
            row = [index.get((name, noise, m)) for m in methods]
            first = next((r for r in row if r is not None), None)
            if first is None:
                continue
            kind = "polynomial" if first["polynomial"] else "non-polynomial"
            kind += ", chaotic" if first["chaotic"] else ""
            own = index.get((name, noise, "deltaflow"))
            seconds = f"{own['time']:.2f}" if own else "–"
            cells = " | ".join(_cell(r, m == "deltaflow") for r, m in zip(row, methods))
            lines.append(f"| {name} | {first['half']} | {kind} | {noise:.0%} | {cells} | {seconds} |")
    return lines


def failure_list(records: list[dict[str, Any]]) -> list[str]:
    """deltaflow's failures (R² ≤ 0.9 from either state, or wrong structure) with the model found and the truth."""
    lines = [
        "",
        "## deltaflow's failures: the model found against the truth",
        "",
        "Every case where deltaflow's R² ≤ 0.9 from the first or the second initial state, or where a"
        " polynomial system's structure is not exact.",
        "",
        "| system | noise | R² / 2nd IC | exact | model found | truth |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        if r["method"] != "deltaflow":
            continue
        wrong_structure = r["polynomial"] and r["exact"] != 1.0
        if r["r2"] > 0.9 and r["r2_alt"] > 0.9 and not wrong_structure:
            continue
        entry = PUBLISHED[r["system"]]
        truth = (
            render_equations(entry.system.names, entry.system.terms)
            if entry.polynomial
            else f"{entry.equation} with c = {list(entry.params)}"
        )
        exact = "–" if not r["polynomial"] else str(int(r["exact"])) if np.isfinite(r["exact"]) else "–"
        lines.append(
            f"| {r['system']} | {r['noise']:.0%} | {_fmt(r['r2'])} / {_fmt(r['r2_alt'])} | {exact}"
            f" | {r['model'] or r['status']} | {truth} |"
        )
    return lines


def _progress(expected: dict[str, int]) -> Callable[[dict[str, Any]], None]:
    """A callback that prints one line per system once all its fits are in."""
    done: dict[str, list[dict[str, Any]]] = {}
    start = time.perf_counter()

    def on_result(record: dict[str, Any]) -> None:
        done.setdefault(record["system"], []).append(record)
        rows = done[record["system"]]
        if len(rows) < expected[record["system"]]:
            return
        rows.sort(key=lambda r: (r["noise"], list(METHODS).index(r["method"])))
        cells = "  ".join(f"{r['method'][:11]}@{r['noise']:.0%}:{_fmt(r['r2'])}/{_fmt(r['r2_alt'])}" for r in rows)
        finished = sum(len(v) == expected[k] for k, v in done.items())
        elapsed = time.perf_counter() - start
        print(f"[{finished}/{len(expected)} {elapsed:6.0f}s] {record['system']}: {cells}", flush=True)

    on_result.records = done  # type: ignore[attr-defined]
    return on_result


def write_report(records: list[dict[str, Any]], command: str, path: Path) -> None:
    """The markdown report: summary per half and class, chaotic short horizon, per system, deltaflow's failures."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    lines = [
        "# Generalisation: discovery on published systems, tuning and validation halves",
        "",
        f"`{command}` at commit {commit}: {len({r['system'] for r in records})} systems of"
        " `pipeline/systems_published.py`,"
        f" {N} points on [0, t_end] (t_end = 10 unless the system sets its own), multiplicative noise, one noise"
        " seed. Success = trajectory R² > 0.9 from the"
        " clean first initial state; 2nd IC = the same from the second published initial state (not fitted);"
        " exact = exactly the true terms (polynomial systems). Times are of the fit alone, one BLAS thread"
        " (not the imports and the one-time load of the compiled right-hand side, ~0.5 s per process).",
    ]
    if "--merge" in command:
        lines[-1] += (
            " Merged: only the cases this command ran are new; the rows of other methods (or other systems) are the"
            " stored results of their last run (see the git history of the JSON files)."
        )
    lines += coverage_note(records) + summary_tables(records) + second_state_tables(records) + interval_table(records)
    lines += chaos_table(records)
    lines += caution_table(records)
    lines += system_table(records) + failure_list(records)
    path.write_text("\n".join(lines) + "\n")


def interval_table(records: list[dict[str, Any]]) -> list[str]:
    """deltaflow's 95 % intervals on the polynomial systems, per half and noise: how often they hold the true
    coefficient (over every true term; and over the systems found with the exact structure) and the estimate."""
    rows = [r for r in records if r["method"] == "deltaflow" and "ci_truth_terms" in r]
    if not rows:
        return []
    lines = [
        "",
        "## deltaflow's 95 % intervals (polynomial systems)",
        "",
        "Truth covered: true terms whose true coefficient lies in the interval of the model's coefficient (a"
        " term the model left out is not covered); the second column counts only systems found with the exact"
        " structure. Estimate inside: the model's own coefficients inside their intervals.",
        "",
        "| half | noise | truth covered, all | truth covered, exact-structure systems | estimate inside |",
        "|---|---|---|---|---|",
    ]

    def share(hit: str, total: str, chosen: list[dict[str, Any]]) -> str:
        a, b = sum(r[hit] for r in chosen), sum(r[total] for r in chosen)
        return f"{a / b:.1%} ({a}/{b})" if b else "–"

    for half in ("tuning", "validation", "both"):
        for noise in sorted({r["noise"] for r in rows}):
            cell = [r for r in rows if r["noise"] == noise and half in (r["half"], "both")]
            exact = [r for r in cell if r["exact"] == 1.0]
            truth, truth_exact = (share("ci_truth_covered", "ci_truth_terms", c) for c in (cell, exact))
            inside = share("ci_estimate_inside", "ci_terms", cell)
            lines.append(f"| {half} | {noise:.0%} | {truth} | {truth_exact} | {inside} |")
    return lines


def coverage_note(records: list[dict[str, Any]]) -> list[str]:
    """A warning naming each method run on fewer systems than the report holds (its shares are over fewer)."""
    systems = {r["system"] for r in records}
    lines = []
    for method in METHODS:
        own = {r["system"] for r in records if r["method"] == method}
        if own and own != systems:
            lines.append(
                f"- **{LABELS[method]}** is on file for {len(own)} of the {len(systems)} systems (missing:"
                f" {len(systems - own)}); its rows in the tables below are over those {len(own)} only."
            )
    return ["", "Coverage: methods are not all on file for the same systems.", "", *lines] if lines else []


def reused_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """From the canonical result files, the other methods' records on the cases just run (same seed)."""
    cases = {(r["system"], r["noise"], r["seed"]) for r in records}
    ran = {r["method"] for r in records}
    return [r for r in canonical_records() if r["method"] not in ran and (r["system"], r["noise"], r["seed"]) in cases]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "validation", "both"), default="both")
    parser.add_argument("--systems", default="", help="comma-separated corpus names (output gets the suffix _subset)")
    parser.add_argument("--noises", default="0,0.01,0.05", help="multiplicative noise levels, comma-separated")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {', '.join(METHODS)}")
    parser.add_argument("--jobs", type=int, default=1, help="fits run at a time (the machine is shared: default 1)")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per fit; a fit over it is a failure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="add the methods not run (same systems, noises, seed) from the canonical JSON files to the subset report",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="run only the cases missing from the canonical JSON files (or, with --systems or --replace, every case"
        " asked for) and merge them in, replacing rows with the same system, noise and method",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="with --merge: rerun every case of the chosen halves, noises and methods (a new version of one method)",
    )
    return parser.parse_args()


def canonical_records() -> list[dict[str, Any]]:
    """Every record in the canonical per-half result files (empty when none is on file)."""
    return [
        r
        for half in ("tuning", "validation")
        if (RESULTS / f"generalisation_{half}.json").exists()
        for r in json.loads((RESULTS / f"generalisation_{half}.json").read_text())
    ]


def missing_cases(cases: list[Case], stored: list[dict[str, Any]]) -> list[Case]:
    """The cases whose (system, noise, method) has no record in ``stored``."""
    done = {(r["system"], r["noise"], r["method"]) for r in stored}
    return [c for c in cases if (c.system, c.noise, c.method) not in done]


def merge_records(stored: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``stored`` with every row of the same (system, noise, method) as a ``new`` one replaced by it.

    The result is ordered by corpus order, noise and method, so the files diff cleanly.
    """
    replaced = {(r["system"], r["noise"], r["method"]) for r in new}
    kept = [r for r in stored if (r["system"], r["noise"], r["method"]) not in replaced]
    order = {name: k for k, name in enumerate(PUBLISHED)}
    methods = list(METHODS)
    return sorted(
        [*kept, *new],
        key=lambda r: (
            order.get(r["system"], len(order)),
            r["noise"],
            methods.index(r["method"]) if r["method"] in methods else len(methods),
        ),
    )


def write_canonical(records: list[dict[str, Any]], halves: list[str], command: str) -> None:
    """Write each half's records to ``generalisation_<half>.json`` and the report from every half on file."""
    for half in halves:
        rows = [r for r in records if r["half"] == half]
        (RESULTS / f"generalisation_{half}.json").write_text(json.dumps(rows, indent=0))
    write_report(canonical_records(), command, RESULTS / "generalisation.md")
    print(f"wrote {RESULTS / 'generalisation.md'}")


def _chosen_cases(args: argparse.Namespace) -> list[Case]:
    """The cases the command line asks for (systems of the halves, noises, methods); exits on unknown names."""
    halves = ["tuning", "validation"] if args.half == "both" else [args.half]
    members = {"tuning": TUNING, "validation": VALIDATION}
    names = [n for n in PUBLISHED if any(n in members[h] for h in halves)]
    if args.systems:
        unknown = sorted(set(args.systems.split(",")) - set(PUBLISHED))
        if unknown:
            raise SystemExit(f"--systems: unknown {unknown}; expected names of pipeline.systems_published.PUBLISHED")
        names = [n for n in names if n in args.systems.split(",")]
    methods = args.methods.split(",")
    if set(methods) - set(METHODS):
        raise SystemExit(f"--methods: unknown {sorted(set(methods) - set(METHODS))}; expected of {list(METHODS)}")
    noises = [float(v) for v in args.noises.split(",")]
    return [Case(n, noise, m, args.seed, args.cap) for n in names for noise in noises for m in methods]


def main() -> None:
    args = _parse()
    halves = ["tuning", "validation"] if args.half == "both" else [args.half]
    cases = _chosen_cases(args)
    if args.merge and not args.systems and not args.replace:
        cases = missing_cases(cases, canonical_records())
    expected: dict[str, int] = {}
    for case in cases:
        expected[case.system] = expected.get(case.system, 0) + 1
    subset = not args.merge and (
        bool(args.systems)
        or args.methods.split(",") != list(METHODS)
        or [float(v) for v in args.noises.split(",")] != [0.0, 0.01, 0.05]
    )
    on_result = _progress(expected)
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        run_cases(cases, max(1, args.jobs), on_result)
    records = [r for rows in on_result.records.values() for r in rows]  # type: ignore[attr-defined]
    if args.reuse:
        records += reused_records(records)
    print(f"{len(cases)} fits on {len(expected)} systems in {time.perf_counter() - start:.0f} s ({args.jobs} jobs)")
    command = "python benchmarks/generalisation.py " + " ".join(
        f"--{k}" if v is True else f"--{k} {v}" for k, v in vars(args).items() if v not in ("", None, False)
    )
    if subset:
        (RESULTS / "generalisation_subset.json").write_text(json.dumps(records))
        write_report(records, command, RESULTS / "generalisation_subset.md")
        print(f"wrote {RESULTS / 'generalisation_subset.md'}")
        return
    if args.merge:
        records = merge_records([r for r in canonical_records() if r["half"] in halves], records)
    write_canonical(records, halves, command)


if __name__ == "__main__":
    main()
