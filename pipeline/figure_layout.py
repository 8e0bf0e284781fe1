"""Panel positions from the measured sizes of the few texts around each axes: what ``tight_layout`` finds,
without its pass over every tick object.

``Figure.tight_layout`` asks each axes for its tight bounding box, which creates, formats and measures every
tick (and the spines' tick padding, and the titles' and labels' automatic positions) once to lay out, and the
draw then does it all again: a third to a half of a figure's render time here. :func:`arrange_grid` measures
only the strings that decide a margin (the tick labels the locator and formatter will print, axis labels,
titles, offset texts, legends placed outside), in inches, and places the axes from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text

__all__ = ["arrange_grid"]

Size = tuple[float, float]
NONE: Size = (0.0, 0.0)

MIN_AXES: Size = (1.6, 0.9)
"""Smallest axes (inches, width and height) worth drawing: below it, the figure grows."""

PAD = 0.15
"""Inches between the outermost text and the figure's edge, and between neighbouring axes' texts (tight_layout's
default, 1.08 x 10 pt)."""


@dataclass(frozen=True)
class Extents:
    """Inches that an axes' texts (tick labels, labels, titles, outside legends) reach beyond its box."""

    left: float = 0.0
    right: float = 0.0
    bottom: float = 0.0
    top: float = 0.0
    span: Size = NONE
    """(width, height) the axes needs to hold its own labels alongside: x label's width, y label's height."""
    clear_top: bool = True
    """Nothing of its own above the box (no offset text, no top ticks): titles can sit at the box's top."""


def arrange_grid(fig: Figure, axes: np.ndarray, *, pad: float = PAD, min_axes: Size = MIN_AXES) -> None:
    """Place the ``axes`` grid (rows × columns, from ``plt.subplots(..., squeeze=False)``) so that the texts
    around every axes fit, ``pad`` inches apart and from the figure's edges; hidden axes take no room.

    Each column gets the margins its own texts need (long term names beside one panel do not squeeze the
    others); all axes get the same size. When that size would fall below ``min_axes`` (inches, width and
    height) or below an axes' own x label's width or y label's height, the figure grows instead. Call it last,
    when everything drawn has been added.
    """
    canvas = fig.canvas  # Agg's (ours) keeps one renderer per size and dpi: the draw reuses its text sizes
    renderer = canvas.get_renderer() if hasattr(canvas, "get_renderer") else fig._get_renderer()
    grid = [[_extents(ax, renderer) if ax.get_visible() else Extents() for ax in row] for row in axes]
    lefts = [max(row[c].left for row in grid) for c in range(len(grid[0]))]
    rights = [max(row[c].right for row in grid) for c in range(len(grid[0]))]
    tops = [max(e.top for e in row) for row in grid]
    bottoms = [max(e.bottom for e in row) for row in grid]
    width, height = fig.get_size_inches()
    depth = _suptitle_depth(fig, renderer)
    above = pad + depth + (pad if depth else 0.0)
    fixed_w = pad + sum(lefts) + sum(rights) + len(lefts) * pad
    fixed_h = above + sum(tops) + sum(bottoms) + len(tops) * pad
    axes_w = max((width - fixed_w) / len(lefts), min_axes[0], *(e.span[0] for row in grid for e in row))
    axes_h = max((height - fixed_h) / len(tops), min_axes[1], *(e.span[1] for row in grid for e in row))
    width, height = max(width, fixed_w + len(lefts) * axes_w), max(height, fixed_h + len(tops) * axes_h)
    fig.set_size_inches(width, height)
    if fig._suptitle is not None:  # pinned ``pad`` below the top edge, as measured (its default 0.98 scales)
        fig._suptitle.set_y(1.0 - pad / height)
    x, xs = pad, []  # inches from the left edge to each column's axes
    for left, right in zip(lefts, rights):
        xs.append(x + left)
        x += left + axes_w + right + pad
    y = height - above  # inches from the bottom edge to the top of the current row's texts
    for row, extents, top, bottom in zip(axes, grid, tops, bottoms):
        y -= top + axes_h
        for ax, x, e in zip(row, xs, extents):
            ax.set_position([x / width, y / height, axes_w / width, axes_h / height])
            # matplotlib would otherwise look for texts above the box at every draw (it creates and measures
            # the ticks to find the spines' extent): 5-7 % of a render. Private, but there since matplotlib 3.2.
            if e.clear_top:
                ax._autotitlepos = False
        y -= bottom + pad


