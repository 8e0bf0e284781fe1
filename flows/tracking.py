"""The one module that talks to MLflow.

All writes go through :class:`Tracker` with explicit run ids (``MlflowClient``), never
the fluent API's thread-local active run, so tasks on other threads or workers cannot
create stray runs. Params and metrics are written in batches. A run that fails is
marked FAILED with its error recorded before the error propagates.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from flows.locks import file_lock
from flows.metric_keys import metric_key, metric_part, same_key
from flows.model_files import save_discovered_model
from flows.outbox import Outbox, RunRecord, default_outbox, validate_record, without_password
from flows.settings import command_name, default_artifact_root, tracking_uri
from flows.uploads import upload_folder
from pipeline.errors import InvalidRecordError, ModelError, TrackingError

__all__ = ["RETRY_DELAYS", "NullTracker", "Tracker", "refusal", "retry_delays", "sanitize_name", "tracker_for"]

RETRY_DELAYS = (1.0, 2.0, 4.0)  # seconds before each retry of a publish; then the run goes to the outbox
PROBE_TIMEOUT = 10.0
"""Seconds a store found unreachable earlier in this process has to answer its health check before a later run is
queued without retrying (:meth:`Tracker.publish_or_queue`)."""

_found_unreachable: set[str] = set()
"""Tracking URIs that stayed unreachable through a publish's retries in this process, until one answers again."""


def retry_delays() -> tuple[float, ...]:
    """Backoff before each publish retry: ``$DELTAFLOW_RETRY_DELAYS`` (comma-separated seconds) or 1, 2, 4."""
    raw = os.environ.get("DELTAFLOW_RETRY_DELAYS")
    if not raw:
        return RETRY_DELAYS
    try:
        return tuple(float(v) for v in raw.split(",") if v.strip())
    except ValueError as exc:
        raise TrackingError(f"DELTAFLOW_RETRY_DELAYS={raw!r}: expected comma-separated seconds") from exc


_log = logging.getLogger("deltaflow.tracking")


_MAX_PARAMS, _MAX_TAGS, _MAX_ENTRIES = 100, 100, 1000  # MLflow's log_batch limits
_SECRET = re.compile(r"(password|passwd|secret|token|api[_-]?key|credential)", re.IGNORECASE)
_PARAM_LIMIT = 6000




DATASET_TAG = "deltaflow.dataset_input"
"""Record tag carrying the run's input dataset (an MLflow Dataset entity as JSON): logged with ``log_inputs``
on publish, not as a tag, so it survives the outbox like the rest of the record."""
MODEL_INPUT_TAG = "model.uri"
"""A sensitivity run's analysed model: linked as the run's input model when the URI names a logged model."""
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
"""MLflow 3's UI opens an experiment with this tag in its classic (model training) layout, not the GenAI one."""
RUN_ID_MARK = "__DELTAFLOW_RUN_ID__"
"""Placeholder in text artifacts (report.html) replaced by the run id once the run exists."""


def dataset_input(frame: Any, *, name: str, source: str | None, digest: str | None = None) -> str:
    """The run's input dataset as JSON for :data:`DATASET_TAG`: a ``mlflow.data.from_pandas`` dataset.

    Args:
        frame: the data as read (rows x columns).
        name: the dataset's display name (the data file's or the config's name).
        source: a file path (Datasets show it); None when the data came from code (samples of a model).
        digest: e.g. the file's sha256 prefix; MLflow's digest of the frame when None.
    """
    import mlflow.data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(frame, source=source, name=name, digest=digest)
    return json.dumps(dataset._to_mlflow_entity().to_dictionary())


def sanitize_name(name: str) -> str:
    """A name safe for runs and artifact paths: no separators or traversal, at most 120 characters."""
    cleaned = re.sub(r"\.{2,}", "_", re.sub(r"[^A-Za-z0-9_.\- ]+", "_", name)).strip(" ._")
    return (cleaned or "unnamed")[:120]


