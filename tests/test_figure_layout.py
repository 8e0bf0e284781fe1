"""The plots lay themselves out without tight_layout: every text stays inside the figure, no two panels'
texts overlap, long names and large values included."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from pipeline.differentiation import smooth_and_differentiate
from pipeline.discovery import DiscoveryResult, discover
from pipeline.figure_layout import arrange_grid
from pipeline.plots import plot_derivatives, plot_inclusion, plot_model_fit, plot_pareto, wrap_equation
from pipeline.sensitivity.plots import plot_indices

LONG = ["reactor_temperature_kelvin", "pressure in the outer vessel", "z"]


def _system(names: list[str], scale: float) -> tuple[np.ndarray, np.ndarray, list, DiscoveryResult]:
    """A damped linear system in len(names) states (values of order ``scale``), discovered."""
    t = np.linspace(0.0, 6.0, 240)
    x = np.column_stack([np.exp(-0.4 * (k + 1) * t) * np.cos((k + 1) * t) for k in range(len(names))]) * scale
    derivatives = [smooth_and_differentiate(t, x)]
    return t, x, derivatives, discover([t], [x], feature_names=names, derivatives=derivatives)


def _figures(names: list[str], scale: float) -> list[Figure]:
    t, x, derivatives, result = _system(names, scale)
    return [
        plot_model_fit([t], [x], derivatives, result),
        plot_derivatives([t], derivatives, result),
        plot_pareto(result),
        plot_inclusion(result),
    ]


def _assert_laid_out(fig: Figure) -> None:
    """Every axes' texts (tick labels, labels, titles, offset texts, legends) and the suptitle lie inside the
    figure; no two visible axes' texts overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    edge = fig.bbox.padded(1.0)  # one pixel of rounding
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    for box in boxes + [text.get_window_extent(renderer) for text in fig.texts if text.get_text()]:  # suptitle
        assert edge.x0 <= box.x0 and box.x1 <= edge.x1 and edge.y0 <= box.y0 and box.y1 <= edge.y1, (box, fig.bbox)
    for a, b in itertools.combinations(boxes, 2):
        overlap = min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)
        assert min(overlap) <= 1.0, (a, b)


@pytest.mark.parametrize(("names", "scale"), [(["u"], 1.0), (["x", "y", "z"], 1.0), (LONG, 3e6)])
def test_discovery_plots_keep_every_text_inside_and_apart(names: list[str], scale: float) -> None:
    for fig in _figures(names, scale):
        _assert_laid_out(fig)
        plt.close(fig)


def test_a_label_longer_than_the_panel_grows_the_figure() -> None:
    fig, axes = plt.subplots(2, 1, figsize=(4.0, 2.0), squeeze=False)
    axes[0, 0].set_ylabel("a y label far longer than one inch of panel")
    axes[1, 0].plot([0, 1], [0, 1e7])
    arrange_grid(fig, axes)
    renderer = fig.canvas.get_renderer()
    panel, label = axes[0, 0].get_window_extent(renderer), axes[0, 0].yaxis.label.get_window_extent(renderer)
    assert panel.height >= label.height - 0.5  # half a pixel of rounding
    assert fig.get_size_inches()[1] > 2.0
    _assert_laid_out(fig)
    plt.close(fig)


def test_rotated_tick_labels_of_the_indices_plot_stay_inside() -> None:
    import pandas as pd

    names = [f"a_long_feature_name_{i}" for i in range(8)]
    table = pd.DataFrame(
        {"rank": range(8), "S1": np.linspace(0.5, 0.0, 8), "S1_conf": 0.05, "ST": np.linspace(0.6, 0.01, 8),
         "ST_conf": 0.05, "DGSM_bound": np.linspace(0.9, 0.05, 8)},
        index=names,
    )  # fmt: skip
    fig = plot_indices(table, "price")
    _assert_laid_out(fig)
    plt.close(fig)


def test_the_pareto_plot_is_linear_when_its_errors_span_less_than_a_decade() -> None:
    _, _, _, result = _system(["x", "y"], 1.0)
    narrow = [dict(row, cv_mse=2.0 + 0.1 * k) for k, row in enumerate(result.pareto)]
    fig = plot_pareto(DiscoveryResult.from_dict({**result.to_dict(), "pareto": narrow}))
    fig.canvas.draw()
    assert fig.axes[0].get_yscale() == "linear"
    assert [label.get_text() for label in fig.axes[0].get_yticklabels() if label.get_text()]
    plt.close(fig)


def test_long_equations_wrap_before_a_term_and_short_ones_stay_whole() -> None:
    long = "p' = 28.16 reactor_temperature_kelvin - 1.043 pressure in the outer vessel - 1.007e-05 reactor z"
    lines = wrap_equation(long, 60).splitlines()
    assert len(lines) == 3 and all(len(line) <= 60 for line in lines)
    assert [line.split()[0] for line in lines[1:]] == ["-", "-"]  # each further line starts with a term's sign
    assert " ".join(line.strip() for line in lines) == long
    assert wrap_equation("x' = -1e-05 x", 60) == "x' = -1e-05 x"  # the exponent's minus is not a term
