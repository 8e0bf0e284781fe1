"""Figures of sensitivity results: index bars and gradient fields (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pipeline.figure_layout import arrange_grid  # noqa: E402
from pipeline.sensitivity.analysis import SensitivityResult, partial_name  # noqa: E402

__all__ = ["plot_gradients", "plot_indices"]

MAX_ARROWS = 400


def plot_indices(table: pd.DataFrame, output: str) -> Figure:
    """Bars of S1 and ST (95 % intervals) per feature, DGSM bound as markers, most influential first."""
    order = table.sort_values("rank").index
    t = table.loc[order]
    pos = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(t) + 2), 3.6))
    ax.bar(pos - 0.2, t["S1"], 0.4, yerr=t["S1_conf"].fillna(0), label="first order S1", capsize=3)
    if t["ST"].notna().all():
        ax.bar(pos + 0.2, t["ST"], 0.4, yerr=t["ST_conf"].fillna(0), label="total ST", capsize=3)
    ax.plot(pos, np.minimum(t["DGSM_bound"], 1.05), "k_", markersize=18, label="DGSM bound on ST (above 1: at 1.05)")
    ax.set_xticks(pos, [str(i) for i in t.index])
    ax.tick_params(axis="x", labelrotation=30 if len(t) > 6 else 0)  # a tick parameter: the layout measures it
    ax.set_ylabel("share of output variance")
    ax.set_ylim(min(0.0, float(np.nanmin(t[["S1"]].to_numpy())) - 0.05), 1.1)
    ax.set_title(f"Global sensitivity of {output} ({table.attrs.get('method', '')})")
    ax.legend(fontsize=8)
    arrange_grid(fig, np.array([[ax]]))
    return fig


def plot_gradients(result: SensitivityResult, output: str) -> Figure:
    """Where people look rather than read: the gradient over the inputs.

    1 feature: the derivative against the feature with a ±2 std band. 2 features: the gradient
    field as arrows over a colour map of its magnitude. More: each partial against its own feature.
    """
    j = result.outputs.index(output)
    P, G, S = result.points, result.gradients[:, j, :], result.gradient_std[:, j, :]
    d = len(result.features)
    if d == 1:
        order = np.argsort(P[:, 0])
        fig, ax = plt.subplots(figsize=(7, 3.6))
        x, g, s = P[order, 0], G[order, 0], S[order, 0]
        ax.plot(x, g, lw=1.5, label=partial_name(output, result.features[0]))
        ax.fill_between(x, g - 2 * s, g + 2 * s, alpha=0.3, label="±2 std")
        ax.set_xlabel(result.features[0])
        ax.legend(fontsize=8)
    elif d == 2:
        fig, ax = plt.subplots(figsize=(6.5, 5.2))
        magnitude = np.linalg.norm(G, axis=1)
        sc = ax.scatter(P[:, 0], P[:, 1], c=magnitude, s=12, cmap="viridis")
        fig.colorbar(sc, ax=ax, label="|gradient|")
        pick = np.linspace(0, len(P) - 1, min(len(P), MAX_ARROWS)).astype(int)
        unit = G[pick] / np.maximum(magnitude[pick, None], 1e-300)
        ax.quiver(P[pick, 0], P[pick, 1], unit[:, 0], unit[:, 1], color="w", alpha=0.8, width=0.003)
        ax.set_xlabel(result.features[0])
        ax.set_ylabel(result.features[1])
    else:
        cols = min(d, 4)
        rows = int(np.ceil(d / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows), squeeze=False)
        for i, feat in enumerate(result.features):
            ax = axes.flat[i]
            ax.scatter(P[:, i], G[:, i], s=4, alpha=0.5)
            ax.axhline(0, color="k", lw=0.5)
            ax.set_xlabel(feat)
            ax.set_ylabel(partial_name(output, feat))
        for ax in list(axes.flat)[d:]:
            ax.set_visible(False)
    fig.suptitle(f"Local sensitivity of {output}")
    if d == 2:
        fig.tight_layout()  # the colour bar took its room from the axes: leave both to matplotlib
    else:
        arrange_grid(fig, axes if d > 2 else np.array([[ax]]))
    return fig
