"""Discovery as a one-way chain: each stage takes frozen objects and returns one to the next.

trajectories → derivatives → unit scaling → conservation laws → design → proposals →
judging (fitting + shooting, then deleting terms) → refinement (then pruning small terms) → uncertainty →
scoring → result (data units).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from pipeline.config import DifferentiationConfig, DiscoveryConfig, config_group
from pipeline.differentiation import DerivativeResult, smooth_and_differentiate
from pipeline.discovery.ambiguity import Rival, ambiguous_rival
from pipeline.discovery.conservation import describe_law, detect_laws, law_sets
from pipeline.discovery.design import Design, build_design, with_library
from pipeline.discovery.ensemble import Uncertainty, bagging
from pipeline.discovery.judging import (
    JudgedModel,
    Judgement,
    deletion_tolerance,
    judge_deletions,
    judge_dense,
    judge_proposals,
    misfits,
)
from pipeline.discovery.library import Library
from pipeline.discovery.merges import judge_merges
from pipeline.discovery.noise_level import relative_noise_scale
from pipeline.discovery.proposals import Proposals, propose_models
from pipeline.discovery.pruning import prune_by_shooting, small_terms
from pipeline.discovery.rate_refinement import describe_rates, grid_edge_cautions, refine_rates
from pipeline.discovery.refined_choice import sparser_refined
from pipeline.discovery.refinement import Refinement, refine_by_shooting
from pipeline.discovery.result import DiscoveryResult
from pipeline.discovery.scaling import UnitScaling, fit_scaling
from pipeline.discovery.scoring import lyapunov_time_along, score_model
from pipeline.discovery.shooting import ShootingProblem
from pipeline.discovery.simulate import simulate_model
from pipeline.discovery.stability import Stability, StabilityCheck
from pipeline.discovery.swaps import judge_swaps
from pipeline.discovery.trajectories import Trajectories, as_trajectories
from pipeline.errors import DataError

__all__ = ["discover"]

_DENSE_CAUTION = (
    "no sparse law in the library reproduces this record, so the model is a dense expansion of {} terms: it follows"
    " the data where they were taken, but its terms are not the law behind them; add the functions the law needs"
    " (library.functions, library.combinations) or read it as a surrogate"
)
_RUNAWAY_CAUTION = (
    "from some states near the data the model runs away (beyond twice the data's range within the record's span): it"
    " may be the law (growth without bound), or a fit that holds only along the record; check it before simulating"
    " it from other initial states"
)
_AMBIGUITY_CAUTION = (
    "ambiguous structure: a model with other terms ({}) follows the record as closely, and from states around the"
    " data the two part ways (R² {:.2f} between their paths): the record does not decide between them; trust the"
    " terms near the record only, or add a record from another initial state (they part most from {})"
)
_SIGN_CAUTION = (
    "the model drives {} below zero from some states near the data, though every observed value is positive: trust"
    " it near the record, not as the law from other initial states"
)


CHAOTIC_BLOCK_LYAPUNOV_TIMES = 0.5
"""On a chaotic record, shooting blocks span at most this many Lyapunov times. Squared errors then grow at most
e-fold over a block, and the mean over the block of the squared error from the smoothed start is about 1.7 times
that start's (at most twice it, the factor beyond which :func:`~pipeline.discovery.judging.misfits` says no model
follows the record, up to about 0.63 Lyapunov times)."""

LOG = logging.getLogger(__name__)
"""Progress of a long discovery, stage by stage, at INFO (``logging.basicConfig(level="INFO")`` shows it)."""


def discover(
    t: np.ndarray | Sequence[np.ndarray],
    x: np.ndarray | Sequence[np.ndarray],
    *,
    config: DiscoveryConfig | dict[str, object] | None = None,
    feature_names: Sequence[str] | None = None,
    differentiation: DifferentiationConfig | dict[str, object] | None = None,
    derivatives: Sequence[DerivativeResult] | None = None,
    u: np.ndarray | Sequence[np.ndarray] | None = None,
    control_names: Sequence[str] | None = None,
) -> DiscoveryResult:
    """Discover a sparse ODE dx/dt = f(x, u) from one or several trajectories.

    Args:
        t: times (n,) (an array, or a list of numbers), or a list with one array per trajectory.
        x: states (n, d) (or (n,)): one row per time, one column per state (an array, or a list of n rows); or a
            list with one array per trajectory, matching ``t``.
        config: library, selection and ensemble settings (a :class:`~pipeline.config.DiscoveryConfig`, or a dict of
            its fields: ``{"n_bootstrap": 0, "library": {"degree": 2}}``); defaults when None.
        feature_names: the d state names (``x0, x1, ...`` when None).
        differentiation: how to differentiate when ``derivatives`` is not given (a
            :class:`~pipeline.config.DifferentiationConfig` or a dict of its fields: ``{"method": "kalman"}``);
            ``auto`` when None.
        derivatives: precomputed smoothing/derivatives, one per trajectory.
        u: known inputs (n, m) per trajectory (same layout as ``x``); the library then spans states and
            inputs, only the states' derivatives are modelled, and simulation needs the inputs.
        control_names: the m input names (``u0, u1, ...`` when None).

    Returns:
        The chosen model with its metrics, choices, candidate table and uncertainty, in the data's units.

    Raises:
        ConfigError: ``config`` or ``differentiation`` is not such a setting, or a field of it is wrong.
        DataError: inconsistent shapes or unusable data.
        DifferentiationError: the differentiation's method does not suit the data, or a parameter is out of range.
        DiscoveryError: the library has more terms than samples, or fitting failed.
    """
    config = config_group(config, DiscoveryConfig, "config")
    data = as_trajectories(t, x, feature_names, u, control_names)
    derivatives = _derivatives(data, derivatives, differentiation)
    scaling = fit_scaling(data)
    data, derivatives = scaling.apply(data, derivatives)
    laws = _laws(data, derivatives, scaling, config.conservation_laws)
    design = build_design(data, derivatives, config, scaling.variables())
    proposals = propose_models(design, data.names, config.threshold)
    problem = _shooting_problem(data, derivatives, design)
    check = _stability_check(data)
    stable = _stability_test(check, data, design)
    judgement, winner, judged_on = _judge(
        data, design, proposals, problem, law_sets(laws), _noise_sd(derivatives), stable
    )
    laws = winner.laws if winner.laws is not None else laws[:0]
    winner, refinement, reported = _refine(
        data, design, judgement, winner, problem, derivatives, config, stable, check
    )
    uncertainty = _uncertainty(reported, winner, laws, config.n_bootstrap, refinement)
    model = _model(data, reported, proposals, refinement, uncertainty, config.max_simulation_evaluations)
    scores = score_model(model, data, derivatives, reported, winner.supports, laws)
    chosen = _choices_made(derivatives, design, judgement, winner, refinement, config, reported) | {
        "shooting_blocks": len(judged_on.plan()), "smoothing": _smoothing(derivatives, data.names, scaling.states)
    }
    if scores.simulation_error is not None:
        chosen["simulation_error"] = scores.simulation_error
    away, rival = _model_cautions(
        check, data.names, scaling.states, reported, judgement, winner, refinement.coefficients, design.library,
        deletion_tolerance(judged_on.noise_floor(_noise_sd(derivatives)), judged_on.residual_count()),
        chaotic="lyapunov_time" in scores.metrics, poor=scores.poor_fit,
    )  # fmt: skip
    cautions = [
        *scores.cautions, *away, *([] if config.refine_rates else grid_edge_cautions(judged_on, model.coefficients))
    ]
    if cautions:
        chosen["cautions"] = cautions
    result = replace(
        model,
        metrics=scores.metrics | _selection_metrics(winner, uncertainty),
        chosen=chosen,
        judged=_judged_rows(judgement, winner, design.library.feature_names(), data.names, rival),
    )
    return scaling.restore(_with_laws(result, laws, scaling, data.names))


def _model_cautions(
    check: StabilityCheck,
    names: tuple[str, ...],
    units: np.ndarray,
    design: Design,
    judgement: Judgement,
    winner: JudgedModel,
    coefficients: np.ndarray,
    judged: Library,
    tolerance: float,
    *,
    chaotic: bool,
    poor: bool = False,
) -> tuple[list[str], Rival | None]:
    """What the user should know about the reported model (d, p) over ``design``'s library, of the states ``names``
    (in fitting units: the data's divided by ``units`` (d,)), away from the record (the judged models are over the
    ``judged`` library: the same terms at their inner rates before any rate refinement): that it is a dense
    surrogate, or what the stability ``check`` found from the states around the data
    (:mod:`~pipeline.discovery.stability`), and, unless it is ``chaotic`` (its paths from nearby states part anyway)
    or a ``poor`` fit (then no model follows the record, and a rival that follows it "as closely" says nothing), the
    rival the record cannot tell from it by more than ``tolerance`` that parts from it there
    (:mod:`~pipeline.discovery.ambiguity`), returned too. Its paths from the check's starts are simulated once."""
    if winner.dense:
        return [_DENSE_CAUTION.format(int(winner.supports.sum()))], None
    paths = check.bounded_paths(coefficients, design.library)
    verdict = check.verdict_of(paths, coefficients, design.library)
    if verdict.grade is Stability.LEAVES:
        return [_RUNAWAY_CAUTION], None
    below = ", ".join(name for name, low in zip(names, verdict.below) if low)
    cautions = [_SIGN_CAUTION.format(below)] if verdict.grade is Stability.BOUNDED else []
    if chaotic or poor:
        return cautions, None
    origin = _origin(winner)
    reported = coefficients != 0.0
    rival = ambiguous_rival(judgement, origin, paths, reported, judged, check, tolerance)
    if rival is None:
        return cautions, None
    start = ", ".join(f"{name} = {value:.3g}" for name, value in zip(names, check.starts[rival.start] * units))
    return cautions + _ambiguity_cautions(rival, reported, design, names, start), rival


