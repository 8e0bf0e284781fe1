"""Finding configs and reading a run's inputs, without Prefect or MLflow.

The CLI reads and validates the config *and* its data here before it imports anything heavy, so a
typo or a bad column is reported in a second, and creates no MLflow experiment and no run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from flows.kinds import resolve_config
from flows.metric_keys import same_key
from flows.settings import data_roots
from pipeline.config import DataConfig, TableConfig, check_data_path, load_config
from pipeline.data import TimeSeries, check_outputs_vary, load_points, load_table, load_timeseries
from pipeline.differentiation.derivatives import check_settings
from pipeline.discovery.library_size import check_library_samples
from pipeline.errors import ConfigError, DifferentiationError, SensitivityError
from pipeline.expressions import evaluate_expression, expression_names
from pipeline.spikes import apply_spike_policy

if TYPE_CHECKING:
    from pipeline.sensitivity.checks import GradientCheck

__all__ = [
    "check_differentiation", "check_inputs", "check_law", "check_metric_names", "check_points", "checked_already",
    "expand_configs", "gradient_checks", "gradient_points", "inputs_check", "is_checked", "load_checked",
    "read_timeseries",
]  # fmt: skip


def read_timeseries(config: Any) -> TimeSeries:
    """Read and validate the time series a discovery or residual config names (columns, types, sizes).

    Raises:
        DataError: the file is missing, unreadable, or its columns are wrong (naming file and column); a spike under
            ``data.outliers: raise`` (:mod:`pipeline.spikes`; under ``replace``, the default, it is replaced by a cubic
            through its neighbours, with a note).
    """
    data: DataConfig = config.data
    series = load_timeseries(
        data.path,
        time_column=data.time_column,
        state_columns=data.state_columns,
        trajectory_column=data.trajectory_column,
        control_columns=data.control_columns,
        time_unit=data.time_unit,
    )
    return apply_spike_policy(series, data.outliers)


def gradient_points(config: Any, features: list[str]) -> np.ndarray | None:
    """A sensitivity config's ``gradient.at`` as an array (m, d) over ``features``, None for 'samples'.

    Raises:
        DataError: a point file is missing, unreadable, lacks a feature's column or holds a non-finite value.
        ConfigError: a listed point has not one value per feature.
    """
    at = config.gradient.at
    if isinstance(at, Path):
        return load_points(at, features, field="gradient.at")
    if at == "samples":
        return None
    points = np.atleast_2d(np.asarray(at, dtype=float))
    if points.shape[1] != len(features):
        raise ConfigError(
            f"config '{config.name}': field 'gradient.at': each point needs {len(features)} values, one per feature"
            f" {features} (got {points.shape[1]})"
        )
    return points


def check_points(config: Any) -> Any:
    """A gradient-check config with its ``points`` read from their file, if they name one (else itself).

    Raises:
        DataError: the file is missing, unreadable, lacks a variable's column or holds a non-finite value.
    """
    if not isinstance(config.points, Path):
        return config
    points = load_points(config.points, config.variables, field="points")
    return config.model_copy(update={"points": points.tolist()})


def _gradient_callables(config: Any) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]:
    """A gradient-check config's function (a point (d,) -> a number) and claimed gradient (a point (d,) -> (d,))."""

    def scope(x: np.ndarray) -> dict[str, Any]:
        return {**config.params, **{name: float(v) for name, v in zip(config.variables, x)}}

    def f(x: np.ndarray) -> float:
        return float(evaluate_expression(config.function, scope(x)))

    def grad(x: np.ndarray) -> np.ndarray:
        return np.array([float(evaluate_expression(config.gradient[v], scope(x))) for v in config.variables])

    return f, grad


def _check_expression_names(config: Any) -> None:
    """A gradient-check config's ``function`` and ``gradient`` use only its ``variables`` and ``params``; else a
    ConfigError naming the field."""
    variables = list(config.variables)  # the config checked the gradient's keys
    known = {*variables, *config.params}
    described = f"one of variables {variables} nor of params {sorted(config.params)}"
    for field, text in [("function", config.function), *((f"gradient.{v}", config.gradient[v]) for v in variables)]:
        _require_known_names(text, known, f"config '{config.name}': field '{field}': {text!r}", described)


def _require_known_names(text: str, known: set[str], where: str, described: str) -> None:
    """A ConfigError (``where``: the config, the field and the expression) when the expression ``text`` uses a name
    not in ``known``, which ``described`` puts in words ("one of variables [...] nor of params [...]")."""
    unknown = sorted(expression_names(text) - known)
    if unknown:
        raise ConfigError(f"{where} uses {unknown}, which is neither {described}")


