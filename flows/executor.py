"""The Dask task runner for a batch's :class:`~pipeline.config.ExecutorConfig` (prefect-dask)."""

from __future__ import annotations

import os

from prefect_dask import DaskTaskRunner

from pipeline.config import ExecutorConfig
from pipeline.errors import ExecutorError

__all__ = ["require_scheduler", "task_runner"]


def require_scheduler(executor: ExecutorConfig) -> None:
    """Connect once to the scheduler at ``executor.address`` (nothing to do for a LocalCluster), so that a batch
    that cannot run there stops before it records anything: the task runner itself connects only when the first
    chunk is submitted, after the batch's parent run is open. It waits as long as Dask waits for any connection
    (``distributed.comm.timeouts.connect``, 30 s unless configured).

    Raises:
        ExecutorError: no scheduler answers at the address.
    """
    if executor.address is None:
        return
    from distributed import Client

    try:
        client = Client(executor.address, set_as_default=False)
    except (OSError, ValueError) as exc:
        raise ExecutorError(
            f"executor.address {executor.address}: no Dask scheduler answers there ({exc}). Start one"
            " (`dask scheduler`, with workers: `dask worker ADDRESS`), fix the address, or run with --executor local"
        ) from None
    client.close()


def task_runner(executor: ExecutorConfig) -> DaskTaskRunner:
    """A DaskTaskRunner on the executor's scheduler, or on a LocalCluster of worker processes bound to loopback."""
    if executor.address is not None:
        return DaskTaskRunner(address=executor.address)
    os.environ.setdefault("DASK_TEMPORARY_DIRECTORY", os.path.join(os.getcwd(), ".state", "dask"))
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": executor.n_workers,
            "threads_per_worker": executor.threads_per_worker,
            "processes": True,
            "dashboard_address": None,
            "host": "127.0.0.1",
        }
    )
