"""Discovery with known inputs: published systems driven by a control input, deltaflow beside pysindy.

    PYTHONPATH=. python benchmarks/controlled.py [--half tuning|validation|both] [--systems a,b]
        [--noises 0,0.01,0.05] [--methods deltaflow,pysindy-default,pysindy-grid-sim] [--seed 0] [--cap 60]
        [--tag NAME]

Corpus: ``pipeline.systems_controlled`` (23 systems from textbooks and papers of process control,
pharmacokinetics, physiology, neuroscience, mechanics and fisheries; 11 non-polynomial), split once by
a hash of the name into a tuning and a validation half (the autonomous corpus's split).

Per system: 512 samples on [0, t_end] from the first initial state, the input driven around its
operating level by a multisine of three incommensurate frequencies (:func:`excitation`, peak at the
published swing), multiplicative noise x·(1 + γ·N(0, 1)) on the states (the inputs are known exactly,
as a logged set point or dose is). Scored per system, noise and method:

- success: R² > 0.9 of the model simulated from the clean first initial state under the record's input
  against the clean truth (R² averaged over states);
- new input and state: the same from the second initial state under another multisine (other
  frequencies and phases) that the fit never saw: does the model hold for another experiment?
- exact: exactly the true terms in every equation (polynomial systems);
- time of the fit alone; a fit over ``--cap`` seconds fails (the cap is wall clock: read the times).

Methods: deltaflow with default settings (``discover(..., u=...)``); pysindy 2.x defaults with the
inputs (STLSQ threshold 0.1, polynomial degree 2 over states and inputs, finite differences); pysindy
grid-tuned by simulation over the 144 settings of benchmarks/generalisation.py (differentiation ×
degree 2-4 × normalisation × threshold), each fitted on the whole record and judged by the R² of its
simulation under the record's input against the noisy record.

The table goes to ``benchmarks/results/controlled.md`` (``controlled_<tag>.md`` with ``--tag``), the
rows to the matching ``.json``.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from benchmarks.discovery import _r2
from benchmarks.generalisation import FitTimeout, _raise_timeout
from benchmarks.generalisation import _pysindy_fit as pysindy_fit
from benchmarks.generalisation import pysindy_grid_by_simulation as grid_by_simulation
from pipeline.discovery import discover
from pipeline.discovery.library import Library
from pipeline.discovery.simulate import interpolated_control, simulate_model
from pipeline.errors import DeltaflowError
from pipeline.systems_controlled import CONTROLLED, TUNING, VALIDATION, ControlledSystem

RESULTS = Path(__file__).resolve().parent / "results"
N = 512
SUCCESS = 0.9
FIT_TONES = ((1.7, 0.0), (3.1, 1.3), (5.3, 2.9))
"""The fitted record's multisine: (cycles over the span, phase) of each tone."""
HELD_OUT_TONES = ((1.2, 0.7), (2.3, 2.1), (4.1, 0.4))
"""The held-out experiment's multisine: other frequencies and phases."""
Fit = Callable[[np.ndarray, np.ndarray, np.ndarray, ControlledSystem], tuple[Library, np.ndarray, list[str]]]
Tones = tuple[tuple[float, float], ...]


def excitation(system: ControlledSystem, t: np.ndarray, tones: Tones) -> np.ndarray:
    """Inputs (n, m) at times ``t`` (n,): each input's level plus its swing times a multisine of ``tones`` scaled
    to peak at 1 over [0, t_end] (input k shifted in phase by k radians, so several inputs are not collinear)."""
    fine = np.linspace(0.0, system.t_end, 4096)

    def shape(times: np.ndarray, shift: float) -> np.ndarray:
        return sum(np.sin(2 * np.pi * cycles * times / system.t_end + phase + shift) for cycles, phase in tones)

    columns = []
    for k, (level, swing) in enumerate(zip(system.input_level, system.input_swing)):
        peak = float(np.max(np.abs(shape(fine, k))))
        columns.append(level + swing * shape(t, k) / peak)
    return np.column_stack(columns)


def truth(system: ControlledSystem, x0: tuple[float, ...], t: np.ndarray, tones: Tones) -> np.ndarray:
    """The system from ``x0`` under the multisine of ``tones``, at times ``t`` (n,) → (n, d), tight tolerances."""
    solution = solve_ivp(
        lambda now, x: system.rhs(x, excitation(system, np.array([now]), tones)[0], system.params),
        (t[0], t[-1]), np.asarray(x0, dtype=float), t_eval=t, method="LSODA", rtol=1e-10, atol=1e-10,
    )  # fmt: skip
    if solution.status != 0:
        raise RuntimeError(f"{system.name}: the truth failed to integrate ({solution.message})")
    return solution.y.T


def _pysindy_fit(
    t: np.ndarray, x: np.ndarray, u: np.ndarray, system: ControlledSystem, **options: Any
) -> tuple[Library, np.ndarray]:
    """One pysindy fit with the inputs (generalisation.py's, over states + inputs): Library and coefficients (d, p)."""
    return pysindy_fit(t, x, (*system.states, *system.inputs), u=u, **options)


