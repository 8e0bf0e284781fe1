"""The Dask task runner for a batch's :class:`~pipeline.config.ExecutorConfig` (prefect-dask)."""

from __future__ import annotations

import os

from prefect_dask import DaskTaskRunner

from pipeline.config import ExecutorConfig

__all__ = ["task_runner"]


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
