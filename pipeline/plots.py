"""Figures built from result objects (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pipeline.differentiation import DerivativeResult  # noqa: E402
from pipeline.discovery import DiscoveryResult  # noqa: E402
from pipeline.errors import SimulationError  # noqa: E402

__all__ = ["plot_model_fit"]


def plot_model_fit(
    ts: Sequence[np.ndarray],
    xs: Sequence[np.ndarray],
    derivatives: Sequence[DerivativeResult],
    result: DiscoveryResult,
    *,
    time_label: str = "t",
) -> Figure:
    """Observed states, the smoothed signal and the model simulated from the first smoothed state.

    One panel per state; trajectories share a panel. A model that cannot be simulated
    is shown as a note in the title instead of a curve.
    """
    d = len(result.names)
    fig, axes = plt.subplots(d, 1, figsize=(8, 2.4 * d + 0.6), sharex=True, squeeze=False)
    note = ""
    for k, (t, x, r) in enumerate(zip(ts, xs, derivatives)):
        t_fine = np.linspace(t[0], t[-1], max(t.shape[0], 400))  # the model is continuous: draw it so
        try:
            sim = result.simulate(r.smoothed[0], t_fine)
        except SimulationError as exc:
            sim, note = None, f" (simulation failed: {exc})"
        marker_size = 5 if t.shape[0] < 100 else 2.5
        for j in range(d):
            ax = axes[j, 0]
            first = k == 0
            ax.plot(t, x[:, j], "o", ms=marker_size, color="0.45", label="observed" if first else None)
            ax.plot(t, r.smoothed[:, j], "-", lw=1.2, color="tab:blue", label="smoothed" if first else None)
            if sim is not None:
                ax.plot(t_fine, sim[:, j], "--", lw=1.4, color="tab:red", label="model (simulated)" if first else None)
            ax.set_ylabel(result.names[j])
    for j, equation in enumerate(result.equations):
        axes[j, 0].set_title(equation, fontsize=9, loc="left")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel(time_label)
    fig.suptitle(f"Data against the discovered model{note}", fontsize=10)
    fig.tight_layout()
    return fig
