"""Figures kept from one render to the next: a grid of axes, with its tick objects, is built once per layout.

Building a figure and drawing its ticks the first time is most of a plot's cost here (each axes, each tick: lines,
texts and their properties, ~1 ms a tick). A batch renders the same four layouts for every series, so while
:func:`reusing_figures` is active, :func:`subplots` hands out the figure it made for the same layout before, emptied
and put back to its state as made (size, axes positions, scales, locators, limits, titles, labels, colour cycle).
Outside it, every call makes a new pyplot figure, as ``plt.subplots`` does: a figure handed to a caller is never
changed behind their back. A test renders a sequence of results both ways and compares the PNGs pixel for pixel.

Not thread-safe on its own: use it under ``pipeline.report.FIGURE_LOCK`` (``render_figures`` does).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

__all__ = ["is_kept", "reusing_figures", "subplots"]

KEPT_LAYOUTS = 8
"""Layouts kept at most (least recently used dropped): four discovery figures for two state counts."""


@dataclass
class _Kept:
    figure: Figure
    axes: np.ndarray
    size: tuple[float, float]
    positions: list[Bbox]


_kept: OrderedDict[tuple, _Kept] = OrderedDict()
_reusing = threading.local()  # per thread: a plot called directly in another thread meanwhile gets a new figure


@contextmanager
def reusing_figures() -> Iterator[None]:
    """While active in this thread, :func:`subplots` reuses the figure of an earlier call with the same layout."""
    depth = getattr(_reusing, "depth", 0)
    _reusing.depth = depth + 1
    try:
        yield
    finally:
        _reusing.depth = depth


def is_kept(figure: Figure) -> bool:
    """Whether ``figure`` belongs to the kept ones (the next render reuses it: do not close it)."""
    return any(kept.figure is figure for kept in _kept.values())


def subplots(
    key: str, nrows: int, ncols: int, *, figsize: tuple[float, float], sharex: bool = False
) -> tuple[Figure, np.ndarray]:
    """``plt.subplots(nrows, ncols, figsize=figsize, sharex=sharex, squeeze=False)``, or, while
    :func:`reusing_figures` is active in this thread, the figure made earlier for the same ``key`` and layout, emptied.

    Args:
        key: the plot's name (two plots with the same grid keep their own figures).

    Returns:
        (figure, axes as an (nrows, ncols) array).
    """
    if not getattr(_reusing, "depth", 0):
        return plt.subplots(nrows, ncols, figsize=figsize, sharex=sharex, squeeze=False)
    layout = (key, nrows, ncols, tuple(figsize), sharex)
    kept = _kept.get(layout)
    if kept is None:
        figure = Figure(figsize=figsize)
        FigureCanvasAgg(figure)
        axes = figure.subplots(nrows, ncols, sharex=sharex, squeeze=False)
        kept = _Kept(figure, axes, tuple(figsize), [ax.get_position().frozen() for ax in axes.flat])
        _kept[layout] = kept
        while len(_kept) > KEPT_LAYOUTS:
            _kept.popitem(last=False)
    else:
        _kept.move_to_end(layout)
        _empty(kept)
    return kept.figure, kept.axes


def _empty(kept: _Kept) -> None:
    """Put a kept figure back to its state as made, keeping its axes and tick objects."""
    figure = kept.figure
    figure.set_size_inches(kept.size)
    if figure._suptitle is not None:
        figure._suptitle.remove()
        figure._suptitle = None
    for ax, position in zip(kept.axes.flat, kept.positions):
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
            artist.remove()
        ax.containers.clear()
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_xscale("linear")  # the default locators and formatters again
        ax.set_yscale("linear")
        ax.set_prop_cycle(None)
        ax.relim()
        ax.set_xlim(0.0, 1.0)  # a new axes' view, autoscaled again once something is drawn
        ax.set_ylim(0.0, 1.0)
        ax.set_position(position)
        ax._autotitlepos = mpl.rcParams["axes.titley"] is None  # as made (figure_layout pins titles; private)
    for ax in kept.axes.flat:  # after every set_xlim: on shared axes, each one turns its siblings' autoscale off
        ax.set_autoscale_on(True)
