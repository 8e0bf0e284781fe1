"""Spikes: does deltaflow find single gross samples, only those, and does leaving them out save the fit?

    PYTHONPATH=. python benchmarks/spikes.py [--fits] [--cap 60]

Three parts, each on the tuning and validation halves of the published corpus (``pipeline.systems_published``,
sampled and noised as ``benchmarks/generalisation.py`` samples them: 512 points, multiplicative noise, seed 0); the
thresholds of :mod:`pipeline.spikes` were chosen on the tuning half only.

1. False spikes: clean records (0, 1 and 5 % noise; also the 34-system suite of ``pipeline.systems``, the signals of
   ``benchmarks/derivative_signals.py``, the bundled discovery examples and the Hudson Bay lynx-hare record) in which
   any sample is flagged.
2. Detection: one spike added to each record at a random interior sample of a random state, of 0.05, 0.2, 1 and 5
   times that state's range, up or down: how often it is flagged, and how often another sample is.
3. With ``--fits``, what it does to discovery: at 1 % noise, each system fitted with default settings on the clean
   record, on the record with a spike of one range kept (``data.outliers: keep``, deltaflow before spikes were
   found) and with it replaced (``replace``, the default): success (trajectory R^2 > 0.9 from the clean first initial
   state, as in ``benchmarks/generalisation.py``, chaotic systems by the R^2 over the first 20 % of the span) and exact
   structure (polynomial systems). Sequential, about 15
   minutes.

Writes ``benchmarks/results/spikes.md``.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from benchmarks.derivative_signals import make_signals
from benchmarks.discovery import _structure
from benchmarks.generalisation import FitTimeout, _raise_timeout, noisy_record, trajectory_scores
from pipeline.data import TimeSeries
from pipeline.discovery import discover
from pipeline.spikes import NEIGHBOURS, apply_spike_policy, column_spikes
from pipeline.systems import SYSTEMS, KnownSystem
from pipeline.systems_published import PUBLISHED, TUNING

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = {
    "exp_decay": ["u"], "forced_oscillator": ["x", "v"], "lorenz": ["x", "y", "z"], "lotka_volterra": ["hare", "lynx"]
}  # fmt: skip
"""The bundled discovery examples (``configs/*.yaml``): data file stem and state columns."""
NOISES = (0.0, 0.01, 0.05)
SIZES = (0.05, 0.2, 1.0, 5.0)
"""Spike sizes, in ranges of the state they are added to."""
HALVES = ("tuning", "validation")
RECORDS = ("clean", "spike kept", "spike replaced")


def flagged(x: np.ndarray) -> set[tuple[int, int]]:
    """(row, state) of every spike in ``x`` (n, d), one evenly sampled trajectory, end jumps left out."""
    return spikes_and_end_jumps(x)[0]


def spikes_and_end_jumps(x: np.ndarray) -> tuple[set[tuple[int, int]], int]:
    """(row, state) of every spike in ``x`` (n, d), one evenly sampled trajectory, and how many end jumps
    (:attr:`pipeline.spikes.Spike.at_end`) it holds besides."""
    n = x.shape[0]
    found = [(int(i), j) for j in range(x.shape[1]) for i in column_spikes(x[:, j])[0]]
    inside = {(i, j) for i, j in found if NEIGHBOURS <= i < n - NEIGHBOURS}
    return inside, len(found) - len(inside)


def half_of(name: str) -> str:
    """The corpus half a published system is in."""
    return "tuning" if name in TUNING else "validation"


def corpus_records() -> Iterator[tuple[str, str, float, KnownSystem, np.ndarray, np.ndarray]]:
    """(half, system name, noise, system, t (512,), x (512, d)) for every published system and noise."""
    for name, entry in PUBLISHED.items():
        for noise in NOISES:
            t, x = noisy_record(entry.system, noise, 0)
            yield half_of(name), name, noise, entry.system, t, x


def with_spike(x: np.ndarray, size: float, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    """``x`` (n, d) with one spike of ``size`` ranges added at a random interior sample of a random state."""
    row = int(rng.integers(NEIGHBOURS, x.shape[0] - NEIGHBOURS))
    state = int(rng.integers(x.shape[1]))
    spiked = x.copy()
    spiked[row, state] += size * np.ptp(x[:, state]) * rng.choice([-1.0, 1.0])
    return spiked, (row, state)


def false_spike_table() -> list[str]:
    """Part 1: records with any sample flagged, per source."""
    counts: dict[tuple[str, float], list[int]] = {}
    named: list[str] = []
    jumps: list[str] = []
    for half, name, noise, _, _, x in corpus_records():
        found, at_ends = spikes_and_end_jumps(x)
        cell = counts.setdefault((half, noise), [0, 0, 0])
        cell[0] += bool(found)
        cell[1] += 1
        cell[2] += bool(at_ends)
        named += [f"{name} at {noise:.0%}: {sorted(found)[:3]}"] if found else []
        jumps += [f"{name} at {noise:.0%}"] if at_ends else []
    suite = [flagged(noisy_record(system, noise, 0)[1]) for system in SYSTEMS.values() for noise in NOISES]
    rng = np.random.default_rng(0)
    signals = [
        flagged(s.x.reshape(len(s.t), -1) * (1 + noise * rng.standard_normal((len(s.t), 1))))
        for s in make_signals()
        for noise in NOISES
    ]
    lynx_hare = flagged(pd.read_csv(DATA / "hudson-bay-lynx-hare.csv")[["lynx", "hare"]].to_numpy(float))
    examples = [flagged(pd.read_csv(DATA / f"{stem}.csv")[states].to_numpy(float)) for stem, states in EXAMPLES.items()]
    lines = ["| records | noise | with a false spike | with an end jump (said, kept) |", "|---|---|---|---|"]
    lines += [
        f"| published, {half} half | {noise:.0%} | {c[0]} of {c[1]} | {c[2]} of {c[1]} |"
        for (half, noise), c in counts.items()
    ]
    lines += [
        f"| 34-system suite | 0, 1, 5 % | {sum(map(bool, suite))} of {len(suite)} | |",
        f"| derivative signals | 0, 1, 5 % | {sum(map(bool, signals))} of {len(signals)} | |",
        f"| bundled discovery examples | - | {sum(map(bool, examples))} of {len(examples)} | |",
        f"| Hudson Bay lynx-hare (real, 21 years) | - | {int(bool(lynx_hare))} of 1 | |",
    ]
    lines += [""] + [f"- false spike: {line}" for line in named] if named else []
    return lines + ([""] + [f"- end jumps: {', '.join(jumps)}"] if jumps else [])


def detection_table() -> list[str]:
    """Part 2: one added spike per record: detected, and another sample flagged, per half, noise and size."""
    rng = np.random.default_rng(7)
    cells: dict[tuple[str, float, float], list[int]] = {}
    for half, _, noise, _, _, x in corpus_records():
        for size in SIZES:
            spiked, where = with_spike(x, size, rng)
            found = flagged(spiked)
            cell = cells.setdefault((half, noise, size), [0, 0, 0])
            cell[0] += where in found
            cell[1] += bool(found - {where})
            cell[2] += 1
    lines = [
        "| half | noise | " + " | ".join(f"{size:g} range detected" for size in SIZES) + " | another sample flagged |",
        "|---|---|" + "---|" * (len(SIZES) + 1),
    ]
    for half in HALVES:
        for noise in NOISES:
            row = [cells[(half, noise, size)] for size in SIZES]
            shares = " | ".join(f"{c[0]} of {c[2]} ({c[0] / c[2]:.0%})" for c in row)
            lines.append(f"| {half} | {noise:.0%} | {shares} | {sum(c[1] for c in row)} of {sum(c[2] for c in row)} |")
    return lines


def fit_scores(
    system: KnownSystem, t: np.ndarray, x: np.ndarray, policy: str, cap: float, chaotic: bool
) -> tuple[bool, bool]:
    """(success, exact structure) of deltaflow with default settings on ``x`` (n, d) under spike ``policy``; a
    ``chaotic`` system's success by its short-horizon R^2, as ``benchmarks/generalisation.py`` scores it."""
    series = apply_spike_policy(TimeSeries(t=t, x=x, names=system.names), policy)  # type: ignore[arg-type]
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, cap)
    try:
        result = discover(series.t, series.x, feature_names=system.names)
    except (FitTimeout, Exception):  # noqa: BLE001 - a failed or capped fit is scored as a failure
        return False, False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    r2, r2_short = trajectory_scores(result.library, result.coefficients, system, system.x0)
    exact = system.polynomial and bool(_structure(result.library, result.coefficients, system)[0])
    return bool((r2_short if chaotic else r2) > 0.9), exact


def fit_table(cap: float) -> list[str]:
    """Part 3: success and exact structure at 1 % noise: clean, one-range spike kept, and replaced."""
    rng = np.random.default_rng(11)
    cells: dict[tuple[str, str], list[int]] = {}
    for name, entry in PUBLISHED.items():
        system = entry.system
        t, x = noisy_record(system, 0.01, 0)
        spiked, _ = with_spike(x, 1.0, rng)
        for label, data, policy in zip(RECORDS, (x, spiked, spiked), ("keep", "keep", "replace"), strict=True):
            success, exact = fit_scores(system, t, data, policy, cap, entry.chaotic)
            cell = cells.setdefault((half_of(name), label), [0, 0, 0, 0])
            cell[0] += success
            cell[1] += 1
            cell[2] += exact
            cell[3] += system.polynomial
        print(name, {k: v for k, v in cells.items() if k[0] == half_of(name)}, flush=True)
    lines = ["| half | record | success | exact structure (polynomial) |", "|---|---|---|---|"]
    for half in HALVES:
        for label in RECORDS:
            c = cells[(half, label)]
            lines.append(f"| {half} | {label} | {c[0]} of {c[1]} ({c[0] / c[1]:.0%}) | {c[2]} of {c[3]} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", action="store_true", help="also fit every system (part 3, about 15 minutes)")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per fit before it counts as a failure")
    args = parser.parse_args()
    with threadpool_limits(1):
        parts = ["# Spikes", "", __doc__.split("\n\n", 2)[2].split("Writes")[0].strip(), "", "## 1. False spikes", ""]
        parts += false_spike_table() + ["", "## 2. Detection of one added spike", ""] + detection_table()
        if args.fits:
            parts += ["", "## 3. Discovery at 1 % noise with one spike of one range", ""] + fit_table(args.cap)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "spikes.md").write_text("\n".join(parts) + "\n")
    print("\n".join(parts))


if __name__ == "__main__":
    main()