def _ambiguity_cautions(
    rival: Rival, reported: np.ndarray, design: Design, names: tuple[str, ...], start: str
) -> list[str]:
    """The :data:`_AMBIGUITY_CAUTION` for a ``rival`` of the reported model's terms (d, p): the states whose terms
    differ, with the rival's terms and the reported ones (named as in the judged models' table), and the ``start``
    (named state values) from which the two part most."""
    terms = design.library.feature_names()

    def listed(row: np.ndarray) -> str:
        return " + ".join(terms[k] for k in np.flatnonzero(row)) or "0"

    differing = [
        f"{name}' with {listed(other)} instead of {listed(own)}"
        for name, other, own in zip(names, rival.model.supports, reported)
        if not np.array_equal(other, own)
    ]
    return [_AMBIGUITY_CAUTION.format("; ".join(differing), rival.agreement, start)]


def _judge(
    data: Trajectories,
    design: Design,
    proposals: Proposals,
    problem: ShootingProblem,
    laws: list[np.ndarray],
    noise_sd: np.ndarray,
    stable: Callable[[JudgedModel], Stability],
) -> tuple[Judgement, JudgedModel, ShootingProblem]:
    """Every model judged by simulation, and the winner: the proposals, the dense expansions when nothing else
    follows the record (and, when one of them would win, the sparse models' winner refined by shooting:
    :func:`_with_refined_sparse_winner`), then the winner's deletion neighbours (:mod:`~pipeline.discovery.judging`),
    then its swap neighbours (:mod:`~pipeline.discovery.swaps`) and its merge neighbours
    (:mod:`~pipeline.discovery.merges`).
    On a chaotic record (:func:`_chaotic_blocks`) the proposals are judged again, and every later model judged, on
    blocks half a Lyapunov time long; the problem judged on comes back too. The refinement keeps the record's own
    blocks: where the noise is low, long blocks pin a chaotic model's coefficients more tightly (Lorenz at 0 % noise:
    R² over 10 time units 0.975 refined on 5 blocks, 0.888 on half-Lyapunov-time blocks; the same terms, both within
    0.05 % of the true coefficients, which a chaotic record amplifies)."""
    floor = problem.noise_floor(noise_sd)
    LOG.info("judging %d proposed models by simulation (%d terms in the library)", len(proposals.choices),
             design.theta.shape[1])  # fmt: skip
    judgement = judge_proposals(proposals, design, problem.for_judging(noise_sd), laws, data.names)
    chaotic = _chaotic_blocks(problem, design, judgement.winner(floor, problem.residual_count(), stable))
    if chaotic is not problem:
        problem = chaotic
        judgement = judge_proposals(proposals, design, problem.for_judging(noise_sd), laws, data.names)
    judging, n_residuals = problem.for_judging(noise_sd), problem.residual_count()
    if misfits(judgement, floor, n_residuals):
        judgement = judge_dense(judgement, proposals, design, judging, floor, n_residuals)
        if judgement.dense_competes(floor, n_residuals):
            judgement = _with_refined_sparse_winner(judgement, problem, floor, n_residuals, stable, noise_sd)
    judgement = judge_deletions(judgement, design, judging, data.names, floor, n_residuals, stable)
    judgement = judge_swaps(judgement, design, judging, data.names, floor, n_residuals, stable)
    judgement = judge_merges(judgement, design, judging, data.names, floor, n_residuals, stable)
    return judgement, judgement.winner(floor, n_residuals, stable), problem