_READY_STORES: set[str] = set()


def _create_store_once(uri: str, client: MlflowClient) -> None:
    """Touch a local SQLite store under a file lock (once per process): its first touch creates its tables,
    and two processes doing that at once break it."""
    if not uri.startswith("sqlite:///") or uri in _READY_STORES:
        return
    database = Path(uri.removeprefix("sqlite:///"))
    with file_lock(database.with_name(f".{database.name}.lock")):
        try:
            client.search_experiments(max_results=1)
        except MlflowException as exc:
            raise TrackingError(f"MLflow at {uri}: cannot open the store ({exc})") from exc
    _READY_STORES.add(uri)


def _param_items(params: dict[str, Any]) -> list[Param]:
    """Flat params as MLflow ``Param`` entries: values cut to MLflow's length limit, secret-looking keys masked."""
    return [Param(key, "***" if _SECRET.search(key) else str(value)[:_PARAM_LIMIT]) for key, value in params.items()]


def _time_axis_metadata(tags: dict[str, str]) -> dict[str, str]:
    """The run's ``data.time_unit`` and ``data.time_origin`` tags (a time column of dates) as the logged model's
    metadata ``{"time_unit": "d", "time_origin": "2024-01-01T00:00:00"}``: a model's rates are per that unit and its
    simulation times count from that origin; empty for numeric times."""
    return {key.removeprefix("data."): tags[key] for key in ("data.time_unit", "data.time_origin") if key in tags}


def _metric_items(
    metrics: dict[str, float], *, step: int = 0, series: dict[str, list[tuple[int, float]]] | None = None,
    model_id: str | None = None,
) -> list[Metric]:  # fmt: skip
    """Finite scalar ``metrics`` (of the logged model ``model_id`` too, when given) and stepped ``series`` (key ->
    [(step, value), ...]) as MLflow ``Metric`` entries; non-finite values are left out.

    Raises:
        InvalidRecordError: two keys clean up to the same metric key (``y %.cv_rmse`` and ``y #.cv_rmse``): one
            would overwrite the other; the message names both.
    """
    clash = same_key([*metrics, *(series or {})])
    if clash is not None:
        raise InvalidRecordError(
            f"metrics '{clash[0]}' and '{clash[1]}' would both be logged as '{clash[2]}' (a metric key keeps letters,"
            " digits, _ and -), one overwriting the other; rename the column or state either comes from"
        )
    now = int(time.time() * 1000)
    items = [
        Metric(metric_key(key), float(value), now, step, model_id=model_id)
        for key, value in metrics.items()
        if math.isfinite(float(value))
    ]
    items += [
        Metric(metric_key(key), float(value), now, int(point))
        for key, points in (series or {}).items()
        for point, value in points
        if math.isfinite(float(value))
    ]
    return items


@functools.cache
def _settle_process_lookups() -> None:
    """Answer once per process two questions MLflow asks again at every call, with answers that cannot change.

    - Before every REST request MLflow asks each request-header provider whether it applies; the Databricks one
      answers by trying to import Databricks' runtime modules and Spark, and a failed import is not cached: about
      1.8 ms a request here, a quarter of a run's publish against an ``mlflow server`` (about 40 requests).
      Its first answer is kept (inside Databricks it stays true and the headers are sent as before).
    - Every logged model's pip requirements are checked against the installed packages, each lookup parsing a
      package's METADATA file (about 3 ms apiece, 9 per model); the installed versions are looked up once.

    A later MLflow without these internals leaves both as they are.
    """
    try:
        from mlflow.tracking.request_header.databricks_request_header_provider import DatabricksRequestHeaderProvider
        from mlflow.tracking.request_header.registry import _request_header_provider_registry as registry
        from mlflow.utils import requirements_utils
    except ImportError:
        return
    for provider in registry:
        if isinstance(provider, DatabricksRequestHeaderProvider):
            answer = bool(provider.in_context())
            provider.in_context = lambda answer=answer: answer
    lookup = getattr(requirements_utils, "_get_installed_version", None)
    if lookup is not None and not hasattr(lookup, "cache_info"):
        requirements_utils._get_installed_version = functools.lru_cache(maxsize=256)(lookup)


