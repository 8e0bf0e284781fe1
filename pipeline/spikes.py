"""Spikes: single samples that jump far outside what their neighbours and the noise allow (a typo, a sensor glitch).

One gross sample biases every fit that goes through it: a 30 among values near 0.09 on an exponential decay sampled
300 times at 1 % noise turns the fitted rate -0.7 into -0.56, and the model still "fits". A state's sample is a
spike when, among its :data:`NEIGHBOURS` neighbours on each side (the one farthest from their median left out, so
that two adjacent spikes do not hide each other), it lies outside their range by more than :data:`SPIKE_RANGES`
times that range, and by more than :data:`SPIKE_NOISE_SDS` times the local noise (read from third differences,
robust to the spike itself). A sampled peak, however sharp, lies outside its neighbours' range by a fraction of it
(a parabola's top by 1/8); a noise draw, by a few noise standard deviations at most. The first and last
:data:`NEIGHBOURS` samples of a trajectory are not judged: a fast transient at the start of a record (a stiff
relaxation) looks like a jump there, and nothing after it can tell the two apart.

Measured by ``benchmarks/spikes.py`` (``benchmarks/results/spikes.md``): no sample flagged on the 447 clean records
of the published corpus (149 systems at 0, 1 and 5 % noise), the 34-system suite, the bundled examples or the
lynx-hare record; a spike of one state's range found in 89-100 % of records (the fewest at 5 % noise), one of a
fifth of the range in 24-89 %. With such a spike replaced, discovery at 1 % noise succeeds as often as on the clean
records (71 of 75 and 64 of 74 per half; 66 and 52 with the spike kept).

``data.outliers`` in a run config says what happens to spikes (:func:`apply_spike_policy`): ``replace`` (the default)
puts the straight line between the neighbours in place of each and names each in the run's notes, ``keep`` fits them
as they are, ``raise`` stops with an error naming each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.errors import DataError

if TYPE_CHECKING:  # the config imports SpikePolicy: reading a config imports neither pandas nor scipy
    from pipeline.data import TimeSeries

__all__ = ["NEIGHBOURS", "SPIKE_NOISE_SDS", "SPIKE_RANGES", "Spike", "SpikePolicy", "apply_spike_policy", "find_spikes"]

SpikePolicy = Literal["replace", "keep", "raise"]

NEIGHBOURS = 3
"""Samples on each side a sample is compared with."""
SPIKE_RANGES = 3.0
"""A spike lies outside its neighbours' range by more than this many times that range. Chosen on the tuning half
of the published corpus (2 and 3 with 6 and 10 noise sd tried): every pair flagged nothing there but 6 noise sd."""
SPIKE_NOISE_SDS = 10.0
"""A spike lies outside its neighbours' range by more than this many local noise standard deviations (6 flagged a
5 % noise draw of Halvorsen's chaotic flow in the tuning half)."""
NOISE_WINDOW = 25
"""Third differences over which the local noise is read (their median absolute value)."""
_THIRD_DIFFERENCE_SD = np.sqrt(20.0)
"""Standard deviation of a third difference of white noise of unit standard deviation."""
_MAD_TO_SD = 1.4826
"""Median absolute deviation to standard deviation, for normal noise (here of a zero-median quantity)."""
SHOWN = 5
"""Spikes named one by one in a note or an error; the rest are counted."""


@dataclass(frozen=True)
class Spike:
    """One spike.

    Attributes:
        row: the sample's row in the series (0-based; data row ``row + 1`` of the file it was read from).
        state: the state column it is in.
        value: the sample's value.
        low, high: the range of its neighbours (the farthest of them left out).
        noise_sds: how many local noise standard deviations it lies outside that range.
    """

    row: int
    state: str
    value: float
    low: float
    high: float
    noise_sds: float

    def describe(self) -> str:
        """One line for a note or an error, e.g. ``data row 152 of 'u' is 30 where its neighbours span 0.087 to
        0.095 (310 noise sd beyond them)``."""
        return (
            f"data row {self.row + 1} of '{self.state}' is {self.value:.4g} where its neighbours span {self.low:.4g}"
            f" to {self.high:.4g} ({self.noise_sds:.0f} noise sd beyond them)"
        )