def gradient_checks(config: Any) -> list[GradientCheck]:
    """A gradient-check config's check (:func:`~pipeline.sensitivity.checks.check_gradient`) at each of its points,
    whose list (``points`` read from their file by :func:`check_points`) it takes. Cheap (4 d + 1 evaluations of
    the function and one of the gradient per point), so the pre-run check makes it too.

    Raises:
        ConfigError: naming the field 'points', the point and its number, where the check cannot be evaluated:
            the function (there or a difference step away) or the claimed gradient is NaN or inf.
    """
    from pipeline.sensitivity.checks import check_gradient  # imports the sensitivity package: only when needed

    _check_expression_names(config)
    f, grad = _gradient_callables(config)
    checks = []
    for k, point in enumerate(config.points, start=1):
        try:
            check = check_gradient(f, grad, np.asarray(point), tolerance=config.tolerance, names=config.variables)
        except SensitivityError as exc:
            raise ConfigError(
                f"config '{config.name}': field 'points': point {k} of {len(config.points)} cannot be checked: {exc}"
                f" (function '{config.function}'); give points where the function and its gradient are finite"
            ) from exc
        checks.append(check)
    return checks


def check_differentiation(config: Any, series: TimeSeries) -> None:
    """Check the config's ``differentiation`` settings against its series before anything is smoothed
    (:func:`~pipeline.differentiation.derivatives.check_settings`): enough samples per trajectory for the method,
    parameters in range, a grid the method takes.

    Raises:
        DataError: a trajectory is too short for the method.
        ConfigError: naming the field at fault (``differentiation.params.window``, or ``differentiation.method``
            when the method does not suit the data's sampling), the data file and what was expected.
    """
    settings = config.differentiation
    try:
        check_settings(series, settings.method, dict(settings.params))
    except DifferentiationError as exc:
        field = "differentiation.method" if exc.parameter is None else f"differentiation.params.{exc.parameter}"
        raise ConfigError(f"config '{config.name}': field '{field}': {exc}") from exc


def check_law(config: Any, series: TimeSeries) -> None:
    """Check a residual config's ``law.rhs`` against its series: an expression for every state column and for
    nothing else (a key that is no state column, a typo say, would be ignored), each using only the states, ``t``
    and ``law.params``.

    Raises:
        ConfigError: naming the field ``law.rhs`` (the state, the key or the unknown name) and the data file.
    """
    rhs, states = config.law.rhs, list(series.names)
    missing = [name for name in states if name not in rhs]
    unused = [name for name in rhs if name not in states]
    where = f"config '{config.name}': field 'law.rhs'"
    if missing:
        verb = "is" if len(unused) == 1 else "are"
        also = f"; it has one for {unused}, which {verb} no state column" if unused else ""
        raise ConfigError(
            f"{where}: no expression for state(s) {missing} of {series.source}"
            f" (expected one per column of data.state_columns {states}{also})"
        )
    if unused:
        raise ConfigError(
            f"{where}: expression(s) for {unused}, which are no state column of {series.source} (expected one per"
            f" column of data.state_columns {states})"
        )
    known = {*states, "t", *config.law.params}
    described = f"a state column of {series.source} ({states}), t, nor one of law.params {sorted(config.law.params)}"
    for state, text in rhs.items():
        _require_known_names(text, known, f"{where}: the expression for '{state}' ({text!r})", described)


def check_metric_names(config: Any, columns: dict[str, list[str]], source: str) -> None:
    """Check that no two columns of one kind (``{"output": [...], "feature": [...]}``, or ``{"state": [...]}``)
    clean up to the same MLflow metric key (``y %`` and ``y #`` are both ``y``): one's metrics would overwrite the
    other's.

    Raises:
        ConfigError: naming both columns, the key and ``source`` (the data file, or the field 'model.inputs').
    """
    for kind, names in columns.items():
        clash = same_key(names)
        if clash is not None:
            raise ConfigError(
                f"config '{config.name}': {source}: {kind} columns '{clash[0]}' and '{clash[1]}' would both be logged"
                f" to MLflow as '{clash[2]}' (a metric key keeps letters, digits, _ and -), one's metrics overwriting"
                " the other's; rename one of them"
            )


