"""Candidate terms of a right-hand side: polynomials plus optional function families.

A :class:`Library` is a pure description (state names, polynomial exponents, function
terms), so it serialises to JSON and evaluates fast with numpy for fitting and
simulation alike. Each term also renders as plain text, LaTeX and a sympy-parsable
expression.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FAMILIES",
    "FOURIER_MAX",
    "FUNCTION_FAMILIES",
    "FunctionTerm",
    "Library",
    "evaluate_terms",
    "latex_name",
    "sympy_name",
    "text_name",
]

FunctionTerm = tuple[str, int] | tuple[str, int, int]
"""(family, j) is f(x_j); (family, j, k) is the product x_k · f(x_j)."""

def _logistic(v: np.ndarray) -> np.ndarray:
    """The logistic 1/(1 + e^-v), as 0.5 (1 + tanh(v/2)): the same values without exp's overflow at large |v|."""
    return 0.5 * (1.0 + np.tanh(0.5 * v))


FAMILIES: dict[str, tuple[Any, str, str, str]] = {
    # family: (numpy function, text pattern, LaTeX pattern, sympy pattern); {s} is the state name
    "sin": (np.sin, "sin({s})", r"\sin({s})", "sin({s})"),
    "cos": (np.cos, "cos({s})", r"\cos({s})", "cos({s})"),
    "exp": (np.exp, "exp({s})", r"e^{{{s}}}", "exp({s})"),
    "inverse": (lambda v: 1.0 / v, "1/{s}", r"\frac{{1}}{{{s}}}", "1/{s}"),
    "log": (np.log, "log({s})", r"\log({s})", "log({s})"),
    "saturation": (lambda v: v / (1.0 + v), "{s}/(1+{s})", r"\frac{{{s}}}{{1+{s}}}", "{s}/(1 + {s})"),
    "hill": (lambda v: v * v / (1.0 + v * v), "{s}^2/(1+{s}^2)", r"\frac{{{s}^2}}{{1+{s}^2}}", "{s}**2/(1 + {s}**2)"),
    "inhibition": (lambda v: v / (1.0 + v * v), "{s}/(1+{s}^2)", r"\frac{{{s}}}{{1+{s}^2}}", "{s}/(1 + {s}**2)"),
    "sigmoid": (_logistic, "1/(1+exp(-{s}))", r"\frac{{1}}{{1+e^{{-{s}}}}}", "1/(1 + exp(-{s}))"),
}
FUNCTION_FAMILIES = tuple(FAMILIES)
"""The families a config may name in ``discovery.library.functions`` (Fourier harmonics have their own field)."""
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


RATED_PATTERNS: dict[str, tuple[str, str, str]] = {
    # family: (text, LaTeX, sympy) of f(r x) when r != 1, with {s} the state and {K} = 1/r
    "saturation": ("{s}/({K}+{s})", r"\frac{{{s}}}{{{K}+{s}}}", "{s}/({K} + {s})"),  # r x/(1 + r x) = x/(1/r + x)
    # (r x)^2/(1 + (r x)^2) = x^2/(K^2 + x^2) and r x/(1 + (r x)^2) = K x/(K^2 + x^2)
    "hill": ("{s}^2/({K}^2+{s}^2)", r"\frac{{{s}^2}}{{{K}^2+{s}^2}}", "{s}**2/({K}**2 + {s}**2)"),
    "inhibition": ("{K} {s}/({K}^2+{s}^2)", r"\frac{{{K} {s}}}{{{K}^2+{s}^2}}", "{K}*{s}/({K}**2 + {s}**2)"),
}


_GREEK_LETTERS = frozenset(
    (
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
        "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
        "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
    )
)  # fmt: skip
"""Names that LaTeX writes as Greek letters (``theta`` → θ)."""
_LATEX_ESCAPES = {
    "\\": r"\backslash ", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}",
    "^": r"\hat{}", "~": r"\sim ", " ": r"\ ",
}  # fmt: skip


