"""Search spaces: distributions over hyperparameters and samplers that draw from them."""

from hyperlax.space.distributions import (
    Categorical,
    Distribution,
    Fixed,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Normal,
    Uniform,
    UniformInt,
)
from hyperlax.space.samplers import SAMPLING_METHODS, draw_samples, draw_unit

__all__ = [
    "Categorical",
    "Distribution",
    "Fixed",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "Normal",
    "Uniform",
    "UniformInt",
    "SAMPLING_METHODS",
    "draw_samples",
    "draw_unit",
]
