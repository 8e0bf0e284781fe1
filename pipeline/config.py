"""Run configuration: pydantic models loaded from YAML with ``yaml.safe_load``.

Every model forbids unknown keys and is frozen, so a typo in a config file is an
error that names the key, never a silently ignored setting. Relative data paths are
resolved against the directory of the config file that names them, so a config runs
the same from any working directory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args
from zoneinfo import available_timezones

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.differentiation.registry import METHODS, method_class
from pipeline.discovery.library import FUNCTION_FAMILIES
from pipeline.discovery.simulate import SIMULATION_EVALUATIONS
from pipeline.errors import ConfigError, DataError, DataFileNotFoundError
from pipeline.spikes import SpikePolicy

__all__ = [
    "DataConfig",
    "DifferentiationConfig",
    "DiscoveryConfig",
    "LibraryConfig",
    "AnyConfig",
    "BatchConfig",
    "ExecutorConfig",
    "GradientConfig",
    "IndicesConfig",
    "InputConfig",
    "ModelSourceConfig",
    "RunBase",
    "RunConfig",
    "TrackedRunBase",
    "ScheduleConfig",
    "GradientCheckConfig",
    "LawConfig",
    "ResidualConfig",
    "SensitivityConfig",
    "TableConfig",
    "ModelTrackingConfig",
    "config_group",
    "TrackingConfig",
    "load_config",
    "parse_config",
    "at_every_sample",
]

DifferentiationMethod = Literal[tuple(METHODS)]  # type: ignore[valid-type]  # one edit adds a method: the registry
FunctionFamily = Literal[FUNCTION_FAMILIES]  # type: ignore[valid-type]


class _RaisesConfigError(type(BaseModel)):  # pydantic's model metaclass
    """A group built in Python (``DiscoveryConfig(threshold=0.1)``) fails like one read from YAML: a
    :class:`ConfigError` naming the class, each field at fault and what it takes (pydantic's ValidationError is the
    cause). Only a call of the class is wrapped: validation of a mapping (YAML, nested groups) does not call it."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, cls.__name__, cls)) from exc


