"""Sparse identification of governing ODEs dx/dt = f(x) from sampled trajectories.

:func:`discover` runs the chain in :mod:`pipeline.discovery.chain`: it smooths and
differentiates each trajectory, scales the states to unit RMS, finds linear conservation
laws the data keep, builds the candidate library (:mod:`~pipeline.discovery.design`),
proposes joint term choices along STLSQ and stepwise sparsity paths scored by blocked
cross-validation on the derivatives and on the weak form (:mod:`~pipeline.discovery.proposals`),
fits and judges them by multiple shooting (:mod:`~pipeline.discovery.judging`), refines the
winner's coefficients by simulation (:mod:`~pipeline.discovery.refinement`), estimates their
uncertainty by bagging (:mod:`~pipeline.discovery.ensemble`) and scores the model
(:mod:`~pipeline.discovery.scoring`). ``docs/architecture.md`` maps every module.

Public names are imported on first use (:mod:`pipeline.discovery.exports`), so reading the function
families (:mod:`pipeline.discovery.library`) does not import pysindy.
"""

from pipeline.discovery.exports import __dir__ as __dir__  # lazy public names
from pipeline.discovery.exports import __getattr__ as __getattr__

__all__ = ["DiscoveryResult", "Library", "discover", "format_equation"]
