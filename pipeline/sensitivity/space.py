"""Input spaces to sample a model over, and batched, checked model evaluation.

An input space is one marginal per feature (uniform bounds, normal, or the empirical
distribution of observed data), treated as independent: that is the setting in which Sobol
indices are defined. Samples come from scrambled Sobol sequences mapped through each
marginal's quantile function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats
from scipy.stats import qmc

from pipeline.errors import ModelError, SensitivityError

__all__ = ["Marginal", "InputSpace", "evaluate_model"]

Model = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Marginal:
    """One feature's distribution: ``uniform`` (low, high), ``normal`` (mean, std) or ``empirical`` (values)."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    std: float = 1.0
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "uniform" and not (np.isfinite(self.low) and np.isfinite(self.high) and self.high > self.low):
            raise SensitivityError(
                f"input {self.name!r}: uniform bounds need low < high, got [{self.low}, {self.high}]"
            )
        if self.kind == "normal" and not (np.isfinite(self.mean) and self.std > 0):
            raise SensitivityError(f"input {self.name!r}: normal needs a finite mean and std > 0, got std={self.std}")
        if self.kind == "empirical" and len(set(self.values)) < 2:
            raise SensitivityError(f"input {self.name!r}: empirical distribution needs at least two distinct values")
        if self.kind not in ("uniform", "normal", "empirical"):
            raise SensitivityError(f"input {self.name!r}: unknown distribution {self.kind!r}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: u in (0, 1) -> values."""
        if self.kind == "uniform":
            return self.low + u * (self.high - self.low)
        if self.kind == "normal":
            return stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12), loc=self.mean, scale=self.std)
        return np.quantile(np.asarray(self.values), u)

    @property
    def variance(self) -> float:
        if self.kind == "uniform":
            return (self.high - self.low) ** 2 / 12.0
        if self.kind == "normal":
            return self.std**2
        return float(np.var(self.values))

    @property
    def poincare_constant(self) -> float:
        """C with Var(g) <= C E[g'^2]: (b-a)^2/pi^2 for uniform, sigma^2 for normal, numerical for empirical."""
        if self.kind == "uniform":
            return (self.high - self.low) ** 2 / np.pi**2
        if self.kind == "normal":
            return self.std**2
        return _empirical_poincare(np.asarray(self.values, dtype=float))


