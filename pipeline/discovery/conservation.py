"""Linear conservation laws: found in the data, kept exactly by the model.

Mass-action chemistry, compartment models in epidemiology and closed populations keep
weighted sums of their states constant (S + I + R = N). Such data carry no information
across the conserved direction, so an unconstrained fit is free to make that direction
unstable: the model then fits the record and still leaves it, exponentially, once the
law is broken by a rounding error (an SIS model fitted at 1 % noise grew S + I by a
factor e^10 over the record and diverged).

:func:`detect_laws` finds combinations cᵀx that stay constant within each trajectory up to
white noise: their spread is no larger than their own noise sd (estimated from third
differences, so nothing is assumed about the noise level) and a Ljung–Box test finds no
autocorrelation in them (a slow transient that the noise nearly hides is autocorrelated;
noise about a constant is not). :func:`constrained_fit` then fits the equations jointly
under Σ_j c_j ξ_jk = 0 for every library term k, which makes cᵀf(x) ≡ 0 for every x, on
and off the data: the model keeps the law exactly, from any initial state.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from scipy.linalg import null_space
from scipy.stats import chi2

from pipeline.differentiation.noise import estimate_noise_sd

__all__ = ["LAW_NOISE_RATIO", "constrained_fit", "detect_laws", "eliminated_supports", "law_basis", "law_sets"]

LAW_NOISE_RATIO = 1.5
"""A combination is conserved when its spread within trajectories is at most this multiple of its own noise sd."""

EXACT_SPREAD = 1e-9
"""Spread (on unit-RMS states) below which a combination is conserved whatever the noise estimate says."""

WHITENESS_LEVEL = 1e-3
"""Ljung–Box p-value below which a combination's residual counts as structured, not noise."""

WHITENESS_LAGS = 10

SIMPLE_DENOMINATOR = 4
"""Law weights within their noise of a fraction with this denominator or less are taken as that fraction."""
ROUNDED_STATES = 6
"""Up to this many states, each law weight is tried rounded down and up (2^d combinations per reference state)."""
WHOLE_WEIGHTS = ((-1.0, 0.0, 1.0), (-2.0, -1.0, 0.0, 1.0, 2.0))
"""The whole weights a law is first looked for with, in the data's units, simplest first (:func:`_whole_laws`)."""
MAX_WHOLE_CANDIDATES = 20_000
"""Whole weights are looked for only while their combinations (len(weights)^d) are at most this many."""


def _within_spread(xs: Sequence[np.ndarray], weights: np.ndarray) -> float:
    """RMS of cᵀx about its mean within each trajectory."""
    values = [x @ weights for x in xs]
    return float(np.sqrt(np.mean(np.concatenate([v - v.mean() for v in values]) ** 2)))


def _noise(xs: Sequence[np.ndarray], weights: np.ndarray, ts: Sequence[np.ndarray | None]) -> float:
    """Noise sd of cᵀx, estimated from its third differences (pooled over trajectories)."""
    estimates = [estimate_noise_sd(x @ weights, t) for x, t in zip(xs, ts) if x.shape[0] >= 8]
    return float(np.sqrt(np.mean(np.square(estimates)))) if estimates else 0.0


def _whiteness_p_value(xs: Sequence[np.ndarray], weights: np.ndarray) -> float:
    """Ljung–Box p-value of cᵀx about each trajectory's mean, Q summed over trajectories."""
    q, dof = 0.0, 0
    for x in xs:
        z = x @ weights
        z = z - z.mean()
        n, energy = z.shape[0], float(z @ z)
        lags = WHITENESS_LAGS
        if n < 4 * lags or energy <= 0:
            continue  # too short to tell noise from a slow transient: no evidence of a law
        q += n * (n + 2) * sum(float(z[k:] @ z[:-k] / energy) ** 2 / (n - k) for k in range(1, lags + 1))
        dof += lags
    return float(chi2.sf(q, dof)) if dof else 0.0


def _holds(xs: Sequence[np.ndarray], weights: np.ndarray, ts: Sequence[np.ndarray | None]) -> bool:
    spread = _within_spread(xs, weights)
    if spread <= EXACT_SPREAD * float(np.linalg.norm(weights)):
        return True
    return spread <= LAW_NOISE_RATIO * _noise(xs, weights, ts) and _whiteness_p_value(xs, weights) >= WHITENESS_LEVEL


