"""One self-contained HTML page per run: a discovery run's equations, uncertainty, choices, metrics and plots;
a sensitivity run's verdict, indices with intervals and plots."""

from __future__ import annotations

import base64
import html
import io
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from pipeline.discovery import DiscoveryResult
from pipeline.figure_reuse import is_kept, reusing_figures
from pipeline.sensitivity.analysis import SensitivityResult

__all__ = ["ReportHeader", "render_report", "render_sensitivity_report"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}code{background:#f5f5f5;padding:.1rem .3rem}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}.low{color:#b00}
.caution{background:#fff4e5;border:1px solid #f0a030;padding:.6rem .8rem;margin:.6rem 0;border-radius:4px}
.description{color:#444}.verdict{font-size:1.05rem}table.facts th{font-weight:normal;color:#666}
"""


FIGURE_LOCK = threading.RLock()
"""matplotlib's pyplot state and mathtext parser are not thread-safe: figures are built and rendered under it."""


def render_figures(build: Callable[[], dict[str, Figure]]) -> dict[str, bytes]:
    """Build figures (``build()`` returns name -> Figure) and render them to PNG under :data:`FIGURE_LOCK`.

    Concurrent flows in one process (threads) would otherwise corrupt each other's figures. Plots that lay out
    through :func:`pipeline.figure_reuse.subplots` reuse the figure of the previous render with the same layout
    (a batch renders the same layouts for every series); every other figure is closed afterwards.
    """
    import matplotlib.pyplot as plt

    with FIGURE_LOCK, reusing_figures():
        figures = build()
        try:
            return {name: figure_png(figure) for name, figure in figures.items()}
        finally:
            for figure in figures.values():
                if not is_kept(figure):
                    plt.close(figure)


def figure_png(figure: Figure) -> bytes:
    """A figure rendered once as PNG bytes (96 dpi), for artifacts and the report alike.

    The plots lay themselves out (``pipeline.figure_layout``): one draw, not two. zlib level 1 instead of
    PIL's 6: 2-6 ms less a plot, files about 10 % larger."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _png(figure: Figure | bytes) -> str:
    data = figure if isinstance(figure, bytes) else figure_png(figure)
    return base64.b64encode(data).decode("ascii")


def _number(value: object) -> str:
    """A float to 4 significant digits, a mapping as one ``key: value`` line each (a state's smoothing), else text."""
    if isinstance(value, dict):
        return "<br>".join(f"{html.escape(str(k))}: {_number(v)}" for k, v in value.items())
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))


def render_report(
    title: str,
    result: DiscoveryResult,
    figures: Mapping[str, Figure | bytes],
    *,
    facts: Mapping[str, object] | None = None,
    description: str = "",
    cautions: Sequence[str] = (),
    metric_units: Mapping[str, str] | None = None,
) -> str:
    """The run as one HTML page with its figures embedded (no external files).

    The header comes first: the title, the config's description, any cautions about the headline scores
    (a chaotic record, a poor fit) in a box, then the facts (run id, date, config, data, ...).

    Args:
        title: page heading (the config's name).
        result: the discovered model.
        figures: captions → matplotlib figures.
        facts: key/value lines of the header (run id, date, data file, config hash, ...).
        description: the config's description.
        cautions: plain-language warnings that qualify the scores.
        metric_units: units shown after metrics' values, e.g. ``{"forecast_horizon": "d"}`` for dated data.
    """
    parts = _header(title, facts, description, cautions)
    parts.append("<h2>Discovered equations</h2><ul>")
    parts += [f"<li><code>{html.escape(eq)}</code></li>" for eq in result.equations]
    parts.append("</ul>")
    rows = result.coefficient_table()
    if rows:
        parts.append("<h2>Coefficients</h2><table><tr><th>state</th><th>term</th><th>coefficient</th>")
        parts.append("<th>95 % interval</th><th>inclusion probability</th></tr>")
        for row in rows:
            interval = f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]" if "ci_low" in row else "–"
            inclusion = row.get("inclusion_probability")
            css = " class='num low'" if inclusion is not None and inclusion < 0.5 else " class='num'"
            shown = f"{inclusion:.2f}" if inclusion is not None else "–"
            parts.append(
                f"<tr><td>{html.escape(row['state'])}</td><td>{html.escape(row['term'])}</td>"
                f"<td class='num'>{row['coefficient']:.4g}</td><td class='num'>{interval}</td>"
                f"<td{css}>{shown}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Metrics</h2><table>")
    units = {key: f" {html.escape(unit)}" for key, unit in (metric_units or {}).items()}
    parts += [
        f"<tr><td>{html.escape(k)}</td><td class='num'>{_number(v)}{units.get(k, '')}</td></tr>"
        for k, v in result.metrics.items()
    ]
    parts.append("</table><h2>What was chosen</h2><table>")
    parts += [f"<tr><td>{html.escape(k)}</td><td>{_number(v)}</td></tr>" for k, v in result.chosen.items()]
    parts.append("</table>")
    return "".join(parts + _figures(figures))


def _header(
    title: str,
    facts: Mapping[str, object] | None,
    description: str,
    cautions: Sequence[str],
    verdict: Sequence[str] = (),
) -> list[str]:
    """The page's head: title, description, verdict lines, cautions in boxes, then the facts table."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"]
    parts.append(f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>")
    if description:
        parts.append(f"<p class='description'>{html.escape(description)}</p>")
    if verdict:
        parts.append("<ul class='verdict'>" + "".join(f"<li>{html.escape(v)}</li>" for v in verdict) + "</ul>")
    for caution in cautions:
        parts.append(f"<div class='caution'><strong>Caution:</strong> {html.escape(caution)}</div>")
    if facts:
        parts.append("<table class='facts'>")
        parts += [f"<tr><th>{html.escape(k)}</th><td>{_number(v)}</td></tr>" for k, v in facts.items()]
        parts.append("</table>")
    return parts


def _figures(figures: Mapping[str, Figure | bytes]) -> list[str]:
    parts = []
    for caption, figure in figures.items():
        alt = html.escape(caption)
        parts.append(f"<h2>{alt}</h2><img alt='{alt}' src='data:image/png;base64,{_png(figure)}'>")
    return parts + ["</body></html>"]


def _point_rows(result: SensitivityResult, j: int) -> list[str]:
    """Output j's gradient at each point as an HTML table: the point, then each partial ± its standard error."""
    out, features = result.outputs[j], result.features
    head = "".join(f"<th>{html.escape(f)}</th>" for f in features)
    head += "".join(f"<th>d{html.escape(out)}/d{html.escape(f)}</th>" for f in features)
    rows = [f"<h3>Gradient of {html.escape(out)} at each point of gradient.at</h3><table><tr>{head}</tr>"]
    for point, g, s in zip(result.points, result.gradients[:, j, :], result.gradient_std[:, j, :]):
        cells = [f"{v:.4g}" for v in point] + [f"{gi:.4g} ± {si:.2g}" for gi, si in zip(g, s)]
        rows.append("<tr>" + "".join(f"<td class='num'>{c}</td>" for c in cells) + "</tr>")
    return [*rows, "</table>"]


def _interval(value: float, half: float) -> str:
    if not np.isfinite(value):
        return "–"
    return f"{value:.3f} ± {half:.3f}" if np.isfinite(half) else f"{value:.3f}"


@dataclass(frozen=True)
class ReportHeader:
    """What a report says before its results: title (the config's name), the config's description, one verdict
    line per output, cautions that qualify it, and facts (run id, date, config, data or model, hashes)."""

    title: str
    description: str = ""
    verdict: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    facts: Mapping[str, object] = field(default_factory=dict)


POINTS_LISTED = 20
"""Named gradient points up to this many are listed one by one in the report (all are in ``gradients.csv``)."""


def render_sensitivity_report(
    result: SensitivityResult, figures: Mapping[str, Figure | bytes], header: ReportHeader, named_points: bool = False
) -> str:
    """A sensitivity run as one HTML page: the header (verdict and cautions first), per output the indices with
    their 95 % intervals, the DGSM bound and the mean gradients, the gradient at each point when the config named
    them, what was estimated how, then the figures.

    Args:
        result: the analysis (d features, q outputs).
        figures: captions → figures or PNG bytes.
        header: title, description, verdict, cautions and facts.
        named_points: whether the gradients were taken at points the config names (``gradient.at``), not at every
            sample: up to :data:`POINTS_LISTED` of them are then listed, each partial with its standard error.
    """
    parts = _header(header.title, header.facts, header.description, header.cautions, header.verdict)
    for j, out in enumerate(result.outputs):
        parts.append(f"<h2>Sensitivity of {html.escape(out)}</h2><table><tr><th>feature</th>")
        parts.append("<th>mean d/dx</th><th>mean |d/dx|</th><th>S1 (±95 %)</th><th>ST (±95 %)</th>")
        parts.append("<th>DGSM bound on ST</th><th>rank</th></tr>")
        table = result.indices.get(out)
        order = list(range(len(result.features)))
        if table is not None:  # most influential first, as the bar chart
            order.sort(key=lambda i: table["rank"].get(result.features[i], len(order)))
        for i in order:
            feat = result.features[i]
            g = result.gradients[:, j, i]
            cells = ["–"] * 4
            if table is not None and feat in table.index:
                row = table.loc[feat]
                clipped = "*" if bool(row.get("clipped", False)) else ""
                cells = [_interval(row["S1"], row["S1_conf"]), _interval(row["ST"], row["ST_conf"]),
                         _interval(row["DGSM_bound"], np.nan), f"{int(row['rank'])}{clipped}"]  # fmt: skip
            parts.append(
                f"<tr><td>{html.escape(feat)}</td><td class='num'>{g.mean():.4g}</td>"
                f"<td class='num'>{np.abs(g).mean():.4g}</td>"
                + "".join(f"<td class='num'>{c}</td>" for c in cells)
                + "</tr>"
            )
        parts.append("</table>")
        if table is not None and "clipped" in table and table["clipped"].astype(bool).any():
            parts.append("<p>* an index estimated below 0 was set to 0</p>")
        coarse = [] if table is None else table.attrs.get("dgsm_coarse", [])
        if coarse:
            parts.append(f"<p>The DGSM of {html.escape(', '.join(coarse))} is over a step at the scale the model's"
                         " response varies on (DGSM_step; it has no derivative at a point, as trees): it measures the"
                         " model's jumps over that step, and can far exceed the squared slopes that mean |d/dx|"
                         " averages.</p>")  # fmt: skip
        if table is not None and (table["DGSM_bound"] >= 1.0).any():
            parts.append("<p>A DGSM bound of 1 or more says nothing about ST (a share of the variance is at most 1):"
                         " the output varies steeply over short distances in that feature.</p>")  # fmt: skip
        if named_points and len(result.points) <= POINTS_LISTED:
            parts += _point_rows(result, j)
        parts.append(f"<p>estimated with: <code>{html.escape(result.chosen.get(out, ''))}</code></p>")
    return "".join(parts + _figures(figures))
