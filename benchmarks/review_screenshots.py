"""Screenshots of what a reviewer sees in the MLflow UI (issue 17): a run page, the compare view of two runs, the
logged model's page and its experiment's Models tab, and the discovery and sensitivity ``report.html``.

Starts a real ``mlflow server`` on a temporary store, runs the exp_decay discovery twice into it (the first
registers its model under an alias) and the diabetes-model sensitivity (a tree model; fewer samples than
configs/diabetes_model.yaml), and photographs the pages with headless Chromium::

    python benchmarks/review_screenshots.py [output folder, default benchmarks/results/screenshots]

Prints the PNG paths; look at them (they are evidence, not numbers).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--window-size=1500,1900", "--virtual-time-budget=20000",
)  # fmt: skip


def screenshot(url: str, target: Path) -> Path:
    """A PNG of ``url`` rendered by headless Chromium (a fresh profile each time)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("no Chromium found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={target}", url],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    return target


def _config(folder: Path, name: str, register: bool) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "exp_decay.yaml").read_text())
    raw["data"]["path"] = str((ROOT / "data" / "exp_decay.csv").resolve())
    raw["tracking"] = {"register_as": "exp-decay", "alias": "champion"} if register else {"log_model": False}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _sensitivity_config(folder: Path) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "diabetes_model.yaml").read_text())
    raw["model"]["n_samples"] = 1024
    raw["indices"]["n_base"] = 512
    path = folder / "diabetes.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _report(uri: str, run_id: str, folder: Path) -> str:
    """A run's report.html, downloaded (the server sends artifacts as plain text): its file:// URL."""
    from mlflow.tracking import MlflowClient

    folder.mkdir(parents=True, exist_ok=True)
    return Path(MlflowClient(uri).download_artifacts(run_id, "report.html", str(folder))).resolve().as_uri()


def _model_id(uri: str) -> str:
    """The logged model behind the alias the first run registered (``exp-decay@champion``)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri).get_model_version_by_alias("exp-decay", "champion").source.removeprefix("models:/")


def main(out: Path) -> list[Path]:
    """Run twice into a fresh server, then photograph the run page and the compare view."""
    work = Path(tempfile.mkdtemp(prefix="deltaflow-review-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect"))
    from flows.local_stack import start_mlflow_server, stop_process

    process, uri = start_mlflow_server(work / "mlflow")
    try:
        os.environ["MLFLOW_TRACKING_URI"] = uri
        from flows import discover_equations

        first = discover_equations(_config(work, "first", register=True))
        second = discover_equations(_config(work, "second", register=False))
        from flows import analyze_sensitivity

        sensitivity = analyze_sensitivity(_sensitivity_config(work))
        reports = work / "reports"
        reports.mkdir()
        out.mkdir(parents=True, exist_ok=True)
        experiment = first.experiment_id
        runs = json.dumps([first.mlflow_run_id, second.mlflow_run_id])
        # MLflow 3.17's UI picks its layout from ?workflowType= (or a browser preference, default GenAI)
        # before the experiment's mlflow.experimentKind tag: links to deltaflow runs carry it.
        classic = "workflowType=machine_learning"
        pages = {
            "run_page.png": f"{uri}/#/experiments/{experiment}/runs/{first.mlflow_run_id}?{classic}",
            "compare_runs.png": f'{uri}/#/compare-runs?runs={runs}&experiments=["{experiment}"]&{classic}',
            "experiment_runs.png": f"{uri}/#/experiments/{experiment}/runs?{classic}",
            "run_page_default_layout.png": f"{uri}/#/experiments/{experiment}/runs/{first.mlflow_run_id}",
            "logged_model_page.png": f"{uri}/#/experiments/{experiment}/models/{_model_id(uri)}?{classic}",
            "experiment_models.png": f"{uri}/#/experiments/{experiment}/models?{classic}",
            "sensitivity_run_page.png": f"{uri}/#/experiments/{sensitivity.experiment_id}/runs/"
            f"{sensitivity.mlflow_run_id}?{classic}",
            "discovery_report.png": _report(uri, first.mlflow_run_id, reports / "discovery"),
            "sensitivity_report.png": _report(uri, sensitivity.mlflow_run_id, reports / "sensitivity"),
        }
        return [screenshot(url, out / name) for name, url in pages.items()]
    finally:
        stop_process(process)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "benchmarks" / "results" / "screenshots"
    for path in main(target):
        print(path)