def _answers(uri: str) -> bool:
    """Whether the tracking server at an ``http(s)`` ``uri`` answers at all (any HTTP status) within
    :data:`PROBE_TIMEOUT`; a store of another scheme (a local file) counts as answering: publishing tries it."""
    import urllib.error
    import urllib.parse
    import urllib.request

    if not uri.startswith(("http://", "https://")):
        return True
    parts = urllib.parse.urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]  # /health asks no credentials, and urllib takes none in the URL
    try:
        with urllib.request.urlopen(f"{parts.scheme}://{host}{parts.path.rstrip('/')}/health", timeout=PROBE_TIMEOUT):
            return True
    except urllib.error.HTTPError:  # it answered (with 401, 404, ...): publishing will say what
        return True
    except (OSError, ValueError):
        return False


class Tracker:
    """MLflow adapter bound to one tracking URI.

    Args:
        uri: tracking URI; the embedded default (SQLite in the working directory) when None.
    """

    def __init__(self, uri: str | None = None) -> None:
        self.uri = uri or tracking_uri()
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        _settle_process_lookups()
        _create_store_once(self.uri, self.client)

    def describe(self, build: Callable[[], object]) -> None:
        """Run ``build``, which puts what the run shows (metrics, tables, figures) on its record."""
        build()

    def ensure_experiment(self, name: str) -> str:
        """The id of experiment ``name``, creating it (and a fresh store) once if needed."""
        try:
            experiment = self.client.get_experiment_by_name(name)
            if experiment is not None:
                if experiment.lifecycle_stage == "deleted":
                    self.client.restore_experiment(experiment.experiment_id)
                for key, value in EXPERIMENT_KIND.items():
                    if experiment.tags.get(key) != value:  # an experiment made before the tag existed
                        self.client.set_experiment_tag(experiment.experiment_id, key, value)
                return experiment.experiment_id
            root = default_artifact_root(self.uri)
            location = f"{root}/{sanitize_name(name).replace(' ', '_')}" if root else None
            return self.client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_KIND)
        except MlflowException as exc:
            raise TrackingError(f"MLflow at {self.uri}: cannot get or create experiment '{name}' ({exc})") from exc

    @contextmanager
    def run(self, experiment_id: str, *, run_name: str, tags: dict[str, str] | None = None) -> Iterator[str]:
        """Create a run, yield its id, and end it FINISHED, or FAILED with the error recorded."""
        try:
            run = self.client.create_run(experiment_id, run_name=sanitize_name(run_name), tags=tags or {})
        except MlflowException as exc:
            raise TrackingError(f"MLflow at {self.uri}: cannot create a run ({exc})") from exc
        run_id = run.info.run_id
        try:
            yield run_id
        except BaseException as exc:
            self._fail(run_id, exc)
            raise
        self.client.set_terminated(run_id, status="FINISHED")

    def close_failed(self, run_id: str, error: str) -> None:
        """End a run left open FAILED with ``error`` as its ``error`` tag (best effort: the store may be on the
        disk that just failed, and the error that got us here is the news, so nothing is raised)."""
        try:
            self.client.set_tag(run_id, "error", error[:5000])
            self.client.set_terminated(run_id, status="FAILED")
        except Exception:  # noqa: BLE001 - MLflow's and the disk's errors alike: this is cleanup
            _log.debug("could not close run %s FAILED", run_id, exc_info=True)

    def _fail(self, run_id: str, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        try:
            self.client.set_tag(run_id, "error", message[:5000])
            self.client.set_terminated(run_id, status="FAILED")
        except MlflowException:  # the store itself is failing; the original error matters more
            pass

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """Log flat params in batches (values cut to MLflow's length limit); secret-looking keys are masked."""
        self._batch(run_id, params=_param_items(params))

    def log_metrics(
        self, run_id: str, metrics: dict[str, float], *, step: int = 0,
        series: dict[str, list[tuple[int, float]]] | None = None, model_id: str | None = None,
    ) -> None:  # fmt: skip
        """Log finite scalar metrics and stepped ``series`` (key -> [(step, value), ...], one chart per key) in as
        few batches as MLflow allows; non-finite values are skipped. With ``model_id`` the scalar metrics are
        also the logged model's (its page and the models list show them)."""
        self._batch(run_id, metrics=_metric_items(metrics, step=step, series=series, model_id=model_id))

    def log_metric_steps(self, run_id: str, series: dict[str, list[tuple[int, float]]]) -> None:
        """Log stepped metrics (key -> [(step, value), ...]) in batches: one chart per key in the MLflow UI."""
        self.log_metrics(run_id, {}, series=series)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set several tags in one batch; secret-looking keys are masked."""
        self._batch(run_id, tags=[RunTag(k, "***" if _SECRET.search(k) else str(v)) for k, v in tags.items()])

    def _batch(
        self, run_id: str, *, params: list[Param] = (), metrics: list[Metric] = (), tags: list[RunTag] = ()
    ) -> None:
        """As few ``log_batch`` calls as MLflow's limits allow (per call: 100 params, 100 tags, 1000 entries):
        each call is a store transaction (a SQLite commit, or an HTTP request)."""
        params, metrics, tags = list(params), list(metrics), list(tags)
        while params or metrics or tags:
            chunk_params, chunk_tags = params[:_MAX_PARAMS], tags[:_MAX_TAGS]
            chunk_metrics = metrics[: _MAX_ENTRIES - len(chunk_params) - len(chunk_tags)]
            params, tags, metrics = params[len(chunk_params) :], tags[len(chunk_tags) :], metrics[len(chunk_metrics) :]
            try:
                self.client.log_batch(run_id, metrics=chunk_metrics, params=chunk_params, tags=chunk_tags)
            except MlflowException as exc:
                raise TrackingError(f"MLflow at {self.uri}: log_batch failed for run {run_id} ({exc})") from exc

    def log_files(self, run_id: str, files: dict[str, str | bytes], artifact_uri: str | None = None) -> None:
        """Store many artifacts (relative path -> text or bytes) with one upload: far cheaper than one call each.

        With the run's ``artifact_uri`` (known when the run was just created), the files go straight to its
        artifact store; without, MLflow first fetches the whole run (every metric and tag) to find it.
        """
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        def upload(folder: str) -> None:
            if artifact_uri is None:
                self.client.log_artifacts(run_id, folder)
            else:
                upload_folder(get_artifact_repository(artifact_uri, tracking_uri=self.uri), Path(folder))

        with tempfile.TemporaryDirectory(prefix="deltaflow-artifacts-") as folder:
            root = Path(folder)
            for name, content in files.items():
                target = (root / name).resolve()
                if root.resolve() not in target.parents:
                    raise TrackingError(f"artifact name '{name}' leaves the run's artifact folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8")
            self._artifact(lambda: upload(folder), ", ".join(sorted(files))[:200])

    def log_discovered_model(
        self, run_id: str, result: Any, *, register_as: str | None = None, name: str = "model"
    ) -> str:
        """Log a discovery result as an ``mlflow.pyfunc`` model named after the config; returns its URI.

        The model is logged "from code" (``flows/pyfunc_model.py``) with the ``pipeline`` modules it needs as one
        zip archive (:func:`flows.model_code.model_code_archive`), so it loads and runs from any working directory.
        It carries a signature and an input example (one row of the states at 1.0). ``register_as`` (``name`` or
        ``name@alias``) also registers it and points the alias at the new version, so configs can say
        ``models:/name@alias``.
        """
        return self._log_model(run_id, result, register_as=register_as, name=name)[0]

    def _new_logged_model(
        self, run_id: str, name: str, experiment_id: str | None, params: dict[str, str] | None
    ) -> Any:
        """A logged model (PENDING) of run ``run_id`` in the run's experiment: MLflow's ``LoggedModel``.

        Made here, with the run's ``experiment_id`` (looked up when not given) and ``params`` (the run's when not
        given): ``Model.log`` with a ``run_id`` but no fluent active run would put it in the process's active
        experiment, the Default one, and the run's experiment's Models tab would stay empty.
        """
        from mlflow.tracking.context import registry as context_registry

        if experiment_id is None or params is None:
            run = self.client.get_run(run_id)
            experiment_id, params = experiment_id or run.info.experiment_id, params or dict(run.data.params)
        return self.client.create_logged_model(
            experiment_id, name=name, source_run_id=run_id, tags=context_registry.resolve_tags(), params=params
        )

    def _log_model(
        self, run_id: str, result: Any, *, register_as: str | None, name: str, params: dict[str, str] | None = None,
        experiment_id: str | None = None, metadata: dict[str, str] | None = None,
    ) -> tuple[str, str]:  # fmt: skip
        """:meth:`log_discovered_model`, returning (model URI, logged-model id). ``params`` are the logged model's
        own (the run's params, when its caller logs them later; without, those the run has), and it belongs to the
        run's experiment (``experiment_id``, looked up when None). ``metadata`` goes into its MLmodel file (what a
        loaded model shows as ``model.metadata.metadata``): the time unit and origin of dated data.

        What ``mlflow.pyfunc.log_model`` does, in the requests it needs: the logged model is created here (so its
        artifact location is known), saved locally with ``mlflow.pyfunc.save_model``, linked to the run as its
        output, uploaded file by file side by side, and marked READY (FAILED if any of that fails). ``Model.log``
        adds three round trips to this (the logged model fetched twice, the run fetched to link metrics the run
        does not have yet: :meth:`publish` logs them after, naming the model) and loads the saved model back to
        predict its input example; deltaflow's tests load and predict logged models from another folder instead.
        """
        import mlflow
        from mlflow.entities import LoggedModelOutput, LoggedModelStatus
        from mlflow.models import Model
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        registered, _, alias = (register_as or "").partition("@")
        try:
            mlflow.set_tracking_uri(self.uri)
            mlflow.set_registry_uri(self.uri)  # not one an earlier caller in this process set
            logged = self._new_logged_model(run_id, metric_part(name), experiment_id, params)
            model = Model(artifact_path=logged.artifact_location, model_uuid=logged.model_id, run_id=run_id,
                          model_id=logged.model_id, metadata=metadata or None)  # fmt: skip
            try:
                with tempfile.TemporaryDirectory(prefix="deltaflow-model-") as folder:
                    save_discovered_model(Path(folder) / "model", result, model)
                    self.client.log_outputs(run_id, models=[LoggedModelOutput(logged.model_id, step=0)])
                    upload_folder(get_artifact_repository(logged.artifact_location, tracking_uri=self.uri),
                                  Path(folder) / "model")  # fmt: skip
            except BaseException:
                with contextlib.suppress(MlflowException, OSError):  # the first error is the one to report
                    self.client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
                raise
            self.client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
            if registered:
                version = str(mlflow.register_model(f"models:/{logged.model_id}", registered).version)
                if alias:
                    self.client.set_registered_model_alias(registered, alias, version)
        except (MlflowException, OSError) as exc:  # OSError: the model's artifact store cannot be written
            raise TrackingError(f"MLflow at {self.uri}: cannot log the model for run {run_id} ({exc})") from exc
        uri = f"models:/{registered}@{alias}" if registered and alias else f"models:/{logged.model_id}"
        return uri, logged.model_id

    # ------------------------------------------------------------------ records: publish, or queue and sync
    def start(self, record: RunRecord) -> str:
        """Create the record's run now (RUNNING, e.g. a batch parent children nest under); publish completes it."""
        record.run_id = self._create_run(record, record.tags).info.run_id
        return record.run_id

    def _create_run(self, record: RunRecord, tags: dict[str, str]) -> Any:
        """A new MLflow run for ``record`` in its experiment (the experiment's id kept on the record)."""
        record.experiment_id = self.ensure_experiment(record.experiment)
        try:
            return self.client.create_run(
                record.experiment_id, run_name=sanitize_name(record.run_name), tags=tags,
                start_time=int(record.created * 1000),
            )  # fmt: skip
        except MlflowException as exc:
            raise TrackingError(f"MLflow at {self.uri}: cannot create a run ({exc})") from exc

    def publish(self, record: RunRecord) -> tuple[str, str | None]:
        """Write a whole run record in a few batched calls; returns (run id, model URI or None).

        The run is created (or, with ``record.run_id``, reopened), filled, and only then terminated with
        the record's status, so a reader never sees a FINISHED run with missing parts. The created run
        id is kept on the record: a retry or a later sync completes the same run.
        """
        tags = dict(record.tags)
        dataset = tags.pop(DATASET_TAG, None)
        if record.parent_run_id:
            tags["mlflow.parentRunId"] = record.parent_run_id
        if record.run_id is None:
            run = self._create_run(record, tags)
            record.run_id, artifact_uri = run.info.run_id, run.info.artifact_uri
        else:
            record.experiment_id = self.ensure_experiment(record.experiment)
            self.set_tags(record.run_id, tags)
            artifact_uri = None  # reopened: MLflow looks it up
        run_id = record.run_id
        model_uri = self._write_run(record, tags, dataset)
        if record.files:
            self.log_files(run_id, _with_run_id(record.files, run_id), artifact_uri)
        try:
            self.client.set_terminated(run_id, status=record.status)
        except MlflowException as exc:
            raise TrackingError(f"MLflow at {self.uri}: cannot close run {run_id} ({exc})") from exc
        return run_id, model_uri

    def _write_run(self, record: RunRecord, tags: dict[str, str], dataset: str | None) -> str | None:
        """The record's model (when it has one and finished), params, metrics and inputs onto its open run;
        returns the model's URI or None."""
        run_id = record.run_id
        params = _param_items({k: v for k, v in record.params.items() if v is not None and v != "None"})
        model_uri = model_id = None
        if record.model is not None and record.status == "FINISHED":  # the model is given the params itself
            from pipeline.discovery import DiscoveryResult

            model_uri, model_id = self._log_model(
                run_id, DiscoveryResult.from_dict(record.model), register_as=record.register_as,
                name=tags.get("config.name", "model"), params={p.key: p.value for p in params},
                experiment_id=record.experiment_id, metadata=_time_axis_metadata(tags),
            )  # fmt: skip
        # params and metrics in one log_batch (one request), after the model so the metrics can name it
        metrics = _metric_items(record.metrics, series=record.steps, model_id=model_id)
        self._batch(run_id, params=params, metrics=metrics)
        self._log_inputs(run_id, dataset, tags.get(MODEL_INPUT_TAG))
        return model_uri

    def _log_inputs(self, run_id: str, dataset: str | None, model_uri: str | None) -> None:
        """The run's input dataset (Datasets column) and, for a registered or logged model, that model (lineage)."""
        from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelInput

        datasets = []
        if dataset:
            entity = Dataset(**json.loads(dataset))
            datasets.append(DatasetInput(entity, tags=[InputTag("mlflow.data.context", "training")]))
        models = []
        model_id = self.logged_model_id(model_uri) if model_uri else None
        if model_id:
            models.append(LoggedModelInput(model_id))
        if not datasets and not models:
            return
        try:
            self.client.log_inputs(run_id, datasets=datasets or None, models=models or None)
        except MlflowException as exc:
            raise TrackingError(f"MLflow at {self.uri}: cannot log the inputs of run {run_id} ({exc})") from exc

    def logged_model_id(self, uri: str) -> str | None:
        """The logged-model id behind ``models:/name/version``, ``models:/name@alias`` or ``models:/m-...``;
        None for anything else (a built-in example, a runs:/ URI, a model this store does not hold)."""
        if not uri.startswith("models:/"):
            return None
        ref = uri.removeprefix("models:/")
        try:
            if ref.startswith("m-"):
                return ref
            if "@" in ref:
                name, alias = ref.split("@", 1)
                found = self.client.get_model_version_by_alias(name, alias)
            else:
                name, _, number = ref.rpartition("/")
                if not name:
                    return None
                found = self.client.get_model_version(name, number)
        except MlflowException:
            return None
        # a SQLite store leaves model_id empty; the version's source is then models:/m-<id>
        source = found.source or ""
        return found.model_id or (source.removeprefix("models:/") if source.startswith("models:/m-") else None)

    def publish_or_queue(
        self, record: RunRecord, outbox: Outbox | None = None, delays: tuple[float, ...] | None = None
    ) -> tuple[str | None, str | None, Path | None]:
        """Publish; retry only what may pass later; queue the record in the outbox if MLflow stays unreachable.

        A refusal (MLflow answered 400: a bad value) is raised at once as :class:`InvalidRecordError` naming
        the field; a 401/403/404 is not retried but queued (fix the credentials or store, then ``sync``);
        connection errors, 429 and 5xx get ``len(delays)`` more attempts, ``delays`` seconds apart.

        A store that stayed unreachable through the retries is remembered in this process: later calls ask its
        health check first (:data:`PROBE_TIMEOUT`) and queue at once while it does not answer, so a batch whose
        MLflow is down does not wait out the retries item after item.

        Returns:
            (run id, model URI, None) when published; (None, None, outbox folder) when queued.

        Raises:
            InvalidRecordError: MLflow refused a value; ``exc.record`` holds the record (its run, if one was
                created, is still open: the caller closes it FAILED).
        """
        last: TrackingError | None = None
        if self.uri in _found_unreachable and not _answers(self.uri):
            return self._queue(record, outbox, "still unreachable, as earlier in this process: queued without retrying")
        for delay in (0.0, *(retry_delays() if delays is None else delays)):
            time.sleep(delay)
            try:
                published = self.publish(record)
                _found_unreachable.discard(self.uri)
                return (*published, None)
            except InvalidRecordError as exc:  # our own check refused it: retrying or queuing cannot help
                exc.record = record  # type: ignore[attr-defined]
                raise
            except TrackingError as exc:
                last = exc
                verdict = refusal(exc)
                if verdict == "invalid":
                    raise _invalid(record, exc) from exc
                if verdict == "final":
                    break
        if verdict != "final":  # not answering at all (a refusal of the credentials is not remembered)
            _found_unreachable.add(self.uri)
        return self._queue(record, outbox, str(last))

    def found_unreachable(self) -> None:
        """Note that this store did not answer (a batch's parent could not be started): later publishes in this
        process ask its health check first and queue at once while it does not answer."""
        _found_unreachable.add(self.uri)

    def _queue(self, record: RunRecord, outbox: Outbox | None, why: str) -> tuple[None, None, Path]:
        """Put ``record`` in the outbox, noting this store for ``sync``; returns (None, None, its folder)."""
        record.tracking_uri = without_password(self.uri)  # sync replays it into this store
        folder = (outbox or default_outbox()).put(record)
        _log.warning(
            "MLflow at %s unreachable (%s); run queued in %s (replay into that store: %s sync)",
            record.tracking_uri, why, folder, command_name(),
        )  # fmt: skip
        return None, None, folder

    def _run_exists(self, run_id: str) -> bool:
        try:
            self.client.get_run(run_id)
            return True
        except MlflowException:
            return False

    def load_model(self, uri: str) -> Any:
        """Load an ``mlflow.pyfunc`` model by URI from this store: an explicit act of trust in that model's code.

        Raises:
            ModelError: the URI names no model (or the model cannot be loaded), naming the URI.
        """
        import mlflow

        return self._from_store(lambda: mlflow.pyfunc.load_model(uri), uri, "cannot load a model from")

    def model_info(self, uri: str) -> Any:
        """The model's ``mlflow.models.ModelInfo`` (its MLmodel file only, not the model): whether the URI names a
        model in this store, and its signature.

        Raises:
            ModelError: the URI names no model, naming the URI.
        """
        import mlflow

        return self._from_store(lambda: mlflow.models.get_model_info(uri), uri, "no model there in")

    def _from_store(self, read: Callable[[], Any], uri: str, failure: str) -> Any:
        """``read()`` with this store as MLflow's tracking and registry store, its warnings silenced; a
        :class:`ModelError` ``model.uri '<uri>': <failure> MLflow at <store> (why)`` when it fails."""
        import mlflow

        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return read()
        except (MlflowException, OSError, ValueError) as exc:
            raise ModelError(f"model.uri '{uri}': {failure} MLflow at {self.uri} ({exc})") from exc

    def _artifact(self, write: Any, name: str) -> None:
        try:
            write()
        except (MlflowException, OSError) as exc:
            raise TrackingError(f"MLflow at {self.uri}: cannot store artifact '{name}' ({exc})") from exc


