"""Saltelli's design for Sobol sensitivity analysis (SALib), mapped through each distribution.

`--num-samples N` is SALib's base count N: a space of D keys gives N * (D + 2) samples (first-order
and total indices, no second order). Powers of two keep the Sobol sequence balanced. Every key
enters the design through its distribution's inverse CDF, like the other samplers; categorical and
fixed keys cannot, and are refused by name.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

from SALib.sample import sobol

from hyperlax.space.distributions import Categorical, Distribution, Fixed


def saltelli_problem(keys: list[str]) -> dict[str, Any]:
    """SALib's problem definition over the unit cube, one variable per key."""
    return {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}


def saltelli_size(n: int, num_keys: int) -> int:
    """How many samples the design of base count `n` over `num_keys` keys holds: n * (D + 2)."""
    return n * (num_keys + 2)


def check_saltelli(distributions: Mapping[str, Distribution]) -> None:
    """Raise a ValueError naming every key that cannot enter the design (categorical or fixed)."""
    refused = [k for k, d in distributions.items() if isinstance(d, (Categorical, Fixed))]
    if refused:
        raise ValueError(
            "--sampling-method saltelli needs numeric distributions (Uniform, LogUniform, UniformInt, ...); "
            f"these keys are categorical or fixed: {', '.join(refused)}. Fix each with --set KEY=VALUE "
            "or give it a numeric distribution in the recipe."
        )
    if not distributions:
        raise ValueError("--sampling-method saltelli needs at least one sampled key")


def saltelli_samples(distributions: Mapping[str, Distribution], n: int, seed: int) -> list[dict[str, Any]]:
    """The N * (D + 2) samples of a scrambled Saltelli design, in SALib's order (sample_id = row)."""
    check_saltelli(distributions)
    keys = list(distributions)
    with warnings.catch_warnings():  # any N works; balance is best at powers of two
        warnings.simplefilter("ignore", UserWarning)
        unit = sobol.sample(saltelli_problem(keys), n, calc_second_order=False, seed=seed)
    return [{key: distributions[key].from_unit(float(u)) for key, u in zip(keys, row)} for row in unit]