class _Strict(BaseModel, metaclass=_RaisesConfigError):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse true/false (YAML's yes/no/on/off too) where a field takes numbers: pydantic reads them as 1 and 0,
        and ``degree: true`` would run with degree 1. Also in a mapping of numbers (``differentiation.params``)."""
        annotation = cls.model_fields[info.field_name].annotation if info.field_name else None
        if annotation is None or _accepts_bool(annotation) or not _takes_numbers(annotation):
            return value
        flags = [v for v in (value.values() if isinstance(value, dict) else [value]) if isinstance(v, bool)]
        if flags:
            raise ValueError(f"expected a number, not true/false (YAML read the boolean {str(flags[0]).lower()})")
        return value


def _type_arguments(annotation: Any) -> list[Any]:
    """``annotation`` and every type nested in it (union members, container and Annotated arguments)."""
    found, stack = [], [annotation]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(get_args(current))
    return found


def _accepts_bool(annotation: Any) -> bool:
    """Whether a field of this type takes true/false as such (a bool field, or a union with bool)."""
    return any(t is bool for t in _type_arguments(annotation))


def _takes_numbers(annotation: Any) -> bool:
    """Whether a field of this type takes numbers somewhere (an int or float, alone, in a union or a container)."""
    return any(t in (int, float) for t in _type_arguments(annotation))


UserPath = Annotated[Path, AfterValidator(Path.expanduser)]
"""A path a user wrote: ``~`` stands for their home folder, as in a shell."""


class DataConfig(_Strict):
    """Where the time series lives and which columns hold what."""

    path: UserPath = Field(
        description="CSV or Parquet file; relative paths are taken from the config file's folder, ~ is the home"
        " folder."
    )
    time_column: str = Field(
        default="t",
        min_length=1,
        description="Column of sample times: numbers, or ISO 8601 dates/datetimes (2024-01-05, 2024-01-05T10:00:00,"
        " with or without an offset such as +02:00 or Z) measured from the earliest in time_unit.",
    )
    time_unit: Literal["auto", "s", "min", "h", "d"] = Field(
        default="auto",
        description="Unit of a date/datetime time column (derivatives and coefficients are per this unit); 'auto' is"
        " the largest of s, min, h, d no longer than the median spacing. Numeric times are used as they are.",
    )
    state_columns: list[str] | None = Field(
        default=None,
        min_length=1,
        description="State columns; all numeric columns but time and trajectory when omitted.",
    )
    trajectory_column: str | None = Field(default=None, description="Column identifying trajectories, if several.")
    control_columns: list[str] | None = Field(
        default=None, description="Known inputs u the dynamics may depend on (dx/dt = f(x, u)); not modelled."
    )
    outliers: SpikePolicy = Field(
        default="replace",
        description="Spikes (a state's sample far outside its neighbours' range and the noise, e.g. a typo): 'replace'"
        " puts a cubic through its neighbours in its place and says so in the run's notes, 'keep' fits them, 'raise'"
        " stops with an error naming each.",
    )


class DifferentiationConfig(_Strict):
    """How derivatives are estimated from the (noisy) states."""

    method: DifferentiationMethod = Field(default="auto", description="Differentiator; 'auto' chooses from the data.")
    params: dict[str, float | int | str] = Field(
        default_factory=dict,
        description="Method parameters, e.g. {window: 21} for savgol; chosen from data when omitted.",
    )

    @field_validator("params")
    @classmethod
    def _known_params(cls, params: dict[str, float | int | str], info: ValidationInfo) -> dict[str, float | int | str]:
        method = info.data.get("method")
        if method is None:  # the method itself is invalid, and named so
            return params
        valid = sorted(method_class(method)._get_param_names())
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"method '{method}' has no parameter(s) {unknown}; it takes {valid}")
        return params


class LibraryConfig(_Strict):
    """Candidate terms of the right-hand side."""

    degree: int | None = Field(
        default=None, ge=1, le=5, description="Highest polynomial degree; None tries every degree up to max_degree."
    )
    max_degree: int = Field(default=3, ge=1, le=5, description="Highest degree tried when degree is None.")
    include_bias: bool = Field(default=True, description="Include the constant term.")
    functions: list[FunctionFamily] | Literal["auto"] = Field(
        default="auto",
        description="Function terms of each state added to the polynomials (saturation is x/(1+x), hill x^2/(1+x^2),"
        " inhibition x/(1+x^2), sigmoid 1/(1+exp(-x)); listed exp, saturation, hill, inhibition and sigmoid take"
        " their scale (and the sigmoid its center) from the data);"
        " 'auto' tries"
        " sin, cos, exp, log and saturation where the data make them well defined, exp(r x) and x/(K+x) at a rate"
        " chosen from the data and x/(K+x) also times another state, adopted only where they beat the polynomials;"
        " [] for polynomials only.",
    )
    fourier_frequencies: int = Field(
        default=0, ge=0, le=5, description="Fourier terms sin(k x), cos(k x) of each state for k = 1..this."
    )
    combinations: bool = Field(
        default=False,
        description="Also every product of a state with a function term, x_k * f(x_j) (e.g. S * I/(1+I), v * cos(x)).",
    )

    @model_validator(mode="after")
    def _combinations_need_functions(self) -> LibraryConfig:
        if self.combinations and not self.all_functions:
            raise ValueError(
                "combinations multiplies function terms by states; list 'functions' or fourier_frequencies"
            )
        return self

    @property
    def all_functions(self) -> list[str]:
        """Function families in library order: the listed ones, then the Fourier harmonics (no repeats)."""
        harmonics = [
            f"{trig}{k if k > 1 else ''}" for k in range(1, self.fourier_frequencies + 1) for trig in ("sin", "cos")
        ]
        listed = [] if self.functions == "auto" else self.functions
        return list(dict.fromkeys([*listed, *harmonics]))


class DiscoveryConfig(_Strict):
    """Sparse regression and model selection."""

    library: LibraryConfig = Field(default_factory=LibraryConfig)
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        description="STLSQ threshold on normalised columns; None chooses along the sparsity path by cross-validation.",
    )
    n_folds: int = Field(default=5, ge=2, le=20, description="Contiguous time blocks for cross-validated selection.")
    n_bootstrap: int = Field(
        default=40, ge=0, le=1000, description="Bagging resamples for inclusion probabilities and intervals (0: none)."
    )
    max_simulation_evaluations: int = Field(
        default=SIMULATION_EVALUATIONS,
        ge=1000,
        description="Cap on the solver's right-hand-side evaluations in one simulation of the final model (scores,"
        " plots, the logged model); a count, never wall time, so a busy machine reports the same scores.",
    )
    weak_form: bool = Field(
        default=True, description="Also select terms and fit coefficients on the weak (integral, test-function) form."
    )
    refine_by_simulation: bool = Field(
        default=True,
        description="Refine the chosen model's coefficients so its block-wise simulations track the observed states.",
    )
    refine_rates: bool = Field(
        default=False,
        description="With refine_by_simulation, also refine the inner rates of the chosen model's function terms (the"
        " K of x/(K+x), the r of exp(r x), a sigmoid's center) with its coefficients where that lowers the shooting"
        " error: it finds a law's constant in a nearly noise-free record (a simulation's output). Off by default: on"
        " the tuning half of the published corpus it changed no success count and made the fits it changed 1.3-1.6x"
        " slower at the median (benchmarks/results/generalisation.md).",
    )
    conservation_laws: bool = Field(
        default=True,
        description="Find linear conservation laws the data keep (e.g. S + I + R constant) and keep them exactly.",
    )


class TrackingConfig(_Strict):
    """MLflow tracking options (the store itself comes from the environment)."""

    enabled: bool = Field(
        default=True,
        description="Log the run to MLflow (params, metrics, plots, report, model). False writes nothing: the console"
        " summary is then the only output (the result is still returned to a Python caller).",
    )
    experiment: str | None = Field(
        default=None, min_length=1, max_length=500, description="MLflow experiment (at most 500 characters, MLflow's"
        " limit); defaults to the config's name.",
    )  # fmt: skip


class ModelTrackingConfig(TrackingConfig):
    """MLflow tracking options of a run that logs a model (discovery): :class:`TrackingConfig` plus the model's."""

    log_model: bool = Field(default=True, description="Log the discovered ODE as an mlflow.pyfunc model.")
    register_as: str | None = Field(default=None, description="Register the logged model under this name.")
    alias: str = Field(
        default="current",
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$",
        description="With register_as: the registry alias moved to each new version (configs use models:/name@alias);"
        " 'latest' is MLflow's own (models:/name/latest) and cannot be an alias.",
    )

    @field_validator("register_as")
    @classmethod
    def _registrable(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value in (".", "..") or any(c in value for c in "/:@")):
            raise ValueError(
                "a registered model's name is not blank, '.' or '..', and has no '/', ':' or '@' (MLflow's model"
                " URIs, models:/name@alias, are split on them)"
            )
        return value

    @field_validator("alias")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() == "latest" or re.fullmatch(r"v\d+", value.lower()):
            raise ValueError(f"alias {value!r} is reserved by MLflow (latest, v<number>); use e.g. 'champion'")
        return value


@cache
def _timezones() -> frozenset[str]:
    """The IANA time zone names this system knows (what Prefect's cron schedules accept)."""
    return frozenset(available_timezones())


CRON_NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""The cron shorthands Prefect's scheduler (croniter) takes besides five fields."""


CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
    ("second", 0, 59, ()),
)
"""The fields of a cron expression in order (croniter's optional sixth is seconds): name, lowest and highest value,
and the names that stand for values from the lowest on."""