def latex_name(name: str) -> str:
    """A state or input name as a LaTeX symbol: a letter with optional digits as it is (``x``, ``x0``), a Greek
    letter's name as the letter (``theta`` → ``\\theta``), any other name upright with its special characters escaped
    (``lynx`` → ``\\mathrm{lynx}``, ``O2 %`` → ``\\mathrm{O2\\ \\%}``): so ``lynx hare`` does not read as one
    word, and a ``%`` or ``_`` in a column name does not break the equation."""
    if re.fullmatch(r"[A-Za-z][0-9]*", name):
        return name
    if name in _GREEK_LETTERS:
        return "\\" + name
    return "\\mathrm{" + "".join(_LATEX_ESCAPES.get(c, c) for c in name) + "}"


_AMBIGUOUS_IN_TEXT = re.compile(r"[\s+\-*/^()\[\]{}=,']|^[\d.]+$")
"""What makes a name read as something else in a text equation: a space (a product), an operator, a bracket, a
prime (the derivative) or a number."""


def text_name(name: str) -> str:
    """A state or input name as text equations write it: as it is, or in brackets when it would read as something
    else (``prey count`` → ``[prey count]``, ``pred-1`` → ``[pred-1]``): ``prey count' = 0.9997 prey count - 0.5006
    prey count pred-1`` reads as a product of four names minus 1."""
    return f"[{name}]" if _AMBIGUOUS_IN_TEXT.search(name) else name


@functools.cache
def sympy_name(name: str) -> str:
    """A state or input name as ``sympy.sympify`` reads back the symbol of that name: the name when it does (``x``,
    ``hare``), else ``Symbol('name')``: a name sympy gives a meaning of its own (``S``, ``I``, ``E``, ``N``, ``Q``,
    ``beta``, ``lambda``: an SIR model's ``S*I`` raised a TypeError) or no Python identifier (``O2 %``). Only an
    identifier is handed to sympify, where it is a mere look-up."""
    import sympy

    if name.isidentifier():
        try:
            if sympy.sympify(name) == sympy.Symbol(name):
                return name
        except (sympy.SympifyError, TypeError, ValueError):
            pass
    return f"Symbol({name!r})"


def _shifted(name: str, center: float, style: str) -> str:
    """``name`` − ``center`` in ``style``, parenthesised; ``name`` itself when the center is 0."""
    if center == 0.0:
        return name
    value = repr(abs(center)) if style == "sympy" else f"{abs(center):.4g}"
    return f"({name} {'-' if center > 0 else '+'} {value})"