def _simplest(
    weights: np.ndarray, scale: np.ndarray, xs: Sequence[np.ndarray], ts: Sequence[np.ndarray | None]
) -> np.ndarray:
    """The law with small-fraction weights in the data's units (e.g. 1, 1, 1) nearest ``weights`` that the data
    accept, else ``weights``.

    The least-varying direction of noisy states is itself noisy: S + E + I + R = N came out as
    S + 0.80 E + 0.82 I + 0.89 R at 1 % noise, which rounds to 3/4 E + 3/4 I. So each weight, relative to each
    state's in turn, is rounded down and up to a fraction of denominator at most :data:`SIMPLE_DENOMINATOR`; of the
    combinations the data accept, the one closest in direction to ``weights`` is the law. Beyond
    :data:`ROUNDED_STATES` states only the nearest fractions are tried."""
    original = weights / scale
    candidates = []
    for reference in np.flatnonzero(np.abs(original) >= 0.5 * np.max(np.abs(original))):
        ratios = original / original[reference]
        options = [_fraction_neighbours(v) if len(ratios) <= ROUNDED_STATES else (_nearest(v),) for v in ratios]
        candidates += [np.array(c) * scale for c in itertools.product(*options) if any(c)]
    unit = weights / np.linalg.norm(weights)
    candidates = [c / np.linalg.norm(c) for c in candidates]
    for candidate in sorted(candidates, key=lambda c: -abs(float(c @ unit))):
        if _holds(xs, candidate, ts):
            return candidate
    return weights


def _nearest(value: float) -> float:
    """The fraction of denominator at most :data:`SIMPLE_DENOMINATOR` nearest ``value``."""
    return float(Fraction(value).limit_denominator(SIMPLE_DENOMINATOR))


def _fraction_neighbours(value: float) -> tuple[float, ...]:
    """The fractions of denominator at most :data:`SIMPLE_DENOMINATOR` just below and just above ``value`` (one when
    ``value`` is such a fraction)."""
    whole = np.floor(value)
    grid = sorted({whole + Fraction(p, q) for q in range(1, SIMPLE_DENOMINATOR + 1) for p in range(0, q + 1)})
    below = max(f for f in grid if f <= value)
    above = min(f for f in grid if f >= value)
    return tuple(sorted({float(below), float(above)}))


