"""How deltaflow's flows run.

- :func:`deltaflow_flow` makes a Prefect flow that prepares the embedded defaults
  (:func:`flows.settings.prepare_environment`) on its first call, so importing a flow changes nothing;
  called from Python, it checks its inputs first (the CLI's checks), so a user error starts no Prefect
  and no MLflow run. A run Prefect starts itself (a deployment on its schedule) does not call the flow
  object: its errors are met in the body and recorded as a FAILED run, the only record a scheduled run has.
- :func:`run_stage` calls a stage (a Prefect task) as a task run inside a flow run, and as a plain
  function anywhere else (inside a Dask chunk task, or a flow's body called with ``.fn``): each flow's
  body is written once and serves both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import Flow, Task
from prefect.context import FlowRunContext, TaskRunContext
from prefect.states import State

from flows.interrupts import raise_if_received
from flows.parameters import compact_parameters
from flows.settings import prefect_home, prepare_environment
from pipeline.errors import DeltaflowError

__all__ = [
    "STAGE_LOGGER", "PreparedFlow", "deltaflow_flow", "prepare_run", "retry_on_io_error", "run_stage",
    "start_temporary_server",
]  # fmt: skip

R = TypeVar("R")


class PreparedFlow(Flow):
    """A Prefect flow that prepares deltaflow's environment before its first run (then costs nothing), and
    passes a large config by reference (:mod:`flows.parameters`: Prefect refuses parameters over 512 KB).

    Args:
        check: called with the flow's arguments when the flow is called directly (not as a subflow: a batch
            records each failing item as a FAILED child), before the environment is prepared, Prefect's server
            started or any run created; it raises the user's error (a bad config, data file or model), so nothing
            is half-started.
    """

    def __init__(self, *args: Any, check: Callable[..., None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.check = check

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top_level = FlowRunContext.get() is None
        if top_level and self.check is not None:
            self.check(*args, **kwargs)  # first: a user error creates nothing, not even PREFECT_HOME
        prepare_environment()
        if top_level:
            start_temporary_server()
        args, kwargs = compact_parameters(args, kwargs, prefect_home())
        return super().__call__(*args, **kwargs)


def prepare_run() -> None:
    """Before a flow runs: the environment (:func:`~flows.settings.prepare_environment`), and for a
    top-level run (not a subflow) Prefect's temporary server if the run will need one."""
    prepare_environment()
    if FlowRunContext.get() is None:
        start_temporary_server()


def start_temporary_server() -> None:
    """Make sure a top-level run has its Prefect server: Prefect's temporary server, started by
    :func:`flows.temporary_server.ensure_running` (without importing Prefect's server code) unless one is
    configured (``PREFECT_API_URL``: a real or a local server, or a test harness)."""
    from flows.temporary_server import ensure_running

    ensure_running()


def deltaflow_flow(name: str, check: Callable[..., None] | None = None) -> Callable[[Callable[..., R]], PreparedFlow]:
    """Decorator: ``@deltaflow_flow("discover-equations", check=...)`` turns a function into a :class:`PreparedFlow`
    that runs ``check`` on its arguments before it starts (see there).

    Parameters are not validated by Prefect (the configs are pydantic models validated by deltaflow).
    """

    def wrap(fn: Callable[..., R]) -> PreparedFlow:
        return PreparedFlow(fn=fn, name=name, validate_parameters=False, check=check)

    return wrap


STAGE_LOGGER = "deltaflow.stage"
"""Each stage's start is a DEBUG record of this logger with the stage's name (attribute ``stage``): the CLI shows it
as progress (:class:`flows.console.StageProgress`)."""


def run_stage(stage: Task, *args: Any) -> tuple[Any, bool]:
    """Run ``stage(*args)``; returns (its result, whether the result came from Prefect's cache).

    Inside a flow run (and not inside another task) the stage is a task run: cached, retried, visible
    in the Prefect UI. Elsewhere it is called as the plain function (``stage.fn``), never cached.
    An error of the stage propagates unchanged. An interrupt the command received raises here if its own
    ``KeyboardInterrupt`` was lost (:mod:`flows.interrupts`).
    """
    raise_if_received()
    logging.getLogger(STAGE_LOGGER).debug("stage %s", stage.name, extra={"stage": stage.name})
    if FlowRunContext.get() is None or TaskRunContext.get() is not None:
        return stage.fn(*args), False
    state = stage(*args, return_state=True)
    return state.result(), state.name == "Cached"


def retry_on_io_error(task: object, task_run: object, state: State) -> bool:
    """Retry only on IO faults (a flaky disk or network share), never on bad data."""
    try:
        state.result()
    except DeltaflowError:
        return False
    except OSError:
        return True
    except Exception:  # noqa: BLE001 - anything else is not an IO fault
        return False
    return False