def _empirical_poincare(values: np.ndarray) -> float:
    """Poincaré constant of a sampled distribution: 1 / the first non-zero eigenvalue of its Dirichlet form.

    Nodes at K quantiles (K = n/20 within [8, 30]: noisy gaps would inflate C) carry equal mass 1/K;
    ∫ g'² p ≈ Σ_k (g_{k+1} - g_k)² / (K Δ_k²) with Δ_k the node spacing, so K·L is a weighted path
    Laplacian (tridiagonal). For a uniform sample this tends to (b - a)²/π², for a normal one to σ²
    (measured: +4 % and +1 % at n = 2000, K = 30). Tails beyond the outer nodes are cut, so a heavy-tailed
    marginal's constant is underestimated (exponential: 1.7 against 4 at n = 1500): never below Var.
    Computed on values divided by their range (C scales as length²): a sample spanning 1e-141 made the
    Laplacian's entries overflow and LAPACK fail (found by ``make fuzz-long``).
    """
    K = int(np.clip(len(values) // 20, 8, 30))
    scale = float(np.ptp(values))  # C scales as length²: computed for values / scale, so gaps stay near 1
    if not np.isfinite(scale) or scale <= 0.0:
        return float(np.var(values))
    nodes = np.quantile(values / scale, (np.arange(K) + 0.5) / K)
    gap = np.maximum(np.diff(nodes), 1e-12)
    c = 1.0 / gap**2  # K · (1 / (K Δ²)) per edge
    diag = np.zeros(K)
    diag[:-1] += c
    diag[1:] += c
    eig = linalg.eigh_tridiagonal(diag, -c, eigvals_only=True, select="i", select_range=(1, 1))
    return float(max(scale**2 / eig[0], np.var(values)))  # Var(x) <= C E[1²]: no constant is smaller


@dataclass(frozen=True)
class InputSpace:
    """Independent marginals, one per feature, in feature order."""

    marginals: tuple[Marginal, ...]

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.marginals]

    @property
    def dim(self) -> int:
        return len(self.marginals)

    @classmethod
    def from_bounds(cls, bounds: dict[str, tuple[float, float]]) -> InputSpace:
        return cls(tuple(Marginal(name, "uniform", low=float(lo), high=float(hi)) for name, (lo, hi) in bounds.items()))

    @classmethod
    def from_data(cls, X: np.ndarray, names: Sequence[str] | None = None) -> InputSpace:
        """Empirical marginals of observed samples X (n, d)."""
        X = np.asarray(X, dtype=float)
        names = list(names) if names is not None else [f"x{i + 1}" for i in range(X.shape[1])]
        return cls(tuple(Marginal(name, "empirical", values=tuple(X[:, i])) for i, name in enumerate(names)))

    @classmethod
    def fit(cls, X: np.ndarray, names: Sequence[str] | None = None, *, alpha: float = 0.05) -> InputSpace:
        """Marginals estimated from samples X (n, d): uniform or normal when a Kolmogorov–Smirnov test at
        level ``alpha`` does not reject the fitted family, else the empirical distribution.

        A fitted family removes the sampling noise of the empirical marginal itself (about 1/sqrt(n) in
        each index); a uniform's bounds are the sample range widened by one mean gap at each end (the
        unbiased estimate).
        """
        X = np.asarray(X, dtype=float)
        names = list(names) if names is not None else [f"x{i + 1}" for i in range(X.shape[1])]
        marginals = []
        for i, name in enumerate(names):
            x = X[:, i]
            gap = float(np.ptp(x)) / max(len(x) - 1, 1)
            low, high = float(x.min()) - gap, float(x.max()) + gap
            mean, std = float(x.mean()), float(x.std(ddof=1))
            if stats.kstest(x, "uniform", args=(low, high - low)).pvalue > alpha:
                marginals.append(Marginal(name, "uniform", low=low, high=high))
            elif std > 0 and stats.kstest(x, "norm", args=(mean, std)).pvalue > alpha:
                marginals.append(Marginal(name, "normal", mean=mean, std=std))
            else:
                marginals.append(Marginal(name, "empirical", values=tuple(x)))
        return cls(tuple(marginals))

    def transform(self, U: np.ndarray) -> np.ndarray:
        """Map unit-cube points (n, d) to the space."""
        return np.column_stack([m.ppf(U[:, i]) for i, m in enumerate(self.marginals)])

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n scrambled-Sobol points (n, d) from the space (n rounded up to a power of two internally)."""
        sampler = qmc.Sobol(self.dim, scramble=True, seed=seed)
        U = sampler.random_base2(int(np.ceil(np.log2(max(n, 2)))))[:n]
        return self.transform(U)


MAX_ERROR_TEXT = 400
"""How much of a model's own error message a ModelError quotes (some print the whole input table)."""


def evaluate_model(
    model: Model,
    X: np.ndarray,
    *,
    name: str = "model",
    batch_size: int = 8192,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Predict in batches and check the result: (n, d) -> (n,) finite outputs, else a :class:`ModelError` (a NaN
    or inf output names the first input that gave it, by the d input ``names``, default x1..xd)."""
    out = []
    for start in range(0, len(X), batch_size):
        batch = X[start : start + batch_size]
        try:
            pred = np.asarray(model(batch), dtype=float)
        except SensitivityError:
            raise
        except Exception as exc:  # the model is user code: report what it raised, typed
            said = str(exc) if len(str(exc)) <= MAX_ERROR_TEXT else str(exc)[:MAX_ERROR_TEXT] + " …"
            raise ModelError(f"{name} failed to predict a batch of shape {batch.shape}: {said}") from exc
        pred = pred.reshape(len(batch), -1) if pred.ndim == 2 else pred
        if pred.ndim == 2 and pred.shape[1] == 1:
            pred = pred[:, 0]
        if pred.shape != (len(batch),):
            raise ModelError(
                f"{name} returned shape {pred.shape} for {len(batch)} inputs; expected ({len(batch)},) — one output"
            )
        out.append(pred)
    y = np.concatenate(out)
    if not np.all(np.isfinite(y)):
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        names = list(names) if names is not None else [f"x{i + 1}" for i in range(X.shape[1])]
        first = ", ".join(f"{n}={v:.6g}" for n, v in zip(names, X[row]))
        raise ModelError(
            f"{name} returned NaN or inf for {int(np.sum(~np.isfinite(y)))} of {len(y)} inputs (first: {y[row]} at"
            f" {first}); the input space (model.inputs) may reach where the model is undefined"
        )
    return y
