"""deltaflow flows: Prefect orchestration and MLflow tracking around the pure core.

Importing this package fills in the embedded defaults (telemetry off, ``PREFECT_HOME``
under ``./.state``) for any environment variable the user has not set; it writes nothing.
"""

from flows.settings import apply_environment_defaults, no_heartbeats_without_a_server

apply_environment_defaults()
no_heartbeats_without_a_server()

from flows.batch import BatchRun, run_batch  # noqa: E402
from flows.discovery import DiscoveryRun, discover_equations  # noqa: E402
from flows.sensitivity import SensitivityRun, analyze_sensitivity  # noqa: E402

__all__ = ["BatchRun", "DiscoveryRun", "SensitivityRun", "analyze_sensitivity", "discover_equations", "run_batch"]
