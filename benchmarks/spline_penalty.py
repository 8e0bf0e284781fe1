"""The smoothing spline's penalty: deltaflow's GML choice against scipy's own GCV choice, in one run.

    python benchmarks/spline_penalty.py [--seeds 3]

Records: the signals of benchmarks/derivative_signals.py (sine, two sines, Lorenz x, logistic, exponential decay,
irregular sine; 1000 samples each), each thinned to an irregular grid of 50, 200 and 500 samples kept at random
(the first and last kept), with Gaussian noise at 1 / 5 / 10 % of the signal's std. Both methods fit scipy's
``make_smoothing_spline`` and differ only in the penalty:

- scipy: ``lam=None``, its GCV score minimised on (0, n) on a linear scale;
- deltaflow: ``method="spline"`` (:mod:`pipeline.differentiation.spline`), GML minimised on a log scale over a range
  set by the sampling steps.

Score: RMSE of the first derivative over the interior (5 % dropped at each end) / std of the true derivative.
The same records are also fitted with t in other units (t · 3600, as if hours were written in seconds, and
t / 1000): a choice that depends only on the data gives the same derivative (in the original unit) whatever the
unit. Writes benchmarks/results/spline_penalty.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.interpolate import make_smoothing_spline

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from derivative_signals import Signal, make_signals  # noqa: E402

from pipeline.differentiation import differentiate  # noqa: E402

SIZES = (50, 200, 500)
LEVELS = (0.01, 0.05, 0.10)
UNITS = (1.0, 3600.0, 1e-3)
Fit = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (t, y) -> dy/dt at t
METHODS: dict[str, Fit] = {
    "scipy GCV (lam=None)": lambda t, y: make_smoothing_spline(t, y).derivative(1)(t),
    "deltaflow spline (GML)": lambda t, y: differentiate(t, y, method="spline"),
}


def thinned(signal: Signal, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``size`` samples of ``signal`` at random (first and last kept): times, values, true first derivative."""
    n = signal.t.shape[0]
    keep = np.sort(np.concatenate([[0, n - 1], rng.choice(np.arange(1, n - 1), size - 2, replace=False)]))
    return signal.t[keep], signal.x[keep], signal.dx[keep]


def relative_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Interior RMSE (5 % dropped at each end) / std of the truth."""
    cut = max(1, int(0.05 * truth.shape[0]))
    return float(np.sqrt(np.mean((estimate[cut:-cut] - truth[cut:-cut]) ** 2)) / np.std(truth))


def run(seeds: int) -> list[dict[str, object]]:
    """One row per (signal, size, noise, seed, method, unit): relative error (nan on failure) and seconds."""
    rows = []
    for signal in make_signals():
        for size in SIZES:
            for level in LEVELS:
                for seed in range(seeds):
                    rng = np.random.default_rng([seed, size, int(level * 100)])
                    t, x, dx = thinned(signal, size, rng)
                    y = x + level * np.std(x) * rng.standard_normal(size)
                    for name, method in METHODS.items():
                        for unit in UNITS:
                            start = time.process_time()
                            try:
                                error = relative_error(method(t * unit, y) * unit, dx)
                            except Exception:  # noqa: BLE001 - a failure is a result, counted in the table
                                error = float("nan")
                            seconds = time.process_time() - start
                            rows.append({"signal": signal.name, "size": size, "level": level, "seed": seed,
                                         "method": name, "unit": unit, "error": error, "seconds": seconds})  # fmt: skip
        print(f"  {signal.name} done", flush=True)
    return rows


def _select(rows: list[dict[str, object]], **where: object) -> list[dict[str, object]]:
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def table(rows: list[dict[str, object]]) -> list[str]:
    """Per method and unit: median / p90 / max relative error, failures, wins against the other method, time."""
    lines = [
        "| method | unit of t | median rel. error | p90 | max | failed | better than the other (same unit) | "
        "median s per fit (n = 500) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = list(METHODS)
    for name in names:
        other = names[1 - names.index(name)]
        for unit in UNITS:
            mine = np.array([r["error"] for r in _select(rows, method=name, unit=unit)], dtype=float)
            theirs = np.array([r["error"] for r in _select(rows, method=other, unit=unit)], dtype=float)
            wins = np.mean(np.nan_to_num(mine, nan=np.inf) < np.nan_to_num(theirs, nan=np.inf))
            seconds = np.median([r["seconds"] for r in _select(rows, method=name, unit=unit, size=500)])
            ok = mine[np.isfinite(mine)]
            lines.append(
                f"| {name} | t · {unit:g} | {np.median(ok):.4f} | {np.percentile(ok, 90):.4f} | {np.max(ok):.3f} | "
                f"{int(np.sum(~np.isfinite(mine)))} / {mine.size} | {100 * wins:.1f} % | {seconds:.3f} |"
            )
    return lines


def by_noise(rows: list[dict[str, object]]) -> list[str]:
    """Median relative error per noise level and size, unit 1, both methods side by side."""
    names = list(METHODS)
    lines = ["| size | noise | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for size in SIZES:
        for level in LEVELS:
            cells = [
                np.nanmedian([r["error"] for r in _select(rows, method=n, unit=1.0, size=size, level=level)])
                for n in names
            ]
            lines.append(f"| {size} | {level:.0%} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    rows = run(args.seeds)
    n_records = len(rows) // (len(METHODS) * len(UNITS))
    lines = [
        "# Smoothing-spline penalty: deltaflow's GML choice against scipy's GCV choice",
        "",
        f"`python benchmarks/spline_penalty.py --seeds {args.seeds}`: {n_records} irregular records (6 signals of "
        "benchmarks/derivative_signals.py thinned at random to 50 / 200 / 500 samples, noise 1 / 5 / 10 % of the "
        f"signal's std, {args.seeds} seeds). Error = interior RMSE of dx/dt / std of the true dx/dt, in the original "
        "unit of t; CPU seconds of one fit (penalty choice included), one BLAS thread not enforced.",
        "",
        *table(rows),
        "",
        "Median error by record size and noise (t in its own unit):",
        "",
        *by_noise(rows),
        "",
    ]
    out = HERE / "results" / "spline_penalty.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
