"""How many terms a polynomial library has, and whether the data have samples enough to fit it.

Kept apart from :mod:`pipeline.discovery.design` (which imports pysindy) so that the CLI's input check can ask
before anything heavy is imported.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pipeline.errors import DataError

if TYPE_CHECKING:
    from pipeline.config import LibraryConfig
    from pipeline.data import TimeSeries

__all__ = ["check_library_samples", "polynomial_terms", "too_few_samples"]


def polynomial_terms(degree: int, n_variables: int, include_bias: bool = True) -> int:
    """How many monomials of degree ≤ ``degree`` in ``n_variables`` variables (without 1 unless ``include_bias``)."""
    return math.comb(n_variables + degree, degree) - (0 if include_bias else 1)


def too_few_samples(p: int, n: int, *, lower_degree: bool, drop_functions: bool) -> str:
    """The message for a library of ``p`` terms on ``n`` samples, fewer than the p + 2 a fit with residual degrees
    of freedom needs, with the remedies that apply: a lower degree (when it is above 1), no function terms (when
    there are some), more data."""
    remedies = ["lower discovery.library.degree (or max_degree)"] * lower_degree
    remedies += ["drop function terms (discovery.library.functions: [])"] * drop_functions
    advice = " or ".join([*remedies, "provide more data"])
    return f"the library has {p} terms, which needs at least {p + 2} samples, and there are {n}; {advice}"


def check_library_samples(series: TimeSeries, spec: LibraryConfig) -> None:
    """Check, before anything runs, that ``series`` has samples enough for the smallest library ``spec`` allows:
    the polynomials of degree ``spec.degree`` (of degree 1 when the degree is chosen) over states and inputs.

    Raises:
        DataError: naming the file, the samples it has and the samples that library needs.
    """
    n_variables = series.n_states + (0 if series.u is None else series.u.shape[1])
    degree = spec.degree or 1
    p = polynomial_terms(degree, n_variables, spec.include_bias)
    if series.n_samples <= p + 1:
        message = too_few_samples(p, series.n_samples, lower_degree=degree > 1, drop_functions=False)
        raise DataError(f"{series.source}: {message}")