def pysindy_default(
    t: np.ndarray, x: np.ndarray, u: np.ndarray, system: ControlledSystem
) -> tuple[Library, np.ndarray, list[str]]:
    return *_pysindy_fit(t, x, u, system, degree=2, threshold=0.1, smoothed=False, normalize=False), []


def simulated(
    library: Library, coef: np.ndarray, x0: np.ndarray, t: np.ndarray, u: np.ndarray, **kwargs: Any
) -> np.ndarray:
    """The model (d, p) simulated from ``x0`` under the sampled inputs ``u`` (n, m) at ``t`` (n,) → (n, d)."""
    return simulate_model(coef, library, x0, t, control=interpolated_control(t, u), **kwargs)


def pysindy_grid_by_simulation(
    t: np.ndarray, x: np.ndarray, u: np.ndarray, system: ControlledSystem
) -> tuple[Library, np.ndarray, list[str]]:
    """generalisation.py's grid judged by simulation, with the inputs: the grid point whose model, simulated from the
    first noisy sample under the record's inputs, matches the noisy record best; the data alone decide."""
    return *grid_by_simulation(t, x, (*system.states, *system.inputs), u), []


def deltaflow(
    t: np.ndarray, x: np.ndarray, u: np.ndarray, system: ControlledSystem
) -> tuple[Library, np.ndarray, list[str]]:
    """deltaflow's defaults: the model and the cautions it carries (their first words)."""
    result = discover(t, x, u=u, feature_names=list(system.states), control_names=list(system.inputs))
    return result.library, result.coefficients, [caution.split(":")[0] for caution in result.cautions]


METHODS: dict[str, Fit] = {
    "deltaflow": deltaflow,
    "pysindy-default": pysindy_default,
    "pysindy-grid-sim": pysindy_grid_by_simulation,
}
LABELS = {
    "deltaflow": "deltaflow defaults",
    "pysindy-default": "pysindy defaults (deg 2)",
    "pysindy-grid-sim": "pysindy grid-tuned by simulation",
}


def _score(library: Library, coef: np.ndarray, system: ControlledSystem, tones: Tones, x0: tuple[float, ...]) -> float:
    """R² of the model against the truth from ``x0`` under the multisine of ``tones`` (−inf if it fails)."""
    t = np.linspace(0.0, system.t_end, N)
    try:
        with np.errstate(all="ignore"):
            path = simulated(library, coef, np.asarray(x0, dtype=float), t, excitation(system, t, tones))
    except DeltaflowError:
        return -np.inf
    return _r2(truth(system, x0, t, tones), path)


def _exact(library: Library, coef: np.ndarray, system: ControlledSystem) -> bool | None:
    """Whether the model has exactly the true terms in every equation (None for a non-polynomial system)."""
    if system.terms is None:
        return None
    names = library.feature_names()
    return all(
        {names[k] for k in np.flatnonzero(coef[i])} == set(system.terms.get(state, {}))
        for i, state in enumerate(system.states)
    )


def run_case(system: ControlledSystem, noise: float, method: str, seed: int, cap: float) -> dict[str, Any]:
    """Fit one system at one noise level by one method under the cap and score it."""
    t = np.linspace(0.0, system.t_end, N)
    u = excitation(system, t, FIT_TONES)
    clean = truth(system, system.x0, t, FIT_TONES)
    x = clean * (1 + noise * np.random.default_rng(seed).standard_normal(clean.shape))
    row: dict[str, Any] = {
        "system": system.name, "half": system.half, "polynomial": system.polynomial, "noise": noise,
        "method": method, "seed": seed,
    }  # fmt: skip
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, cap)
    start = time.perf_counter()
    try:
        library, coef, cautions = METHODS[method](t, x, u, system)
    except FitTimeout:
        return row | {"status": "over cap", "time": cap, "r2": -np.inf, "r2_alt": -np.inf, "exact": None}
    except Exception as exc:  # noqa: BLE001 - a failing fit is a failure, named in the rows
        return row | {"status": f"failed: {exc}"[:200], "time": time.perf_counter() - start, "r2": -np.inf,
                      "r2_alt": -np.inf, "exact": None}  # fmt: skip
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.perf_counter() - start
    equations = [
        " + ".join(f"{coef[i, k]:.4g} {name}" for k, name in enumerate(library.feature_names()) if coef[i, k])
        for i in range(coef.shape[0])
    ]
    return row | {
        "status": "ok", "time": seconds, "r2": _score(library, coef, system, FIT_TONES, system.x0),
        "r2_alt": _score(library, coef, system, HELD_OUT_TONES, system.x0_alt), "exact": _exact(library, coef, system),
        "model": "; ".join(f"{s}' = {e or '0'}" for s, e in zip(system.states, equations)), "cautions": cautions,
    }  # fmt: skip


