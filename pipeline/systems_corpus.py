"""What a published corpus system is, how one is built, and the stable hash that splits the corpus.

Shared by :mod:`pipeline.systems_published` (ODEBench), :mod:`pipeline.systems_published_more` and
:mod:`pipeline.systems_published_extra` (other textbooks, papers and the ``dysts`` chaotic flows), so none
imports another's list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.systems import KnownSystem

__all__ = ["PublishedSystem", "corpus_half", "published_system", "sigmoid"]

Params = tuple[float, ...]
Formula = Callable[[np.ndarray, Params], Sequence[float]]
Terms = dict[str, dict[str, float]]
STATE_NAMES = ("x", "y", "z", "w")


@dataclass(frozen=True)
class PublishedSystem:
    """One published system, its source and its ground truth.

    Attributes:
        system: the system as :class:`~pipeline.systems.KnownSystem` (states, first and second
            initial state, end time; polynomial terms or the formula as right-hand side).
        source: where the equation, parameters and initial states come from.
        equation: the published right-hand side in text, with symbolic parameters ``c0, c1, ...``.
        params: the parameter values ``c0, c1, ...``.
        formula: the published right-hand side f(x, params) -> (d,), independent of ``terms``.
        chaotic: the published regime is chaotic (trajectory R² over the span is not expected).
        description: what the system models.
    """

    system: KnownSystem
    source: str
    equation: str
    params: Params
    formula: Formula
    chaotic: bool
    description: str

    @property
    def name(self) -> str:
        """The system's identifier (also what the split hashes)."""
        return self.system.name

    @property
    def polynomial(self) -> bool:
        """True when the right-hand side is a polynomial in the states (its terms are known)."""
        return self.system.polynomial

    @property
    def degree(self) -> int:
        """Highest total degree of the true polynomial terms (0 for non-polynomial systems)."""
        if not self.polynomial:
            return 0
        return max(
            sum(int(f.split("^")[1]) if "^" in f else 1 for f in term.split() if term != "1")
            for terms in self.system.terms.values()
            for term in terms
        )

    def rhs(self, _t: float, x: np.ndarray) -> np.ndarray:
        """The published formula as f(t, x) (d,) for scipy's ``solve_ivp``."""
        return np.asarray(self.formula(np.asarray(x, dtype=float), self.params), dtype=float)


def corpus_half(name: str) -> str:
    """The half a system belongs to: ``"tuning"`` or ``"validation"``, from the SHA-256 of its name."""
    return "tuning" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "validation"


def published_system(
    name: str,
    description: str,
    source: str,
    equation: str,
    params: Params,
    formula: Formula,
    x0: tuple[float, ...],
    x0_alt: tuple[float, ...],
    terms: Callable[[Params], Terms] | None = None,
    chaotic: bool = False,
    t_end: float = 10.0,
) -> PublishedSystem:
    """One corpus entry; states are named ``x, y, z, w``; ``terms`` maps the parameters to polynomial terms.

    A polynomial system (``terms`` given) simulates its terms, so one object serves simulation
    and structure scoring; a non-polynomial one simulates ``formula``. ``t_end`` is the span of a
    record in the system's own time unit.
    """
    names = STATE_NAMES[: len(x0)]
    entry = PublishedSystem(
        system=KnownSystem(name=name, names=names, x0=x0, t_end=t_end, x0_alt=x0_alt),
        source=source,
        equation=equation,
        params=params,
        formula=formula,
        chaotic=chaotic,
        description=description,
    )
    truth = KnownSystem(
        name=name,
        names=names,
        x0=x0,
        t_end=t_end,
        terms=terms(params) if terms is not None else {},
        rhs=None if terms is not None else entry.rhs,
        x0_alt=x0_alt,
    )
    return PublishedSystem(truth, source, equation, params, formula, chaotic, description)


def sigmoid(v: np.ndarray | float) -> np.ndarray | float:
    """1 / (1 + exp(v))."""
    return 1.0 / (1.0 + np.exp(v))
