"""Candidate terms of a right-hand side: polynomials plus optional function families.

A :class:`Library` is a pure description (state names, polynomial exponents, function
terms), so it serialises to JSON and evaluates fast with numpy for fitting and
simulation alike. Each term also renders as plain text, LaTeX and a sympy-parsable
expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AUTO_FAMILIES",
    "FAMILIES",
    "FOURIER_MAX",
    "FUNCTION_FAMILIES",
    "Library",
    "automatic_function_terms",
    "evaluate_terms",
]

FAMILIES: dict[str, tuple[Any, str, str, str]] = {
    # family: (numpy function, text pattern, LaTeX pattern, sympy pattern); {s} is the state name
    "sin": (np.sin, "sin({s})", r"\sin({s})", "sin({s})"),
    "cos": (np.cos, "cos({s})", r"\cos({s})", "cos({s})"),
    "exp": (np.exp, "exp({s})", r"e^{{{s}}}", "exp({s})"),
    "inverse": (lambda v: 1.0 / v, "1/{s}", r"\frac{{1}}{{{s}}}", "1/{s}"),
    "log": (np.log, "log({s})", r"\log({s})", "log({s})"),
    "saturation": (lambda v: v / (1.0 + v), "{s}/(1+{s})", r"\frac{{{s}}}{{1+{s}}}", "{s}/(1 + {s})"),
}
FUNCTION_FAMILIES = tuple(FAMILIES)
"""The families a config may name in ``discovery.library.functions`` (Fourier harmonics have their own field)."""
AUTO_FAMILIES: dict[str, Any] = {
    # family: where it is tried by default, as a test of a state's values in the data's units: finite and
    # well conditioned there (no pole, no overflow, no log of a non-positive value)
    "sin": lambda v: True,
    "cos": lambda v: True,
    "exp": lambda v: float(np.max(v)) <= 10.0,
    "log": lambda v: float(np.min(v)) > 0.0,
    "saturation": lambda v: float(np.min(v)) > -0.9,
}
"""The families ``discovery.library.functions: auto`` tries, and on which values each is defined well."""
FOURIER_MAX = 5
for _k in range(2, FOURIER_MAX + 1):  # Fourier harmonics sin(k x), cos(k x); k = 1 is sin / cos above
    FAMILIES[f"sin{_k}"] = (lambda v, k=_k: np.sin(k * v), f"sin({_k} {{s}})", rf"\sin({_k} {{s}})", f"sin({_k}*{{s}})")
    FAMILIES[f"cos{_k}"] = (lambda v, k=_k: np.cos(k * v), f"cos({_k} {{s}})", rf"\cos({_k} {{s}})", f"cos({_k}*{{s}})")


def evaluate_terms(x: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """Monomials of the states: ``theta[i, k] = prod_j x[i, j] ** powers[k, j]``.

    Args:
        x: states, (n, d) or (d,).
        powers: integer exponents, (p, d).

    Returns:
        (n, p) term values, or (p,) for a single state vector.
    """
    x = np.asarray(x, dtype=float)
    single = x.ndim == 1
    x2 = x[None, :] if single else x
    theta = np.ones((x2.shape[0], powers.shape[0]))
    for j in range(powers.shape[1]):
        exponents = powers[:, j]
        if np.any(exponents):
            theta *= x2[:, j : j + 1] ** exponents[None, :]
    return theta[0] if single else theta


POLYNOMIAL_LIKE = 1e-3
"""A function of a state whose values a cubic in that state reproduces to this relative RMS error adds nothing."""


def _polynomial_like(values: np.ndarray, state: np.ndarray) -> bool:
    """Whether ``values`` (n,) are a cubic in ``state`` (n,) to within :data:`POLYNOMIAL_LIKE` (relative RMS)."""
    centred = (state - state.mean()) / (state.std() or 1.0)
    basis = np.column_stack([centred**k for k in range(4)])
    residual = values - basis @ np.linalg.lstsq(basis, values, rcond=None)[0]
    return bool(np.sqrt(np.mean(residual**2)) <= POLYNOMIAL_LIKE * (np.sqrt(np.mean(values**2)) or 1.0))


def automatic_function_terms(x: np.ndarray) -> tuple[tuple[str, int], ...]:
    """The terms f(x_j) of :data:`AUTO_FAMILIES` worth trying on the states ``x`` (n, d), in the data's units:
    well defined there, and not already a polynomial over the range the state covers (sin x on a tiny range is
    x; e^x of a nearly constant state is a constant)."""
    terms = []
    with np.errstate(all="ignore"):
        for family, defined in AUTO_FAMILIES.items():
            for j in range(x.shape[1]):
                if defined(x[:, j]):
                    values = FAMILIES[family][0](x[:, j])
                    if np.all(np.isfinite(values)) and not _polynomial_like(values, x[:, j]):
                        terms.append((family, j))
    return tuple(terms)


def _monomial_text(powers: np.ndarray, names: tuple[str, ...], style: str) -> str:
    factors = []
    for name, p in zip(names, powers):
        if p == 0:
            continue
        if style == "text":
            factors.append(name if p == 1 else f"{name}^{p}")
        elif style == "latex":
            factors.append(name if p == 1 else f"{name}^{{{p}}}")
        else:
            factors.append(name if p == 1 else f"{name}**{p}")
    if not factors:
        return "1"
    return {"text": " ", "latex": " ", "sympy": "*"}[style].join(factors)


@dataclass(frozen=True)
class Library:
    """Candidate terms over the states ``names``.

    Attributes:
        names: state names (d,).
        powers: exponents of the polynomial terms (p_poly, d), pysindy's order.
        functions: function terms after the polynomials: (family, j) is f(x_j); (family, j, k) is the
            combination x_k · f(x_j).
        argument_scale: while fitting on unit-scaled states x / s, the factors s (d,) that give function
            terms their arguments in the data's own units, f(s_j · x_j); None (the data's units) otherwise.
    """

    names: tuple[str, ...]
    powers: np.ndarray
    functions: tuple[tuple[str, int] | tuple[str, int, int], ...] = ()
    argument_scale: np.ndarray | None = None

    def arguments(self, x: np.ndarray) -> np.ndarray:
        """The function terms' arguments: the states ``x`` (..., d) in the data's own units."""
        return x if self.argument_scale is None else x * self.argument_scale

    @property
    def size(self) -> int:
        """Number of terms p."""
        return int(self.powers.shape[0] + len(self.functions))

    @property
    def degrees(self) -> np.ndarray:
        """Polynomial degree of each term (p,); f(x_j) counts as degree 1, x_k · f(x_j) as 2."""
        return np.concatenate([self.powers.sum(axis=1), np.array([len(f) - 1 for f in self.functions], dtype=int)])

    def _render(self, style: str) -> list[str]:
        out = [_monomial_text(p, self.names, style) for p in self.powers]
        column = {"text": 1, "latex": 2, "sympy": 3}[style]
        joiner = {"text": " ", "latex": " ", "sympy": "*"}[style]
        for family, j, *multiplier in self.functions:
            text = FAMILIES[family][column].format(s=self.names[j])
            out.append(joiner.join([self.names[multiplier[0]], text]) if multiplier else text)
        return out

    def feature_names(self) -> list[str]:
        """Plain-text term names: ``1``, ``x``, ``x y``, ``x^2``, ``sin(x)``."""
        return self._render("text")

    def latex_names(self) -> list[str]:
        """LaTeX term names."""
        return self._render("latex")

    def sympy_names(self) -> list[str]:
        """Term names ``sympy.sympify`` reads."""
        return self._render("sympy")

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Term values at states ``x`` (n, d) → (n, p), or (d,) → (p,)."""
        x = np.asarray(x, dtype=float)
        single = x.ndim == 1
        x2 = x[None, :] if single else x
        with np.errstate(all="ignore"):
            columns = [evaluate_terms(x2, self.powers)]
            for family, j, *multiplier in self.functions:
                values = FAMILIES[family][0](self.arguments(x2)[:, j : j + 1])
                columns.append(values * x2[:, multiplier[0] : multiplier[0] + 1] if multiplier else values)
        theta = np.hstack(columns)
        return theta[0] if single else theta

    def subset(self, max_degree: int) -> np.ndarray:
        """Mask (p,) of the terms of polynomial degree <= max_degree (function terms always in)."""
        return self.degrees <= max_degree

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description."""
        functions = [list(f) for f in self.functions]
        return {"names": list(self.names), "powers": self.powers.tolist(), "functions": functions}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Library:
        """Inverse of :meth:`to_dict`."""
        names = tuple(data["names"])
        powers = np.asarray(data["powers"], dtype=int).reshape(-1, len(names))
        functions = tuple((str(f[0]), *(int(v) for v in f[1:])) for f in data.get("functions", []))
        return cls(names, powers, functions)  # type: ignore[arg-type]