def _extents(ax: Axes, renderer: RendererBase) -> Extents:
    """How far (inches) ``ax``'s tick labels, axis labels, offset texts, titles and legends reach beyond its box."""
    dpi = ax.get_figure(root=True).dpi
    x_ticks, x_first, x_last = _tick_label_box(ax.xaxis, renderer, "labelbottom")
    y_ticks, y_first, y_last = _tick_label_box(ax.yaxis, renderer, "labelleft")
    x_offset, y_offset = _offset_height(ax.xaxis, renderer), _offset_height(ax.yaxis, renderer)
    left = y_ticks[0] + _label_depth(ax.yaxis, renderer, vertical=False)
    bottom = x_ticks[1] + _label_depth(ax.xaxis, renderer, vertical=True) + x_offset
    titles = [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
    title = max((_size(t, renderer)[1] for t in titles), default=0.0)
    top = y_offset + (title + mpl.rcParams["axes.titlepad"] / 72.0 if titles else 0.0)
    # a tick label at the very end of its axis is centred on it: half of it reaches past the box
    left, right = max(left, x_first[0] / 2.0), x_last[0] / 2.0
    bottom, top = max(bottom, y_first[1] / 2.0), max(top, y_last[1] / 2.0)
    box = ax.get_window_extent(renderer)
    for legend in [ax.get_legend()] if ax.get_legend() is not None else []:
        outer = legend.get_window_extent(renderer)
        left = max(left, (box.x0 - outer.x0) / dpi)
        right = max(right, (outer.x1 - box.x1) / dpi)
        bottom = max(bottom, (box.y0 - outer.y0) / dpi)
        top = max(top, (outer.y1 - box.y1) / dpi)
    span = (_size(ax.xaxis.label, renderer)[0] if ax.get_xlabel() else 0.0,
            _size(ax.yaxis.label, renderer)[1] if ax.get_ylabel() else 0.0)  # fmt: skip
    clear_top = not y_offset and ax.xaxis.get_ticks_position() == "bottom" and ax.xaxis.get_label_position() == "bottom"
    return Extents(left=left, right=right, bottom=bottom, top=top, span=span, clear_top=clear_top)


def _tick_label_box(axis: Axis, renderer: RendererBase, shown: str) -> tuple[Size, Size, Size]:
    """(width, height) in inches reached by ``axis``'s major tick labels (with tick and pad), and the sizes
    of its first and its last label when they sit at an end of the view ((0, 0) otherwise)."""
    params = axis.get_tick_params(which="major")
    name = axis.axis_name
    if not params.get(shown, mpl.rcParams[f"{name}tick.{shown}"]):
        return NONE, NONE, NONE
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * max(abs(high - low), 1e-300)
    locs = [v for v in axis.get_majorticklocs() if low - slack <= v <= high + slack]
    labels = axis.get_major_formatter().format_ticks(locs)
    probe = Text(
        fontproperties=FontProperties(size=params.get("labelsize", mpl.rcParams[f"{name}tick.labelsize"])),
        rotation=params.get("rotation", 0.0),  # get_tick_params names it so
    )  # fmt: skip
    probe.set_figure(axis.get_figure(root=True))
    sizes = []
    for label in labels:
        probe.set_text(label)
        sizes.append(_size(probe, renderer) if label else (0.0, 0.0))
    if not sizes:
        return NONE, NONE, NONE
    reach = (params.get("length", mpl.rcParams[f"{name}tick.major.size"])
             + params.get("pad", mpl.rcParams[f"{name}tick.major.pad"])) / 72.0  # fmt: skip
    box = (max(s[0] for s in sizes) + reach, max(s[1] for s in sizes) + reach)
    near = 1e-3 * (high - low)
    return box, sizes[0] if abs(locs[0] - low) <= near else NONE, sizes[-1] if abs(locs[-1] - high) <= near else NONE


def _label_depth(axis: Axis, renderer: RendererBase, *, vertical: bool) -> float:
    """Inches the axis label takes across its axis (its height below an x axis, its width beside a y axis)."""
    if not axis.label.get_text() or not axis.label.get_visible():
        return 0.0
    width, height = _size(axis.label, renderer)
    return (height if vertical else width) + axis.labelpad / 72.0


def _offset_height(axis: Axis, renderer: RendererBase) -> float:
    """Inches of the axis' offset text ("1e6", "+3.2e4"); 0 when the formatter prints none (call after
    :func:`_tick_label_box`, which sets the formatter's ticks)."""
    formatter = axis.get_major_formatter()
    text = formatter.get_offset() if hasattr(formatter, "get_offset") else ""
    if not text or not axis.offsetText.get_visible():
        return 0.0
    probe = Text(text=text, fontproperties=axis.offsetText.get_fontproperties())
    probe.set_figure(axis.get_figure(root=True))
    return _size(probe, renderer)[1] + mpl.rcParams[f"{axis.axis_name}tick.major.pad"] / 72.0


def _suptitle_depth(fig: Figure, renderer: RendererBase) -> float:
    """Inches the figure's suptitle takes below the top edge's pad (0 without one)."""
    title = fig._suptitle
    if title is None or not title.get_text():
        return 0.0
    return _size(title, renderer)[1]


def _size(text: Text, renderer: RendererBase) -> tuple[float, float]:
    """(width, height) in inches of ``text`` as drawn (rotation, font and line breaks included)."""
    box = text.get_window_extent(renderer)
    dpi = text.get_figure(root=True).dpi
    return box.width / dpi, box.height / dpi
