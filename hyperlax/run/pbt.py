"""Population-based training across the samples of a unit (Jaderberg et al. 2017, as Ray Tune's PBT).

At every milestone that crosses a multiple of `perturbation_interval` env steps (before the last),
the unit's samples are ranked by their evaluation there (the mean over seeds). Each sample of the
bottom `quantile_fraction` exploits one of the top `quantile_fraction`, drawn at random: its lanes
take a copy of that sample's whole lane state (parameters, optimizer state, env states, buffers,
keys) and its hyperparameters; then it explores: each float hyperparameter the recipe samples is
redrawn from its distribution with probability `resample_probability`, else multiplied by one of
`perturbation_factors` (a categorical one moves to a neighbouring value), and kept inside the
distribution's bounds (Ray does not bound them; a gamma above 1 would diverge). Draws come from a generator
seeded by (sweep seed, the unit's first sample id, interval), so a resumed sweep decides the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from hyperlax.space.distributions import Categorical, Distribution


class Options(NamedTuple):
    perturbation_interval: int  # env steps
    quantile_fraction: float
    resample_probability: float
    perturbation_factors: tuple[float, ...]
    keys: tuple[str, ...]  # the float hyperparameters it explores
    distributions: dict[str, Distribution]


class Exploit(NamedTuple):
    child: int  # sample index (in the unit) that takes a copy
    parent: int  # sample index it copies
    hyperparams: dict[str, float]  # the child's explored values of `keys`


def check(settings: Options, milestones: Sequence[int]) -> None:
    """Raise ValueError naming a bad PBT argument."""
    if not settings.keys:
        raise ValueError(
            "--pbt needs at least one vectorized (float) hyperparameter the recipe samples; it samples none"
        )
    if settings.perturbation_interval < 1:
        raise ValueError(f"--perturbation-interval must be a positive number of env steps, got {settings.perturbation_interval}")
    if not intervals(settings, milestones):
        raise ValueError(
            f"--perturbation-interval {settings.perturbation_interval} leaves no perturbation before the last "
            f"milestone ({milestones[-1]} env steps)"
        )
    if not 0 < settings.quantile_fraction <= 0.5:
        raise ValueError(f"--quantile-fraction must be in (0, 0.5], got {settings.quantile_fraction}")
    if not 0 <= settings.resample_probability <= 1:
        raise ValueError(f"--resample-probability must be in [0, 1], got {settings.resample_probability}")
    if not settings.perturbation_factors or min(settings.perturbation_factors) <= 0:
        raise ValueError(f"--perturbation-factors must be positive numbers, got {settings.perturbation_factors}")


def intervals(settings: Options, milestones: Sequence[int]) -> list[int]:
    """The milestone indices (before the last) at which the population exploits and explores."""
    every = settings.perturbation_interval
    return [i for i in range(len(milestones) - 1) if milestones[i] // every > (milestones[i - 1] if i else 0) // every]


def step(
    settings: Options, values: Sequence[float], hyperparams: Sequence[dict[str, float]], seed: int, unit_id: int, interval: int
) -> list[Exploit]:
    """The exploits of one interval, given each sample's evaluation and current hyperparameters."""
    rng = np.random.default_rng([seed, unit_id, interval])
    ranked = sorted(range(len(values)), key=lambda i: (-values[i] if np.isfinite(values[i]) else np.inf, i))
    count = min(math.ceil(len(values) * settings.quantile_fraction), len(values) // 2)
    top, bottom = ranked[:count], ranked[len(ranked) - count :]
    exploits = []
    for child in bottom:
        parent = top[int(rng.integers(len(top)))]
        exploits.append(Exploit(child, parent, explore(settings, hyperparams[parent], rng)))
    return exploits


def explore(settings: Options, hyperparams: dict[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Perturb or resample each explored key, within its distribution's bounds."""
    new = {}
    for key in settings.keys:
        dist = settings.distributions[key]
        if rng.random() < settings.resample_probability:
            value = float(dist.from_unit(float(rng.random())))
        elif isinstance(dist, Categorical):  # a neighbouring value, as Ray does for lists
            values = sorted(dist.values)
            nearest = int(np.argmin([abs(v - hyperparams[key]) for v in values]))
            value = values[int(np.clip(nearest + rng.choice([-1, 1]), 0, len(values) - 1))]
        else:
            value = hyperparams[key] * float(rng.choice(settings.perturbation_factors))
        low, high = bounds(dist)
        new[key] = float(np.clip(value, low, high))
    return new


def bounds(dist: Distribution) -> tuple[float, float]:
    """The smallest and largest value the distribution draws (±inf when unbounded)."""
    if isinstance(dist, Categorical):
        return float(min(dist.values)), float(max(dist.values))
    domain = getattr(dist, "domain", None)
    return (float(domain[0]), float(domain[1])) if domain is not None else (-np.inf, np.inf)


def schedule(lineage: Sequence[dict[str, Any]], sample_id: int) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """The root sample whose key started `sample_id`'s final state, and the hyperparameters that
    state trained with, as (first milestone index, hyperparameters) from interval to interval.

    `lineage` rows are those `lineage.csv` holds: per interval (0: the start) and sample, its
    parent (itself when it did not exploit), the first segment its hyperparameters train
    (`from_segment`) and those hyperparameters.
    """
    by = {(int(r["interval"]), int(r["sample_id"])): r for r in lineage}
    owner, pieces = sample_id, []
    for interval in sorted({int(r["interval"]) for r in lineage}, reverse=True):
        row = by[(interval, owner)]
        pieces.append((int(row["from_segment"]), row))
        owner = int(row["parent_id"])
    return owner, pieces[::-1]
