"""The sensitivity flow: samples (a table, or a model sampled over its input space) → gradients → indices → log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.examples import example_of, load_model_or_example
from flows.inputs import check_inputs, gradient_points, is_checked
from flows.kinds import resolve_config
from flows.metric_keys import file_parts
from flows.outbox import RunRecord
from flows.records import describe_run, publish, record_dataset, recorded_run, utc_stamp
from flows.runtime import deltaflow_flow, run_stage
from flows.settings import data_roots, prepare_environment
from flows.tracking import RUN_ID_MARK, Tracker, tracker_for
from pipeline.config import SensitivityConfig, at_every_sample, check_data_path
from pipeline.data import SampleTable, load_table
from pipeline.errors import ModelError
from pipeline.report import ReportHeader, render_figures, render_sensitivity_report
from pipeline.sensitivity import InputSpace, Marginal, SensitivityResult, analyze_samples, evaluate_model
from pipeline.sensitivity.plots import plot_gradients, plot_indices
from pipeline.sensitivity.verdict import sensitivity_cautions, sensitivity_headline

__all__ = ["SensitivityRun", "analyze_sensitivity"]


@dataclass(frozen=True)
class SensitivityRun:
    """What the sensitivity flow returns: the config, the result and where it was logged."""

    config: SensitivityConfig
    result: SensitivityResult
    mlflow_run_id: str | None
    experiment_id: str | None
    tracking_uri: str | None
    outbox: Path | None = None
    verdict: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()

    def summary_lines(self) -> tuple[str, ...]:
        """What a batch's summary shows for this run: the ranked indices per output."""
        return index_summary(self.result)


def _space(cfg: SensitivityConfig) -> InputSpace:
    assert cfg.model is not None
    marginals = []
    for name, spec in cfg.model.inputs.items():
        if spec.dist == "uniform":
            marginals.append(Marginal(name, "uniform", low=spec.low, high=spec.high))
        else:
            marginals.append(Marginal(name, "normal", mean=spec.mean, std=spec.std))
    return InputSpace(tuple(marginals))


def check_signature(signature: Any, names: list[str], uri: str) -> None:
    """Raise a :class:`ModelError` naming ``model.inputs`` when the model's ``signature`` (None: no check) names
    inputs and ``names`` (the config's inputs) are not exactly those."""
    schema = getattr(signature, "inputs", None)
    if schema is None or not schema.has_input_names():
        return
    expected = list(schema.input_names())
    missing, unknown = [n for n in expected if n not in names], [n for n in names if n not in expected]
    if missing or unknown:
        raise ModelError(
            f"model.inputs: the model '{uri}' takes {expected} (its signature);"
            + (f" missing {missing}" if missing else "")
            + (";" if missing and unknown else "")
            + (f" not inputs of the model: {unknown}" if unknown else "")
        )


def check_output(signature: Any, output: str | None, uri: str) -> None:
    """Raise a :class:`ModelError` naming ``model.output`` when the model's ``signature`` (None: no check) names its
    output columns and ``output`` does not pick one of them (None with several columns, or a name not among them)."""
    schema = getattr(signature, "outputs", None)
    if schema is None or not schema.has_input_names():
        return
    columns = list(schema.input_names())
    if output is None and len(columns) > 1:
        raise ModelError(f"model.output: the model '{uri}' returns columns {columns} (its signature); set model.output"
                         " to pick one")  # fmt: skip
    if output is not None and output not in columns:
        raise ModelError(f"model.output: the model '{uri}' returns no column '{output}' (its signature: {columns})")


def check_model(cfg: SensitivityConfig) -> None:
    """What can be checked of a model-sampling config before its run starts, so that a wrong URI or wrong input
    names start no MLflow run (the CLI calls it): the URI names a model in the store, and its signature, if it has
    one, takes the configured inputs and returns the configured output (or one column). A bundled example's URI is
    not checked: the run trains it on demand.

    Raises:
        ModelError: naming ``model.uri`` or ``model.inputs``.
    """
    if cfg.model is None:
        return
    if example_of(cfg.model) is not None:
        return
    info = Tracker().model_info(cfg.model.uri)
    check_signature(info.signature, list(cfg.model.inputs), cfg.model.uri)
    check_output(info.signature, cfg.model.output, cfg.model.uri)


