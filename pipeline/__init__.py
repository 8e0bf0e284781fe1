"""deltaflow core: pure numerics and data classes (no orchestration, no tracking)."""

from pipeline.config import RunConfig, load_config
from pipeline.data import TimeSeries, load_timeseries
from pipeline.differentiation import differentiate
from pipeline.discovery import DiscoveryResult, discover
from pipeline.errors import DeltaflowError

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