def _with_refined_sparse_winner(
    judgement: Judgement,
    problem: ShootingProblem,
    floor: float,
    n_residuals: int,
    stable: Callable[[JudgedModel], Stability],
    noise_sd: np.ndarray,
) -> Judgement:
    """The judgement with the model the sparse models alone would choose also judged with its coefficients refined
    by shooting (labelled ``<label>, refined``), when that lowers its error: a dense expansion should compete against
    a sparse law's best fit, not against its linear fit's bias (FitzHugh-Nagumo at 5 % noise: the exact law's linear
    fit drifts off the relaxation oscillation at 19x the noise floor, refined it comes to 2.4x). One refinement,
    spent only where a dense expansion would otherwise win."""
    sparse = Judgement(tuple(model for model in judgement.models if not model.dense))
    contender = sparse.winner(floor, n_residuals, stable)
    refined = refine_by_shooting(contender.coefficients, problem, laws=contender.laws, noise_sd=noise_sd).coefficients
    error = problem.for_judging(noise_sd).error(refined)
    if not error < contender.shooting:
        return judgement
    better = replace(contender, label=f"{contender.label}, refined", coefficients=refined, shooting=error)
    return Judgement(judgement.models + (better,))


def _chaotic_blocks(problem: ShootingProblem, design: Design, model: JudgedModel) -> ShootingProblem:
    """The shooting problem with blocks no longer than :data:`CHAOTIC_BLOCK_LYAPUNOV_TIMES` of ``model``'s Lyapunov
    time when the model is chaotic on the first trajectory (:func:`~pipeline.discovery.scoring.lyapunov_time_along`,
    from its smoothed start); else the problem unchanged.

    A block's simulation starts from the smoothed state, whose error, and the model's, grow e-fold every Lyapunov
    time: over blocks of several Lyapunov times every model of a chaotic record, right or wrong, misses it by many
    times the noise, and the judge cannot tell them apart (Lorenz at 1 % noise, 5 blocks of 2 time units: the true
    law 30-90 times the noise floor, and a wrong small term decides the winner)."""
    if problem.us is not None or model.dense:
        return problem
    t = problem.ts[0]

    def simulate(x0: np.ndarray) -> np.ndarray:
        return simulate_model(model.coefficients, design.library, x0, t)

    lyapunov = lyapunov_time_along(simulate, problem.smoothed[0][0], t, problem.spread())
    return problem if lyapunov is None else problem.with_blocks_within(CHAOTIC_BLOCK_LYAPUNOV_TIMES * lyapunov)