def detect_laws(
    xs: Sequence[np.ndarray],
    smoothed: Sequence[np.ndarray],
    scale: np.ndarray,
    ts: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Linear combinations of the states conserved within every trajectory, (r, d) with r ≥ 0.

    Args:
        xs: observed states per trajectory (n_k, d), in the units the model is fitted in.
        smoothed: the smoothed states, same shapes (they give cleaner directions to test).
        scale: the factor from those units back to the data's own (d,), to simplify weights there.
        ts: the sample times per trajectory (n_k,), for the noise of an irregular grid; None: uniform grids.

    Returns:
        One row of weights c per law (unit norm in fitting units): cᵀx is constant within each
        trajectory to within its own noise. Rows are linearly independent; none when d = 1.
    """
    d = xs[0].shape[1]
    if d < 2:
        return np.zeros((0, d))
    times: Sequence[np.ndarray | None] = [None] * len(xs) if ts is None else ts
    centred = np.vstack([s - s.mean(axis=0) for s in smoothed])
    _, vectors = np.linalg.eigh(centred.T @ centred)
    span = []
    for k in range(d - 1):  # eigenvalues ascending: the least varying combinations first
        if not _holds(xs, vectors[:, k], times):
            break
        span.append(vectors[:, k])
    if not span:
        return np.zeros((0, d))
    laws = _whole_laws(np.array(span), scale, xs, times)
    for weights in span:  # the directions no law of whole weights stands for: as the fractions nearest them say
        if len(laws) == len(span):
            break
        if laws:  # the part of the direction the laws found leave
            found = np.linalg.qr(np.array(laws).T)[0]
            weights = weights - found @ (found.T @ weights)
        if np.linalg.norm(weights) > 0.5:
            simplest = _simplest(weights / np.linalg.norm(weights), scale, xs, times)
            if np.linalg.matrix_rank(np.array([*laws, simplest])) == len(laws) + 1:
                laws.append(simplest)
    return np.array(laws)


def _whole_laws(
    span: np.ndarray, scale: np.ndarray, xs: Sequence[np.ndarray], ts: Sequence[np.ndarray | None]
) -> list[np.ndarray]:
    """Up to as many independent laws as ``span`` (r, d) has rows, each with whole weights in the data's units
    (:data:`WHOLE_WEIGHTS`), lying mostly in the span (over half its square norm there) and accepted by the data.

    The least-varying directions of noisy states are themselves noisy, and when more than one passes the test the
    conserved law is any combination of them: SEIR at 5 % noise passed two directions, S + 0.5 E + 0.56 I + 0.73 R
    and another, and S + E + I + R lies in their span. So the laws are looked for as simple weights: of a stoichiometry
    (0 and ±1 first, then ±2), over the fewest states first (apoptosis at 5 % noise: y + z, not x + y + z nor
    0.75 x + y + z), then nearest the span."""
    d = span.shape[1]
    basis = np.linalg.qr(span.T)[0]  # (d, r), orthonormal, in fitting units
    found: list[np.ndarray] = []
    for weights in WHOLE_WEIGHTS:
        if len(weights) ** d > MAX_WHOLE_CANDIDATES:
            break
        grid = np.array(list(itertools.product(weights, repeat=d)), dtype=float)
        first = np.argmax(grid != 0, axis=1)
        fresh = np.max(np.abs(grid), axis=1) == max(weights)  # not already tried with smaller weights
        grid = grid[fresh & (grid[np.arange(len(grid)), first] > 0)]  # one sign of each
        units = grid * scale
        units /= np.linalg.norm(units, axis=1, keepdims=True)
        inside = np.sum((units @ basis) ** 2, axis=1)
        for k in np.lexsort((-inside, np.count_nonzero(grid, axis=1))):
            if len(found) == len(span):
                break
            if inside[k] <= 0.5:
                continue
            candidate = units[k]
            if np.linalg.matrix_rank(np.array([*found, candidate])) == len(found) + 1 and _holds(xs, candidate, ts):
                found.append(candidate)
    return found


def law_sets(laws: np.ndarray) -> list[np.ndarray]:
    """The sets of laws (r_i, d) a model may be fitted to keep: all of ``laws`` (r, d), and each alone when there are
    several (a record that settles early keeps a near-constant direction or two besides the true law, and a model made
    to keep them all fits nothing; the judge decides which hold); none when ``laws`` is empty."""
    if not len(laws):
        return []
    return [laws] + ([laws[i : i + 1] for i in range(len(laws))] if len(laws) > 1 else [])


def eliminated_supports(supports: np.ndarray, laws: np.ndarray, eliminated: int) -> np.ndarray:
    """Supports (d, p) in which the equation of state ``eliminated`` carries every term the laws need.

    A term that appears in only one of the equations a law involves can only be balanced by
    the eliminated state's equation; it is added there (the constrained fit then sets it).
    """
    out = supports.copy()
    for law in laws:
        involved = [j for j in np.flatnonzero(np.abs(law) > 0) if j != eliminated]
        lonely = supports[involved].sum(axis=0) == 1
        out[eliminated] |= lonely
    return out


def law_basis(supports: np.ndarray, laws: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The free coefficients (equation, term) of the supports (d, p), and an orthonormal basis (m, f) of the
    coefficient vectors over them that keep every law (all of them when there is no law)."""
    d, p = supports.shape
    slots = [(j, k) for j in range(d) for k in np.flatnonzero(supports[j])]
    position = {slot: i for i, slot in enumerate(slots)}
    m = len(slots)
    rows = []
    for law in laws:
        for k in range(p):
            members = [j for j in range(d) if supports[j, k] and law[j] != 0]
            if members:
                row = np.zeros(m)
                for j in members:
                    row[position[(j, k)]] = law[j]
                rows.append(row)
    return slots, (null_space(np.array(rows)) if rows else np.eye(m))


def constrained_fit(gram: np.ndarray, moments: np.ndarray, supports: np.ndarray, laws: np.ndarray) -> np.ndarray:
    """Joint least squares of all equations with Σ_j c_j ξ_jk = 0 for every law c and term k.

    Args:
        gram: AᵀA of the design shared by the equations (p, p).
        moments: Aᵀb_j per equation (d, p).
        supports: active terms per equation (d, p).
        laws: conservation weights (r, d).

    Returns:
        Coefficients (d, p); a term whose only consistent value is zero gets exactly zero.
    """
    d, p = supports.shape
    slots, basis = law_basis(supports, laws)
    position = {slot: i for i, slot in enumerate(slots)}
    m = len(slots)
    normal = np.zeros((m, m))
    rhs = np.zeros(m)
    for j in range(d):
        terms = np.flatnonzero(supports[j])
        index = [position[(j, k)] for k in terms]
        normal[np.ix_(index, index)] = gram[np.ix_(terms, terms)]
        rhs[index] = moments[j, terms]
    coefficients = np.zeros((d, p))
    if basis.shape[1] == 0:
        return coefficients
    solution = basis @ np.linalg.lstsq(basis.T @ normal @ basis, basis.T @ rhs, rcond=None)[0]
    largest = float(np.max(np.abs(solution))) if m else 0.0
    solution[np.abs(solution) <= 1e-10 * largest] = 0.0
    for (j, k), value in zip(slots, solution):
        coefficients[j, k] = value
    return coefficients


def describe_law(weights: np.ndarray, scale: np.ndarray, names: Sequence[str]) -> str:
    """A law in the data's units as text, e.g. ``S + E + I + R = const``."""
    original = weights / scale
    original = original / original[np.argmax(np.abs(original))]
    parts = []
    for value, name in zip(original, names):
        if abs(value) < 1e-12:
            continue
        sign = "-" if value < 0 else "+"
        magnitude = "" if abs(abs(value) - 1) < 1e-12 else f"{abs(value):.4g} "
        parts.append(f"{sign} {magnitude}{name}")
    text = " ".join(parts)
    return (text[2:] if text.startswith("+ ") else "-" + text[2:]) + " = const"
