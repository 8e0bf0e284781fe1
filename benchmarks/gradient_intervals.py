"""Do the gradients' standard errors describe their errors? Coverage of g ± 1.96 std against the true gradient.

    PYTHONPATH=. python benchmarks/gradient_intervals.py

``analyze_samples`` reports every partial derivative with a standard error (``d<out>/d<feature>_std`` in the
gradients table). This measures, on functions whose gradient is known in closed form (or by complex steps), how
often the true partial lies within 1.96 of those standard errors of the estimate (95 % if they were calibrated), and
the median of |error| / std (about 0.67 if calibrated; far below: intervals too wide; far above: too narrow). Each
function is sampled at random (n uniform points) and on a full grid of about the same size, without noise and with
Gaussian noise of 1 % of the output's sd; the partials are evaluated at 300 random points of the inner 70 % of the
box (away from the edges, where one-sided neighbourhoods are a different question). Methods: deltaflow's ``auto``
choice and its two contenders (the GP with local patches, the local polynomial), each with its own standard error
(the GP's posterior sd; the local polynomial's sandwich variance with the leave-one-out error as the noise).

Halves as in benchmarks/sensitivity.py: tuning Ishigami and Sobol-G; validation Friedman #1, the borehole function,
Black-Scholes (spot, volatility, time to expiry) and Rosenbrock, none tuned on. One choice was made on the tuning
half: the GP's errors are widened by its leave-one-out z-scores, never narrowed (see
:mod:`pipeline.sensitivity.gaussian_process`). Writes benchmarks/results/gradient_intervals.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.sensitivity import BOREHOLE, SOBOL_G_A, borehole, complex_step, friedman
from pipeline.sensitivity.functions import (
    BlackScholes,
    ishigami,
    ishigami_gradient,
    rosenbrock,
    rosenbrock_gradient,
    sobol_g,
    sobol_g_gradient,
)
from pipeline.sensitivity.gradients import fit_gradient_model

RESULTS = Path(__file__).resolve().parent / "results"
N_SAMPLES = 1000
N_POINTS = 300
NOISE = 0.01
METHODS = ("auto", "gaussian_process", "local_polynomial")
Function = Callable[[np.ndarray], np.ndarray]


def _black_scholes(X: np.ndarray) -> np.ndarray:
    return BlackScholes().price(X[:, 0], X[:, 1], X[:, 2])


def _black_scholes_gradient(X: np.ndarray) -> np.ndarray:
    model, S, sigma, T = BlackScholes(), X[:, 0], X[:, 1], X[:, 2]
    return np.column_stack([model.delta(S, sigma, T), model.vega(S, sigma, T), -model.theta(S, sigma, T)])


CASES: list[tuple[str, str, Function, Function, np.ndarray]] = [
    # half, name, f, its gradient, box (2, d)
    ("tuning", "Ishigami d=3", ishigami, ishigami_gradient, np.array([[-np.pi] * 3, [np.pi] * 3])),
    ("tuning", "Sobol-G d=6", lambda X: sobol_g(X, SOBOL_G_A), lambda X: sobol_g_gradient(X, SOBOL_G_A),
     np.array([[0.0] * 6, [1.0] * 6])),
    ("validation", "Friedman d=5", friedman, complex_step(friedman), np.array([[0.0] * 5, [1.0] * 5])),
    ("validation", "Borehole d=8", borehole, complex_step(borehole), BOREHOLE.T.astype(float)),
    ("validation", "Black-Scholes d=3", _black_scholes, _black_scholes_gradient,
     np.array([[80.0, 0.1, 0.25], [120.0, 0.4, 2.0]])),
    ("validation", "Rosenbrock d=2", rosenbrock, rosenbrock_gradient, np.array([[-2.0, -1.0], [2.0, 3.0]])),
]  # fmt: skip


def samples(box: np.ndarray, design: str, rng: np.random.Generator) -> np.ndarray:
    """About :data:`N_SAMPLES` points (n, d) in ``box``: uniform at random, or a full grid."""
    d = box.shape[1]
    if design == "random":
        return box[0] + (box[1] - box[0]) * rng.random((N_SAMPLES, d))
    m = max(2, round(N_SAMPLES ** (1 / d)))
    axes = [np.linspace(box[0, j], box[1, j], m) for j in range(d)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)


def measure(f: Function, grad: Function, box: np.ndarray, design: str, noise: float, method: str) -> tuple:
    """Coverage, median |error|/std and median std/|truth| of one method on one sampled function."""
    rng = np.random.default_rng(0)
    X = samples(box, design, rng)
    y = f(X)
    y = y + noise * y.std() * rng.standard_normal(len(y))
    at = box[0] + (box[1] - box[0]) * (0.15 + 0.7 * rng.random((N_POINTS, box.shape[1])))
    start = time.perf_counter()
    estimate, std = fit_gradient_model(X, y, method).gradient(at, return_std=True)
    elapsed = time.perf_counter() - start
    truth = grad(at)
    ratio = np.abs(estimate - truth) / np.maximum(std, 1e-300)
    width = np.median(std / np.maximum(np.abs(truth), 1e-12 * np.abs(truth).max()))
    return float(np.mean(ratio <= 1.96)), float(np.median(ratio)), float(width), len(X), elapsed


def main() -> None:
    rows = []
    with threadpool_limits(1):
        for half, name, f, grad, box in CASES:
            for design in ("random", "grid"):
                for noise in (0.0, NOISE):
                    for method in METHODS:
                        cover, ratio, width, n, elapsed = measure(f, grad, box, design, noise, method)
                        rows.append((half, name, design, n, noise, method, cover, ratio, width, elapsed))
                        print(f"{name:18s} {design:6s} n={n:5d} noise {noise:.0%} {method:17s} coverage {cover:.2f}"
                              f" |err|/std {ratio:6.2f} ({elapsed:.1f} s)", flush=True)  # fmt: skip
    lines = [
        "# Gradient intervals: coverage of the true partial by g ± 1.96 std",
        "",
        f"`PYTHONPATH=. python benchmarks/gradient_intervals.py`: {N_SAMPLES} samples (random, or the full grid of"
        f" about that size), no noise or Gaussian noise of {NOISE:.0%} of the output's sd, partials at {N_POINTS}"
        " random points of the box's inner 70 %. Coverage: share of partials (points × features) whose truth lies in"
        " g ± 1.96 std (0.95 if calibrated); |err|/std: median of |g − truth| / std (0.67 if calibrated); std/|truth|:"
        " median relative width. The GP's errors are widened by its leave-one-out z-scores (chosen on the tuning"
        " half).",
        "",
    ]
    for half in ("tuning", "validation"):
        lines += [
            f"### {half} half",
            "",
            "| function | design | n | noise | method | coverage | median err/std | median std/truth | time (s) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for h, name, design, n, noise, method, cover, ratio, width, elapsed in rows:
            if h == half:
                lines.append(
                    f"| {name} | {design} | {n} | {noise:.0%} | {method} | {cover:.2f} | {ratio:.2f} | {width:.2g} |"
                    f" {elapsed:.1f} |"
                )
        lines.append("")
    for method in METHODS:
        for half in ("tuning", "validation"):
            covers = [r[6] for r in rows if r[5] == method and r[0] == half]
            lines.append(
                f"- {method}, {half} half: coverage median {np.median(covers):.2f}, lowest {min(covers):.2f},"
                f" {sum(c >= 0.9 for c in covers)} of {len(covers)} cases at or above 0.90"
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gradient_intervals.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'gradient_intervals.md'}")


if __name__ == "__main__":
    main()
