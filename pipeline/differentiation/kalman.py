"""Kalman/RTS smoothing under an integrated-Wiener-process prior, in linear time.

The signal is modelled as x(t) with its first ``q`` derivatives forming the state
s = [x, x', …, x^(q)], driven by white noise in x^(q+1) (an integrated Wiener
process, the state-space form of a smoothing spline of degree 2q+1) and observed
with white noise. The RTS smoother's output is the posterior mean of s, which solves
one symmetric block-tridiagonal system; we assemble it in banded form and solve it
by banded Cholesky, so a fit costs O(n) in C, on any (irregular) grid.

The ratio λ = (noise variance) / (process intensity) is chosen by maximising the
restricted marginal likelihood (the initial state is diffuse, the noise variance is
profiled out):

    −2 log L(λ) = (n − k) log(Q(λ) / (n − k)) + log|λK + HᵀH| − (kn − k) log λ

with k = q + 1, K the process's structure matrix, Q(λ) the penalised residual sum of
squares; the log-determinant comes from the same Cholesky factor. Derivatives are
read directly from the smoothed state, so the ends need no special treatment.
"""

from __future__ import annotations

from math import factorial

import numpy as np
from scipy.linalg import cho_solve_banded, cholesky_banded
from scipy.optimize import minimize_scalar

from pipeline.differentiation.base import ColumnFit, Differentiator
from pipeline.errors import DifferentiationError

__all__ = ["KalmanSmoother", "IntegratedWienerModel"]

_LOG_LAMBDA_GRID = np.linspace(-12.0, 24.0, 19)
MAX_STATES = 20_000
"""Longer series are smoothed on consecutive groups of samples (their means), keeping each fit O(n) and small."""


def _transitions(delta: np.ndarray, q: int) -> np.ndarray:
    """State transition matrices F(Δ), (m, k, k): Taylor shifts of x and its derivatives."""
    k = q + 1
    out = np.zeros((delta.size, k, k))
    for i in range(k):
        for j in range(i, k):
            out[:, i, j] = delta ** (j - i) / factorial(j - i)
    return out


def _process_covariances(delta: np.ndarray, q: int) -> np.ndarray:
    """Process noise covariances Q(Δ) of a q-times integrated Wiener process, unit intensity, (m, k, k)."""
    k = q + 1
    out = np.zeros((delta.size, k, k))
    for i in range(k):
        for j in range(k):
            p = 2 * q + 1 - i - j
            out[:, i, j] = delta**p / (p * factorial(q - i) * factorial(q - j))
    return out


