"""Sensitivity analysis from samples or a queryable model.

Local: :func:`estimate_gradient`, :func:`estimate_jacobian`, :func:`estimate_hessian` (true
multivariate partials with standard errors). Global: :func:`global_indices` (Sobol S1/ST with
intervals, DGSM at data-scale steps, rank; HDMR or GP surrogate from data).
Checks: :func:`check_gradient`, :func:`physics_residual` (:func:`series_residual` for a multi-trajectory series).
"""

from pipeline.sensitivity.analysis import SensitivityResult, analyze_samples
from pipeline.sensitivity.checks import (
    GradientCheck,
    ResidualReport,
    check_gradient,
    physics_residual,
    series_residual,
)
from pipeline.sensitivity.gaussian_process import GaussianProcessGradient
from pipeline.sensitivity.gradients import (
    GradientMethod,
    estimate_gradient,
    estimate_hessian,
    estimate_jacobian,
    fit_gradient_model,
)
from pipeline.sensitivity.hdmr import HdmrSurrogate
from pipeline.sensitivity.indices import INDEX_COLUMNS, global_indices
from pipeline.sensitivity.local_polynomial import LocalPolynomial
from pipeline.sensitivity.space import InputSpace, Marginal, evaluate_model
from pipeline.sensitivity.steps import StepChoice, choose_steps
from pipeline.sensitivity.verdict import sensitivity_cautions, sensitivity_headline

__all__ = [
    "INDEX_COLUMNS",
    "GaussianProcessGradient",
    "GradientCheck",
    "GradientMethod",
    "HdmrSurrogate",
    "InputSpace",
    "LocalPolynomial",
    "Marginal",
    "SensitivityResult",
    "StepChoice",
    "analyze_samples",
    "ResidualReport",
    "check_gradient",
    "choose_steps",
    "estimate_gradient",
    "estimate_hessian",
    "estimate_jacobian",
    "evaluate_model",
    "fit_gradient_model",
    "global_indices",
    "physics_residual",
    "sensitivity_cautions",
    "sensitivity_headline",
    "series_residual",
]
