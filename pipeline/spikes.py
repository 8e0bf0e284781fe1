"""Spikes: single samples that jump far outside what their neighbours and the noise allow (a typo, a sensor glitch).

One gross sample biases every fit that goes through it: a 30 among values near 0.09 on an exponential decay sampled
300 times at 1 % noise turns the fitted rate -0.7 into -0.56, and the model still "fits". A sample of a state or a
known input is a spike when, among its 2 :data:`NEIGHBOURS` nearest samples (the one farthest from their median left
out, so that two adjacent spikes do not hide each other), it lies outside their range by more than
:data:`SPIKE_RANGES` times that range, and by more than :data:`SPIKE_NOISE_SDS` times the local noise (read from
third differences, robust to the spike itself). A sampled peak, however sharp, lies outside its neighbours' range by a
fraction of it (a parabola's top by 1/8); a noise draw, by a few noise standard deviations at most.

What it cannot tell apart, it does not judge: a sample next to a gap in the times (over :data:`GAP` times the
trajectory's median step: the signal may have moved across it), and records of fewer than :data:`MIN_SAMPLES`
samples. A run of three or more bad samples (a -999 written for several readings) is not a spike: the samples around
each are bad too. On a short, coarse record (the 21 years of lynx-hare) the third differences are mostly signal, the
noise they read is large, and only a jump of many times the record's swing counts.

The first and last :data:`NEIGHBOURS` samples of a trajectory are judged against the nearest samples on their one
side, and one that jumps is an *end jump*: said, never replaced nor refused, since a fast transient at the start of a
record (a stiff relaxation) looks the same and nothing before it can tell the two apart.

Measured by ``benchmarks/spikes.py`` (``benchmarks/results/spikes.md``): no spike flagged on the 447 clean records of
the published corpus (149 systems at 0, 1 and 5 % noise), the 34-system suite, the bundled examples or the lynx-hare
record (11 of the 447 have an end jump said: stiff starts, mostly); a spike of one state's range found in 89-100 % of
records (the fewest at 5 % noise), one of a fifth of the range in 24-89 %. With such a spike replaced, discovery at
1 % noise succeeds as often as on the clean records (71 of 75 and 66 of 74 per half, against 71 and 64 clean; 66 and
52 with the spike kept); exact structures 30 and 22, against 31 and 24 clean and 16 and 16 with the spike kept.

``data.outliers`` in a run config says what happens to spikes (:func:`apply_spike_policy`): ``replace`` (the default)
puts a cubic through the neighbours in place of each and names each in the run's notes, ``keep`` uses them as they
are, ``raise`` stops with an error naming each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.errors import DataError

if TYPE_CHECKING:  # the config imports SpikePolicy: reading a config imports neither pandas nor scipy
    from pipeline.data import TimeSeries

__all__ = [
    "NEIGHBOURS", "SPIKE_NOISE_SDS", "SPIKE_RANGES", "Spike", "SpikePolicy", "apply_spike_policy", "column_spikes",
    "find_spikes",
]  # fmt: skip

SpikePolicy = Literal["replace", "keep", "raise"]

NEIGHBOURS = 3
"""Samples on each side a sample is compared with (2 NEIGHBOURS on one side, at a trajectory's ends)."""
SPIKE_RANGES = 3.0
"""A spike lies outside its neighbours' range by more than this many times that range. Chosen on the tuning half
of the published corpus (2 and 3 with 6 and 10 noise sd tried): every pair flagged nothing there but 6 noise sd."""
SPIKE_NOISE_SDS = 10.0
"""A spike lies outside its neighbours' range by more than this many local noise standard deviations (6 flagged a
5 % noise draw of Halvorsen's chaotic flow in the tuning half)."""
NOISE_WINDOW = 25
"""Third differences over which the local noise is read (their median absolute value); shifted inwards at a
trajectory's ends, so that a spike near an end weighs in as few of them as anywhere else."""
MIN_SAMPLES = 15
"""Fewest samples in a trajectory for its spikes to be judged: fewer hold too few third differences to read the
noise from."""
GAP = 3.0
"""A sample next to a step over this many times the trajectory's median step is not judged."""
_THIRD_DIFFERENCE_SD = np.sqrt(20.0)
"""Standard deviation of a third difference of white noise of unit standard deviation."""
_MAD_TO_SD = 1.4826
"""Median absolute deviation to standard deviation, for normal noise (here of a zero-median quantity)."""
SHOWN = 5
"""Spikes named one by one in a note; the rest are counted."""
SHOWN_IN_ERROR = 50
"""Spikes named one by one in an error (all of them, as a rule, so that one round of fixing the file does)."""
BRIDGE = 2
"""Samples on each side of a spike its replacement goes through: a cubic through 2 and 2 follows a curving record
where the straight line between the nearest 2 cuts the bend (the lynx-hare record with its 1910 hares written 271:
the line puts 32.9 in place of 27.1, and the fitted law is no longer Lotka-Volterra's; the cubic puts 30.6, and it
is)."""


@dataclass(frozen=True)
class Spike:
    """One spike.

    Attributes:
        row: the sample's row in the series (0-based; data row ``row + 1`` of the file it was read from).
        column: the state or known input it is a sample of.
        value: the sample's value.
        low, high: the range of its nearest samples (the farthest of them left out).
        noise_sds: how many local noise standard deviations it lies outside that range.
        at_end: among the first or last :data:`NEIGHBOURS` samples of its trajectory (an end jump).
    """

    row: int
    column: str
    value: float
    low: float
    high: float
    noise_sds: float
    at_end: bool = False

    def describe(self) -> str:
        """One line for a note or an error, e.g. ``data row 152 of 'u' is 30 where 5 of its 6 nearest samples span
        0.087 to 0.095 (310 noise sd beyond them)``."""
        return (
            f"data row {self.row + 1} of '{self.column}' is {self.value:.10g} where 5 of its {2 * NEIGHBOURS} nearest"
            f" samples span {self.low:.4g} to {self.high:.4g} ({self.noise_sds:.0f} noise sd beyond them)"
        )


def column_spikes(
    x: np.ndarray, t: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The spikes of one column's samples ``x`` (n,) of one trajectory, taken at times ``t`` (n,; even when None).

    Returns:
        (indices (k,), nearest samples' low (k,), high (k,), noise sds (k,)), end jumps included (indices below
        :data:`NEIGHBOURS` or from n - :data:`NEIGHBOURS`); empty with fewer than :data:`MIN_SAMPLES` samples or where
        no noise is seen (samples exactly on a polynomial, or quantised readings: third differences mostly 0).
    """
    n, w = x.shape[0], NEIGHBOURS
    if n < MIN_SAMPLES:
        return np.empty(0, dtype=int), np.empty(0), np.empty(0), np.empty(0)
    start = np.clip(np.arange(n) - w, 0, n - 2 * w - 1)  # each sample's window of 2w + 1, shifted inwards at the ends
    windows = sliding_window_view(x, 2 * w + 1)[start]
    neighbours = windows[np.arange(n)[:, None], _others(np.arange(n) - start, 2 * w + 1)]
    median = np.median(neighbours, axis=1, keepdims=True)
    farthest = np.argmax(np.abs(neighbours - median), axis=1)
    kept = neighbours[np.arange(n)[:, None], _others(farthest, 2 * w)]
    low, high = kept.min(axis=1), kept.max(axis=1)
    beyond = np.maximum(np.maximum(x - high, low - x), 0.0)
    noise = _local_noise(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise_sds = np.where(noise > 0, beyond / noise, 0.0)
    spike = (beyond > SPIKE_RANGES * (high - low)) & (noise_sds > SPIKE_NOISE_SDS) & ~_beside_gap(t, n)
    found = np.flatnonzero(spike)
    return found, low[found], high[found], noise_sds[found]


def _others(left_out: np.ndarray, size: int) -> np.ndarray:
    """Per row, the column indices 0..size-1 but ``left_out`` (m,): shape (m, size - 1)."""
    columns = np.arange(size - 1)[None, :]
    return columns + (columns >= left_out[:, None])


def _local_noise(x: np.ndarray) -> np.ndarray:
    """The noise standard deviation around each sample of ``x`` (n,), shape (n,): the median absolute third
    difference over :data:`NOISE_WINDOW` of them (all, when there are fewer), scaled to white noise."""
    third = np.abs(np.diff(x, 3)) / _THIRD_DIFFERENCE_SD
    size = min(NOISE_WINDOW, third.shape[0])
    medians = np.median(sliding_window_view(third, size), axis=1)
    centre = np.arange(x.shape[0]) - 1  # third difference k spans samples k..k+3
    return _MAD_TO_SD * medians[np.clip(centre - size // 2, 0, third.shape[0] - size)]


def _beside_gap(t: np.ndarray | None, n: int) -> np.ndarray:
    """Whether each of ``n`` samples at times ``t`` (n,) borders a step over :data:`GAP` times the median step."""
    if t is None:
        return np.zeros(n, dtype=bool)
    steps = np.diff(t)
    gap = steps > GAP * np.median(steps)
    return np.concatenate([gap, [False]]) | np.concatenate([[False], gap])


def find_spikes(series: TimeSeries) -> tuple[Spike, ...]:
    """Every spike and end jump of every state and known input of every trajectory of ``series``, in row order."""
    columns = [*zip(series.names, series.x.T, strict=True)]
    if series.u is not None:
        columns += zip(series.control_names, series.u.T, strict=True)
    spikes = []
    for rows in series.row_groups():
        for name, values in columns:
            for k, low, high, sds in zip(*column_spikes(values[rows], series.t[rows]), strict=True):
                row, at_end = int(rows[k]), not NEIGHBOURS <= k < len(rows) - NEIGHBOURS
                spikes.append(Spike(row, name, float(values[row]), float(low), float(high), float(sds), at_end))
    order = [name for name, _ in columns]
    return tuple(sorted(spikes, key=lambda s: (s.row, order.index(s.column))))


def apply_spike_policy(series: TimeSeries, policy: SpikePolicy, field: str = "data.outliers") -> TimeSeries:
    """``series`` with its spikes handled as ``policy`` says: each replaced by the cubic through the same column's
    neighbouring samples, with a note (``replace``), unchanged (``keep``), or an error (``raise``); end jumps
    (:attr:`Spike.at_end`) are noted under ``replace`` and ``raise``, never changed. ``field`` names the config field
    in what is said.

    Replacing the value keeps the sampling as it was and the row's other columns as measured. Leaving the row out
    instead was tried: on the tuning half of the published corpus at 1 % noise, with one spike of one range per
    record, the 31 exact laws of the clean records came back 30 times replaced (by a straight line) and 28 times with
    the row left out (success 71 of 75 either way). The gap is no larger than what any change of one sample does to
    laws on the edge of their record's evidence: without spikes, redrawing one sample's noise kept 29 of those 31,
    leaving one sample out 28.

    Raises:
        DataError: ``raise`` and a spike found, naming the file, each spike's row and column (up to
            :data:`SHOWN_IN_ERROR`).
    """
    if policy == "keep":
        return series
    found = find_spikes(series)
    spikes = tuple(s for s in found if not s.at_end)
    notes = _end_jumps(series.source, tuple(s for s in found if s.at_end))
    if policy == "raise" and spikes:
        raise DataError(
            f"{series.source}: {_what(spikes, [''] * len(spikes), SHOWN_IN_ERROR)} (expected values near their"
            f" neighbours; fix the file, or set {field}: replace to put a curve through its neighbours in place of"
            " each, keep to use them as they are)"
        )
    if policy == "raise" or not spikes:
        return replace(series, notes=(*series.notes, *notes)) if notes else series
    x, u = _interpolated(series, spikes)
    values = dict(zip(series.names, x.T)) | ({} if u is None else dict(zip(series.control_names, u.T)))
    replaced = [f", replaced by {values[s.column][s.row]:.4g}" for s in spikes]
    note = (
        f"{series.source}: {_what(spikes, replaced, SHOWN)}; each replacement is a cubic through the column's"
        f" neighbouring samples (set {field}: keep to use the samples as they are, or raise to stop instead)"
    )
    return replace(series, x=x, u=u, notes=(*series.notes, note, *notes))


def _end_jumps(source: str, jumps: tuple[Spike, ...]) -> tuple[str, ...]:
    """The note on samples at a trajectory's ends that jump like spikes (none without such samples)."""
    if not jumps:
        return ()
    listed = _listed(jumps, [""] * len(jumps), SHOWN)
    return (
        f"{source}: {listed}: a jump among the first or last {NEIGHBOURS} samples of a trajectory, a fast transient or"
        " a typo; left as it is (fix the file if it is a typo)",
    )


def _what(spikes: tuple[Spike, ...], tails: list[str], shown: int) -> str:
    """"1 spike (...): data row 152 of 'u' is 30 where ...``tail``" (:func:`_listed`)."""
    listed = _listed(spikes, tails, shown)
    return f"{_count(spikes)} (a sample far outside its neighbours' range and the noise): {listed}"


def _listed(spikes: tuple[Spike, ...], tails: list[str], shown: int) -> str:
    """Each of the first ``shown`` spikes described with its tail, then how many more there are."""
    listed = "; ".join(s.describe() + tail for s, tail in zip(spikes[:shown], tails))
    return listed + (f"; and {len(spikes) - shown} more" if len(spikes) > shown else "")


def _interpolated(series: TimeSeries, spikes: tuple[Spike, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """``series.x`` (n, d) and ``series.u`` (n, m) with each spike's value replaced (:func:`_bridged`)."""
    def bridged(names: tuple[str, ...], columns: np.ndarray) -> np.ndarray:
        return np.column_stack([_bridged(series, spikes, name, values) for name, values in zip(names, columns.T)])

    return bridged(series.names, series.x), None if series.u is None else bridged(series.control_names, series.u)


def _bridged(series: TimeSeries, spikes: tuple[Spike, ...], name: str, values: np.ndarray) -> np.ndarray:
    """Column ``name``'s ``values`` (n,) with each of its spikes replaced by the cubic through the :data:`BRIDGE`
    nearest other samples of the column on each side in its trajectory (a spike always has such samples on both
    sides: end jumps are not replaced; fewer on a side lower the degree)."""
    spiked = np.isin(np.arange(series.n_samples), [s.row for s in spikes if s.column == name])
    if not spiked.any():
        return values
    out = values.copy()
    for rows in series.row_groups():
        good = rows[~spiked[rows]]
        for row in rows[spiked[rows]]:
            k = np.searchsorted(good, row)
            near = good[max(k - BRIDGE, 0) : k + BRIDGE]
            out[row] = _through(series.t[near], values[near], series.t[row])
    return out


def _through(t: np.ndarray, x: np.ndarray, at: float) -> float:
    """The polynomial through the points (``t``, ``x``) (k,), evaluated ``at`` (Lagrange's form)."""
    weights = [np.prod([(at - t[m]) / (t[i] - t[m]) for m in range(len(t)) if m != i]) for i in range(len(t))]
    return float(np.dot(weights, x))


def _count(spikes: tuple[Spike, ...]) -> str:
    """"1 spike" / "3 spikes"."""
    return f"{len(spikes)} spike{'s' * (len(spikes) > 1)}"
