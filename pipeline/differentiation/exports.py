"""Where the public names of :mod:`pipeline.differentiation` live; imported on first use (see :mod:`pipeline.lazy`)."""

from pipeline.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    "pipeline.differentiation",
    {
        "AutoDifferentiator": "pipeline.differentiation.auto",
        "DerivativeResult": "pipeline.differentiation.result",
        "Differentiator": "pipeline.differentiation.base",
        "FiniteDifference": "pipeline.differentiation.finite_difference",
        "KalmanSmoother": "pipeline.differentiation.kalman",
        "LocalPolynomial": "pipeline.differentiation.local_polynomial",
        "METHODS": "pipeline.differentiation.registry",
        "SavitzkyGolay": "pipeline.differentiation.savgol",
        "SmoothingSpline": "pipeline.differentiation.spline",
        "Spectral": "pipeline.differentiation.spectral",
        "TotalVariation": "pipeline.differentiation.total_variation",
        "check_settings": "pipeline.differentiation.derivatives",
        "check_trajectory_lengths": "pipeline.differentiation.derivatives",
        "differentiate": "pipeline.differentiation.derivatives",
        "differentiate_trajectories": "pipeline.differentiation.derivatives",
        "estimate_noise_sd": "pipeline.differentiation.noise",
        "make_differentiator": "pipeline.differentiation.registry",
        "method_class": "pipeline.differentiation.registry",
        "smooth_and_differentiate": "pipeline.differentiation.derivatives",
    },
)
