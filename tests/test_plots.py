"""Figures draw whatever the state names are (maths parsing is off for our text), and a reused figure draws
exactly what a new one does."""

from __future__ import annotations

import io

import numpy as np
import pytest

from pipeline.config import DiscoveryConfig
from pipeline.differentiation import smooth_and_differentiate
from pipeline.discovery import DiscoveryResult, discover
from pipeline.plots import plot_derivatives, plot_inclusion, plot_model_fit, plot_pareto
from pipeline.report import figure_png, render_figures


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


def test_the_derivative_figure_names_the_model_f_of_x_and_u_when_it_has_known_inputs() -> None:
    from pipeline.discovery import Library

    t = np.linspace(0.0, 5.0, 60)
    heat = np.sin(t)
    x = (np.exp(-t) + 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t)))[:, None]  # x' = -x + heat, x(0) = 1
    forced = DiscoveryResult(
        names=("x",), library=Library(("x", "heat"), np.array([[1, 0], [0, 1]])), coefficients=np.array([[-1.0, 1.0]]),
        controls=("heat",),
    )  # fmt: skip
    figure = plot_derivatives([t], [smooth_and_differentiate(t, x)], forced, us=[heat[:, None]])
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["from data (smoothed)", "model f(x, u)"]


def _rendered_fresh(figures: list) -> list[bytes]:
    import matplotlib.pyplot as plt

    out = [figure_png(figure) for figure in figures]
    for figure in figures:
        plt.close(figure)
    return out


def test_reused_figures_draw_exactly_what_new_ones_draw() -> None:
    """render_figures reuses each layout's figure from one render to the next (pipeline.figure_reuse); nothing of
    an earlier result may show: every PNG equals, pixel for pixel, the one a new figure gives. The sequence mixes
    state counts, one and two trajectories, log and linear Pareto axes, with and without bagging."""
    t = np.linspace(0.0, 6.0, 240)
    decay = np.column_stack([np.exp(-0.5 * t), 3.0 * np.exp(-1.5 * t)])
    spiral = np.column_stack([np.exp(-0.3 * t) * np.cos(2 * t), np.exp(-0.3 * t) * np.sin(2 * t), np.exp(-0.2 * t)])
    cases = []
    for xs, names, config in [
        ([decay], ["a", "b"], DiscoveryConfig()),
        ([spiral], ["x", "y", "z"], DiscoveryConfig()),
        ([decay, 0.5 * decay], ["a", "b"], DiscoveryConfig(n_bootstrap=0)),
    ]:
        derivatives = [smooth_and_differentiate(t, x) for x in xs]
        result = discover([t] * len(xs), xs, feature_names=names, derivatives=derivatives, config=config)
        cases.append(([t] * len(xs), xs, derivatives, result))

    def figures(ts: list, xs: list, derivatives: list, result: DiscoveryResult) -> dict:
        return {
            "fit": plot_model_fit(ts, xs, derivatives, result, labels=[f"run {k}" for k in range(len(ts))]),
            "derivatives": plot_derivatives(ts, derivatives, result),
            "pareto": plot_pareto(result),
            "inclusion": plot_inclusion(result),
        }

    for case in [cases[0], cases[1], cases[2], cases[0], cases[1]]:
        reused = render_figures(lambda: figures(*case))  # noqa: B023 - called at once
        fresh = _rendered_fresh(list(figures(*case).values()))
        for name, expected in zip(reused, fresh):
            assert _pixels(reused[name]).shape == _pixels(expected).shape, name
            assert np.array_equal(_pixels(reused[name]), _pixels(expected)), name


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)))


def test_a_plot_called_outside_a_render_gets_a_figure_of_its_own() -> None:
    """Only render_figures' own thread reuses figures: a plot called directly (here, in another thread while a render
    is active) gets a new figure that no later render empties."""
    import threading

    from pipeline.figure_reuse import is_kept, reusing_figures, subplots

    made = []
    with reusing_figures():
        kept, _ = subplots("probe", 1, 1, figsize=(2.0, 2.0))
        worker = threading.Thread(target=lambda: made.append(subplots("probe", 1, 1, figsize=(2.0, 2.0))[0]))
        worker.start()
        worker.join()
    assert is_kept(kept)
    assert made[0] is not kept and not is_kept(made[0])


def test_the_fit_plot_marks_where_a_chaotic_simulation_departs_from_its_record() -> None:
    from pipeline.systems import sample_system

    frame = sample_system("lorenz", n=1000, noise=0.01, multiplicative=True, seed=0, t_end=10.0)
    t, x = frame.t.to_numpy(), frame[["x", "y", "z"]].to_numpy()
    derivatives = [smooth_and_differentiate(t, x)]
    result = discover([t], [x], feature_names=["x", "y", "z"], derivatives=derivatives)
    figure = plot_model_fit([t], [x], derivatives, result)
    marks = [line for line in figure.axes[0].get_lines() if line.get_label() == "forecast horizon"]
    assert len(marks) == 1
    assert marks[0].get_xdata()[0] == pytest.approx(t[0] + result.metrics["forecast_horizon"], abs=2 * (t[1] - t[0]))
    calm_t = np.linspace(0.0, 5.0, 200)
    calm_x = np.exp(-calm_t)[:, None]
    calm_derivatives = [smooth_and_differentiate(calm_t, calm_x)]
    calm = discover([calm_t], [calm_x], feature_names=["u"], derivatives=calm_derivatives)
    calm_figure = plot_model_fit([calm_t], [calm_x], calm_derivatives, calm)
    assert not [line for line in calm_figure.axes[0].get_lines() if line.get_label() == "forecast horizon"]


def test_the_fit_plot_names_each_of_a_few_trajectories_and_counts_many() -> None:
    """Trajectories share a panel: with a few, each curve carries its trajectory's label, so two runs that cross can
    be told apart; with more than LABELLED_TRAJECTORIES the labels would cover the curves, and the title counts
    them instead."""
    t = np.linspace(0.0, 4.0, 120)
    starts = np.linspace(0.5, 3.0, 14)
    xs = [np.column_stack([a * np.exp(-0.7 * t)]) for a in starts]
    derivatives = [smooth_and_differentiate(t, x) for x in xs]
    few = discover([t] * 3, xs[:3], feature_names=["c"], derivatives=derivatives[:3])
    figure = plot_model_fit([t] * 3, xs[:3], derivatives[:3], few, labels=["A", "B", "C"])
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert sorted(texts) == ["A", "B", "C"]
    many = discover([t] * 14, xs, feature_names=["c"], derivatives=derivatives)
    figure = plot_model_fit([t] * 14, xs, derivatives, many, labels=list(range(14)))
    assert len(figure.axes[0].texts) == 0 and "(14 trajectories)" in figure._suptitle.get_text()