def check_inputs(config: Any) -> None:
    """Everything about a run's inputs that can be checked without running it.

    The data path (existence, ``DELTAFLOW_DATA_ROOTS``) and the data themselves: a time series is read
    and validated (and the differentiation settings, and a residual law's states, checked against it), a table
    of samples too, and a file of points (``gradient.at``, ``points``); a gradient check is evaluated at its points
    (:func:`gradient_checks`: the function and its gradient finite there). A batch's items are not read: each item
    that fails is a FAILED child of the batch, the others run. A model URI is checked when the model is loaded.

    Raises:
        ConfigError, DataError: as the flow would raise them, before anything was started.
    """
    if config.kind == "batch":
        expand_configs(config.configs)
        return
    if config.kind == "gradient_check":
        gradient_checks(check_points(config))
    check_data_path(config, data_roots())
    if isinstance(config.data, DataConfig):
        series = read_timeseries(config)
        check_metric_names(config, {"state": list(series.names)}, series.source)
        if getattr(config, "differentiation", None) is not None:
            check_differentiation(config, series)
        if getattr(config, "law", None) is not None:
            check_law(config, series)
        if getattr(config, "discovery", None) is not None:
            check_library_samples(series, config.discovery.library)
    elif isinstance(config.data, TableConfig):
        table = load_table(config.data.path, outputs=config.data.outputs, features=config.data.features)
        check_metric_names(config, {"output": list(table.outputs), "feature": list(table.features)}, table.source)
        if config.indices.enabled:
            check_outputs_vary(table.Y, list(table.outputs), source=table.source)
        gradient_points(config, list(table.features))
    elif config.kind == "sensitivity" and config.model is not None:
        check_metric_names(config, {"input": list(config.model.inputs)}, "field 'model.inputs'")
        gradient_points(config, list(config.model.inputs))


def _is_batch_file(path: Path) -> bool:
    """A folder's batch configs are not items of a batch over that folder (no recursion)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # not readable as a config: it becomes a FAILED item with its own error
    return isinstance(raw, dict) and raw.get("kind") == "batch"


def nested_batch_files(paths: list[str | Path] | str | Path) -> list[Path]:
    """The ``kind: batch`` configs in the folders among ``paths``: a batch over a folder leaves them out
    (:func:`expand_configs`), and says so."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    folders = [Path(item) for item in items if Path(item).is_dir()]
    found = [p for folder in folders for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])]
    return [p for p in found if _is_batch_file(p)]


def expand_configs(paths: list[str | Path] | str | Path) -> list[Path]:
    """YAML configs named directly or found (sorted) in the given folders, each once (a file named and found in a
    folder given too, or named twice, is one item: it ran twice in one batch).

    Raises:
        ConfigError: a path does not exist or a folder holds no YAML config.
    """
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    configs: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = [p for p in sorted([*item.glob("*.yaml"), *item.glob("*.yml")]) if not _is_batch_file(p)]
            if not found:
                raise ConfigError(f"{item}: folder holds no .yaml configs")
            configs += found
        elif item.is_file():
            configs.append(item)
        else:
            raise ConfigError(f"{item}: no such config file or folder")
    unique: dict[Path, Path] = {}
    for path in configs:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def load_checked(path: str | Path) -> Any:
    """Load a config and check its inputs (:func:`check_inputs`): the CLI's fail-fast step."""
    config = load_config(path)
    check_inputs(config)
    return config


_CHECKED: ContextVar[Any] = ContextVar("deltaflow_checked_config", default=None)
"""The config object whose inputs the caller has just checked (:func:`checked_already`), or None."""


@contextmanager
def checked_already(config: Any) -> Iterator[None]:
    """Within this block, a flow called with this very ``config`` object skips its fail-fast check
    (:func:`inputs_check`): the CLI has made it (:func:`load_checked`) and the data are not read a third time."""
    token = _CHECKED.set(config)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def is_checked(config: Any) -> bool:
    """Whether ``config`` is the object a caller has checked the inputs of (:func:`checked_already`)."""
    return config is not None and config is _CHECKED.get()


def inputs_check(kind: str) -> Callable[..., None]:
    """The fail-fast step of a flow of run kind ``kind`` called from Python (:class:`flows.runtime.PreparedFlow`):
    ``check(config, ...)`` resolves the flow's ``config`` argument (a config, a YAML path, a config file reference)
    and checks its inputs (:func:`check_inputs`), as the CLI does, unless the caller has checked that same config
    object already (:func:`checked_already`). It reads the data once more than the run itself does (0.4 s for a
    million rows).

    Raises (from ``check``):
        ConfigError, DataError: as the flow would raise them, before anything was started.
    """

    def check(config: Any, *args: Any, **kwargs: Any) -> None:
        if not is_checked(config):
            check_inputs(resolve_config(config, kind))

    return check
