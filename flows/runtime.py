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
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from prefect import Flow, Task
from prefect.context import FlowRunContext, TaskRunContext
from prefect.states import State

from flows.locks import file_lock
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
    """Start Prefect's temporary server now if this run will use one; create its database under a lock.

    Prefect would start it on the first API call anyway; starting it here lets the first start in a folder
    hold a file lock until the database is created, so concurrent first runs do not both create it.
    Nothing happens with ``PREFECT_API_URL`` set (a real or a local server, or a test harness).
    """
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url:
        return
    from prefect.server.api.server import SubprocessASGIServer

    ready = Path(settings.home) / ".deltaflow-database-ready"
    if ready.exists():
        with _interrupts_held():
            SubprocessASGIServer().start()
        return
    with file_lock(ready.with_suffix(".lock")), _interrupts_held():
        SubprocessASGIServer().start()  # returns once the server answers: its database exists
        ready.touch()


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT back while the temporary server's process is started: it inherits the blocked signal, so a
    Ctrl-C in the terminal (sent to the whole process group) stops the run, which then records its failure
    through a server still alive and stops the server itself on exit. A Ctrl-C during the start is delivered
    right after it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


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
    An error of the stage propagates unchanged.
    """
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