def _cron_problem(expression: str) -> str | None:
    """What is wrong with a cron ``expression`` of 5 or 6 fields (a value out of its field's range, a malformed
    list, range or step), or None. Items with croniter's extensions (L, W, #, ?) are left to the scheduler."""
    for text, (name, low, high, names) in zip(expression.split(), CRON_FIELDS):
        for item in text.lower().split(","):
            if any(mark in item for mark in "lw#?") and not any(item.startswith(n) for n in names):
                continue
            span, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) > 0):
                return f"{name} field {text!r}: step {step!r} is not a positive whole number"
            if span == "*":
                continue
            for value in span.split("-", 1):
                number = names.index(value) + low if value in names else int(value) if value.isdigit() else None
                if number is None or not low <= number <= high:
                    return f"{name} field {text!r}: {value!r} is not between {low} and {high}"
    return None


class ScheduleConfig(_Strict):
    """When a served deployment runs the config: a cron expression or a fixed interval (seconds)."""

    cron: str | None = Field(
        default=None, description="Cron expression, e.g. '0 3 * * *', or a nickname such as '@daily'."
    )
    interval: float | None = Field(default=None, ge=10.0, description="Seconds between runs (at least 10).")
    timezone: str = Field(default="UTC", description="IANA time zone of the cron expression.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in _timezones():
            near = [zone for zone in _timezones() if zone.lower() == value.lower()]
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ValueError(f"unknown time zone; {hint}expected an IANA name such as 'UTC' or 'Europe/Oslo'")
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> ScheduleConfig:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("a schedule needs exactly one of 'cron' or 'interval'")
        if self.cron is not None and self.cron.strip() not in CRON_NICKNAMES and len(self.cron.split()) not in (5, 6):
            raise ValueError(
                f"cron expression {self.cron!r} needs 5 fields (minute hour day month weekday) or is one of"
                f" {', '.join(CRON_NICKNAMES)}"
            )
        problem = _cron_problem(self.cron) if self.cron is not None and not self.cron.startswith("@") else None
        if problem:
            raise ValueError(f"cron expression {self.cron!r}: {problem}")
        return self


RUN_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\- ]*"
"""What a run name may be: ASCII letters, digits, spaces and _ . -, from a letter or digit on."""


