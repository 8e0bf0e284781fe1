"""What a sensitivity result says in plain words: a headline per output and the cautions that qualify it.

The headline ranks features by total index ST with its 95 % half-width; cautions name what a reader should
not over-read: gradient points outside the samples' range, a gradient model that misses much of the output's
variance, a top rank the intervals cannot separate, intervals too wide to rank by, indices clipped at 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.sensitivity.analysis import MODEL_DIFFERENCES, SensitivityResult

__all__ = ["sensitivity_cautions", "sensitivity_headline"]

POOR_GRADIENT_R2 = 0.5
"""Below this cross-validated R² of the gradient model, its gradients are called rough."""
UNEXPLAINED_NOTE = 0.9
"""When a surrogate of samples explains less than this share of the output's variance, the headline says how much of
it the features leave unexplained (the indices are shares of the output's variance, not of the surrogate's)."""
CORRELATED = 0.9
"""Above this absolute correlation between two features of the samples, their indices are cautioned as shared."""
WIDE_INTERVAL = 0.1
"""A 95 % half-width of ST (share of variance) above this is too wide to rank features by."""


def _column(table: pd.DataFrame) -> str:
    return "ST" if table["ST"].notna().all() else "S1"


def sensitivity_headline(result: SensitivityResult, top: int = 3) -> tuple[str, ...]:
    """One line per output: its ``top`` features by ST (or S1) with ±95 %, and the first-order share.

    Outputs without indices get the mean |gradient| ranking instead.
    """
    lines = []
    for j, out in enumerate(result.outputs):
        table = result.indices.get(out)
        if table is None or table.empty:
            mean_abs = np.abs(result.gradients[:, j, :]).mean(0)
            order = np.argsort(-mean_abs)[:top]
            ranked = ", ".join(f"{result.features[i]} (mean |d/dx| {mean_abs[i]:.3g})" for i in order)
            lines.append(f"{out} is most sensitive to {ranked}")
            continue
        column = _column(table)
        ranked = table.sort_values("rank").head(top)
        parts = [f"{f} ({column} {_with_error(row[column], row[f'{column}_conf'])})" for f, row in ranked.iterrows()]
        share = float(np.nansum(table["S1"].clip(lower=0)))
        explained = float(table.attrs.get("explained", 1.0))
        rest = " (the rest is interactions)" if share < 0.9 else ""
        if np.isfinite(explained) and explained < UNEXPLAINED_NOTE:
            rest = (
                f"; {1 - explained:.0%} of it no function of these features explains (cross-validated: noise, or inputs"
                " not in the data)"
            )
        lines.append(
            f"{out} is driven most by {', '.join(parts)}; first-order effects explain {share:.0%} of its variance"
            + rest
        )
    return tuple(lines)


def _with_error(value: float, error: float) -> str:
    """``value ± error`` with two significant digits of the error and the value to the same decimal (at least two
    decimals): ``0.035 ± 0.002`` is ``0.0350 ± 0.0020``, not ``0.03 ± 0.00``, which reads as a tie with 0.027."""
    decimals = 2 if not np.isfinite(error) or error <= 0 else min(6, max(2, 1 - int(np.floor(np.log10(error)))))
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def _top_overlap(out: str, table: pd.DataFrame) -> str | None:
    column = _column(table)
    if len(table) < 2:
        return None
    (a, first), (b, second) = list(table.sort_values("rank").head(2).iterrows())
    if first[column] - first[f"{column}_conf"] <= second[column] + second[f"{column}_conf"]:
        one, other = (_with_error(row[column], row[f"{column}_conf"]) for row in (first, second))
        return (
            f"{out}: {a} and {b} cannot be told apart at 95 % ({column} {one} against {other}); "
            "their order is not a finding"
        )
    return None


def _narrowing(table: pd.DataFrame) -> str:
    """What narrows the intervals of ``table``: its route's design size (``sobol``, ``surrogate``: Saltelli designs
    of ``indices.n_base``), or more samples (``hdmr``, ``rbd_fast``: computed from the samples themselves)."""
    route = table.attrs.get("method")
    if route in ("hdmr", "rbd_fast"):
        return f"more samples would narrow them (the {route} estimate uses the samples; indices.n_base does not apply)"
    return "raise indices.n_base"


def _outside_samples(result: SensitivityResult, low: np.ndarray, high: np.ndarray) -> str | None:
    """A caution naming the ``gradient.at`` points outside the box [``low``, ``high``] (d,) the samples were drawn
    from, if any: a local fit extrapolates there, and its standard error does not show it (y = 2a + 3b² sampled on
    [0, 1]²: dy/db 5.66 ± 0.06 at b = 1.5, where it is 9)."""
    outside = (result.points < low) | (result.points > high)
    if not outside.any():
        return None
    rows, columns = np.flatnonzero(outside.any(axis=1)), np.flatnonzero(outside.any(axis=0))
    ranges = ", ".join(f"{result.features[i]} {low[i]:.4g} to {high[i]:.4g}" for i in columns)
    if result.chosen and all(text.startswith(MODEL_DIFFERENCES) for text in result.chosen.values()):
        hessians = "; the Hessians there, from the stand-in fitted to the samples, are extrapolated"
        return (
            f"{rows.size} of {len(result.points)} gradient.at points (first: point {rows[0] + 1}) lie outside the"
            f" range the model was sampled over ({ranges}): the gradients there are the model's own differences"
            + (hessians if result.hessians is not None else ", though the model may itself extrapolate there")
        )
    return (
        f"{rows.size} of {len(result.points)} gradient.at points (first: point {rows[0] + 1}) lie outside the"
        f" samples' range ({ranges}): the gradients there are extrapolated, and their standard errors do not show it"
    )


def _correlated_features(result: SensitivityResult, samples: np.ndarray) -> str | None:
    """A caution naming the most correlated pair of features in the ``samples`` (n, d) when their |correlation| is
    above :data:`CORRELATED`: Sobol indices assume independent inputs, and the variance two nearly collinear features
    explain together is split between them as the surrogate happens to (a feature repeated under another name: S1 0.13
    each, where the one feature's share is 0.41)."""
    if samples.shape[1] < 2 or samples.shape[0] < 3:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(samples, rowvar=False)
    r = np.where(np.isfinite(r), np.abs(r), 0.0)
    np.fill_diagonal(r, 0.0)
    i, j = np.unravel_index(int(np.argmax(r)), r.shape)
    if r[i, j] <= CORRELATED:
        return None
    a, b = result.features[min(i, j)], result.features[max(i, j)]
    return (
        f"{a} and {b} are correlated in the samples (|r| = {r[i, j]:.2f}): the indices assume independent inputs, and"
        " the variance the two explain together is split between them arbitrarily; read their indices together"
        " (their gradients are partial derivatives, holding the other fixed)"
    )


def sensitivity_cautions(
    result: SensitivityResult,
    output_variance: dict[str, float],
    samples: np.ndarray | None = None,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[str, ...]:
    """Plain-language warnings about ``result``.

    Args:
        result: the analysis.
        output_variance: per output, the variance of the sampled output (output units squared), which the
            gradient model's cross-validated RMSE (``<out>.cv_rmse`` metric) is compared with.
        samples: the feature values analysed (n, d); when given, points of ``result`` outside their range are named.
        bounds: (low, high), each (d,): the box the samples were drawn from (a queried model's declared input
            ranges), used instead of the samples' own range, so a point on a declared bound is inside.
    """
    if bounds is None and samples is not None:
        bounds = samples.min(axis=0), samples.max(axis=0)
    outside = _outside_samples(result, *bounds) if bounds is not None else None
    cautions = [outside] if outside else []
    correlated = _correlated_features(result, samples) if samples is not None and result.indices else None
    if correlated:
        cautions.append(correlated)
    for out in result.outputs:
        rmse, variance = result.metrics.get(f"{out}.cv_rmse"), output_variance.get(out, 0.0)
        if rmse is not None and variance > 0:
            r2 = 1.0 - rmse**2 / variance
            if r2 < POOR_GRADIENT_R2:
                cautions.append(
                    f"{out}: the gradient model's cross-validated R² is {r2:.2f} (it misses {1 - r2:.0%} of the"
                    " output's variance): its local gradients are rough"
                )
        table = result.indices.get(out)
        if table is None or table.empty:
            continue
        overlap = _top_overlap(out, table)
        if overlap:
            cautions.append(overlap)
        column = _column(table)
        widest = float(table[f"{column}_conf"].max())
        if widest > WIDE_INTERVAL:
            cautions.append(f"{out}: {column} intervals reach ± {widest:.2f}: too wide to rank by; {_narrowing(table)}")
        if "clipped" in table and table["clipped"].any():
            names = ", ".join(str(f) for f in table.index[table["clipped"].astype(bool)])
            cautions.append(f"{out}: an index of {names} was estimated below 0 and set to 0 (it is within noise of 0)")
    return tuple(cautions)