def _check_before_run(config: Any, *args: Any, **kwargs: Any) -> None:
    """The sensitivity flow's fail-fast step when called from Python: the CLI's checks of the config's data or points
    (:func:`flows.inputs.check_inputs`) and of its model (:func:`check_model`)."""
    cfg = resolve_config(config, "sensitivity")
    if not is_checked(config):
        check_inputs(cfg)
    if cfg.model is not None:
        prepare_environment()  # MLflow's HTTP retries bounded before the model is looked up
        try:
            check_model(cfg)
        except ModelError as exc:  # named by the config file, as its other errors are
            if cfg.source_path is None or str(exc).startswith(cfg.source_path):
                raise
            raise ModelError(f"{cfg.source_path}: {exc}") from exc


class MlflowPredictor:
    """A loaded pyfunc model as a callable (m, d) -> (m,): inputs as a named DataFrame, one output picked."""

    def __init__(self, model: Any, names: list[str], output: str | None, uri: str) -> None:
        self.model, self.names, self.output, self.uri = model, names, output, uri
        check_signature(getattr(getattr(model, "metadata", None), "signature", None), names, uri)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        pred = self.model.predict(pd.DataFrame(X, columns=self.names))
        if isinstance(pred, pd.DataFrame):
            if self.output is None and pred.shape[1] != 1:
                raise ModelError(
                    f"model '{self.uri}' returns columns {list(pred.columns)}; set model.output to pick one"
                )
            if self.output is not None and self.output not in pred.columns:
                raise ModelError(f"model '{self.uri}' returns no column '{self.output}' (has {list(pred.columns)})")
            pred = pred[self.output] if self.output is not None else pred.iloc[:, 0]
        return np.asarray(pred, dtype=float)