class RunBase(_Strict):
    """The fields every run kind has: a name (the default MLflow experiment), a description, a schedule.

    Each kind adds its own ``kind`` literal (the key :func:`parse_config` dispatches on) and its inputs.
    """

    name: str = Field(
        min_length=1,
        max_length=200,
        description="The run's name and default MLflow experiment: ASCII letters, digits, spaces and _ . -, starting"
        " with a letter or digit (it becomes part of file and deployment names).",
    )
    description: str = ""
    schedule: ScheduleConfig | None = Field(default=None, description="Run on a schedule when served.")
    _source_path: str | None = PrivateAttr(default=None)  # the file :func:`load_config` read it from (not a field)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not re.fullmatch(RUN_NAME, value):
            bad = sorted({c for c in value if not re.fullmatch(r"[A-Za-z0-9_.\- ]", c)})
            what = f"it holds {', '.join(repr(c) for c in bad)}" if bad else "it starts with a space, _ . or -"
            raise ValueError(
                "a run name takes ASCII letters, digits, spaces and _ . -, and starts with a letter or digit (it"
                f" becomes part of file and deployment names); {what}"
            )
        return value

    @property
    def source_path(self) -> str | None:
        """The absolute path of the YAML file this config was read from (None when built in code): runs record it
        as their ``config.path`` tag. Copies keep it; it is no part of the config's hash."""
        return self._source_path

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def experiment_name(self) -> str:
        """The MLflow experiment this run is logged to."""
        return self.name


class TrackedRunBase(RunBase):
    """A run kind logged to MLflow as one run: :class:`RunBase` plus the tracking options."""

    tracking: TrackingConfig = Field(default_factory=TrackingConfig)

    @property
    def experiment_name(self) -> str:
        """The MLflow experiment this run is logged to (``tracking.experiment``, else the name)."""
        return self.tracking.experiment or self.name


class RunConfig(TrackedRunBase):
    """One pipeline run: what to read, how to differentiate, what to discover, where to log."""

    kind: Literal["discovery"] = "discovery"
    tracking: ModelTrackingConfig = Field(default_factory=ModelTrackingConfig)
    data: DataConfig
    differentiation: DifferentiationConfig = Field(default_factory=DifferentiationConfig)
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)


class TableConfig(_Strict):
    """A table of samples: feature columns and one or more output columns."""

    path: UserPath = Field(
        description="CSV or Parquet file; relative paths are taken from the config file's folder, ~ is the home"
        " folder."
    )
    features: list[str] | None = Field(
        default=None, description="Feature columns; all other numeric columns if omitted."
    )
    outputs: list[str] = Field(min_length=1, description="Output columns, each analysed separately.")


class InputConfig(_Strict):
    """One model input's distribution: uniform on [low, high] or normal(mean, std)."""

    dist: Literal["uniform", "normal"] = "uniform"
    low: float | None = Field(default=None, allow_inf_nan=False)
    high: float | None = Field(default=None, allow_inf_nan=False)
    mean: float | None = Field(default=None, allow_inf_nan=False)
    std: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _complete(self) -> InputConfig:
        """The fields of the chosen ``dist`` given, and none of the other's (they were silently ignored)."""
        own, other = (
            (("low", "high"), ("mean", "std")) if self.dist == "uniform" else (("mean", "std"), ("low", "high"))
        )
        stray = [name for name in other if getattr(self, name) is not None]
        if self.dist == "uniform" and stray and self.low is None and self.high is None:
            raise ValueError(
                f"a uniform input (dist defaults to uniform) takes low and high, not {' and '.join(stray)}; for a"
                " normal input write {dist: normal, mean: ..., std: ...}"
            )
        if stray:
            raise ValueError(f"a {self.dist} input takes {' and '.join(own)}, not {' and '.join(stray)}")
        if self.dist == "uniform" and (self.low is None or self.high is None or not self.low < self.high):
            raise ValueError("a uniform input needs low < high")
        if self.dist == "normal" and (self.mean is None or self.std is None):
            raise ValueError("a normal input needs mean and std")
        return self


class ModelSourceConfig(_Strict):
    """A model to query: an MLflow model URI plus the input space to sample it over."""

    uri: str = Field(
        min_length=1, description="MLflow model URI: models:/name/version, models:/name@alias, runs:/id/path."
    )
    inputs: dict[str, InputConfig] = Field(min_length=1, description="One distribution per model input, in order.")
    n_samples: int = Field(default=2048, ge=32, le=2_000_000, description="Sobol points predicted for local estimates.")
    output: str | None = Field(default=None, description="Output column when the model returns a table.")
    example: Literal["diabetes"] | None = Field(
        default=None,
        description="A bundled example model (python -m flows.examples NAME), trained and registered first when"
        " the URI names no model yet, so the config runs on a fresh store.",
    )

    @field_validator("uri")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("models:/", "runs:/")):
            raise ValueError("expected an MLflow model URI starting with models:/ or runs:/")
        return value


