"""The files of a logged discovery model: an ``mlflow.pyfunc`` model "from code", saved to a local folder.

``flows/pyfunc_model.py`` is the model's code; it loads the discovered ODE from the model's ``model.json``
artifact and imports the ``pipeline`` modules it needs from the ``pipeline.zip`` artifact
(:func:`flows.model_code.model_code_archive`), so the model loads and runs from any working directory. It
carries a signature and an input example (one row of the states, and controls, at 1.0) and the core's own
dependencies pinned as installed here.
"""

from __future__ import annotations

import functools
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

from flows.model_code import model_code_archive

__all__ = ["model_requirements", "save_discovered_model"]

_WRAPPER = Path(__file__).resolve().parent / "pyfunc_model.py"


@functools.cache
def model_requirements() -> tuple[str, ...]:
    """Pinned requirements of a logged model: the core's own dependencies as installed here (read once per
    process: each ``metadata.version`` parses a package's METADATA file, about 10 ms apiece)."""
    from importlib import metadata

    pins = []
    for name in ("numpy", "scipy", "scikit-learn", "pandas", "pysindy", "pydantic", "pyyaml", "matplotlib", "mlflow"):
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return tuple(pins)


def save_discovered_model(path: Path, result: Any, model: Any) -> None:
    """Save the discovery ``result`` (a ``DiscoveryResult``) as a pyfunc model in the new folder ``path``.

    ``model`` is the MLflow ``Model`` (MLmodel) to fill: it names the logged model and run the files belong to.
    """
    import mlflow.pyfunc
    import pandas as pd
    from mlflow.models import infer_signature

    names = list(result.names)
    inputs = names + list(getattr(result, "controls", ()))
    example = pd.DataFrame([[1.0] * len(inputs)], columns=inputs)
    output = pd.DataFrame({f"d{n}/dt": [0.0] for n in names})
    # t's default has one time: a simulation asked for without times is refused (with [0, 1] it ran over [0, 1])
    signature = infer_signature(example, output, params={"simulate": False, "t": [0.0]})
    with tempfile.TemporaryDirectory(prefix="deltaflow-model-json-") as folder:
        model_json = Path(folder) / "model.json"
        model_json.write_text(json.dumps(result.to_dict()), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # MLflow nags about type hints; the signature is explicit
            mlflow.pyfunc.save_model(
                path=str(path),
                mlflow_model=model,
                python_model=str(_WRAPPER),
                artifacts={"model": str(model_json), "code": model_code_archive()},
                signature=signature,
                input_example=example,
                pip_requirements=list(model_requirements()),
            )