def _derivatives(
    data: Trajectories, given: Sequence[DerivativeResult] | None, settings: DifferentiationConfig | dict | None
) -> list[DerivativeResult]:
    """The given smoothing/derivatives (one per trajectory), or computed as the differentiation ``settings`` say
    (:func:`~pipeline.config.config_group`: a config, a dict of its fields, or None for ``auto``)."""
    differentiation = config_group(settings, DifferentiationConfig, "differentiation")
    if given is None:
        LOG.info("smoothing and differentiating %d trajectories (%d samples, %d states; method %s)", len(data.xs),
                 sum(x.shape[0] for x in data.xs), data.d, differentiation.method)  # fmt: skip
        given = [
            smooth_and_differentiate(t, x, method=differentiation.method, **differentiation.params)
            for t, x in zip(data.ts, data.xs)
        ]
    if len(given) != len(data.xs):
        raise DataError(f"got {len(given)} derivative results for {len(data.xs)} trajectories")
    return list(given)


def _laws(data: Trajectories, derivatives: list[DerivativeResult], scaling: UnitScaling, enabled: bool) -> np.ndarray:
    """The conservation laws (r, d) the data keep, in fitting units; none when ``enabled`` is false."""
    if not enabled:
        return np.zeros((0, data.d))
    return detect_laws(data.xs, [r.smoothed for r in derivatives], scaling.states, data.ts)


def _shooting_problem(data: Trajectories, derivatives: list[DerivativeResult], design: Design) -> ShootingProblem:
    smoothed = [r.smoothed for r in derivatives]
    noise_scale = relative_noise_scale(data.xs, smoothed)
    return ShootingProblem.binned(
        design.library, data.ts, data.xs, smoothed, data.us, design.n_folds, noise_scale=noise_scale
    )