class IntegratedWienerModel:
    """The banded posterior system of a q-times integrated Wiener process on the grid ``u``.

    Args:
        u: strictly increasing times (n,), best scaled to unit mean spacing.
        q: number of derivatives carried in the state (the smoother is of degree 2q+1).
    """

    def __init__(self, u: np.ndarray, q: int, weights: np.ndarray | None = None) -> None:
        self.n, self.k = u.shape[0], q + 1
        self.weights = np.ones(u.shape[0]) if weights is None else weights
        k, n = self.k, self.n
        delta = np.diff(u)
        transition = _transitions(delta, q)
        precision = np.linalg.inv(_process_covariances(delta, q))
        self.diagonal = np.zeros((n, k, k))
        self.diagonal[1:] += precision
        self.diagonal[:-1] += np.einsum("mji,mjk,mkl->mil", transition, precision, transition)
        self.lower = -np.einsum("mij,mjk->mik", precision, transition)  # block (i+1, i)
        self._transition, self._precision = transition, precision
        self.bandwidth = 2 * k - 1
        size = n * k
        # Index arrays of the upper banded storage ab[bw + row - col, col], filled per λ.
        rows, cols, src = [], [], []
        for a in range(k):
            for b in range(a, k):
                rows.append(np.arange(n) * k + a)
                cols.append(np.arange(n) * k + b)
                src.append(("d", a, b))
        for a in range(k):
            for b in range(k):
                rows.append(np.arange(n - 1) * k + b)
                cols.append((np.arange(n - 1) + 1) * k + a)
                src.append(("l", a, b))
        self._slots = list(zip(rows, cols, src))
        self._size = size

    def factor(self, lam: float) -> np.ndarray:
        """Banded Cholesky factor (upper form) of λK + HᵀH."""
        ab = np.zeros((self.bandwidth + 1, self._size))
        for row, col, (kind, a, b) in self._slots:
            values = lam * (self.diagonal[:, a, b] if kind == "d" else self.lower[:, a, b])
            if kind == "d" and a == 0 and b == 0:
                values = values + self.weights
            ab[self.bandwidth + row - col, col] = values
        return cholesky_banded(ab, lower=False, check_finite=False)

    def smooth(self, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
        """Posterior mean state (n, k) and log|λK + HᵀWH| for (weighted mean) observations ``y`` (n,)."""
        factor = self.factor(lam)
        rhs = np.zeros(self._size)
        rhs[:: self.k] = self.weights * y
        state = cho_solve_banded((factor, False), rhs, check_finite=False)
        return state.reshape(self.n, self.k), float(2.0 * np.sum(np.log(factor[-1])))

    def penalised_residual(self, y: np.ndarray, state: np.ndarray, lam: float, sum_of_squares: float) -> float:
        """Σ (raw obs − x̂)² + λ · Σ innovationᵀ Q⁻¹ innovation, summed term by term so it stays ≥ 0.

        The raw residual sum splits into within-group scatter (sum_of_squares − Σ w ȳ²) and Σ w (ȳ − x̂)².
        """
        within = max(sum_of_squares - float(self.weights @ y**2), 0.0)
        between = float(self.weights @ (y - state[:, 0]) ** 2)
        innovation = state[1:] - np.einsum("mij,mj->mi", self._transition, state[:-1])
        penalty = float(np.einsum("mi,mij,mj->", innovation, self._precision, innovation))
        return within + between + lam * penalty

    def neg2_restricted_log_likelihood(self, y: np.ndarray, log_lam: float, sum_of_squares: float) -> float:
        """−2 × restricted log-likelihood (up to a constant) at λ = exp(log_lam); inf if singular.

        ``y`` are the (group-mean) observations; ``sum_of_squares`` is Σ of every raw observation squared.
        """
        lam = float(np.exp(log_lam))
        try:
            state, logdet = self.smooth(y, lam)
        except np.linalg.LinAlgError:
            return np.inf
        n, k = int(round(self.weights.sum())), self.k
        residual_quadratic = self.penalised_residual(y, state, lam, sum_of_squares)
        if residual_quadratic <= 1e-12 * sum_of_squares:
            return np.inf  # numerically unreliable (λ far too large or the fit exact)
        return (n - k) * np.log(residual_quadratic / (n - k)) + logdet - (k * self.n - k) * log_lam


MERGE_GAP = 0.05
"""Samples closer than this fraction of the mean spacing are merged (their mean, weighted by count)."""


def _merge_close_samples(
    u: np.ndarray, z: np.ndarray, run: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group samples whose gap to the previous one is under MERGE_GAP (unit mean spacing).

    Near-coincident samples make the process precision (∝ Δ^-(2q+1)) explode; over such a
    gap the signal is constant to first order, so their mean with weight = count carries
    the same information. With ``run`` > 1 samples are also grouped into runs of that
    many consecutive samples (a smooth signal is linear across a few samples, so the
    group mean sits on it at the group's mean time). Returns (group of each sample,
    group times, group means, counts).
    """
    starts = np.concatenate([[True], np.diff(u) >= MERGE_GAP])
    if run > 1:
        starts &= (np.arange(u.shape[0]) % run) == 0
        starts[0] = True
    group = np.cumsum(starts) - 1
    counts = np.bincount(group).astype(float)
    u_g = np.bincount(group, weights=u) / counts
    z_g = np.bincount(group, weights=z) / counts
    return group, u_g, z_g, counts


def _taylor_to_samples(state: np.ndarray, group: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Move each group's state to its samples' own times by a Taylor step (exact for the state's polynomial)."""
    out = state[group].copy()
    if not np.any(offset):
        return out
    k = state.shape[1]
    for i in range(k):
        out[:, i] = sum(state[group, j] * offset ** (j - i) / factorial(j - i) for j in range(i, k))
    return out


class KalmanSmoother(Differentiator):
    """Linear-time Kalman/RTS smoother (integrated Wiener prior), irregular ``t`` allowed.

    Args:
        q: derivatives carried in the state (2 gives x, x', x''; a quintic-spline-like smoother).
        log_lambda: log of noise-to-process variance ratio at unit mean spacing; None
            chooses it by restricted maximum likelihood.
    """

    min_samples = 6

    def __init__(self, q: int = 2, log_lambda: float | None = None) -> None:
        self.q = q
        self.log_lambda = log_lambda

    def check_sampling(self, t: np.ndarray) -> None:
        """``q`` is 2 or 3 (see :meth:`Differentiator.check_sampling`); any grid."""
        if self.q not in (2, 3):
            raise DifferentiationError(f"q must be 2 or 3, got {self.q!r}", parameter="q")

    def _fit_column(self, t: np.ndarray, y: np.ndarray) -> ColumnFit:
        step = float(np.mean(np.diff(t)))
        u = (t - t[0]) / step
        centre, scale = float(np.mean(y)), float(np.std(y)) or 1.0
        z = (y - centre) / scale
        sum_of_squares = float(z @ z)
        run = int(np.ceil(u.shape[0] / MAX_STATES))
        while True:
            group, u_g, z_g, counts = _merge_close_samples(u, z, run)
            model = IntegratedWienerModel(u_g / run, self.q, counts)  # unit spacing between groups
            if self.log_lambda is not None:
                log_lam = float(self.log_lambda)
                break
            log_lam = self._choose_log_lambda(model, z_g, sum_of_squares)
            # The likelihood wants more smoothing than the grid reaches: the signal is smooth over
            # many samples, so coarser groups lose nothing and bring λ back into range.
            if log_lam < _LOG_LAMBDA_GRID[-1] - 1.0 or u_g.shape[0] < 400:
                break
            run *= 4
        try:
            state_g, _ = model.smooth(z_g, float(np.exp(log_lam)))
        except np.linalg.LinAlgError as exc:
            raise DifferentiationError(f"KalmanSmoother: singular system at log λ = {log_lam:.3g}") from exc
        state_g = state_g / run ** np.arange(self.k_states)[None, :]  # d/du from d/d(u / run)
        state = _taylor_to_samples(state_g, group, u - u_g[group])
        smoothed = state[:, 0] * scale + centre
        params = {"log_lambda": float(log_lam), "group_size": float(run)}
        return smoothed, state[:, 1] * scale / step, state[:, 2] * scale / step**2, params

    @property
    def k_states(self) -> int:
        """Length of the state vector (x and its first q derivatives)."""
        return self.q + 1

    @staticmethod
    def _choose_log_lambda(model: IntegratedWienerModel, z: np.ndarray, sum_of_squares: float) -> float:
        def criterion(g: float) -> float:
            return model.neg2_restricted_log_likelihood(z, g, sum_of_squares)

        values = np.array([criterion(g) for g in _LOG_LAMBDA_GRID])
        if not np.isfinite(values).any():
            raise DifferentiationError("KalmanSmoother: the likelihood could not be evaluated for any λ")
        i = int(np.nanargmin(values))
        low, high = _LOG_LAMBDA_GRID[max(i - 1, 0)], _LOG_LAMBDA_GRID[min(i + 1, len(_LOG_LAMBDA_GRID) - 1)]
        with np.errstate(invalid="ignore"):
            best = minimize_scalar(criterion, bounds=(low, high), method="bounded", options={"xatol": 1e-2})
        return float(best.x) if np.isfinite(best.fun) and best.fun <= values[i] else float(_LOG_LAMBDA_GRID[i])
