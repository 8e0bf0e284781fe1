"""Figures draw whatever the state names are: matplotlib's maths parsing is off for our text."""

from __future__ import annotations

import io

import numpy as np

from pipeline.differentiation import smooth_and_differentiate
from pipeline.discovery import discover
from pipeline.plots import plot_derivatives, plot_inclusion, plot_model_fit, plot_pareto


def test_every_figure_renders_state_names_that_look_like_maths() -> None:
    t = np.linspace(0.0, 5.0, 200)
    x = np.column_stack([np.exp(-t), 2.0 * np.exp(-2.0 * t)])
    derivatives = [smooth_and_differentiate(t, x)]
    names = [r"$\nope$", "cost_$"]  # "\nope" is no TeX symbol: with maths parsing on, drawing raised ValueError
    result = discover([t], [x], feature_names=names, derivatives=derivatives)
    figures = [
        plot_model_fit([t], [x], derivatives, result),
        plot_derivatives([t], derivatives, result),
        plot_pareto(result),
        plot_inclusion(result),
    ]
    for figure in figures:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        assert buffer.tell() > 1000
    titles = [ax.get_title(loc="left") or ax.get_title() for ax in figures[0].axes]
    assert any(r"$\nope$'" in title for title in titles)