def _stability_test(
    check: StabilityCheck, data: Trajectories, design: Design
) -> Callable[[JudgedModel], Stability]:
    """The grade of the stability ``check`` around the data (:mod:`~pipeline.discovery.stability`); None without one.
    A dense expansion is only asked to stay bounded
    from the records' own starts: it is a surrogate of the data where they were taken, not a law to run from
    elsewhere. Each model is checked once: the winner is picked again after every round of deletions, over mostly the
    same models."""
    along = check.from_record_starts(data.xs)
    verdicts: dict[tuple[bool, bytes], Stability] = {}

    def stable(model: JudgedModel) -> Stability:
        key = (model.dense, model.coefficients.tobytes())
        if key not in verdicts:
            verdicts[key] = (along if model.dense else check).grade(model.coefficients, design.library)
        return verdicts[key]

    return stable


def _stability_check(data: Trajectories) -> StabilityCheck:
    """The stability check around the data (with known inputs, its starts driven by the records' inputs)."""
    return StabilityCheck.around(data.xs, data.ts, data.names, data.us)


def _refine(
    data: Trajectories,
    design: Design,
    judgement: Judgement,
    winner: JudgedModel,
    problem: ShootingProblem,
    derivatives: list[DerivativeResult],
    config: DiscoveryConfig,
    stable: Callable[[JudgedModel], Stability],
    check: StabilityCheck,
) -> tuple[JudgedModel, Refinement, Design]:
    """The winner's coefficients refined by multiple shooting, replaced by a sparser judged model's that refinement
    makes admissible (:mod:`~pipeline.discovery.refined_choice`), then its function terms' inner rates refined as
    ``config.refine_rates`` says (:func:`_refined_rates`), then its small terms pruned by shooting
    (:mod:`~pipeline.discovery.pruning`; after the rates, so that terms that only made up for a rate off the law's
    go); the winner comes back with the terms it keeps, and the design over the library of the reported rates.
    Unchanged when ``config.refine_by_simulation`` is false, and for a dense expansion: it fits the record already,
    and each of its many coefficients would cost a simulation per step."""
    if not config.refine_by_simulation or winner.dense:
        return winner, Refinement(winner.coefficients, float("nan"), float("nan")), design
    keeping, noise_sd = winner.laws, _noise_sd(derivatives)
    LOG.info("refining the chosen model's %d coefficients by multiple shooting", int(winner.supports.sum()))
    refinement = refine_by_shooting(winner.coefficients, problem, laws=keeping, noise_sd=noise_sd)
    floor, n_residuals = problem.noise_floor(noise_sd), problem.residual_count()
    sparser = sparser_refined(
        winner,
        refinement,
        judgement,
        problem,
        floor=floor,
        n_residuals=n_residuals,
        laws=keeping,
        noise_sd=noise_sd,
        stable=stable,
        theta=design.theta,
        x_dot=design.x_dot,
    )
    if sparser is not None:
        winner, refinement = sparser
    reported, refinement = _refined_rates(data, derivatives, design, winner, refinement, problem, check, config)
    pruned = prune_by_shooting(  # after the rates: a term that only made up for a rate off the law's is small now
        refinement.coefficients,
        problem if reported is design else replace(problem, library=reported.library),
        small_terms(refinement.coefficients, reported.theta, reported.x_dot),
        tolerance=deletion_tolerance(floor, n_residuals),
        laws=keeping,
        noise_sd=noise_sd,
        stable=lambda coefficients: check.grade(coefficients, reported.library),
    )
    if not np.array_equal(pruned != 0, refinement.coefficients != 0):  # the pruned model's refits are by shooting
        winner = _pruned_winner(winner, refinement.coefficients, pruned, data.names, reported)
        refinement = replace(refinement, coefficients=pruned)
    return winner, refinement, reported


