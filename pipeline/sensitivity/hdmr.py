"""HDMR surrogate: Sobol indices from given samples through an orthonormal ANOVA expansion.

The output is fitted by least squares as a sum of component functions of one, two and (for few
features) three inputs, ``f ≈ c + Σ_i f_i(x_i) + Σ_{i<j} f_ij(x_i, x_j) + ...``, each component in
a polynomial basis made orthonormal under that feature's *empirical* marginal (Legendre
polynomials on the feature's range, then Gram–Schmidt on the samples). Products of such
functions are orthonormal under the product of the marginals, so the variance decomposition is
read off the coefficients: S1_i = Σ c² over terms in x_i alone, ST_i = Σ c² over terms containing
x_i, both divided by Σ c² over all non-constant terms (the surrogate's variance).

The degrees per order are chosen by exact leave-one-out error (the hat matrix's diagonal), the
same criterion that ranks the other surrogates, and the intervals come from a pairs bootstrap
that refits the coefficients on resampled rows. This is the idea of SALib's ``enhanced_hdmr``
(Li & Rabitz) with orthonormal polynomials in place of its B-splines and a data-chosen order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre
from scipy.linalg import cho_factor, cho_solve

from pipeline.errors import SensitivityError

__all__ = ["HdmrChoice", "HdmrSurrogate"]

# (first-order degree, second-order total degree, third-order total degree) candidates, cheapest first
DEGREE_GRID = ((4, 0, 0), (6, 4, 0), (8, 6, 0), (10, 6, 0), (12, 8, 0), (14, 10, 0), (10, 6, 4), (14, 10, 5))
MAX_TERMS_FRACTION = 0.35  # at most n/3 coefficients: cross-validation stays honest, the bootstrap stable
MAX_TERMS = 500  # Gram matrices of N_BLOCKS blocks are kept: 20 · 500² floats = 40 MB
N_BLOCKS = 20  # rows dealt into this many random blocks (cross-validation folds and bootstrap units)
CV_FOLDS = 5
RIDGE = 1e-10  # relative to the Gram matrix's mean diagonal: only guards rank deficiency


@dataclass(frozen=True)
class HdmrChoice:
    """Chosen degrees per order, the number of terms and the leave-one-out error (output units²)."""

    degrees: tuple[int, int, int]
    n_terms: int
    cv_mse: float


def _orthonormal_basis(x: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Polynomials of degree 1..degree in x (n,), orthonormal and centred under x's empirical distribution.

    Returns the basis values (n, degree), the map R (degree+1, degree) from Legendre values to it, and
    the affine map of x onto [-1, 1] (low, width).
    """
    low, width = float(x.min()), float(np.ptp(x))
    t = 2.0 * (x - low) / width - 1.0
    V = legendre.legvander(t, degree)  # (n, degree + 1), column 0 is the constant
    Q, R = np.linalg.qr(V / np.sqrt(len(x)))
    keep = np.abs(np.diag(R)) > 1e-10 * abs(R[0, 0])
    R_inv = np.linalg.pinv(R)[:, keep][:, 1:]  # drop the constant: the rest are orthogonal to it
    return V @ R_inv, R_inv, low, width


def _terms(degrees: tuple[int, int, int], available: list[int]) -> list[tuple[tuple[int, int], ...]]:
    """Each term is a tuple of (feature, basis degree) pairs, degrees >= 1, within each order's total degree.

    ``available`` (d,) is how many basis functions each feature has (fewer for a feature with few values).
    """
    first, second, third = degrees
    d = len(available)
    terms: list[tuple[tuple[int, int], ...]] = [
        ((i, k),) for i in range(d) for k in range(1, min(first, available[i]) + 1)
    ]
    for order, total in ((2, second), (3, third)):
        if total < order:
            continue
        for feats in itertools.combinations(range(d), order):
            for ks in itertools.product(range(1, total - order + 2), repeat=order):
                if sum(ks) <= total and all(k <= available[i] for i, k in zip(feats, ks)):
                    terms.append(tuple(zip(feats, ks)))
    return terms


