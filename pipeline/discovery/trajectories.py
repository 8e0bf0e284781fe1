"""The data discovery works on: trajectories of states, with their names and known inputs, validated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.data import validate_timeseries
from pipeline.errors import DataError

__all__ = ["Trajectories", "as_trajectories"]


@dataclass(frozen=True)
class Trajectories:
    """One or several trajectories of the same d states (and m known inputs).

    Attributes:
        ts: times per trajectory, (n_k,).
        xs: observed states per trajectory, (n_k, d).
        names: the d state names.
        us: known inputs per trajectory, (n_k, m), or None.
        controls: the m input names (empty without inputs).
    """

    ts: list[np.ndarray]
    xs: list[np.ndarray]
    names: tuple[str, ...]
    us: list[np.ndarray] | None = None
    controls: tuple[str, ...] = ()

    @property
    def d(self) -> int:
        """Number of states."""
        return self.xs[0].shape[1]

    @property
    def lengths(self) -> list[int]:
        """Samples per trajectory."""
        return [x.shape[0] for x in self.xs]

    def stacked(self) -> np.ndarray:
        """All observed states, trajectories one after the other, (Σ n_k, d)."""
        return np.vstack(self.xs)


def _float_arrays(value: object, name: str) -> list[np.ndarray]:
    """``value`` as float arrays, one per trajectory (a list or tuple holds several).

    Raises:
        DataError: ``value`` is not numbers (a method not called, text), naming ``name``."""
    if callable(value):
        raise DataError(f"{name} is a function or method, not data (call it: e.g. series.{name}_list())")
    try:
        if isinstance(value, (list, tuple)):
            return [np.asarray(item, dtype=float) for item in value]
        return [np.asarray(value, dtype=float)]
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{name} must hold numbers: an array, or a list of arrays, one per trajectory"
            f" ({' '.join(str(exc).split())})"
        ) from None


def _one_trajectory(value: object, n: int | None = None) -> object:
    """``value`` as one array when a list or tuple holds one trajectory's values rather than one array per
    trajectory: numbers (a column's ``tolist()``), or, given the times' count ``n``, ``n`` rows of numbers (a table's
    ``tolist()``); else ``value`` unchanged."""
    if not isinstance(value, (list, tuple)) or not value:
        return value
    numbers = all(np.ndim(item) == 0 for item in value)
    rows = n is not None and len(value) == n > 1 and all(np.ndim(item) == 1 for item in value)
    if not (numbers or rows):
        return value
    try:
        return np.asarray(value)
    except ValueError:  # rows of different lengths: left to the per-trajectory checks
        return value


def _as_lists(t: object, x: object) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ts = _float_arrays(t, "t")
    n = ts[0].shape[0] if len(ts) == 1 and ts[0].ndim == 1 else None
    xs = _float_arrays(_one_trajectory(x, n), "x")
    if len(ts) != len(xs):
        raise DataError(f"got {len(ts)} time arrays but {len(xs)} state arrays; pass one per trajectory")
    xs = [xi[:, None] if xi.ndim == 1 else xi for xi in xs]
    dims = {xi.shape[1] for xi in xs if xi.ndim == 2}
    if any(xi.ndim != 2 for xi in xs) or len(dims) != 1:
        raise DataError(f"every trajectory must have shape (n, d) with the same d; got {[xi.shape for xi in xs]}")
    return ts, xs


def _names(given: Sequence[str] | None, argument: str, prefix: str, count: int) -> tuple[str, ...]:
    """The names ``given`` as a tuple, or ``<prefix>0, <prefix>1, ...`` for ``count`` columns when None.

    Raises:
        DataError: a single string where a list of names belongs (it would be split into letters)."""
    if given is None:
        return tuple(f"{prefix}{k}" for k in range(count))
    if isinstance(given, str):
        raise DataError(f"{argument} must be a list of {count} names, one per column; got the string {given!r}")
    return tuple(given)


def _controls(
    ts: list[np.ndarray], u: object, control_names: Sequence[str] | None, names: tuple[str, ...]
) -> tuple[list[np.ndarray] | None, tuple[str, ...]]:
    """Known inputs per trajectory, validated against the times, and their names."""
    if u is None:
        return None, ()
    n = ts[0].shape[0] if len(ts) == 1 else None
    us = [ui[:, None] if ui.ndim == 1 else ui for ui in _float_arrays(_one_trajectory(u, n), "u")]
    if len(us) != len(ts) or any(ui.ndim != 2 or ui.shape[0] != ti.shape[0] for ui, ti in zip(us, ts)):
        raise DataError(f"u must give (n, m) inputs per trajectory matching the times; got {[ui.shape for ui in us]}")
    m = us[0].shape[1]
    if any(ui.shape[1] != m for ui in us):
        raise DataError("every trajectory must have the same number of inputs")
    controls = _names(control_names, "control_names", "u", m)
    if len(controls) != m or set(controls) & set(names):
        raise DataError(f"control_names {list(controls)} must name the {m} inputs and differ from the states")
    for k, ui in enumerate(us):
        bad = np.argwhere(~np.isfinite(ui))
        if bad.size:
            raise DataError(
                f"input '{controls[bad[0][1]]}' has a non-finite value at 0-based row {bad[0][0]} of trajectory {k}"
            )
    for j, name in enumerate(controls):
        if np.ptp(np.concatenate([ui[:, j] for ui in us])) == 0.0:
            raise DataError(f"input '{name}' is constant ({us[0][0, j]}) in every trajectory; a known input must vary")
    return us, controls


def as_trajectories(
    t: np.ndarray | Sequence[np.ndarray],
    x: np.ndarray | Sequence[np.ndarray],
    feature_names: Sequence[str] | None = None,
    u: np.ndarray | Sequence[np.ndarray] | None = None,
    control_names: Sequence[str] | None = None,
) -> Trajectories:
    """Validated trajectories from arrays or lists of arrays (one per trajectory).

    Raises:
        DataError: inconsistent shapes, names or inputs; non-finite, unordered or too few samples.
    """
    t = _one_trajectory(t)
    ts, xs = _as_lists(t, x)
    for k, (ti, xi) in enumerate(zip(ts, xs)):
        if ti.ndim == 1 and xi.shape[0] != ti.shape[0] == xi.shape[1]:
            raise DataError(
                f"trajectory {k}: x has shape {xi.shape}, expected ({ti.shape[0]}, d): one row per time and one column"
                " per state; it looks transposed (pass x.T)"
            )
    d = xs[0].shape[1]
    if d == 0:
        raise DataError(f"x has shape {xs[0].shape}: no state columns; expected at least one (n, d >= 1)")
    names = _names(feature_names, "feature_names", "x", d)
    if len(names) != d:
        raise DataError(f"feature_names has {len(names)} names for {d} state columns")
    several = "; if the arrays hold several trajectories, pass one array per trajectory in lists (TimeSeries.t_list())"
    hint = "" if isinstance(t, (list, tuple)) else several
    for k, (ti, xi) in enumerate(zip(ts, xs)):
        validate_timeseries(ti, xi, names, f"trajectory {k}", order_hint=hint)
    us, controls = _controls(ts, u, control_names, names)
    return Trajectories(ts, xs, names, us, controls)
