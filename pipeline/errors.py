"""The one error tree of deltaflow.

Every error deltaflow raises on purpose is a :class:`DeltaflowError`. Each category
also subclasses the built-in exception a Python user would expect, so callers can
catch either ``DeltaflowError`` or, say, ``ValueError``::

    DeltaflowError (Exception)
    ├── ConfigError (ValueError)            a config file or field is wrong
    ├── DataError (ValueError)              an input table or array is wrong
    │   └── DataFileNotFoundError (DataError, FileNotFoundError)
    ├── DifferentiationError (ValueError)   derivatives cannot be computed as asked
    ├── DiscoveryError (RuntimeError)       model discovery failed
    │   └── SimulationError (DiscoveryError)  integrating a model failed or diverged
    ├── SensitivityError (ValueError)       sensitivity analysis cannot run as asked
    │   └── ModelError (SensitivityError)     a model to analyse cannot be loaded or queried
    ├── TrackingError (RuntimeError)        the tracking store refused or failed
    │   ├── InvalidRecordError (TrackingError, ValueError)  a run record MLflow refuses, or a damaged one
    │   └── DiskWriteError (TrackingError, OSError)  a file could not be written: disk full, quota, read-only
    ├── StoreCorruptError (RuntimeError)     a local store (mlflow.db, prefect.db) is damaged
    ├── ExecutorError (ConnectionError)      the Dask cluster a batch is to run on cannot be reached
    └── OrchestrationError (ConnectionError) the Prefect server a command works with stopped answering

Errors of dependencies (pysindy, pandas, scipy, MLflow) are translated at the
boundary: ``raise DataError(...) from exc``. Messages name the file, column or field
and say what was expected.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DataFileNotFoundError",
    "DeltaflowError",
    "DifferentiationError",
    "DiscoveryError",
    "DiskWriteError",
    "ExecutorError",
    "InvalidRecordError",
    "ModelError",
    "OrchestrationError",
    "SensitivityError",
    "SimulationError",
    "StoreCorruptError",
    "TrackingError",
]


class DeltaflowError(Exception):
    """Root of every error deltaflow raises on purpose.

    ``run_id`` is set by the flows layer to the MLflow run that recorded the failure (None if it was
    queued or never recorded); ``recorded`` says whether a run record of the failure exists.
    """

    run_id: str | None = None
    recorded: bool = False


class ConfigError(DeltaflowError, ValueError):
    """A config file, key or value is invalid; the message names the field."""


class DataError(DeltaflowError, ValueError):
    """Input data are missing, malformed or unusable; the message names file and column."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """A data file named in a config or call does not exist."""


class DifferentiationError(DeltaflowError, ValueError):
    """Derivatives cannot be computed with the requested method or parameters.

    ``parameter`` names the method's parameter at fault (``window``) when a setting is out of range, and is None
    otherwise (the method does not suit the data's sampling, or the data are wrong), so a caller can name the
    config field (``differentiation.params.window`` or ``differentiation.method``).
    """

    def __init__(self, *args: object, parameter: str | None = None) -> None:
        super().__init__(*args)
        self.parameter = parameter


class DiscoveryError(DeltaflowError, RuntimeError):
    """Equation discovery could not produce a model."""


class SimulationError(DiscoveryError):
    """Integrating a discovered model failed: divergence, NaN or time limit."""


class SensitivityError(DeltaflowError, ValueError):
    """Sensitivity analysis cannot run with the given inputs."""


class ModelError(SensitivityError):
    """A model to analyse cannot be loaded, or its predictions are unusable (failure, wrong shape, NaN)."""


class TrackingError(DeltaflowError, RuntimeError):
    """The experiment-tracking store refused a write or could not be reached."""


class InvalidRecordError(TrackingError, ValueError):
    """A run record cannot be published as it is: it holds a value the tracking store refuses (too long, a bad
    key), or a queued record is damaged; the message names the field or the file.

    Retrying cannot help, so such a record is reported, never queued as if MLflow were unreachable.
    """


class DiskWriteError(TrackingError, OSError):
    """A file could not be written (disk full, quota exceeded, read-only file system, file size limit).

    The message names the folder and what to free. ``record`` is the run record that could not be
    written (or None), so the caller can close its MLflow run instead of leaving it RUNNING.
    """

    record: object | None = None


class StoreCorruptError(DeltaflowError, RuntimeError):
    """A local store (MLflow's ``mlflow.db``, Prefect's ``prefect.db``) is damaged; the message names the file
    and says how to move it aside."""


class ExecutorError(DeltaflowError, ConnectionError):
    """The Dask cluster a batch is to run on cannot be reached (no scheduler answers at ``executor.address``); the
    message names the address and what to do. Nothing has been recorded when it is raised."""


class OrchestrationError(DeltaflowError, ConnectionError):
    """The Prefect server a command works with (``serve``'s) stopped answering, or the temporary one a run starts did
    not answer in time; the message names the server and what to do."""
