"""Where the public names of :mod:`pipeline` live; imported on first use (see :mod:`pipeline.lazy`)."""

from pipeline.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    "pipeline",
    {
        "DeltaflowError": "pipeline.errors",
        "DiscoveryResult": "pipeline.discovery",
        "RunConfig": "pipeline.config",
        "TimeSeries": "pipeline.data",
        "differentiate": "pipeline.differentiation",
        "discover": "pipeline.discovery",
        "load_config": "pipeline.config",
        "load_timeseries": "pipeline.data",
    },
)