def _number_as_text(value: Any) -> Any:
    """A number written where an expression is expected (a constant partial ``y: 1``, a law ``u: 0``) as its text;
    anything else unchanged (a bool stays a bool, and is refused as not a string)."""
    return repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Expression = Annotated[str, BeforeValidator(_number_as_text)]
"""A safe arithmetic expression (:mod:`pipeline.expressions`); a plain number is one too."""


def _points_kind(value: Any) -> str:
    """Which branch of :data:`PointsOrFile` a value is: a file name or a list of points ('samples' aside)."""
    if value == "samples":
        return "samples"
    return "file" if isinstance(value, str | Path) else "list"


def at_every_sample(at: object) -> bool:
    """Whether a ``gradient.at`` value asks for gradients at every sample (``samples``), not at named points."""
    return isinstance(at, str) and at == "samples"


PointsOrFile = Annotated[
    Annotated[list[list[float]], Field(min_length=1), Tag("list")]
    | Annotated[UserPath, Tag("file")]
    | Annotated[Literal["samples"], Tag("samples")],
    Discriminator(_points_kind),
]
"""A list of points (one list of values each), or a file holding them ('samples' only where allowed)."""


def _equal_lengths(points: Any) -> Any:
    """``points`` unchanged when they are not a list, or all have as many values as the first and every value is a
    finite number; else a ValueError naming the first point at fault (YAML reads ``.nan``, ``.inf`` and ``1e400`` as
    floats, and a gradient at such a point is no number)."""
    if isinstance(points, list) and points:
        for k, point in enumerate(points[1:], start=2):
            if len(point) != len(points[0]):
                raise ValueError(
                    f"point {k} has {len(point)} values, point 1 has {len(points[0])}; each point needs one value per"
                    " feature"
                )
        for k, point in enumerate(points, start=1):
            bad = [value for value in point if not math.isfinite(value)]
            if bad:
                raise ValueError(f"point {k} holds {bad[0]}; expected finite numbers")
    return points


class GradientConfig(_Strict):
    """Local sensitivities: where and how gradients (and Hessians) are estimated."""

    method: Literal[
        "auto", "local_polynomial", "local_polynomial_ard", "local_linear", "local_quadratic", "gaussian_process"
    ] = "auto"
    at: PointsOrFile = Field(
        default="samples",
        description="'samples' (every sample), a list of points (one value per feature), or a file of points:"
        " a CSV/TSV/Parquet table with a column per feature, or a .npy array (points, features); relative to the"
        " config file's folder. Large lists belong in a file.",
    )
    hessian: bool = Field(default=False, description="Also estimate Hessians (with mixed partials).")

    @field_validator("at")
    @classmethod
    def _points_of_one_length(cls, value: Any) -> Any:
        return _equal_lengths(value)


class IndicesConfig(_Strict):
    """Global sensitivity indices."""

    enabled: bool = True
    method: Literal["auto", "sobol", "hdmr", "surrogate", "rbd_fast"] = "auto"
    n_base: int = Field(default=2048, ge=64, le=1_000_000, description="Saltelli base sample N (N·(d+2) runs).")


class SensitivityConfig(TrackedRunBase):
    """One sensitivity analysis: samples (``data``) or a model to query (``model``), gradients and indices."""

    kind: Literal["sensitivity"]
    data: TableConfig | None = None
    model: ModelSourceConfig | None = None
    gradient: GradientConfig = Field(default_factory=GradientConfig)
    indices: IndicesConfig = Field(default_factory=IndicesConfig)

    @model_validator(mode="before")
    @classmethod
    def _not_both_sources(cls, raw: Any) -> Any:
        """Both sources given is the problem to name, before what either one lacks."""
        if isinstance(raw, dict) and raw.get("data") is not None and raw.get("model") is not None:
            raise ValueError("give exactly one of 'data' (a table of samples) or 'model' (an MLflow model URI)")
        return raw

    @model_validator(mode="after")
    def _one_source(self) -> SensitivityConfig:
        if (self.data is None) == (self.model is None):
            raise ValueError("give exactly one of 'data' (a table of samples) or 'model' (an MLflow model URI)")
        return self

    @model_validator(mode="after")
    def _sobol_needs_model(self) -> SensitivityConfig:
        if self.data is not None and self.indices.enabled and self.indices.method == "sobol":
            raise ValueError(
                "indices.method 'sobol' queries a model, and this config gives samples ('data'); with samples use"
                " 'auto', 'hdmr', 'surrogate' or 'rbd_fast'"
            )
        return self