def _refined_rates(
    data: Trajectories,
    derivatives: list[DerivativeResult],
    design: Design,
    winner: JudgedModel,
    refinement: Refinement,
    problem: ShootingProblem,
    check: StabilityCheck,
    config: DiscoveryConfig,
) -> tuple[Design, Refinement]:
    """The design over the library with the reported model's inner rates refined by shooting with its coefficients
    (:mod:`~pipeline.discovery.rate_refinement`), and that refinement, when ``config.refine_rates`` asks for it; both
    unchanged otherwise, when coefficient refinement made no search (nothing was free), or when refined rates would
    not lower the shooting error."""
    if not config.refine_rates or not np.isfinite(refinement.before):
        return design, refinement
    rated = refine_rates(refinement.coefficients, problem, laws=winner.laws, grade=check.grade)
    if rated is None:
        return design, refinement
    LOG.info("refined the inner rates of the model's function terms by multiple shooting")
    return with_library(design, rated.library, data, derivatives), replace(rated.refinement, before=refinement.before)


PRUNED_LABEL = ", pruned by shooting"
"""What a winner's label gains when refinement by shooting pruned small terms from it."""


def _origin(winner: JudgedModel) -> str:
    """The label the reported model was judged under: the winner's, before refinement's pruning renamed it."""
    return winner.label.split(PRUNED_LABEL)[0]


def _pruned_winner(
    winner: JudgedModel, refined: np.ndarray, pruned: np.ndarray, names: tuple[str, ...], design: Design
) -> JudgedModel:
    """The winner with the pruned coefficients (d, p): its supports, rules and function-term count follow them, and
    its label names the terms deleted from the ``refined`` model."""
    deleted = (refined != 0) & (pruned == 0)
    supports = pruned != 0
    rules = tuple(
        rule if np.array_equal(new, old) else None for rule, new, old in zip(winner.rules, supports, winner.supports)
    )
    terms = design.library.feature_names()
    named = ", ".join(f"{names[j]}: {terms[k]}" for j, k in zip(*np.nonzero(deleted)))
    label = f"{winner.label}{PRUNED_LABEL} ({named})"
    functions = int(supports[:, design.library.powers.shape[0] :].sum())
    return replace(winner, label=label, supports=supports, rules=rules, coefficients=pruned, function_terms=functions)


def _noise_sd(derivatives: list[DerivativeResult]) -> np.ndarray:
    """Each state's noise sd over all trajectories (root mean square of their estimates), (d,)."""
    return np.sqrt(np.mean([r.noise_sd**2 for r in derivatives], axis=0))


def _uncertainty(
    design: Design, winner: JudgedModel, laws: np.ndarray, n_bootstrap: int, refinement: Refinement
) -> Uncertainty | None:
    """Bagging's inclusion probabilities, and intervals that describe the reported (refined) coefficients."""
    if n_bootstrap <= 0:
        return None
    LOG.info("bagging %d refits for inclusion probabilities and intervals", n_bootstrap)
    return bagging(
        design.theta,
        design.x_dot,
        winner.supports,
        winner.rules,
        n_models=n_bootstrap,
        seed=0,
        laws=laws,
        estimate=refinement.coefficients,
    )


def _model(
    data: Trajectories,
    design: Design,
    proposals: Proposals,
    refinement: Refinement,
    uncertainty: Uncertainty | None,
    max_simulation_evaluations: int,
) -> DiscoveryResult:
    """The chosen model in fitting units, with its candidate table and uncertainty (not yet scored)."""
    return DiscoveryResult(
        names=data.names,
        library=design.library,
        coefficients=refinement.coefficients,
        pareto=[row.as_dict() for row in proposals.pareto],
        inclusion=None if uncertainty is None else uncertainty.inclusion,
        intervals=None if uncertainty is None else uncertainty.intervals,
        max_simulation_evaluations=max_simulation_evaluations,
        controls=data.controls,
    )


def _judged_rows(
    judgement: Judgement, winner: JudgedModel, terms: list[str], names: tuple[str, ...], rival: Rival | None = None
) -> list[dict[str, object]]:
    """Every judged model as a row of :attr:`~pipeline.discovery.result.DiscoveryResult.judged`, best first; chosen:
    the one the reported model comes from (before its refinement by shooting pruned small terms, if it did); rival:
    the one the ambiguous-structure caution names (:mod:`~pipeline.discovery.ambiguity`)."""
    origin = _origin(winner)
    return [
        {
            "label": model.label,
            "terms": "; ".join(f"{name}: {' + '.join(terms[k] for k in np.flatnonzero(row)) or '0'}"
                               for name, row in zip(names, model.supports)),
            "n_terms": int(model.supports.sum()),
            "function_terms": model.function_terms,
            "fit": model.fit,
            "shooting_error": float(model.shooting),
            "law_keeping": model.conserving,
            "chosen": model.label == origin,
            "rival": rival is not None and model.label == rival.model.label,
        }
        for model in sorted(judgement.models, key=lambda model: model.shooting)
    ]  # fmt: skip


