"""Figures built from result objects (matplotlib, no display needed)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import ParamSpec

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, MaxNLocator, NullLocator  # noqa: E402

from pipeline.differentiation import DerivativeResult  # noqa: E402
from pipeline.discovery import DiscoveryResult  # noqa: E402
from pipeline.discovery.scoring import forecast_horizon  # noqa: E402
from pipeline.errors import SimulationError  # noqa: E402
from pipeline.figure_layout import arrange_grid  # noqa: E402
from pipeline.figure_reuse import subplots  # noqa: E402

__all__ = ["plot_derivatives", "plot_inclusion", "plot_model_fit", "plot_pareto"]

P = ParamSpec("P")
LABELLED_TRAJECTORIES = 12
"""Up to this many trajectories, the data-against-model figure names each on its curves; beyond, the
names would cover the curves and the title gives their count."""


def plain_text(draw: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw with matplotlib's maths parsing off: state names such as ``cost$`` or ``a_b`` print as written.

    The figure is made at the PNGs' 96 dpi (``report.figure_png``): the text sizes the layout measures are then
    the ones the draw reuses from matplotlib's cache (at its default 100 dpi, every text was measured twice)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with plt.rc_context({"text.parse_math": False, "figure.dpi": 96}):
            return draw(*args, **kwargs)

    return wrapper


EQUATION_CHARS = 105
"""Characters of an equation title per line in the 8-inch data-vs-model figure (9 pt, ~5 pt a character)."""


def wrap_equation(equation: str, width: int) -> str:
    """``equation`` broken before its `` + `` / `` - `` terms into lines of at most ``width`` characters (a
    single term longer than that keeps its line): a long right-hand side is shown whole, not cut at the edge."""
    terms = re.split(r"(?= [+-] )", equation)
    lines = [terms[0]]
    for term in terms[1:]:
        if len(lines[-1]) + len(term) > width:
            lines.append("    " + term.lstrip())
        else:
            lines[-1] += term
    return "\n".join(lines)


@plain_text
def plot_model_fit(
    ts: Sequence[np.ndarray],
    xs: Sequence[np.ndarray],
    derivatives: Sequence[DerivativeResult],
    result: DiscoveryResult,
    *,
    time_label: str = "t",
    us: Sequence[np.ndarray] | None = None,
    time_axis: str | None = None,
    labels: Sequence[object] | None = None,
) -> Figure:
    """Observed states, the smoothed signal and the model simulated from the first smoothed state.

    One panel per state; trajectories share a panel, each named by its entry of ``labels`` (the trajectory ids,
    one per entry of ``ts``) where its curve stands farthest from the others when there are at most
    :data:`LABELLED_TRAJECTORIES` of them, else counted in the title. A model that cannot be simulated is shown as a
    note in the title instead of a curve. Where a simulation departs from its record before the end
    (:func:`~pipeline.discovery.scoring.forecast_horizon`: a chaotic record, or a model that drifts), a dotted line
    marks its forecast horizon.
    """
    d = len(result.names)
    fig, axes = subplots("model_fit", d, 1, figsize=(8, 2.4 * d + 0.6), sharex=True)
    note = ""
    spread = np.vstack(xs).std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    marked = False
    named = labels is not None and 1 < len(ts) <= LABELLED_TRAJECTORIES
    if len(ts) > LABELLED_TRAJECTORIES:
        note += f" ({len(ts)} trajectories)"
    for k, (t, x, r) in enumerate(zip(ts, xs, derivatives)):
        t_fine = np.linspace(t[0], t[-1], max(t.shape[0], 400))  # the model is continuous: draw it so
        u_fine = None if us is None else np.column_stack([np.interp(t_fine, t, col) for col in us[k].T])
        try:
            sim = result.simulate(r.smoothed[0], t_fine, u_fine)
        except SimulationError as exc:
            sim, note = None, f" (simulation failed: {exc})"
        horizon = None
        if sim is not None:
            at_samples = np.column_stack([np.interp(t, t_fine, sim[:, j]) for j in range(d)])
            horizon = forecast_horizon(t, at_samples, x, spread)
        marker_size = 5 if t.shape[0] < 100 else 2.5
        for j in range(d):
            ax = axes[j, 0]
            first = k == 0
            ax.plot(t, x[:, j], "o", ms=marker_size, color="0.45", label="observed" if first else None)
            ax.plot(t, r.smoothed[:, j], "-", lw=1.2, color="tab:blue", label="smoothed" if first else None)
            if sim is not None:
                ax.plot(t_fine, sim[:, j], "--", lw=1.4, color="tab:red", label="model (simulated)" if first else None)
            if horizon is not None and horizon < t[-1] - t[0]:
                label = None if marked else "forecast horizon"
                ax.axvline(t[0] + horizon, ls=":", lw=1.2, color="tab:purple", label=label)
            if named:
                i = _label_spot(t, r.smoothed[:, j], [(s, d.smoothed[:, j]) for s, d in zip(ts, derivatives)], k)
                ax.annotate(str(labels[k]), (t[i], r.smoothed[i, j]), xytext=(0, 4), textcoords="offset points",
                            fontsize=7, ha="center", va="bottom", color="tab:blue")  # fmt: skip
            ax.set_ylabel(result.names[j])
        marked = marked or (horizon is not None and horizon < t[-1] - t[0])
    for j, equation in enumerate(result.equations):
        axes[j, 0].set_title(wrap_equation(equation, EQUATION_CHARS), fontsize=9, loc="left")
    # outside the axes, right of the first panel: a legend inside would cover the data it explains
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8)
    axes[-1, 0].set_xlabel(time_axis or time_label)  # e.g. 't (hours since 2024-01-05T00:00:00)'
    fig.suptitle(f"Data against the discovered model{note}", fontsize=10)
    arrange_grid(fig, axes)
    return fig


def _label_spot(t: np.ndarray, y: np.ndarray, curves: Sequence[tuple[np.ndarray, np.ndarray]], own: int) -> int:
    """The sample of curve ``own`` (times ``t``, values ``y``, shape (n,)) where its label sits: the one farthest
    from every other of ``curves`` ((times, values) pairs) at the same time, within the middle 90 % of the curve."""
    gap = np.full(t.shape[0], np.inf)
    for k, (times, values) in enumerate(curves):
        if k != own:
            inside = (t >= times[0]) & (t <= times[-1])
            gap[inside] = np.minimum(gap[inside], np.abs(y[inside] - np.interp(t[inside], times, values)))
    n = t.shape[0]
    middle = slice(n // 20, max(n - n // 20, n // 20 + 1))
    return int(np.argmax(gap[middle])) + middle.start


@plain_text
def plot_derivatives(
    ts: Sequence[np.ndarray],
    derivatives: Sequence[DerivativeResult],
    result: DiscoveryResult,
    *,
    time_label: str = "t",
    us: Sequence[np.ndarray] | None = None,
    time_axis: str | None = None,
) -> Figure:
    """The derivative estimated from the data against the model's right-hand side on the smoothed states.

    One panel per state: where the two curves part, the model misses the local dynamics, whatever the
    simulated trajectory looks like.
    """
    d = len(result.names)
    fig, axes = subplots("derivatives", d, 1, figsize=(8, 2.2 * d + 0.6), sharex=True)
    rhs = "model f(x, u)" if result.controls else "model f(x)"  # with known inputs u the model is f(x, u)
    for k, (t, r) in enumerate(zip(ts, derivatives)):
        model = result.predict(r.smoothed, None if us is None else us[k])
        for j in range(d):
            ax = axes[j, 0]
            first = k == 0
            ax.plot(t, r.first[:, j], "-", lw=1.2, color="tab:blue", label="from data (smoothed)" if first else None)
            ax.plot(t, model[:, j], "--", lw=1.2, color="tab:red", label=rhs if first else None)
            ax.set_ylabel(f"d{result.names[j]}/d{time_label}")
    # outside the axes, as in plot_model_fit: inside, it sat on the curves where they flatten out
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8)
    axes[-1, 0].set_xlabel(time_axis or time_label)  # e.g. 't (hours since 2024-01-05T00:00:00)'
    fig.suptitle(
        f"Derivatives: data against the model (R\u00b2 {result.metrics.get('derivative_r2', float('nan')):.3f})",
        fontsize=10,
    )
    arrange_grid(fig, axes)
    return fig


@plain_text
def plot_pareto(result: DiscoveryResult) -> Figure:
    """Cross-validated error against complexity of every candidate model, per state; the chosen one ringed."""
    d = len(result.names)
    fig, axes = subplots("pareto", 1, d, figsize=(max(5.0, 3.6 * d), 3.2))
    for j, name in enumerate(result.names):
        ax = axes[0, j]
        rows = [r for r in result.pareto if r["state"] == name]
        if rows:
            ax.scatter([r["complexity"] for r in rows], [r["cv_mse"] for r in rows], s=14, color="0.5")
            chosen = [r for r in rows if r["chosen"]]
            ax.scatter(
                [r["complexity"] for r in chosen],
                [r["cv_mse"] for r in chosen],
                s=80,
                facecolors="none",
                edgecolors="tab:red",
                linewidths=1.5,
                label="chosen",
            )
            _log_axis_if_wide(ax, [r["cv_mse"] for r in rows])
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))  # term counts
        ax.set_title(f"{name}'", fontsize=9)
        ax.set_xlabel("terms")
    axes[0, 0].set_ylabel("cross-validated MSE\nof the derivative")  # one line: taller than the panel
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Candidate models: complexity against held-out error", fontsize=10)
    arrange_grid(fig, axes)
    return fig


def _log_axis_if_wide(ax: Axes, values: Sequence[float]) -> None:
    """A log y axis with a label per decade when the positive ``values`` span a decade or more; else linear
    (a log axis over less than a decade shows no labelled tick at all)."""
    positive = [v for v in values if v > 0]
    if not positive or max(positive) < 10.0 * min(positive):
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.0e"))  # plain text: mathtext labels cost ~50 ms
    ax.yaxis.set_minor_locator(NullLocator())  # minor ticks: dozens of tick objects a panel, without a number


@plain_text
def plot_inclusion(result: DiscoveryResult, *, top: int = 12) -> Figure:
    """Bootstrap inclusion probability of the most often selected terms, per state."""
    d = len(result.names)
    fig, axes = subplots("inclusion", 1, d, figsize=(max(5.0, 3.6 * d), 3.4))
    names = list(result.feature_names)
    shown: list[float] = []
    for j, state in enumerate(result.names):
        ax = axes[0, j]
        if result.inclusion is not None:
            order = np.argsort(result.inclusion[j])[::-1][:top]
            order = [k for k in order if result.inclusion[j, k] > 0] or list(order[:1])
            shown += [float(result.inclusion[j, k]) for k in order]
            colours = ["tab:blue" if result.coefficients[j, k] != 0 else "0.7" for k in order]
            rows = np.arange(len(order))  # numbered rows, not categories: a reused axes keeps no category list
            ax.barh(rows, result.inclusion[j, order][::-1], color=colours[::-1])
            ax.set_yticks(rows, [names[k] for k in order][::-1])
        ax.set_xlim(0, 1)
        ax.set_title(f"{state}'", fontsize=9)
        ax.set_xlabel("inclusion probability")
    title = "Bagging: how often each term is selected (blue: in the model)"
    if result.inclusion is None:
        title += "\nno bagging was run (discovery.n_bootstrap = 0): no inclusion probabilities"
    elif shown and min(shown) >= 1.0:
        title += "\nevery resample selected exactly these terms: all inclusion probabilities are 1 (a stable selection)"
    fig.suptitle(title, fontsize=10)
    arrange_grid(fig, axes)
    return fig