def _share(rows: list[dict[str, Any]], passed: Callable[[dict[str, Any]], bool]) -> str:
    if not rows:
        return "–"
    hits = sum(passed(row) for row in rows)
    return f"{100 * hits / len(rows):.1f}% ({hits}/{len(rows)})"


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Per half, method and noise: success, new-input success (all, polynomial, not), exact, times."""
    lines = []
    for half in ("tuning", "validation", "both"):
        chosen = [row for row in rows if half == "both" or row["half"] == half]
        if not chosen:
            continue
        systems = len({row["system"] for row in chosen})
        lines += [
            f"### {half}: {systems} systems", "",
            "| method | noise | success | new input & state | success poly | success non-poly | new input poly"
            " | new input non-poly | exact (poly) | new-input failures with a caution | new-input successes with a"
            " caution | median time (s) | max time (s) | failed or over cap |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]  # fmt: skip
        for method in LABELS:
            for noise in sorted({row["noise"] for row in chosen}):
                group = [row for row in chosen if row["method"] == method and row["noise"] == noise]
                if not group:
                    continue
                poly = [row for row in group if row["polynomial"]]
                other = [row for row in group if not row["polynomial"]]
                times = [row["time"] for row in group]
                failed = [row for row in group if not row["r2_alt"] > SUCCESS]
                held = [row for row in group if row["r2_alt"] > SUCCESS]
                cautioned = lambda r: bool(r.get("cautions"))  # noqa: E731
                flagged = f"{_share(failed, cautioned)} | {_share(held, cautioned)}"
                flagged = flagged if method == "deltaflow" else "– | –"
                lines.append(
                    f"| {LABELS[method]} | {noise:.0%} | {_share(group, lambda r: r['r2'] > SUCCESS)}"
                    f" | {_share(group, lambda r: r['r2_alt'] > SUCCESS)} | {_share(poly, lambda r: r['r2'] > SUCCESS)}"
                    f" | {_share(other, lambda r: r['r2'] > SUCCESS)} | {_share(poly, lambda r: r['r2_alt'] > SUCCESS)}"
                    f" | {_share(other, lambda r: r['r2_alt'] > SUCCESS)} | {_share(poly, lambda r: bool(r['exact']))}"
                    f" | {flagged} | {np.median(times):.2f} | {max(times):.2f}"
                    f" | {sum(row['status'] != 'ok' for row in group)} |"
                )
        lines.append("")
    return lines


def per_system(rows: list[dict[str, Any]]) -> list[str]:
    """Every case: R² from the record's start and input / from the new state and input, and the model."""
    lines = [
        "## Per system", "",
        "| system | half | noise | method | R² | R² new input & state | exact | time (s) | cautions | model |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for row in sorted(rows, key=lambda r: (r["half"], r["system"], r["noise"], r["method"])):
        exact = "–" if row["exact"] is None else ("yes" if row["exact"] else "no")
        model = row.get("model", row["status"]).replace("|", "/")
        lines.append(
            f"| {row['system']} | {row['half']} | {row['noise']:.0%} | {row['method']} | {row['r2']:.3f}"
            f" | {row['r2_alt']:.3f} | {exact} | {row['time']:.2f} | {', '.join(row.get('cautions', [])) or '–'}"
            f" | {model[:160]} |"
        )
    return lines


def _commit() -> str:
    """The short hash of the checked-out commit ("unknown" outside a git work tree)."""
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=RESULTS.parent)
    return found.stdout.strip() or "unknown"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("tuning", "validation", "both"), default="both")
    parser.add_argument("--systems", default="", help="comma-separated system names (default: the half's)")
    parser.add_argument("--noises", default="0,0.01,0.05")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per fit; a fit over it is a failure")
    parser.add_argument("--tag", default="", help="write controlled_<tag>.md/.json instead of controlled.md/.json")
    return parser.parse_args()


def main() -> None:
    args = _parse()
    names = {"tuning": TUNING, "validation": VALIDATION, "both": TUNING + VALIDATION}[args.half]
    if args.systems:
        names = tuple(args.systems.split(","))
    noises = [float(value) for value in args.noises.split(",")]
    rows = []
    with threadpool_limits(limits=1):
        for name in names:
            for noise in noises:
                for method in args.methods.split(","):
                    rows.append(run_case(CONTROLLED[name], noise, method, args.seed, args.cap))
                    row = rows[-1]
                    print(f"{name} {noise:.0%} {method}: R² {row['r2']:.3f} / {row['r2_alt']:.3f}"
                          f" exact {row['exact']} {row['time']:.2f} s", flush=True)  # fmt: skip
    stem = f"controlled_{args.tag}" if args.tag else "controlled"
    command = " ".join(f"--{key} {value}" for key, value in vars(args).items() if value not in ("", None))
    lines = [
        "# Discovery with known inputs: deltaflow and pysindy on published controlled systems", "",
        f"`python benchmarks/controlled.py {command}` at commit {_commit()}: {len(names)} systems of"
        " `pipeline/systems_controlled.py`,"
        f" {N} samples on [0, t_end], inputs a multisine around their operating level, multiplicative noise on the"
        f" states, noise seed {args.seed}. Success = R² > 0.9 of the model simulated from the first initial state"
        " under the record's input against the truth; new input & state = the same from the second initial state"
        " under another multisine, never seen in fitting; exact = exactly the true terms (polynomial systems).", "",
        *table(rows), *per_system(rows),
    ]  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{stem}.json").write_text(json.dumps(rows, indent=1, default=float) + "\n")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
