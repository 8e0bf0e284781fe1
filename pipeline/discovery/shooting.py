"""Multiple shooting: a model judged by simulating it across short blocks of the record.

Each trajectory is cut into ``n_blocks`` blocks; the model is simulated across every block
from the smoothed state at its start, and its error against the observed states is
measured in units of each state's spread. Short blocks keep the judgement meaningful for
chaotic systems, whose long simulations diverge from any record.

A long trajectory (over :data:`MAX_SHOOTING_SAMPLES` samples) is judged on the means of consecutive bins
of samples (:meth:`ShootingProblem.binned`): the bin means of a smooth path lie on it to second order in
the bin width, their noise is the samples' divided by the bin size (the noise floor says so), and the
cost of judging and refining no longer grows with the length of the record.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from pipeline.discovery.library import Library
from pipeline.discovery.simulate import SOLVER_TOLERANCE, EvaluationCount, interpolated_control, simulate_model
from pipeline.errors import SimulationError

__all__ = ["FAILED_RESIDUAL", "MAX_SHOOTING_SAMPLES", "ShootingBlock", "ShootingProblem", "evaluation_budget"]

MAX_SHOOTING_SAMPLES = 4096
"""Samples per trajectory beyond which shooting works on bin means (4,096 bins); records up to this length are
judged sample by sample."""

SHOOTING_EVALUATIONS_PER_SAMPLE = 30
"""Right-hand-side evaluations a shooting block may use per output sample (sane models here used about 0.5)."""
FAILED_RESIDUAL = 1e3
"""Residual of a block whose simulation fails (in units of each state's spread)."""
SHARED_GRID_TOLERANCE = 1e-4
"""Blocks whose relative times differ by at most this share of the median sampling step share one time grid. Times
read back from a file are rounded (8 significant digits: 5e-8 at t = 10, 2.5e-6 of a step of 0.02); the state
error of such an offset, |x'| x 1e-4 steps, is far below any noise a record has."""


JUDGING_TOLERANCE_SHARE = 0.01
"""In judging, the solver's relative tolerance is this share of the noise's relative size, sqrt(noise floor), kept
between the solver's default (:data:`~pipeline.discovery.simulate.SOLVER_TOLERANCE`) and
:data:`LOOSEST_JUDGING_TOLERANCE`: its error, squared, is 1e-4 of the noise floor, far below the smallest difference
between two models' errors that the noise lets one tell apart (the floor times about sqrt(2 / residuals))."""
LOOSEST_JUDGING_TOLERANCE = 1e-4
"""The loosest relative tolerance judging uses, however noisy the record (at 1 % noise and above)."""


def judging_tolerance(noise_floor: float) -> float:
    """The solver's relative tolerance for judging models on a record whose noise floor (shooting error of a perfect
    model, :meth:`ShootingProblem.noise_floor`) is ``noise_floor``: a hundredth of the noise's relative size."""
    share = JUDGING_TOLERANCE_SHARE * math.sqrt(max(noise_floor, 0.0))
    return float(min(max(share, SOLVER_TOLERANCE), LOOSEST_JUDGING_TOLERANCE))


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
        averaged: the fewest samples behind one point of ``xs`` (1 unless the problem was :meth:`binned`).
        tolerance: the solver's relative tolerance (:data:`~pipeline.discovery.simulate.SOLVER_TOLERANCE`, what
            refinement needs: its finite-difference Jacobian differences simulations; :meth:`for_judging` loosens it).
        noise_scale: per trajectory (n_k, d), each sample's expected noise sd relative to its state's RMS noise
            (:func:`~pipeline.discovery.noise_level.relative_noise_scale`), or None for noise alike everywhere.
            Residuals are divided by it as well as by the spread, so a sample counts by how precisely it was taken;
            its mean square is 1, so the noise floor is the same either way.

    Block simulations are bounded by a number of right-hand-side evaluations (:func:`evaluation_budget`),
    not by wall time, so which model wins never depends on how busy the machine is.
    """

    library: Library
    ts: list[np.ndarray]
    xs: list[np.ndarray]
    smoothed: list[np.ndarray]
    us: list[np.ndarray] | None
    n_blocks: int
    averaged: int = 1
    tolerance: float = SOLVER_TOLERANCE
    noise_scale: list[np.ndarray] | None = None

    @classmethod
    def binned(
        cls,
        library: Library,
        ts: list[np.ndarray],
        xs: list[np.ndarray],
        smoothed: list[np.ndarray],
        us: list[np.ndarray] | None,
        n_blocks: int,
        max_samples: int = MAX_SHOOTING_SAMPLES,
        noise_scale: list[np.ndarray] | None = None,
    ) -> ShootingProblem:
        """The problem on the trajectories ``ts`` (n_k,), ``xs``, ``smoothed`` and ``noise_scale`` (n_k, d), ``us``
        (n_k, m), with every trajectory longer than ``max_samples`` replaced by the means of ``max_samples``
        consecutive bins."""
        sizes = [max(1, t.shape[0] // max_samples) for t in ts]

        def means(arrays: list[np.ndarray]) -> list[np.ndarray]:
            return [_bin_means(a, max_samples) if size > 1 else a for a, size in zip(arrays, sizes)]

        binned_us = None if us is None else means(us)
        binned_scale = None if noise_scale is None else means(noise_scale)
        return cls(
            library, means(ts), means(xs), means(smoothed), binned_us, n_blocks, min(sizes), noise_scale=binned_scale
        )

    def for_judging(self, noise_sd: np.ndarray) -> ShootingProblem:
        """The same problem simulated to :func:`judging_tolerance` of its noise floor (noise sd (d,) per sample):
        at 1 % noise a tolerance 100x looser than refinement's, for ranking models whose errors differ by far more
        than either tolerance leaves (about 10 % less discovery time on 3-state, 512-point records)."""
        return replace(self, tolerance=judging_tolerance(self.noise_floor(noise_sd)))

    def with_blocks_within(self, span: float) -> ShootingProblem:
        """The same problem with enough blocks per trajectory (at least as many as now) that none spans more than
        ``span`` time units on the longest trajectory."""
        longest = max(float(t[-1] - t[0]) for t in self.ts)
        return replace(self, n_blocks=max(self.n_blocks, math.ceil(longest / span)))

    def plan(self) -> tuple[ShootingBlock, ...]:
        """Every block: each trajectory cut into ``n_blocks`` (fewer for a short one, so that every block
        holds at least 3 samples), blocks of fewer than 3 samples dropped."""
        return self._plan

    @functools.cached_property
    def _plan(self) -> tuple[ShootingBlock, ...]:
        blocks = []
        for k, t in enumerate(self.ts):
            n_blocks = max(1, min(self.n_blocks, (t.shape[0] - 1) // 2))
            edges = np.linspace(0, t.shape[0] - 1, n_blocks + 1).astype(int)
            blocks += [ShootingBlock(k, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b - a >= 2]
        return tuple(blocks)

    def spread(self) -> np.ndarray:
        """Standard deviation of each observed state over all trajectories (d,); 1 where it is 0 (read-only)."""
        return self._spread

    @functools.cached_property
    def _spread(self) -> np.ndarray:
        spread = np.vstack(self.xs).std(axis=0)
        return _read_only(np.where(spread > 0, spread, 1.0))

    def residual_count(self) -> int:
        """Number of (sample, state) residuals over all blocks."""
        return sum(block.last + 1 - block.first for block in self.plan()) * self.xs[0].shape[1]

    def noise_floor(self, noise_sd: np.ndarray) -> float:
        """The shooting error of a perfect model: mean over states of (noise sd / spread)², noise sd (d,) of one
        sample (a bin mean of ``averaged`` samples has 1/averaged of its variance)."""
        return float(np.mean((np.asarray(noise_sd) / self.spread()) ** 2)) / self.averaged

    def observed(self, block: ShootingBlock) -> np.ndarray:
        """The observed states over ``block`` (m, d)."""
        return self.xs[block.trajectory][block.first : block.last + 1]

    def scale(self, block: ShootingBlock) -> np.ndarray:
        """What each residual over ``block`` is divided by: the spread (d,), times the relative noise (m, d)."""
        if self.noise_scale is None:
            return self.spread()
        return self.spread() * self.noise_scale[block.trajectory][block.first : block.last + 1]

    def simulate_block(
        self, coefficients: np.ndarray, block: ShootingBlock, count: EvaluationCount | None = None
    ) -> np.ndarray:
        """The model (d, p) simulated over ``block`` from its smoothed start → (m, d); its right-hand-side
        evaluations are added to ``count`` when given.

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
            control=control,
            max_evaluations=evaluation_budget(t.shape[0]),
            rtol=self.tolerance,
            count=count,
        )

    def error(self, coefficients: np.ndarray, count: EvaluationCount | None = None) -> float:
        """Mean over blocks of the spread-scaled mean squared error of block simulations (inf if one fails); the
        simulations' right-hand-side evaluations are added to ``count`` when given.

        Blocks on one relative time grid (:meth:`shared_grid`) are simulated together, as one system of B x d
        states: one solver run instead of B, each block cut to the shortest block's samples."""
        shared = self.shared_grid()
        if shared is not None and len(self.plan()) > 1:
            return self._batched_error(coefficients, *shared, count=count)
        errors = []
        for block in self.plan():
            try:
                simulated = self.simulate_block(coefficients, block, count)
            except SimulationError:
                return float("inf")
            errors.append(np.mean(((simulated - self.observed(block)) / self.scale(block)) ** 2))
        return float(np.mean(errors)) if errors else float("inf")

    def _batched_error(
        self, coefficients: np.ndarray, relative: np.ndarray, length: int, count: EvaluationCount | None = None
    ) -> float:
        """:meth:`error` with every block simulated in one batch over the shared ``relative`` times (m,)."""
        try:
            simulated = self.simulate_batch(coefficients, relative, length, count)
        except SimulationError:
            return float("inf")
        return float(np.mean(((simulated - self.batched_observed(length)) / self.batched_scale(length)) ** 2))

    def batched_observed(self, length: int) -> np.ndarray:
        """The first ``length`` observed states of every block, stacked as (m, B, d) (read-only)."""
        if ("observed", length) not in self._batched:
            stacked = np.stack([self.xs[b.trajectory][b.first : b.first + length] for b in self.plan()], axis=1)
            self._batched["observed", length] = _read_only(stacked)
        return self._batched["observed", length]

    def batched_scale(self, length: int) -> np.ndarray:
        """:meth:`scale` over the first ``length`` samples of every block: the spread (d,), or (m, B, d)."""
        if self.noise_scale is None:
            return self.spread()
        if ("scale", length) not in self._batched:
            rows = [self.noise_scale[b.trajectory][b.first : b.first + length] for b in self.plan()]
            self._batched["scale", length] = _read_only(self.spread() * np.stack(rows, axis=1))
        return self._batched["scale", length]

    @functools.cached_property
    def _batched(self) -> dict[tuple[str, int], np.ndarray]:
        return {}

    def simulate_batch(
        self, coefficients: np.ndarray, relative: np.ndarray, length: int, count: EvaluationCount | None = None
    ) -> np.ndarray:
        """The model (d, p) simulated from every block's smoothed start over the shared ``relative`` times (m,),
        all blocks in one solver run → (m, B, d); its right-hand-side evaluations are added to ``count`` when given.

        Raises:
            SimulationError: as :meth:`simulate_block`.
        """
        return simulate_model(
            coefficients,
            self.library,
            self._starts,
            relative,
            max_evaluations=evaluation_budget(length),
            rtol=self.tolerance,
            count=count,
        )

    @functools.cached_property
    def _starts(self) -> np.ndarray:
        """Every block's smoothed start (B, d), read-only."""
        return _read_only(np.array([self.smoothed[b.trajectory][b.first] for b in self.plan()]))

    def shared_grid(self) -> tuple[np.ndarray, int] | None:
        """The relative times (m,) and sample count shared by every block, if all blocks can run as one batch."""
        return self._shared_grid

    @functools.cached_property
    def _shared_grid(self) -> tuple[np.ndarray, int] | None:
        if self.us is not None:
            return None
        plan = self.plan()
        if not plan:
            return None
        length = min(block.last + 1 - block.first for block in plan)
        grids = [self.ts[b.trajectory][b.first : b.first + length] - self.ts[b.trajectory][b.first] for b in plan]
        reference = grids[0]
        tolerance = SHARED_GRID_TOLERANCE * max(float(np.median(np.diff(reference))), 1e-300)
        if all(np.allclose(g, reference, rtol=0.0, atol=tolerance) for g in grids[1:]):
            return _read_only(reference), length
        return None


def _read_only(values: np.ndarray) -> np.ndarray:
    """``values``, no longer writable: a problem's cached arrays are shared by every call."""
    values.setflags(write=False)
    return values


def _bin_means(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Means of ``n_bins`` consecutive bins of ``values`` (n, ...) → (n_bins, ...); bin sizes differ by at most one."""
    edges = np.linspace(0, values.shape[0], n_bins + 1).astype(int)
    sums = np.add.reduceat(values, edges[:-1], axis=0)
    return sums / np.diff(edges).reshape((-1,) + (1,) * (values.ndim - 1))