def column_spikes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The spikes of one state's samples ``x`` (n,) of one trajectory, taken at even or uneven times.

    Returns:
        (indices (k,), neighbours' low (k,), high (k,), noise sds (k,)); empty when ``x`` has fewer samples than it
        takes to judge one (2 :data:`NEIGHBOURS` + 1 and a noise window) or no noise is seen (samples exactly on a
        polynomial, or quantised readings: the third differences are mostly 0).
    """
    n, w = x.shape[0], NEIGHBOURS
    if n < max(2 * w + 1, 3 + NOISE_WINDOW // 2):
        return tuple(np.empty(0, dtype=dtype) for dtype in (int, float, float, float))  # type: ignore[return-value]
    windows = sliding_window_view(x, 2 * w + 1)
    centre = windows[:, w]
    neighbours = np.delete(windows, w, axis=1)
    median = np.median(neighbours, axis=1, keepdims=True)
    farthest = np.argmax(np.abs(neighbours - median), axis=1)
    kept = neighbours[np.arange(neighbours.shape[0])[:, None], _others(farthest, 2 * w)]
    low, high = kept.min(axis=1), kept.max(axis=1)
    beyond = np.maximum(np.maximum(centre - high, low - centre), 0.0)
    noise = _local_noise(x)[w : n - w]
    with np.errstate(divide="ignore", invalid="ignore"):
        noise_sds = np.where(noise > 0, beyond / noise, 0.0)
    spike = (beyond > SPIKE_RANGES * (high - low)) & (noise_sds > SPIKE_NOISE_SDS)
    found = np.flatnonzero(spike)
    return found + w, low[found], high[found], noise_sds[found]


def _others(left_out: np.ndarray, size: int) -> np.ndarray:
    """Per row, the column indices 0..size-1 but ``left_out`` (m,): shape (m, size - 1)."""
    columns = np.arange(size - 1)[None, :]
    return columns + (columns >= left_out[:, None])


def _local_noise(x: np.ndarray) -> np.ndarray:
    """The noise standard deviation around each sample of ``x`` (n,), shape (n,): the median absolute third
    difference over :data:`NOISE_WINDOW` of them, scaled to white noise."""
    from scipy.ndimage import median_filter

    third = np.abs(np.diff(x, 3)) / _THIRD_DIFFERENCE_SD
    local = _MAD_TO_SD * median_filter(third, size=NOISE_WINDOW, mode="nearest")
    return np.concatenate([local[:1], local, local[-2:]])  # third difference k spans samples k..k+3: centre k+1


def find_spikes(series: TimeSeries) -> tuple[Spike, ...]:
    """Every spike of every state of every trajectory of ``series``, in row order."""
    spikes = []
    for rows in series.row_groups():
        for j, state in enumerate(series.names):
            for k, low, high, sds in zip(*column_spikes(series.x[rows, j]), strict=True):
                row = int(rows[k])
                spikes.append(Spike(row, state, float(series.x[row, j]), float(low), float(high), float(sds)))
    return tuple(sorted(spikes, key=lambda s: (s.row, series.names.index(s.state))))


def apply_spike_policy(series: TimeSeries, policy: SpikePolicy, field: str = "data.outliers") -> TimeSeries:
    """``series`` with its spikes handled as ``policy`` says: each replaced by the straight line between the same
    state's neighbouring samples, with a note (``replace``), unchanged (``keep``), or an error (``raise``). ``field``
    names the config field in what is said.

    Replacing the value keeps the sampling as it was and the row's other states as measured. Leaving the row out
    instead was tried: on the tuning half of the published corpus at 1 % noise, with one spike of one range per
    record, the 31 exact laws of the clean records came back 30 times replaced and 28 times with the row left out
    (success 71 of 75 either way). The gap is no larger than what any change of one sample does to laws on the edge
    of their record's evidence: without spikes, redrawing one sample's noise kept 29 of those 31, leaving one sample
    out 28.

    Raises:
        DataError: ``raise`` and a spike found, naming the file, each spike's row and column (up to :data:`SHOWN`).
    """
    if policy == "keep":
        return series
    spikes = find_spikes(series)
    if not spikes:
        return series
    listed = "; ".join(s.describe() for s in spikes[:SHOWN]) + (
        f"; and {len(spikes) - SHOWN} more" if len(spikes) > SHOWN else ""
    )
    what = f"{_count(spikes)} (a sample far outside its neighbours' range and the noise): {listed}"
    if policy == "raise":
        raise DataError(
            f"{series.source}: {what} (expected values near their neighbours; fix the file, or set {field}: replace"
            " to replace each by the line between its neighbours, keep to fit them)"
        )
    note = (
        f"{series.source}: {what}; {_each(len(spikes))} by the straight line between its neighbours for the fit (set"
        f" {field}: keep to fit them as they are, or raise to stop instead)"
    )
    return replace(series, x=_interpolated(series, spikes), notes=(*series.notes, note))


def _interpolated(series: TimeSeries, spikes: tuple[Spike, ...]) -> np.ndarray:
    """``series.x`` (n, d) with each spike's value replaced by linear interpolation in time between the other samples
    of its state in its trajectory (a spike always has such samples on both sides: the ends are not judged)."""
    x = series.x.copy()
    spiked = np.zeros(x.shape, dtype=bool)
    for spike in spikes:
        spiked[spike.row, series.names.index(spike.state)] = True
    for rows in series.row_groups():
        for j in np.flatnonzero(spiked[rows].any(axis=0)):
            bad = spiked[rows, j]
            x[rows[bad], j] = np.interp(series.t[rows[bad]], series.t[rows[~bad]], series.x[rows[~bad], j])
    return x


def _count(spikes: tuple[Spike, ...]) -> str:
    """"1 spike" / "3 spikes"."""
    return f"{len(spikes)} spike{'s' * (len(spikes) > 1)}"


def _each(n: int) -> str:
    """"it is replaced" / "each is replaced"."""
    return "it is replaced" if n == 1 else "each is replaced"
