"""Regenerate the bundled synthetic datasets (deterministic: same bytes every run).

    python data/generate.py

Each file is a known system from ``pipeline.systems`` sampled on a uniform grid with
Gaussian noise from a fixed seed; the table below is the single source of truth.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.systems import sample_system

HERE = Path(__file__).resolve().parent

DATASETS = {
    # file: (system, samples, noise, absolute noise?, seed)
    "exp_decay.csv": ("exp_decay", 100, 0.05, True, 0),  # the seed document's example: sd 0.05 on u = exp(-t)
    "lorenz.csv": ("lorenz", 2000, 0.01, False, 0),  # 1 % of each state's std
    "lotka_volterra.csv": ("lotka_volterra", 400, 0.01, False, 0),
}


def main() -> None:
    for filename, (system, n, noise, absolute, seed) in DATASETS.items():
        frame = sample_system(system, n=n, noise=noise, seed=seed, absolute_noise=absolute)
        frame.to_csv(HERE / filename, index=False, float_format="%.10g")
        print(f"wrote {HERE / filename} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