class ExecutorConfig(_Strict):
    """Where a batch's items run: ``{kind: local}``, ``{kind: dask, n_workers: N}`` (a LocalCluster of N
    processes) or ``{kind: dask, address: tcp://host:8786}`` (an existing scheduler)."""

    kind: Literal["local", "dask"] = "local"
    n_workers: int = Field(default=2, ge=1, le=4096, description="LocalCluster worker processes (or the size hint).")
    threads_per_worker: int = Field(default=1, ge=1, le=64, description="Threads per worker process.")
    address: str | None = Field(default=None, description="Scheduler of an existing Dask cluster, tcp://host:port.")
    chunk_size: int | None = Field(
        default=None, ge=1, description="Items per task; about 16 chunks per worker if unset."
    )

    @model_validator(mode="after")
    def _address(self) -> ExecutorConfig:
        if self.address is not None and not self.address.startswith(("tcp://", "tls://", "inproc://")):
            raise ValueError(f"executor.address {self.address!r} must start with tcp://, tls:// or inproc://")
        if self.address is not None and self.kind != "dask":
            raise ValueError("executor.address needs kind: dask")
        return self

    def describe(self) -> str:
        """'LocalCluster 2x1' or the scheduler address."""
        return self.address or f"LocalCluster {self.n_workers}x{self.threads_per_worker}"


class BatchConfig(RunBase):
    """Many configs run as one batch (a parent MLflow run with a child per item) on an executor."""

    kind: Literal["batch"]
    configs: list[UserPath] = Field(
        min_length=1, description="Config files or folders; relative to this file's folder."
    )
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    resume: bool = Field(default=True, description="Reuse items unchanged since a finished run of this batch.")
    data: None = None  # batches have no data of their own


class LawConfig(_Strict):
    """A candidate law dx/dt = rhs(t, x): one safe arithmetic expression per state, with named constants."""

    rhs: dict[str, Expression] = Field(min_length=1, description="State name -> right-hand side, e.g. {u: '-k*u'}.")
    params: dict[str, float] = Field(default_factory=dict, description="Constants the expressions use.")


class ResidualConfig(TrackedRunBase):
    """Physics-residual check: do the data obey the law? (the seed's PINN residual du/dt + k u)."""

    kind: Literal["residual"]
    data: DataConfig
    law: LawConfig
    differentiation: DifferentiationConfig = Field(default_factory=DifferentiationConfig)


class GradientCheckConfig(TrackedRunBase):
    """Numerical against analytic gradient of a function, both written as safe expressions."""

    kind: Literal["gradient_check"]
    variables: list[str] = Field(min_length=1, description="Input names, in order.")
    function: Expression = Field(min_length=1, description="The scalar function, e.g. '(x-1)^2 + 10*(y-x^2)^2'.")
    gradient: dict[str, Expression] = Field(min_length=1, description="Variable -> claimed partial derivative.")
    params: dict[str, float] = Field(default_factory=dict)
    points: PointsOrFile = Field(
        description="Where to check, one value per variable; or a file of points (a table with a column per"
        " variable, or a .npy array), relative to the config file's folder."
    )
    tolerance: float = Field(default=1e-5, gt=0.0, description="Largest accepted relative error.")
    data: None = None

    @field_validator("points")
    @classmethod
    def _points_of_one_length(cls, value: Any) -> Any:
        return _equal_lengths(value)

    @model_validator(mode="after")
    def _consistent(self) -> GradientCheckConfig:
        if set(self.gradient) != set(self.variables):
            raise ValueError(f"gradient must give one partial per variable {self.variables}")
        if self.points == "samples":
            raise ValueError("points: 'samples' is for sensitivity configs; give a list of points or a file")
        if isinstance(self.points, list) and any(len(p) != len(self.variables) for p in self.points):
            raise ValueError(f"every point needs {len(self.variables)} values ({self.variables})")
        return self


GroupT = TypeVar("GroupT", bound=BaseModel)
AnyConfig = RunConfig | SensitivityConfig | ResidualConfig | GradientCheckConfig
CONFIG_KINDS: dict[str, type[BaseModel]] = {
    "discovery": RunConfig,
    "sensitivity": SensitivityConfig,
    "batch": BatchConfig,
    "residual": ResidualConfig,
    "gradient_check": GradientCheckConfig,
}


MAX_CONFIG_BYTES = 256 * 1024
"""Largest config file read; a config describes a run, data belong in data files."""
MAX_CONFIG_NODES = 100_000
"""Most values a config may hold once YAML aliases are expanded (an alias bomb expands exponentially)."""
REPLACED_KEYS = {"discovery.max_simulation_seconds": "discovery.max_simulation_evaluations"}
"""Keys earlier versions accepted, and what took their place (named in the error an old config gets)."""
SHOWN_INPUT_CHARACTERS = 120


def _abbreviated(value: Any) -> str:
    """``repr(value)`` cut to :data:`SHOWN_INPUT_CHARACTERS`, for error messages."""
    text = repr(value)
    return text if len(text) <= SHOWN_INPUT_CHARACTERS else text[: SHOWN_INPUT_CHARACTERS - 3] + "..."


