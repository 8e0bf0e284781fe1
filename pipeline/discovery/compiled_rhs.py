"""A discovered model's right-hand side as machine code: one numba kernel, compiled once, evaluates every model.

An ODE solver calls the right-hand side ~1e3 times per simulation and discovery simulates hundreds of models,
so the call's overhead decides the cost of judging them: the numpy evaluator this replaced spent 5-11 µs per
call on a polynomial model and 23-36 µs on one with function terms (a dozen small-array operations), this kernel
2-8 µs on the same (``benchmarks/results/rhs_speed.md``). A model is not compiled: its terms are data (exponents,
family codes, columns, scales) that the one kernel reads, so a new model costs nothing to build. The kernel is
compiled when this module is imported: loaded from numba's disk cache (~0.5 s with numba's import; next to this
file, or in numba's user-wide cache), or compiled (~2 s) the first time and where no cache can be written.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numba
import numpy as np

from pipeline.discovery.library import FAMILIES, FOURIER_MAX, Library

__all__ = ["FAMILY_CODES", "compile_model"]

FAMILY_CODES: dict[str, tuple[int, float]] = {
    "sin": (1, 1.0),
    "cos": (2, 1.0),
    "exp": (3, 1.0),
    "inverse": (4, 1.0),
    "log": (5, 1.0),
    "saturation": (6, 1.0),
    "hill": (7, 1.0),
    "inhibition": (8, 1.0),
    "sigmoid": (9, 1.0),
    **{f"{wave}{k}": (code, float(k)) for wave, code in (("sin", 1), ("cos", 2)) for k in range(2, FOURIER_MAX + 1)},
}
"""Each family of :data:`~pipeline.discovery.library.FAMILIES` as (the kernel's code, a harmonic factor k):
sin(k v) is the sine of k v, so a harmonic is the sine or cosine with its argument multiplied by k."""
if set(FAMILY_CODES) != set(FAMILIES):  # a family added to the library must be added to the kernel too
    raise ImportError(f"the compiled right-hand side lacks families {sorted(set(FAMILIES) - set(FAMILY_CODES))}")


def _family_value(code: int, v: float) -> float:
    """Family ``code`` of :data:`FAMILY_CODES` at the argument v, with numpy's values at poles and outside domains
    (1/0 = inf, log 0 = -inf, log of a negative = nan)."""
    if code == 1:
        return math.sin(v)
    if code == 2:
        return math.cos(v)
    if code == 3:
        return math.exp(v)
    if code == 4:
        return 1.0 / v
    if code == 5:
        return math.log(v) if v > 0.0 else (-math.inf if v == 0.0 else math.nan)
    if code == 6:
        return v / (1.0 + v)
    if code == 7:
        return v * v / (1.0 + v * v)
    if code == 8:
        return v / (1.0 + v * v)
    return 0.5 * (1.0 + math.tanh(0.5 * v))  # the logistic, as the library computes it


def _monomial_value(state: np.ndarray, exponents: np.ndarray) -> float:
    """prod_j state[j] ** exponents[j] for any real exponents (the general path: negative or fractional powers)."""
    value = 1.0
    for j in range(exponents.shape[0]):
        if exponents[j] != 0.0:
            value *= state[j] ** exponents[j]
    return value


def _evaluate(
    states: np.ndarray,
    powers: np.ndarray,
    orders: np.ndarray,
    codes: np.ndarray,
    columns: np.ndarray,
    scales: np.ndarray,
    offsets: np.ndarray,
    factors: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """sum_k weights[k, i] · term_k(states[b]) for states (B, d_all) → (B, d_out). The monomials ``powers``
    (p_m, d_all) come first in ``weights`` (p_m + p_f, d_out); when their exponents are non-negative integers,
    ``orders`` holds them as int64 (p_m, d_all) and each monomial is a product of d_all entries of a table of the
    state's powers x_j^0 .. x_j^max (exact, no branch); else ``orders`` is empty and the general power is used.
    Then the function terms, each f_code(scales · x_column − offsets), times x_factor when factors >= 0."""
    n_monomials, d_all = powers.shape
    tabled = orders.shape[0] == n_monomials and n_monomials > 0
    highest = orders.max() if tabled else 0
    table = np.ones((d_all, highest + 1))
    out = np.zeros((states.shape[0], weights.shape[1]))
    for b in range(states.shape[0]):
        state = states[b]
        for j in range(d_all):
            for e in range(1, highest + 1):
                table[j, e] = table[j, e - 1] * state[j]
        for k in range(n_monomials):
            if tabled:
                value = 1.0
                for j in range(d_all):
                    value *= table[j, orders[k, j]]
            else:
                value = _monomial_value(state, powers[k])
            for i in range(weights.shape[1]):
                out[b, i] += weights[k, i] * value
        for f in range(codes.shape[0]):
            value = _family_value(codes[f], state[columns[f]] * scales[f] - offsets[f])
            if factors[f] >= 0:
                value *= state[factors[f]]
            for i in range(weights.shape[1]):
                out[b, i] += weights[n_monomials + f, i] * value
    return out


def _machine_code(function, signature: str):  # noqa: ANN001, ANN202 (numba's dispatcher has no useful type)
    """``function`` compiled now for ``signature`` (so no call compiles later, and a caller's wrong array type is a
    TypeError), in nopython mode with numpy's inf and nan at poles (not ZeroDivisionError); loaded from numba's
    disk cache when it has a writable place for one, else compiled in each process."""
    try:
        return numba.njit(signature, nogil=True, error_model="numpy", cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(signature, nogil=True, error_model="numpy")(function)


_family_value = _machine_code(_family_value, "float64(int64, float64)")
_monomial_value = _machine_code(_monomial_value, "float64(float64[::1], float64[::1])")
_kernel = _machine_code(
    _evaluate,
    "float64[:, ::1](float64[:, ::1], float64[:, ::1], int64[:, ::1], int64[::1], int64[::1], float64[::1], "
    "float64[::1], int64[::1], float64[:, ::1])",
)


def compile_model(coefficients: np.ndarray, library: Library) -> Callable[[np.ndarray], np.ndarray]:
    """The model dx/dt = coefficients (d, p) @ theta(x) over ``library`` as a function of states (B, d_all) →
    (B, d): the kernel with the model's arrays bound (terms no equation uses left out). The states hold the
    library's states, then any control inputs."""
    active = np.flatnonzero(np.any(coefficients != 0.0, axis=0))
    n_powers = library.powers.shape[0]
    monomials = active[active < n_powers]
    functions = [int(k - n_powers) for k in active if k >= n_powers]
    scale = np.ones(len(library.names)) if library.argument_scale is None else np.asarray(library.argument_scale)
    offsets = library.term_offsets()  # r c per function term, 0 where uncentered
    codes, columns, scales, shifts, factors = [], [], [], [], []
    for k in functions:
        family, column, *multiplier = library.functions[k]
        code, harmonic = FAMILY_CODES[family]
        codes.append(code)
        columns.append(column)
        scales.append(harmonic * float(scale[column]) * library.rate(k))  # f(k (s r x − r c)) as f(S x − O)
        shifts.append(harmonic * float(offsets[k]))
        factors.append(multiplier[0] if multiplier else -1)
    order = np.concatenate([monomials, n_powers + np.array(functions, dtype=int)])  # the weights' rows
    powers = np.ascontiguousarray(library.powers[monomials], dtype=float)
    integer = np.all(powers >= 0.0) and np.all(powers == np.round(powers))
    arrays = (
        powers,
        powers.astype(np.int64) if integer else np.zeros((0, powers.shape[1]), dtype=np.int64),
        np.array(codes, dtype=np.int64),
        np.array(columns, dtype=np.int64),
        np.array(scales, dtype=float),
        np.array(shifts, dtype=float),
        np.array(factors, dtype=np.int64),
        np.ascontiguousarray(coefficients[:, order].T),
    )
    return lambda states: _kernel(np.ascontiguousarray(states, dtype=float), *arrays)