class HdmrSurrogate:
    """Orthonormal-polynomial HDMR fitted to samples; Sobol S1/ST from its coefficients, bootstrap intervals.

    Rows are dealt into ``N_BLOCKS`` random blocks whose Gram matrices are the sufficient statistics:
    5-fold cross-validation (groups of blocks) picks the degrees, and the pairs bootstrap resamples
    blocks (independent, like rows), so neither refits from the rows again.

    Args:
        n_bootstrap: bootstrap refits for the intervals.
        random_state: seed of the blocks and the bootstrap.
    """

    def __init__(self, *, n_bootstrap: int = 100, random_state: int = 0) -> None:
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> HdmrSurrogate:
        """Fit on samples X (n, d) and outputs y (n,): degrees by cross-validated error."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        n, d = X.shape
        if n < 2 * N_BLOCKS:
            raise SensitivityError(f"an HDMR surrogate needs at least {2 * N_BLOCKS} samples, got {n}")
        top = max(max(g) for g in DEGREE_GRID)
        self.basis_ = [_orthonormal_basis(X[:, i], top) for i in range(d)]
        available = [b[0].shape[1] for b in self.basis_]
        budget = min(MAX_TERMS, int(MAX_TERMS_FRACTION * n))
        grid = [g for g in DEGREE_GRID if len(_terms(g, available)) <= budget]
        if not grid:
            raise SensitivityError(f"{n} samples are too few for an HDMR surrogate in {d} features")
        union = sorted({t for g in grid for t in _terms(g, available)}, key=lambda t: (len(t), t))
        position = {t: j for j, t in enumerate(union)}
        A = self._design(union, [b[0] for b in self.basis_])
        self.y_mean_ = float(y.mean())
        u = y - self.y_mean_
        block = np.random.default_rng(self.random_state).permutation(n) % N_BLOCKS
        self._gram = np.stack([A[block == b].T @ A[block == b] for b in range(N_BLOCKS)])
        self._rhs = np.stack([A[block == b].T @ u[block == b] for b in range(N_BLOCKS)])
        self._power = np.stack([np.sum(A[block == b] ** 2, axis=0) for b in range(N_BLOCKS)])
        self._rows = np.bincount(block, minlength=N_BLOCKS).astype(float)
        scores = []
        for g in grid:
            cols = np.array([position[t] for t in _terms(g, available)])
            scores.append(self._cv_mse(A[:, cols], u, block, cols))
        best = int(np.argmin(scores))
        self.terms_ = _terms(grid[best], available)
        self._cols = np.array([position[t] for t in self.terms_])
        self._gram_chosen = self._gram[np.ix_(np.arange(N_BLOCKS), self._cols, self._cols)]
        self.coef_ = self._solve(np.ones(N_BLOCKS))
        self.choice_ = HdmrChoice(degrees=grid[best], n_terms=len(self.terms_), cv_mse=scores[best])
        return self

    def _cv_mse(self, A: np.ndarray, u: np.ndarray, block: np.ndarray, cols: np.ndarray) -> float:
        """5-fold cross-validated MSE (output units²), folds = groups of blocks."""
        sq = 0.0
        self._gram_chosen = self._gram[np.ix_(np.arange(N_BLOCKS), cols, cols)]
        self._cols = cols
        for fold in range(CV_FOLDS):
            held = np.arange(N_BLOCKS) % CV_FOLDS == fold
            coef = self._solve((~held).astype(float))
            rows = held[block]
            sq += float(np.sum((u[rows] - A[rows] @ coef) ** 2))
        return sq / len(u)

    def _solve(self, weights: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """Least squares on blocks weighted by ``weights`` (N_BLOCKS,), with a rank guard: coefficients (p,)."""
        if cols is None:
            gram, rhs = self._gram_chosen, self._rhs[:, self._cols]
        else:
            gram, rhs = self._gram[np.ix_(np.arange(N_BLOCKS), cols, cols)], self._rhs[:, cols]
        G = np.tensordot(weights, gram, axes=1)
        G[np.diag_indices_from(G)] += RIDGE * np.trace(G) / len(G)
        return cho_solve(cho_factor(G, lower=True), np.tensordot(weights, rhs, axes=1))

    @staticmethod
    def _design(terms: list[tuple[tuple[int, int], ...]], values: list[np.ndarray]) -> np.ndarray:
        cols = [np.prod([values[i][:, k - 1] for i, k in term], axis=0) for term in terms]
        return np.column_stack(cols)

    def predict(self, at: np.ndarray) -> np.ndarray:
        """Surrogate output at points (m, d) -> (m,)."""
        at = np.atleast_2d(np.asarray(at, dtype=float))
        values = []
        for i, (_, R_inv, low, width) in enumerate(self.basis_):
            t = 2.0 * (at[:, i] - low) / width - 1.0
            values.append(legendre.legvander(t, R_inv.shape[0] - 1) @ R_inv)
        return self._design(self.terms_, values) @ self.coef_ + self.y_mean_

    def _indices(self, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """S1, ST (d,) from each term's variance (p,)."""
        d = len(self.basis_)
        total = power.sum()
        if total <= 0:
            raise SensitivityError("the HDMR surrogate is constant: Sobol indices are undefined")
        s1, st = np.zeros(d), np.zeros(d)
        for term, p in zip(self.terms_, power):
            feats = {i for i, _ in term}
            for i in feats:
                st[i] += p
            if len(feats) == 1:
                s1[term[0][0]] += p
        return s1 / total, st / total

    def indices(self) -> dict[str, np.ndarray]:
        """S1, ST (d,) and their 95 % bootstrap half-widths S1_conf, ST_conf (1.96 bootstrap std).

        Each bootstrap replicate refits the coefficients on resampled blocks and weighs every term
        by its mean square over the resampled rows, so the intervals carry both the fit's
        uncertainty and that of the sampled marginals themselves.
        """
        s1, st = self._indices(self.coef_**2)
        rng = np.random.default_rng(self.random_state + 1)
        boot_s1, boot_st = [], []
        for _ in range(self.n_bootstrap):
            w = np.bincount(rng.integers(0, N_BLOCKS, N_BLOCKS), minlength=N_BLOCKS).astype(float)
            coef = self._solve(w)
            mean_square = (w @ self._power[:, self._cols]) / (w @ self._rows)  # each term's E[φ²] on the resample
            b1, bt = self._indices(coef**2 * mean_square)
            boot_s1.append(b1)
            boot_st.append(bt)
        s1_b = np.array(boot_s1) if boot_s1 else s1[None]
        st_b = np.array(boot_st) if boot_st else st[None]
        return {"S1": s1, "ST": st, "S1_conf": 1.96 * s1_b.std(0), "ST_conf": 1.96 * st_b.std(0)}
