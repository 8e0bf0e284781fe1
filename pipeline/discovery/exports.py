"""Where the public names of :mod:`pipeline.discovery` live; imported on first use (see :mod:`pipeline.lazy`)."""

from pipeline.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    "pipeline.discovery",
    {
        "DiscoveryResult": "pipeline.discovery.result",
        "Library": "pipeline.discovery.library",
        "discover": "pipeline.discovery.chain",
        "format_equation": "pipeline.discovery.result",
    },
)
