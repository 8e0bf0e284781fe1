"""The MLflow pyfunc wrapper of a discovered ODE ("models from code": MLflow runs this file).

Loaded with ``mlflow.pyfunc.load_model(uri)`` from any working directory: the model
carries this file, the ``pipeline`` modules it imports (one zip archive, ``artifacts/pipeline.zip``, put on
``sys.path`` below) and the model's JSON.

- ``predict(frame_of_states)`` returns the right-hand side, one ``d<state>/dt`` column per state (row by row: a
  row with a missing state, NaN, gets NaN derivatives, as numpy arithmetic gives);
- ``predict(frame, params={"simulate": True, "t": [...]})`` integrates from the frame's first
  row over ``t`` and returns ``t`` and the states.

This file imports only mlflow, numpy, pandas and the pure ``pipeline`` core: loading a
model needs no Prefect and touches nothing in the working directory.
"""

# ruff: noqa: E402 - the imports follow the line that puts the model's code archive on sys.path
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# the model's own copy of the pipeline modules it needs (flows.model_code): a zip archive beside this file once logged
_CODE = Path(__file__).resolve().parent / "artifacts" / "pipeline.zip"
if _CODE.is_file() and str(_CODE) not in sys.path:
    sys.path.insert(0, str(_CODE))

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from pipeline.discovery.result import DiscoveryResult
from pipeline.errors import DataError


class DiscoveredODE(PythonModel):
    """dx/dt = f(x) as an MLflow model."""

    _skip_type_hint_validation = True  # input is a DataFrame of states, described by the logged signature

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["model"], encoding="utf-8") as handle:
            self.result = DiscoveryResult.from_dict(json.load(handle))

    def predict(self, context, model_input, params=None):  # noqa: ANN001, ANN201 - MLflow reads hints as a schema
        """Derivatives at the rows' states, or (``params["simulate"]``) a trajectory over ``params["t"]``."""
        params = params or {}
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        names = list(self.result.names)
        if params.get("simulate") and frame.empty:
            raise DataError(f"model input has no rows; to simulate, give the start state {names} in the first row")
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise DataError(f"model input lacks state column(s) {missing}; expected {names}")
        x = frame[names].to_numpy(dtype=float)
        controls = list(self.result.controls)
        absent = [c for c in controls if c not in frame.columns]
        if absent:
            raise DataError(f"model input lacks input column(s) {absent}; this model uses {controls}")
        u = frame[controls].to_numpy(dtype=float) if controls else None
        if params.get("simulate"):
            t = np.asarray(params.get("t") or [], dtype=float)
            if t.ndim != 1 or t.shape[0] < 2:
                raise DataError(
                    "params['t'] must list at least two increasing times to simulate (the first is the start row's),"
                    f" in the data's time unit; got {t.tolist()}"
                )
            steps = np.diff(t)
            if not np.all(np.isfinite(t)) or not np.all(steps > 0):
                k = int(np.argmax(~np.isfinite(t[1:]) | ~(steps > 0))) + 1
                raise DataError(
                    f"params['t'] must be finite, strictly increasing times from the start state; entry {k} "
                    f"({float(t[k])!r}) follows {float(t[k - 1])!r}"
                )
            if controls and len(frame) != len(t):
                raise DataError(
                    f"to simulate a model with inputs {controls}, give one input row per time in params['t']"
                )
            if not controls and len(frame) > 1:
                raise DataError(
                    f"to simulate, give one row: the start state {names}; got {len(frame)} rows (simulate each start"
                    " in its own call)"
                )
            trajectory = self.result.simulate(x[0], t, u)
            return pd.DataFrame({"t": t, **{n: trajectory[:, j] for j, n in enumerate(names)}})
        derivatives = self.result.predict(x, u)
        return pd.DataFrame({f"d{n}/dt": derivatives[:, j] for j, n in enumerate(names)})


mlflow.models.set_model(DiscoveredODE())
