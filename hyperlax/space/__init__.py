"""Search spaces: distributions over hyperparameters and samplers that draw from them."""

from hyperlax.space.distributions import (
    Beta,
    Categorical,
    Distribution,
    Fixed,
    InvLogUniform,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Normal,
    Quantized,
    Uniform,
    UniformInt,
)
from hyperlax.space.samplers import SAMPLING_METHODS, draw_samples, draw_unit

__all__ = [
    "Beta",
    "Categorical",
    "Distribution",
    "Fixed",
    "InvLogUniform",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "Normal",
    "Quantized",
    "Uniform",
    "UniformInt",
    "SAMPLING_METHODS",
    "draw_samples",
    "draw_unit",
]
