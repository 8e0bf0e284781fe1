"""Stepwise sparsity paths: deltaflow's Gram-matrix forward/backward paths against pysindy's FROLS and SSR.

    python benchmarks/stepwise_paths.py

pysindy 2.x has both greedy paths: FROLS (forward orthogonal least squares) and SSR with
``criteria="model_residual"`` (backward elimination by residual). Each keeps its path in
``history_``. Here both are run unregularised (alpha ≈ 0, normalised columns) on the
libraries discovery builds (Lorenz, cubic, 20 terms; a 4-state SEIR, cubic, 35 terms) and
compared with ``pipeline.discovery.paths`` on: time for the whole path of one equation,
and whether the supports of every size agree. Writes benchmarks/results/stepwise_paths.md.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pysindy as ps

from pipeline.discovery.paths import backward_path, forward_path
from pipeline.discovery.sindy import build_library
from pipeline.discovery.stlsq import NormalEquations
from pipeline.systems import SYSTEMS, sample_system

HERE = Path(__file__).resolve().parent


def _supports_from_history(history: list[np.ndarray]) -> list[np.ndarray]:
    return [np.abs(np.asarray(c)).ravel() > 0 for c in history]


def _frols(theta: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """pysindy's forward path (FROLS), unregularised, every size."""
    opt = ps.FROLS(normalize_columns=True, alpha=1e-12, max_iter=theta.shape[1], unbias=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt.fit(theta, y)
    return _supports_from_history(opt.history_)


def _ssr(theta: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """pysindy's backward path (SSR by model residual), unregularised, every size."""
    opt = ps.SSR(normalize_columns=True, alpha=1e-12, max_iter=theta.shape[1], criteria="model_residual", unbias=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt.fit(theta, y)
    return _supports_from_history(opt.history_)


def _rss(theta: np.ndarray, y: np.ndarray, support: np.ndarray) -> float:
    """Residual sum of squares of least squares on the support."""
    coef = np.linalg.lstsq(theta[:, support], y, rcond=None)[0]
    return float(np.sum((y - theta[:, support] @ coef) ** 2))


def _timed(fn, repeat: int = 3):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    rows = []
    for name, n in (("lorenz", 512), ("lorenz", 4096), ("seir", 512), ("seir", 4096)):
        system = SYSTEMS[name]
        frame = sample_system(name, n=n, noise=0.01, multiplicative=True, seed=0)
        x = frame[list(system.names)].to_numpy()
        theta = build_library(system.names, degree=3, include_bias=True).evaluate(x)
        y = np.gradient(x[:, 0], frame.t.to_numpy())
        p = theta.shape[1]

        for label, mine, theirs in (("forward", forward_path, _frols), ("backward", backward_path, _ssr)):
            t_ours, path_ours = _timed(lambda: mine(NormalEquations.from_data(theta, y)))  # noqa: B023
            t_theirs, path_theirs = _timed(lambda: theirs(theta, y))  # noqa: B023
            by_size = {int(s.sum()): s for s in path_theirs}
            shared = [s for s in path_ours if int(s.sum()) in by_size]
            agree = np.mean([np.array_equal(s, by_size[int(s.sum())]) for s in shared])
            no_worse = np.mean(
                [_rss(theta, y, s) <= _rss(theta, y, by_size[int(s.sum())]) * (1 + 1e-6) for s in shared]
            )
            rows.append((f"{name} n={n} p={p}", label, t_ours, t_theirs, agree, no_worse, len(by_size)))
            print(rows[-1])
    lines = [
        "# Stepwise paths: deltaflow (Gram matrices) vs pysindy FROLS / SSR(model_residual)",
        "",
        "`python benchmarks/stepwise_paths.py`; one equation (dx/dt of the first state, finite differences of"
        " 1 % noisy data), cubic library, whole path; best of 3 runs.",
        "",
        "Where the supports differ (SEIR: S + E + I + R = 1 makes the library nearly collinear), the last but one"
        " column says at how many sizes deltaflow's support has a residual no larger than pysindy's.",
        "",
        "| problem | path | deltaflow (s) | pysindy (s) | speed-up | same support at each size"
        " | residual ≤ pysindy's | sizes pysindy gave |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for problem, label, t_ours, t_theirs, agree, no_worse, sizes in rows:
        anchor = "FROLS" if label == "forward" else "SSR"
        lines.append(
            f"| {problem} | {label} ({anchor}) | {t_ours:.4f} | {t_theirs:.4f} | {t_theirs / t_ours:.0f}x"
            f" | {agree:.0%} | {no_worse:.0%} | {sizes} |"
        )
    out = HERE / "results" / "stepwise_paths.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
