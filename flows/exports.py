"""Where the public names of :mod:`flows` live; imported on first use (see :mod:`pipeline.lazy`).

So ``import flows`` (and ``python -m flows --help``) imports neither Prefect nor MLflow, and
changes nothing: the environment is prepared by the CLI and by each flow's first call.
"""

from pipeline.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    "flows",
    {
        "BatchRun": "flows.batch",
        "DiscoveryRun": "flows.discovery",
        "SensitivityRun": "flows.sensitivity",
        "analyze_sensitivity": "flows.sensitivity",
        "discover_equations": "flows.discovery",
        "run_batch": "flows.batch",
    },
)