_FINAL_STATUSES = frozenset({401, 403, 404})  # retrying cannot help, but the record may be synced later


def refusal(exc: TrackingError) -> str | None:
    """How MLflow answered the write behind ``exc``: "invalid" (400: a value it refuses), "final" (401, 403,
    404: retrying cannot help), or None (unreachable, 429, 5xx: a retry may pass)."""
    cause = exc.__cause__
    if not isinstance(cause, MlflowException):
        return None
    status = cause.get_http_status_code()
    if status == 400:
        return "invalid"
    return "final" if status in _FINAL_STATUSES else None


def _invalid(record: RunRecord, exc: TrackingError) -> InvalidRecordError:
    """An :class:`InvalidRecordError` naming the refused field: our own check's message when it finds the
    value, else MLflow's (which names the key); it carries the record (``.record``)."""
    try:
        validate_record(record)
        error = InvalidRecordError(f"MLflow refused run '{record.run_name}': {exc.__cause__}")
    except InvalidRecordError as found:
        error = found
    error.record = record  # type: ignore[attr-defined]
    return error


def _with_run_id(files: dict[str, str | bytes], run_id: str) -> dict[str, str | bytes]:
    """Artifacts with :data:`RUN_ID_MARK` in text files replaced by the run id (known only once the run exists)."""
    return {
        name: content.replace(RUN_ID_MARK, run_id) if isinstance(content, str) else content
        for name, content in files.items()
    }


class NullTracker(Tracker):
    """The tracker of a run with ``tracking.enabled: false``: records nothing, publishes nothing.

    Flows take it where they take a :class:`Tracker`, so each flow has one code path. It still loads
    models (a sensitivity config may analyse a registered model without logging the analysis).
    """

    def __init__(self) -> None:
        self.uri = None  # type: ignore[assignment]

    def describe(self, build: Callable[[], object]) -> None:
        """Nothing is shown, so nothing is built (no figures rendered for nobody)."""

    def publish_or_queue(
        self, record: RunRecord, outbox: Outbox | None = None, delays: tuple[float, ...] | None = None
    ) -> tuple[str | None, str | None, Path | None]:
        """Nothing is written: (None, None, None)."""
        return None, None, None

    def close_failed(self, run_id: str, error: str) -> None:
        """No run is ever opened: nothing to close."""

    def load_model(self, uri: str) -> Any:
        """Load the model from the configured store (see :meth:`Tracker.load_model`)."""
        return Tracker().load_model(uri)


def tracker_for(config: Any) -> Tracker:
    """A :class:`Tracker` on the configured store, or a :class:`NullTracker` when the config turns tracking off."""
    return Tracker() if config.tracking.enabled else NullTracker()
