"""Regenerate the bundled synthetic datasets (deterministic: same bytes every run).

    python data/generate.py

Each file is a known system from ``pipeline.systems`` sampled on a uniform grid with
Gaussian noise from a fixed seed; the table below is the single source of truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.sensitivity.functions import BlackScholes, rosenbrock
from pipeline.systems import sample_system

HERE = Path(__file__).resolve().parent

DATASETS = {
    # file: (system, samples, noise, absolute noise?, seed)
    "exp_decay.csv": ("exp_decay", 100, 0.05, True, 0),  # the seed document's example: sd 0.05 on u = exp(-t)
    "lorenz.csv": ("lorenz", 2000, 0.01, False, 0),  # 1 % of each state's std
    "lotka_volterra.csv": ("lotka_volterra", 400, 0.01, False, 0),
}


def sensitivity_tables() -> dict[str, pd.DataFrame]:
    """The seed document's sensitivity examples as tables of samples."""
    rng = np.random.RandomState(42)  # the seed's own generator and seed
    features = rng.randn(500, 3)
    y = 2 * features[:, 0] + 0.5 * features[:, 1] - features[:, 2] + 0.1 * rng.randn(500)
    tables = {
        "sensitivity_linear.csv": pd.DataFrame(
            {"x1": features[:, 0], "x2": features[:, 1], "x3": features[:, 2], "y": y}
        )
    }
    gx, gy = np.meshgrid(np.linspace(-2, 2, 50), np.linspace(-1, 3, 50))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    tables["rosenbrock_grid.csv"] = pd.DataFrame({"x": grid[:, 0], "y": grid[:, 1], "loss": rosenbrock(grid)})
    bs = BlackScholes(strike=100.0, rate=0.05)
    spot = np.linspace(50, 150, 101)
    tables["call_spot.csv"] = pd.DataFrame({"spot": spot, "call": bs.price(spot, 0.2, 1.0)})
    s2, v2 = (a.ravel() for a in np.meshgrid(np.linspace(60, 140, 41), np.linspace(0.1, 0.5, 21)))
    tables["call_spot_vol.csv"] = pd.DataFrame({"spot": s2, "sigma": v2, "call": bs.price(s2, v2, 1.0)})
    s3, t3 = (a.ravel() for a in np.meshgrid(np.linspace(60, 140, 41), np.linspace(0.25, 2.0, 21)))
    tables["call_spot_time.csv"] = pd.DataFrame({"spot": s3, "expiry": t3, "call": bs.price(s3, 0.2, t3)})
    kinked = np.linspace(80, 120, 50)
    tables["kinked_payoff.csv"] = pd.DataFrame({"spot": kinked, "price": np.maximum(kinked - 100, 0) + 5})
    return tables


def forced_oscillator() -> pd.DataFrame:
    """A damped oscillator driven by a known force: x' = v, v' = -2 x - 0.3 v + force(t); 1 % noise on x, v."""
    from scipy.integrate import solve_ivp

    def force(t: np.ndarray) -> np.ndarray:
        return np.sin(1.3 * t) + 0.5 * np.cos(0.4 * t)

    t = np.linspace(0, 20, 800)
    solution = solve_ivp(
        lambda s, y: [y[1], -2 * y[0] - 0.3 * y[1] + force(s)], (0, 20), [1.0, 0.0], t_eval=t, rtol=1e-10, atol=1e-12
    )
    states = solution.y.T * (1 + 0.01 * np.random.default_rng(0).standard_normal((t.size, 2)))
    return pd.DataFrame({"t": t, "x": states[:, 0], "v": states[:, 1], "force": force(t)})


def main() -> None:
    for filename, (system, n, noise, absolute, seed) in DATASETS.items():
        frame = sample_system(system, n=n, noise=noise, seed=seed, absolute_noise=absolute)
        frame.to_csv(HERE / filename, index=False, float_format="%.10g")
        print(f"wrote {HERE / filename} ({len(frame)} rows)")
    tables = {**sensitivity_tables(), "forced_oscillator.csv": forced_oscillator()}
    for filename, frame in tables.items():
        frame.to_csv(HERE / filename, index=False, float_format="%.12g")
        print(f"wrote {HERE / filename} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
