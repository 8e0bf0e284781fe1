"""Multiple shooting: a model judged by simulating it across short blocks of the record.

Each trajectory is cut into ``n_blocks`` blocks; the model is simulated across every block
from the smoothed state at its start, and its error against the observed states is
measured in units of each state's spread. Short blocks keep the judgement meaningful for
chaotic systems, whose long simulations diverge from any record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.discovery.library import Library
from pipeline.discovery.simulate import interpolated_control, simulate_model
from pipeline.errors import SimulationError

__all__ = ["FAILED_RESIDUAL", "ShootingBlock", "ShootingProblem", "evaluation_budget"]

SHOOTING_EVALUATIONS_PER_SAMPLE = 30
"""Right-hand-side evaluations a shooting block may use per output sample (sane models here used about 0.5)."""
FAILED_RESIDUAL = 1e3
"""Residual of a block whose simulation fails (in units of each state's spread)."""


def evaluation_budget(samples: int) -> int:
    """Right-hand-side evaluations a shooting simulation over ``samples`` output times may use."""
    return SHOOTING_EVALUATIONS_PER_SAMPLE * samples + 1000


@dataclass(frozen=True)
class ShootingBlock:
    """Rows ``first`` to ``last`` (inclusive) of trajectory ``trajectory``."""

    trajectory: int
    first: int
    last: int


@dataclass(frozen=True)
class ShootingProblem:
    """Everything a shooting simulation needs, in the units the model is fitted in.

    Attributes:
        library: the p candidate terms.
        ts: times per trajectory (n_k,).
        xs: observed states per trajectory (n_k, d).
        smoothed: smoothed states per trajectory (n_k, d); blocks start from them.
        us: known inputs per trajectory (n_k, m), or None.
        n_blocks: blocks per trajectory.

    Block simulations are bounded by a number of right-hand-side evaluations (:func:`evaluation_budget`),
    not by wall time, so which model wins never depends on how busy the machine is.
    """

    library: Library
    ts: list[np.ndarray]
    xs: list[np.ndarray]
    smoothed: list[np.ndarray]
    us: list[np.ndarray] | None
    n_blocks: int

    def plan(self) -> list[ShootingBlock]:
        """Every block: each trajectory cut into ``n_blocks`` (fewer for a short one, so that every block
        holds at least 3 samples), blocks of fewer than 3 samples dropped."""
        blocks = []
        for k, t in enumerate(self.ts):
            n_blocks = max(1, min(self.n_blocks, (t.shape[0] - 1) // 2))
            edges = np.linspace(0, t.shape[0] - 1, n_blocks + 1).astype(int)
            blocks += [ShootingBlock(k, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b - a >= 2]
        return blocks

    def spread(self) -> np.ndarray:
        """Standard deviation of each observed state over all trajectories (d,); 1 where it is 0."""
        spread = np.vstack(self.xs).std(axis=0)
        return np.where(spread > 0, spread, 1.0)

    def residual_count(self) -> int:
        """Number of (sample, state) residuals over all blocks."""
        return sum(block.last + 1 - block.first for block in self.plan()) * self.xs[0].shape[1]

    def noise_floor(self, noise_sd: np.ndarray) -> float:
        """The shooting error of a perfect model: mean over states of (noise sd / spread)², noise sd (d,)."""
        return float(np.mean((np.asarray(noise_sd) / self.spread()) ** 2))

    def observed(self, block: ShootingBlock) -> np.ndarray:
        """The observed states over ``block`` (m, d)."""
        return self.xs[block.trajectory][block.first : block.last + 1]

    def simulate_block(self, coefficients: np.ndarray, block: ShootingBlock) -> np.ndarray:
        """The model (d, p) simulated over ``block`` from its smoothed start → (m, d).

        Raises:
            SimulationError: as :func:`~pipeline.discovery.simulate.simulate_model`, or over the evaluation budget.
        """
        k, a, b = block.trajectory, block.first, block.last
        t = self.ts[k][a : b + 1]
        control = None if self.us is None else interpolated_control(t, self.us[k][a : b + 1])
        return simulate_model(
            coefficients,
            self.library,
            self.smoothed[k][a],
            t,
            max_seconds=math.inf,
            control=control,
            max_evaluations=evaluation_budget(t.shape[0]),
        )

    def error(self, coefficients: np.ndarray) -> float:
        """Mean over blocks of the spread-scaled mean squared error of block simulations (inf if one fails)."""
        scale = self.spread()
        errors = []
        for block in self.plan():
            try:
                simulated = self.simulate_block(coefficients, block)
            except SimulationError:
                return float("inf")
            errors.append(np.mean(((simulated - self.observed(block)) / scale) ** 2))
        return float(np.mean(errors)) if errors else float("inf")

    def shared_grid(self) -> tuple[np.ndarray, int] | None:
        """The relative times (m,) and sample count shared by every block, if all blocks can run as one batch."""
        if self.us is not None:
            return None
        plan = self.plan()
        if not plan:
            return None
        length = min(block.last + 1 - block.first for block in plan)
        grids = [self.ts[b.trajectory][b.first : b.first + length] - self.ts[b.trajectory][b.first] for b in plan]
        reference = grids[0]
        tolerance = 1e-9 * max(float(reference[-1]), 1e-300)
        if all(np.allclose(g, reference, rtol=0.0, atol=tolerance) for g in grids[1:]):
            return reference, length
        return None