def _expanded_size(raw: Any, limit: int) -> int:
    """Number of values in ``raw`` counting shared (aliased) ones each time, stopping past ``limit``."""
    count, stack = 0, [raw]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _resolved(path: Path, field: str, source: str) -> Path:
    """``path`` made absolute with symlinks followed; a symlink loop is a config error naming the field."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ConfigError(f"{source}: field '{field}': cannot resolve {path} ({exc})") from exc


TOP_LEVEL = "<top level>"
"""How an error location names the config as a whole."""
_TYPE_TAGS = frozenset({"int", "float", "str", "bool", "none", "list", "dict"})
"""Location parts pydantic adds for the branch of a union it tried (besides tags with brackets, literal['auto'])."""


def _location(loc: tuple[str | int, ...]) -> tuple[str, int | None]:
    """A field path as a config's reader writes it (``a.b[0]``), and where in ``loc`` a union's branch tag was
    (None when there is none)."""
    text, branch = "", None
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif "[" in part or part in _TYPE_TAGS:
            branch = i if branch is None else branch
        else:
            text += f".{part}" if text else part
    return text or TOP_LEVEL, branch


def _accepted_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str] | None:
    """The keys the group at ``loc`` (a path of field names into ``model``) accepts; None where the path leaves
    plain models (a list, a union of forms)."""
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        forms = [a for a in get_args(field.annotation) or (field.annotation,) if a is not type(None)] if field else []
        if not (len(forms) == 1 and isinstance(forms[0], type) and issubclass(forms[0], BaseModel)):
            return None  # a list, or a union of several forms
        model = forms[0]
    return list(model.model_fields)


def _whole_group(item: Any, model: type[BaseModel] | None) -> bool:
    """Whether a validation error is a check of a whole group of fields (the config, or a group such as executor),
    whose input is the group itself: its message names the fields, and the group is not worth repeating."""
    loc = tuple(item["loc"])
    if not isinstance(item.get("input"), dict) or item["type"] != "value_error":
        return False
    return not loc or (model is not None and _accepted_keys(model, loc) is not None)


def _describe(error: ValidationError, source: str, model: type[BaseModel] | None = None) -> str:
    """One line per problem: ``<source>: field 'a.b': what was wrong``. A field that may take one of several forms
    (a list of names or 'auto') is one problem: the form whose check went deepest, then what the others expect.
    An unknown key of a ``model`` group is named with the keys that group accepts."""
    lines: list[str] = []
    unions: dict[tuple[str | int, ...], list[dict[str, Any]]] = {}
    for item in error.errors():
        where, branch = _location(item["loc"])
        if branch is not None:
            unions.setdefault(tuple(item["loc"][:branch]), []).append(item)
        elif item["type"] == "extra_forbidden":
            replaced = REPLACED_KEYS.get(where)
            accepted = _accepted_keys(model, tuple(item["loc"][:-1])) if model is not None else None
            hint = f"replaced by '{replaced}'" if replaced else "not a field of the config"
            if not replaced and accepted:
                group = ".".join(str(part) for part in item["loc"][:-1]) or "this kind of config"
                hint += f"; {group} takes {', '.join(accepted)}"
            lines.append(f"{source}: unknown key '{where}' ({hint})")
        elif item["type"] == "missing":
            lines.append(f"{source}: missing required field '{where}'")
        elif _whole_group(item, model):  # a check of a whole group: its message names the fields
            message = item["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {message}" if where == TOP_LEVEL else f"{source}: {where}: {message}")
        else:
            message = item["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: field '{where}': {message} (got {_abbreviated(item.get('input'))})")
    for items in unions.values():
        first = max(items, key=lambda item: len(item["loc"]))
        others = "".join(f"; or, as a whole: {item['msg']}" for item in items if item is not first)
        where = _location(first["loc"])[0]
        lines.append(f"{source}: field '{where}': {first['msg']} (got {_abbreviated(first.get('input'))}){others}")
    return "; ".join(lines)


def parse_config(raw: Any, *, source: str = "<config>", base_dir: Path | None = None) -> AnyConfig:
    """Validate a mapping (as read from YAML) into a :class:`RunConfig` or :class:`SensitivityConfig` (by ``kind``).

    Relative ``data.path`` values are resolved against ``base_dir`` when given.

    Raises:
        ConfigError: the mapping has unknown keys, missing fields or wrong types.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of config fields, got {type(raw).__name__}")
    kind = raw.get("kind", "discovery")
    if not isinstance(kind, str) or kind not in CONFIG_KINDS:  # a list or mapping is no kind, and not hashable
        raise ConfigError(f"{source}: field 'kind': unknown kind {kind!r}; expected one of {list(CONFIG_KINDS)}")
    try:
        config = CONFIG_KINDS[kind].model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, CONFIG_KINDS[kind])) from exc
    if base_dir is not None and isinstance(config, BatchConfig):
        resolved = [p if p.is_absolute() else _resolved(base_dir / p, "configs", source) for p in config.configs]
        return config.model_copy(update={"configs": resolved})
    if base_dir is not None and config.data is not None and not config.data.path.is_absolute():
        resolved = _resolved(base_dir / config.data.path, "data.path", source)
        config = config.model_copy(update={"data": config.data.model_copy(update={"path": resolved})})
    return _resolve_point_files(config, base_dir, source) if base_dir is not None else config