@task(name="load-samples", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def load_samples(cfg: SensitivityConfig, tracker: Tracker) -> tuple[SampleTable, Any, InputSpace | None]:
    """The table of samples, plus the model and its input space when the source is a model."""
    if cfg.data is not None:
        return load_table(cfg.data.path, outputs=cfg.data.outputs, features=cfg.data.features), None, None
    assert cfg.model is not None
    space = _space(cfg)
    loaded = load_model_or_example(tracker, cfg.model)
    predictor = MlflowPredictor(loaded, space.names, cfg.model.output, cfg.model.uri)
    X = space.sample(cfg.model.n_samples)
    y = evaluate_model(predictor, X, name=f"model '{cfg.model.uri}'", names=space.names)
    output = cfg.model.output or "prediction"
    table = SampleTable(X=X, Y=y[:, None], features=tuple(space.names), outputs=(output,), source=cfg.model.uri)
    return table, predictor, space


@task(name="analyze", cache_policy=NO_CACHE)
def analyze(cfg: SensitivityConfig, table: SampleTable, model: Any, space: InputSpace | None) -> SensitivityResult:
    """Gradients, optional Hessians and global indices of every output."""
    logger = get_run_logger()
    at = gradient_points(cfg, list(table.features))
    return analyze_samples(
        table.X,
        table.Y,
        features=list(table.features),
        outputs=list(table.outputs),
        at=at,
        method=cfg.gradient.method,
        hessian=cfg.gradient.hessian,
        indices=cfg.indices.enabled,
        index_method=cfg.indices.method,
        n_base=cfg.indices.n_base,
        model=model,
        space=space,
        progress=lambda message: logger.info("estimating %s", message),
        source=_source(cfg, table),
    )


def _source(cfg: SensitivityConfig, table: SampleTable) -> str:
    """Where the samples come from, for messages: the file, or the model by its URI and how it was sampled."""
    if cfg.model is None:
        return table.source
    return f"model '{cfg.model.uri}' (sampled {len(table.X)} times over model.inputs)"


@task(name="record-sensitivity", cache_policy=NO_CACHE)
def record_sensitivity(
    record: RunRecord, result: SensitivityResult, header: ReportHeader, named_points: bool = False
) -> None:
    """Tables (gradients, Hessians, indices), summary JSON, plots and ``report.html`` onto the run record;
    ``named_points``: the gradients were taken at points the config names (the report lists them)."""
    record.metrics |= result.metrics
    record.tags |= {f"chosen.{out}": text[:5000] for out, text in result.chosen.items()}
    files: dict[str, str | bytes] = {"gradients.csv": result.gradient_table().to_csv(index=False)}
    hessians = result.hessian_table()
    if hessians is not None:
        files["hessians.csv"] = hessians.to_csv(index=False)
    summary: dict[str, Any] = {"features": result.features, "outputs": result.outputs, "chosen": result.chosen}
    parts = file_parts(result.outputs)  # 'a/b' -> indices_a_b.csv, beside the others; unique per output
    captions: dict[str, str] = {}  # plot file -> caption (by the output's own name)
    for j, out in enumerate(result.outputs):
        summary[out] = {
            "mean_gradient": dict(zip(result.features, result.gradients[:, j, :].mean(0).tolist())),
            "mean_abs_gradient": dict(zip(result.features, np.abs(result.gradients[:, j, :]).mean(0).tolist())),
        }
        table = result.indices.get(out)
        if table is not None:
            files[f"indices_{parts[out]}.csv"] = table.to_csv()
            # JSON has no NaN (a strict parser, as in the browser, refuses it): a missing value (DGSM_step from data,
            # ST of rbd_fast) is null
            summary[out]["indices"] = table.reset_index().replace({np.nan: None}).to_dict(orient="records")

        def figures(out: str = out, table: Any = table) -> dict[str, Any]:
            built = {f"plots/gradients_{parts[out]}.png": plot_gradients(result, out)}
            if table is not None:
                built[f"plots/indices_{parts[out]}.png"] = plot_indices(table, out)
            return built

        files |= render_figures(figures)
        captions |= {f"plots/indices_{parts[out]}.png": f"Global sensitivity of {out}"}
        captions |= {f"plots/gradients_{parts[out]}.png": f"Local sensitivity of {out}"}
    files["sensitivity.json"] = json.dumps(summary, indent=2, default=str)
    figures_by_caption = {
        captions[name]: png
        for name, png in sorted(files.items(), key=lambda item: not item[0].startswith("plots/indices_"))
        if name in captions
    }  # fmt: skip
    files["report.html"] = render_sensitivity_report(result, figures_by_caption, header, named_points=named_points)
    record.files |= files


def _sampled_box(cfg: SensitivityConfig, features: list[str], samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box the ``samples`` (n, d) of ``features`` come from: a queried model's uniform inputs' declared [low,
    high], else the samples' own range (a table's samples, a normal input)."""
    low, high = samples.min(axis=0).astype(float), samples.max(axis=0).astype(float)
    inputs = cfg.model.inputs if cfg.model is not None else {}
    for i, name in enumerate(features):
        spec = inputs.get(name)
        if spec is not None and spec.dist == "uniform":
            low[i], high[i] = spec.low, spec.high
    return low, high


def _report_header(
    cfg: SensitivityConfig,
    record: RunRecord,
    tracker: Tracker,
    frame: pd.DataFrame,
    result: SensitivityResult,
    notes: tuple[str, ...] = (),
) -> ReportHeader:
    """The report's header, the verdict and cautions also as the run's description and ``deltaflow.caution`` tag.

    Args:
        frame: the samples analysed (n rows x features and outputs), for the outputs' variance and a digest.
        notes: what reading the samples decided (:attr:`~pipeline.data.SampleTable.notes`), first among the cautions.
    """
    verdict = sensitivity_headline(result)
    variance = {out: float(np.var(frame[out].to_numpy())) for out in result.outputs}
    samples = frame[result.features].to_numpy()
    box = _sampled_box(cfg, result.features, samples)
    cautions = notes + sensitivity_cautions(result, variance, samples=samples, bounds=box)
    if cautions:
        record.tags["deltaflow.caution"] = " | ".join(cautions)[:5000]
    describe_run(
        record,
        {
            "Verdict": [f"- {line}" for line in verdict],
            "Caution": [f"- ⚠ {c}" for c in cautions],
            "Sensitivity indices": [f"- {line}" for line in index_summary(result)],
        },
    )
    samples = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
    facts: dict[str, object] = {"MLflow run": RUN_ID_MARK, "date (UTC)": utc_stamp(), "config": cfg.name}
    if cfg.data is not None:
        facts |= {"data": str(cfg.data.path), "data sha256": record.tags.get("data.sha256", "")}
    else:
        facts |= {"model": cfg.model.uri, "logged model": record.tags.get("model.id") or "(not in this store)"}
    facts |= {"samples": f"{len(frame)} rows, sha256 {samples[:16]}", "config sha256": record.tags["config.sha256"]}
    facts["Prefect flow run"] = record.tags.get("prefect.flow_run_id", "")
    return ReportHeader(cfg.name, cfg.description, verdict, cautions, facts)


@deltaflow_flow("analyze-sensitivity", check=_check_before_run)
def analyze_sensitivity(
    config: SensitivityConfig | str | Path, parent_run_id: str | None = None, parent_record_id: str | None = None
) -> SensitivityRun:
    """Local and global sensitivities of a table of samples or of an MLflow model, logged to MLflow.

    Args:
        config: a :class:`SensitivityConfig` or the path of a YAML config with ``kind: sensitivity``.
        parent_run_id: nest the run under this MLflow run (batches do).
        parent_record_id: nest under a parent still queued in the outbox.

    Raises:
        ConfigError, DataError, SensitivityError (ModelError for an unusable model). Called from Python, the
        inputs and the model are checked before the run starts (no run for such an error); an error met once the
        run has started (a deployment's scheduled run makes no such check) is recorded on it, FAILED.
    """
    cfg = resolve_config(config, "sensitivity")
    data_path = check_data_path(cfg, data_roots())
    tracker = tracker_for(cfg)
    source = data_path.stem if data_path is not None else cfg.model.uri.replace("/", "_")
    with recorded_run(tracker, cfg, data_path, source, parent_run_id, parent_record_id) as record:
        if cfg.model is not None:
            record.tags["model.uri"] = cfg.model.uri
        (table, model, space), _ = run_stage(load_samples, cfg, tracker)
        model_id = tracker.logged_model_id(cfg.model.uri) if cfg.model is not None and tracker.uri else None
        if model_id:  # the version the URI named when the run was made (an alias moves): a batch's resume key
            record.tags["model.id"] = model_id
        frame = pd.DataFrame(np.column_stack([table.X, table.Y]), columns=[*table.features, *table.outputs])
        if data_path is not None:
            record_dataset(record, frame, name=data_path.name, source=data_path)
        else:  # samples drawn from the model: the model itself is linked as the run's input (model.uri tag)
            record_dataset(record, frame, name=f"samples of {cfg.model.uri}", source=None)
        result, _ = run_stage(analyze, cfg, table, model, space)
        record.tags["result.summary"] = " ; ".join(index_summary(result))[:5000]
        header = _report_header(cfg, record, tracker, frame, result, table.notes)
        named = not at_every_sample(cfg.gradient.at)
        tracker.describe(lambda: run_stage(record_sensitivity, record, result, header, named))
    run_id, _, queued = publish(tracker, record)
    verdict, cautions = header.verdict, header.cautions
    return SensitivityRun(cfg, result, run_id, record.experiment_id, tracker.uri, queued, verdict, cautions)


def index_summary(result: SensitivityResult) -> tuple[str, ...]:
    """One line per output: features by rank with their total (or first-order) index."""
    lines = []
    for out, table in result.indices.items():
        column = "ST" if table["ST"].notna().all() else "S1"
        ranked = table.sort_values("rank")
        lines.append(f"{out}: " + ", ".join(f"{f} {column}={v:.2f}" for f, v in ranked[column].items()))
    return tuple(lines) or tuple(f"{out}: gradients at {len(result.points)} points" for out in result.outputs)