def _selection_metrics(winner: JudgedModel, uncertainty: Uncertainty | None) -> dict[str, float]:
    """The chosen terms' lowest inclusion probability (every judged model's shooting error is in
    :attr:`~pipeline.discovery.result.DiscoveryResult.judged`, not among the metrics)."""
    metrics: dict[str, float] = {}
    if uncertainty is not None:
        metrics["min_inclusion_probability"] = uncertainty.min_inclusion(winner.supports)
    return metrics


def _smoothing(derivatives: list[DerivativeResult], names: tuple[str, ...], scale: np.ndarray) -> dict[str, str]:
    """Per state, how its first trajectory was smoothed: the method, its parameters as chosen from the data (or
    fixed) and the estimated noise sd, back in the state's units from the fitting units (``scale``, (d,));
    ``"savgol+kalman, window_1=31, ..., noise sd 0.0102"``. With several trajectories, each is smoothed on its own:
    the first one stands for them."""
    first = derivatives[0]
    described = {}
    for j, name in enumerate(names):
        params = first.params[j] if j < len(first.params) else {}
        method = str(params.get("method", first.method))
        settings = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items() if k != "method"]
        described[name] = ", ".join([method, *settings, f"noise sd {float(first.noise_sd[j] * scale[j]):.4g}"])
    if len(derivatives) > 1:
        described = {name: f"{text} (trajectory 1 of {len(derivatives)})" for name, text in described.items()}
    return described


def _choices_made(
    derivatives: list[DerivativeResult],
    design: Design,
    judgement: Judgement,
    winner: JudgedModel,
    refinement: Refinement,
    config: DiscoveryConfig,
    reported: Design,
) -> dict[str, object]:
    """What was chosen at each stage, as JSON-safe values (logged as the run's choices); ``reported``: the design at
    the reported model's inner rates."""
    spec = config.library
    used_degrees = design.library.degrees[np.any(winner.supports, axis=0)]
    selection = (
        "fixed threshold"
        if config.threshold is not None
        else f"STLSQ and stepwise paths for degrees {design.degrees}, {design.n_folds}-fold blocked CV,"
        " effective-sample AICc, joint choice by multiple shooting, then backward elimination of terms"
    )
    return {
        "differentiation_method": derivatives[0].method,
        "differentiation_choice": [str(prm.get("method", derivatives[0].method)) for prm in derivatives[0].params],
        "library": f"polynomial degree <= {design.top_degree}, bias {spec.include_bias}, functions "
        + (
            f"auto {sorted({term[0] for term in design.library.functions})}"
            if spec.functions == "auto"
            else str(spec.all_functions)
        )
        + (", with state x function products" if spec.combinations else ""),
        "degree": int(used_degrees.max()) if used_degrees.size else 0,
        "coefficient_fit": winner.fit + (" + shooting refinement" if refinement.improved else ""),
        "model_choice": winner.label,
        "model_choices_judged": sorted(judged.label for judged in judgement.models),
        "selection": selection,
        "selection_rules": [None if rule is None else rule.describe() for rule in winner.rules],
    } | ({"inner_rates": _rates_refined(design, reported, winner, config)} if config.refine_rates else {})


def _rates_refined(design: Design, reported: Design, winner: JudgedModel, config: DiscoveryConfig) -> list[str] | str:
    """What ``discovery.refine_rates`` made of the reported model's inner rates (:func:`describe_rates`), or why it
    refined none."""
    if winner.dense:
        return "not refined: the model is a dense expansion"
    if not config.refine_by_simulation:
        return "not refined: refine_rates refines with the coefficients, and refine_by_simulation is off"
    found = describe_rates(design.library, reported.library, winner.supports)
    return found or "none to refine: the model has no term with an inner rate (exp, x/(K+x), Hill, sigmoid)"


def _with_laws(
    result: DiscoveryResult, laws: np.ndarray, scaling: UnitScaling, names: tuple[str, ...]
) -> DiscoveryResult:
    """The result with the conservation laws it keeps described in the data's units (``chosen``)."""
    if not len(laws):
        return result
    described = [describe_law(weights, scaling.states, names) for weights in laws]
    return replace(result, chosen={**result.chosen, "conservation_laws": described})
