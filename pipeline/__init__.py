"""deltaflow core: pure numerics and data classes (no orchestration, no tracking).

The public names below are imported on first use (:mod:`pipeline.exports`), so reading a config
(``pipeline.config``) does not import pysindy and scikit-learn.
"""

from pipeline.exports import __dir__ as __dir__  # lazy public names
from pipeline.exports import __getattr__ as __getattr__

__all__ = [
    "DeltaflowError",
    "DiscoveryResult",
    "RunConfig",
    "TimeSeries",
    "differentiate",
    "discover",
    "load_config",
    "load_timeseries",
]
__version__ = "0.1.0"
