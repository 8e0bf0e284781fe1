"""Unit scaling: fit in units where every state has RMS 1, and map the model back exactly.

Nothing in discovery then depends on the data's units (thresholds, tolerances, divergence
checks). Polynomial coefficients map back exactly: a model fitted on x / s has
c_ik → c_ik s_i / Π_j s_j^p_kj. Function terms (sin x, e^x) are not unit-covariant, so they
take their arguments in the data's own units (:attr:`Library.argument_scale`): f(x_j) keeps its
value, and its coefficient maps back as c_ik → c_ik s_i (x_k · f(x_j): c_ik s_i / s_k).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.differentiation import DerivativeResult
from pipeline.discovery.result import DiscoveryResult
from pipeline.discovery.trajectories import Trajectories
from pipeline.errors import DiscoveryError

__all__ = ["UnitScaling", "fit_scaling", "state_scale"]


def state_scale(xs: Sequence[np.ndarray]) -> np.ndarray:
    """RMS of each state over all trajectories, (d,); 1 for an all-zero state."""
    rms = np.sqrt(np.mean(np.vstack(xs) ** 2, axis=0))
    return np.where(rms > 0, rms, 1.0)


@dataclass(frozen=True)
class UnitScaling:
    """Per-state and per-input factors: fitting units are the data's units divided by them.

    Attributes:
        states: (d,) factors of the states.
        inputs: (m,) factors of the known inputs.
    """

    states: np.ndarray
    inputs: np.ndarray

    def variables(self) -> np.ndarray:
        """The factors of the library's variables, states then inputs, (d + m,)."""
        return np.concatenate([self.states, self.inputs])

    def apply(
        self, data: Trajectories, derivatives: Sequence[DerivativeResult]
    ) -> tuple[Trajectories, list[DerivativeResult]]:
        """The trajectories and their derivatives in fitting units."""
        s = self.states
        scaled = [
            replace(r, smoothed=r.smoothed / s, first=r.first / s, second=r.second / s, noise_sd=r.noise_sd / s)
            for r in derivatives
        ]
        us = None if data.us is None else [ui / self.inputs for ui in data.us]
        return replace(data, xs=[xi / s for xi in data.xs], us=us), scaled

    def restore(self, result: DiscoveryResult) -> DiscoveryResult:
        """The result in the data's units: coefficients, intervals, Pareto errors and noise levels."""
        scale = self.states
        library = replace(result.library, argument_scale=None)
        if np.all(scale == 1.0) and np.all(self.inputs == 1.0):
            return replace(result, library=library)
        every = self.variables()
        function_scale = [every[term[2]] if len(term) == 3 else 1.0 for term in library.functions]
        with np.errstate(over="ignore", under="ignore", divide="ignore"):  # extreme units: checked below
            term_scale = np.concatenate([np.prod(every[None, :] ** library.powers, axis=1), function_scale])
            factor = scale[:, None] / term_scale[None, :]
        coefficients = _in_data_units(result.coefficients, factor, library.feature_names())
        position = {name: i for i, name in enumerate(result.names)}
        pareto = [
            {**row, "cv_mse": row["cv_mse"] * scale[position[row["state"]]] ** 2,
             "cv_se": row["cv_se"] * scale[position[row["state"]]] ** 2}
            for row in result.pareto
        ]  # fmt: skip
        metrics = dict(result.metrics)
        for i, name in enumerate(result.names):
            if f"noise_sd.{name}" in metrics:
                metrics[f"noise_sd.{name}"] *= float(scale[i])
        return replace(
            result,
            library=library,
            coefficients=coefficients,
            intervals=None if result.intervals is None else _in_data_units(result.intervals, factor[..., None]),
            pareto=pareto,
            metrics=metrics,
            chosen={**result.chosen, "state_scale": [float(v) for v in scale]},
        )


def _in_data_units(values: np.ndarray, factor: np.ndarray, terms: Sequence[str] | None = None) -> np.ndarray:
    """``values`` (coefficients (d, p) or intervals (d, p, 2)) times ``factor``, zeros kept zero: with states of
    extreme size (RMS 1e-120) the factor of an unused cubic term overflows, and 0 x inf must not make it NaN.

    Raises:
        DiscoveryError: with the library's ``terms`` (coefficients), a term the model uses has no finite
            coefficient in the data's units.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(values != 0, values * factor, 0.0)
    broken = np.argwhere(~np.isfinite(out) & np.isfinite(values)) if terms is not None else []
    if len(broken):
        k = int(broken[0][1])
        raise DiscoveryError(
            f"the term {terms[k]!r} of the model has no finite coefficient in the data's units: the states' sizes"
            " are too extreme for floating point at this polynomial degree; rescale the data (e.g. to values between"
            " 1e-50 and 1e50)"
        )
    return out


def fit_scaling(data: Trajectories) -> UnitScaling:
    """RMS scaling of the states and the inputs."""
    inputs = state_scale(data.us) if data.us is not None else np.ones(len(data.controls))
    return UnitScaling(state_scale(data.xs), inputs)