def _function_text(family: str, name: str, rate: float, style: str, center: float = 0.0) -> str:
    """f(r · (name − center)) in ``style`` (text, latex, sympy)."""
    column = {"text": 0, "latex": 1, "sympy": 2}[style]
    name = _shifted(name, center, style)
    if rate != 1.0 and family == "sigmoid":  # 1/(1 + exp(-(x - c)/w)), w = 1/r the width of its rise
        width = repr(1.0 / rate) if style == "sympy" else f"{1.0 / rate:.4g}"
        return FAMILIES[family][column + 1].format(s=f"{name}/{width}")
    if rate != 1.0 and family in RATED_PATTERNS:
        inverse = 1.0 / rate
        return RATED_PATTERNS[family][column].format(s=name, K=repr(inverse) if style == "sympy" else f"{inverse:.4g}")
    if rate != 1.0:
        name = {"text": f"{rate:.4g} {name}", "latex": f"{rate:.4g} \\, {name}", "sympy": f"({rate!r}*{name})"}[style]
    return FAMILIES[family][column + 1].format(s=name)


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
    return {"text": " ", "latex": " \\, ", "sympy": "*"}[style].join(factors)


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
        rates: each function term's inner rate r, in the data's units: the term is f(r · x_j), so the
            saturation becomes r x/(1 + r x) = x/(1/r + x) and exp(x) becomes exp(r x); one per function term,
            or empty when all are 1.
    """

    names: tuple[str, ...]
    powers: np.ndarray
    functions: tuple[FunctionTerm, ...] = ()
    argument_scale: np.ndarray | None = None
    rates: tuple[float, ...] = ()
    centers: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name, values in (("rates", self.rates), ("centers", self.centers)):
            if values and len(values) != len(self.functions):
                raise ValueError(f"{len(values)} {name} for {len(self.functions)} function terms")

    def rate(self, k: int) -> float:
        """The inner rate of function term ``k`` (1 unless set)."""
        return float(self.rates[k]) if self.rates else 1.0

    def center(self, k: int) -> float:
        """The center of function term ``k`` in the data's units (0 unless set): the term is f(r · (x_j − c))."""
        return float(self.centers[k]) if self.centers else 0.0

    def term_offsets(self) -> np.ndarray:
        """Each function term's r · c (p_functions,): its argument is r · x_j − r · c."""
        return np.array([self.rate(k) * self.center(k) for k in range(len(self.functions))])

    def term_arguments(self, x: np.ndarray) -> np.ndarray:
        """Each function term's argument r · (x_j − c) in the data's own units, at states ``x`` (n, d)
        → (n, p_functions)."""
        columns = [term[1] for term in self.functions]
        scale = np.ones(len(self.names)) if self.argument_scale is None else np.asarray(self.argument_scale, float)
        rates = np.array([self.rate(k) for k in range(len(self.functions))])
        arguments = x[:, columns] * (scale[columns] * rates)
        return arguments - self.term_offsets() if self.centers else arguments

    @property
    def size(self) -> int:
        """Number of terms p."""
        return int(self.powers.shape[0] + len(self.functions))

    @property
    def degrees(self) -> np.ndarray:
        """Polynomial degree of each term (p,); f(x_j) counts as degree 1, x_k · f(x_j) as 2."""
        return np.concatenate([self.powers.sum(axis=1), np.array([len(f) - 1 for f in self.functions], dtype=int)])

    def _render(self, style: str) -> list[str]:
        spell = {"text": text_name, "latex": latex_name, "sympy": sympy_name}[style]
        names = tuple(spell(n) for n in self.names)
        out = [_monomial_text(p, names, style) for p in self.powers]
        joiner = {"text": " ", "latex": " \\, ", "sympy": "*"}[style]
        for k, (family, j, *multiplier) in enumerate(self.functions):
            text = _function_text(family, names[j], self.rate(k), style, self.center(k))
            out.append(joiner.join([names[multiplier[0]], text]) if multiplier else text)
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
            arguments = self.term_arguments(x2)
            for k, (family, _, *multiplier) in enumerate(self.functions):
                values = FAMILIES[family][0](arguments[:, k : k + 1])
                columns.append(values * x2[:, multiplier[0] : multiplier[0] + 1] if multiplier else values)
        theta = np.hstack(columns)
        return theta[0] if single else theta

    def subset(self, max_degree: int) -> np.ndarray:
        """Mask (p,) of the terms of polynomial degree <= max_degree (function terms always in)."""
        return self.degrees <= max_degree

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description."""
        functions = [list(f) for f in self.functions]
        out = {"names": list(self.names), "powers": self.powers.tolist(), "functions": functions}
        out |= {"rates": [float(r) for r in self.rates]} if self.rates else {}
        return out | ({"centers": [float(c) for c in self.centers]} if self.centers else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Library:
        """Inverse of :meth:`to_dict`."""
        names = tuple(data["names"])
        powers = np.asarray(data["powers"], dtype=int).reshape(-1, len(names))
        functions = tuple((str(f[0]), *(int(v) for v in f[1:])) for f in data.get("functions", []))
        rates = tuple(float(r) for r in data.get("rates", []))
        centers = tuple(float(c) for c in data.get("centers", []))
        return cls(names, powers, functions, rates=rates, centers=centers)  # type: ignore[arg-type]
