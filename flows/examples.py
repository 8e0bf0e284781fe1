"""Example models for sensitivity analysis: train, log and register them in the MLflow store.

python -m flows.examples diabetes                # registers the model 'diabetes-regressor'
python -m flows run configs/diabetes_model.yaml  # analyses it by its model URI
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

from flows.settings import apply_environment_defaults, tracking_uri
from pipeline.errors import ModelError

__all__ = ["DIABETES_MODEL", "EXAMPLES", "example_of", "load_model_or_example", "train_diabetes_model"]

DIABETES_MODEL = "diabetes-regressor"


def train_diabetes_model(
    register_as: str = DIABETES_MODEL, experiment: str = "example-models", uri: str | None = None
) -> str:
    """Fit a gradient-boosting regressor on scikit-learn's bundled diabetes data, log and register it.

    Returns:
        The registered model's URI by its alias, ``models:/<name>@champion`` (moved to each new version).
    """
    import mlflow
    import skops.io
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor

    from flows.tracking import Tracker

    apply_environment_defaults()
    data = load_diabetes(as_frame=True)
    model = GradientBoostingRegressor(n_estimators=300, max_depth=3, learning_rate=0.05, random_state=0)
    model.fit(data.data, data.target)
    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # The experiment by id, not mlflow.set_experiment: that would stay the process's active experiment and
    # clash with the runs deltaflow reopens by id afterwards (a batch trains this model between its items).
    experiment_id = Tracker(uri).ensure_experiment(experiment)
    with (
        mlflow.start_run(experiment_id=experiment_id, run_name="diabetes gradient boosting"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        mlflow.log_params({"n_estimators": 300, "max_depth": 3, "learning_rate": 0.05})
        mlflow.log_metric("train_r2", float(model.score(data.data, data.target)))
        # skops (MLflow's safe default format) loads only listed types: we trust the ones of the model we just built
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=data.data.iloc[:3],
            registered_model_name=register_as,
            skops_trusted_types=trusted,
        )
    mlflow.MlflowClient(uri).set_registered_model_alias(register_as, "champion", str(info.registered_model_version))
    return f"models:/{register_as}@champion"


EXAMPLES: dict[str, tuple[str, Callable[..., str]]] = {"diabetes": (DIABETES_MODEL, train_diabetes_model)}
"""Bundled example models: config name -> (registered model name, function that trains and registers it)."""


def example_of(source: Any) -> tuple[str, Callable[..., str]] | None:
    """(registered name, trainer) of the bundled example ``source.example`` names, when ``source.uri`` uses that
    registered name; else None."""
    registered, train = EXAMPLES.get(source.example, ("", None))
    if train is None or not source.uri.startswith((f"models:/{registered}/", f"models:/{registered}@")):
        return None
    return registered, train


def load_model_or_example(tracker: Any, source: Any) -> Any:
    """Load ``source.uri``; if it names no model yet and ``source.example`` names a bundled example whose
    registered name the URI uses, train and register that example first, then load it.

    Raises:
        ModelError: the model cannot be loaded (and no example applies), naming the URI.
    """
    try:
        return tracker.load_model(source.uri)
    except ModelError:
        example = example_of(source)
        if example is None:
            raise
    registered, train = example
    train(register_as=registered, uri=tracker.uri or None)
    return tracker.load_model(source.uri)


if __name__ == "__main__":
    if sys.argv[1:] != ["diabetes"]:
        sys.exit("usage: python -m flows.examples diabetes")
    print(train_diabetes_model())
