"""Example models for sensitivity analysis: train, log and register them in the MLflow store.

python -m flows.examples diabetes                # registers the model 'diabetes-regressor'
python -m flows run configs/diabetes_model.yaml  # analyses it by its model URI
"""

from __future__ import annotations

import sys
import warnings

from flows.settings import apply_environment_defaults, tracking_uri

__all__ = ["DIABETES_MODEL", "train_diabetes_model"]

DIABETES_MODEL = "diabetes-regressor"


def train_diabetes_model(register_as: str = DIABETES_MODEL, experiment: str = "example-models") -> str:
    """Fit a gradient-boosting regressor on scikit-learn's bundled diabetes data, log and register it.

    Returns:
        The registered model's URI, ``models:/<name>/<version>``.
    """
    import mlflow
    import skops.io
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor

    apply_environment_defaults()
    data = load_diabetes(as_frame=True)
    model = GradientBoostingRegressor(n_estimators=300, max_depth=3, learning_rate=0.05, random_state=0)
    model.fit(data.data, data.target)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="diabetes gradient boosting"), warnings.catch_warnings():
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
    return f"models:/{register_as}/{info.registered_model_version}"


if __name__ == "__main__":
    if sys.argv[1:] != ["diabetes"]:
        sys.exit("usage: python -m flows.examples diabetes")
    print(train_diabetes_model())