def config_group(value: Any, model: type[GroupT], argument: str) -> GroupT:
    """``value`` as the config group ``model`` (``DiscoveryConfig``, ``DifferentiationConfig``, ...), as a Python call
    gives it: the group itself, a mapping of its fields, or None for the defaults.

    Raises:
        ConfigError: naming ``argument``: a mapping that does not validate (the field and what it takes), or
            another type of value.
    """
    if value is None:
        return model()
    if isinstance(value, model):
        return value
    if isinstance(value, dict):
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, argument, model)) from exc
    raise ConfigError(f"{argument} must be a {model.__name__} or a dict of its fields; got {type(value).__name__}")


def _resolve_point_files(config: AnyConfig, base_dir: Path, source: str) -> AnyConfig:
    """Relative point-list files (``gradient.at``, ``points``) taken from ``base_dir``, like ``data.path``."""
    at = config.gradient.at if isinstance(config, SensitivityConfig) else None
    if isinstance(at, Path) and not at.is_absolute():
        at = _resolved(base_dir / at, "gradient.at", source)
        config = config.model_copy(update={"gradient": config.gradient.model_copy(update={"at": at})})
    if isinstance(config, GradientCheckConfig) and isinstance(config.points, Path) and not config.points.is_absolute():
        config = config.model_copy(update={"points": _resolved(base_dir / config.points, "points", source)})
    return config


def load_config(path: str | Path) -> AnyConfig:
    """Read and validate a YAML run config.

    Raises:
        ConfigError: the file is missing, is not YAML, or does not validate (with a hint when it looks like a data
            file given where a config was expected).
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: a folder, not a config file (name one of its YAML configs; `batch` runs a folder)")
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        config = parse_config(_read_yaml(path), source=str(path), base_dir=path.resolve().parent)
    except ConfigError as exc:
        from pipeline.data import DATA_FILE_SUFFIXES  # pandas loads only on this error path

        if path.suffix.lower() not in DATA_FILE_SUFFIXES:
            raise
        raise ConfigError(
            f"{exc}; {path.name} looks like a data file, and a run config is expected here: a YAML file that names"
            " the data file under data.path (e.g. configs/exp_decay.yaml)"
        ) from exc
    config._source_path = str(path.resolve())
    return config


def _read_yaml(path: Path) -> Any:
    """The YAML of the config file ``path``, within the size and expansion limits.

    Raises:
        ConfigError: the file is too large, is not YAML, or expands to too many values.
    """
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: config file is {size // 1024} KB; at most {MAX_CONFIG_BYTES // 1024} KB (put data in a data file)"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML ({exc.problem}{where})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from exc
    if _expanded_size(raw, MAX_CONFIG_NODES) > MAX_CONFIG_NODES:
        raise ConfigError(f"{path}: more than {MAX_CONFIG_NODES} values once YAML aliases are expanded")
    return raw


def check_data_path(config: AnyConfig, allowed_roots: Sequence[Path] | None = None) -> Path | None:
    """Return the config's data path (None for a model source), raising if the file does not exist.

    Args:
        allowed_roots: when given, the resolved path (symlinks followed) must lie under one of these folders.

    Raises:
        ConfigError: the path is outside the allowed roots.
        DataError: the path is a folder.
        DataFileNotFoundError: the file does not exist.
    """
    if config.data is None:
        return None
    if allowed_roots is not None:
        resolved = _resolved(config.data.path, "data.path", f"config '{config.name}'")
        roots = [Path(r).resolve() for r in allowed_roots]
        if not any(resolved == r or r in resolved.parents for r in roots):
            raise ConfigError(
                f"data.path {config.data.path} of config '{config.name}' is outside the allowed data roots"
                f" {[str(r) for r in roots]} (DELTAFLOW_DATA_ROOTS)"
            )
    if config.data.path.is_dir():
        raise DataError(
            f"{config.data.path}: a folder, not a data file (data.path of config '{config.name}' must name a .csv,"
            " .tsv or .parquet file)"
        )
    if not config.data.path.is_file():
        raise DataFileNotFoundError(f"{config.data.path}: data file not found (data.path of config '{config.name}')")
    return config.data.path
