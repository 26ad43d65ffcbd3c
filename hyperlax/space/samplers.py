"""Seeded samplers: unit draws (Sobol, random or a Saltelli design) mapped through each distribution."""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
from scipy.stats import qmc

from hyperlax.space.distributions import Distribution
from hyperlax.space.saltelli import saltelli_samples

UNIT_METHODS = ("qmc_sobol", "random")  # what draw_unit draws
SAMPLING_METHODS = (*UNIT_METHODS, "saltelli")


def draw_unit(num_samples: int, num_dims: int, method: str, seed: int) -> np.ndarray:
    """A [num_samples, num_dims] array of numbers in [0, 1), reproducible from `seed`."""
    if method == "qmc_sobol":
        sobol = qmc.Sobol(d=max(num_dims, 1), scramble=True, seed=seed)
        with warnings.catch_warnings():  # any N works; balance is best at powers of two
            warnings.simplefilter("ignore", UserWarning)
            return sobol.random(num_samples)[:, :num_dims]
    if method == "random":
        return np.random.default_rng(seed).random((num_samples, num_dims))
    raise ValueError(f"unknown sampling method {method!r}; expected one of {', '.join(UNIT_METHODS)}")


def draw_samples(
    distributions: Mapping[str, Distribution], num_samples: int, method: str, seed: int
) -> list[dict[str, Any]]:
    """`num_samples` flat dicts of dotted key -> value; list index is the sample_id.

    For "saltelli", `num_samples` is the design's base count N and N * (D + 2) samples come back.
    """
    if method == "saltelli":
        return saltelli_samples(distributions, num_samples, seed)
    keys = list(distributions)
    unit = draw_unit(num_samples, len(keys), method, seed)
    return [
        {key: distributions[key].from_unit(float(u)) for key, u in zip(keys, row)} for row in unit
    ]
