"""deltaflow flows: Prefect orchestration and MLflow tracking around the pure core.

Importing this package has no side effects: it creates no folder, imports neither Prefect nor
MLflow and changes no setting. The public names are imported on first use (:mod:`flows.exports`);
the embedded defaults (``PREFECT_HOME`` under ``./.state``, telemetry off, a long start timeout for
Prefect's temporary server) are set by the CLI and by each flow's first call
(:func:`flows.settings.prepare_environment`).
"""

from flows.exports import __dir__ as __dir__  # lazy public names
from flows.exports import __getattr__ as __getattr__

__all__ = ["BatchRun", "DiscoveryRun", "SensitivityRun", "analyze_sensitivity", "discover_equations", "run_batch"]
