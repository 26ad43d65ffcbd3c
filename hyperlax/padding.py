"""Which samples of one structure share a padded unit: a cost model of compile time against padded work.

Padding samples with different paddable values into one unit compiles once, but its program runs
each loop as long as the longest lane still training needs it, and every lane computes at the
unit's extents. Grouping them by their values wastes nothing but compiles once per group. The
model prices a unit in seconds: COMPILE_S per compilation, ITERATION_S per loop iteration of its
program and WORK_S per unit of its lanes' work (env steps and sampled gradients), with the
algorithm's `unit_cost` counting iterations and work. It orders the groups of equal paddable values
by their own cost and cuts that order where the total is least (dynamic programming over the
cuts), so it may pad all together, group each apart, or anything between.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from hyperlax.config import flatten

# Measured for PPO on a 2-core CPU (jax 0.10.2) with `python scripts/bench_sweep.py --case mixed`, in
# one sitting: 33 compilations took 10.5 s each; training took 29.0 s sequential (16 units: 295,216
# iterations, 9.3M work), 27.5 s grouped (15 units: 269,608, 9.3M), 255 s padded (one unit: 180,000,
# 146M) and 152 s as the previous model split it, into 2 units (126,832, 62M): least squares over the four.
COMPILE_S = 10.5
ITERATION_S = 53e-6
WORK_S = 1.78e-6
MOST_GROUPS = 128  # more groups of equal paddable values than this: no split is searched (pad together)


@dataclasses.dataclass(frozen=True)
class Split:
    """The cost model's choice for one structure: the padded unit of each of its samples, and why."""

    cluster: list[int]  # per sample (in the given order): the index of its padded unit
    seconds_one_unit: float  # estimated seconds with every sample in one padded unit
    seconds_chosen: float  # estimated seconds of the chosen units

    def summary(self, structure: str) -> dict[str, Any]:
        return {
            "structure": json.loads(structure), "num_samples": len(self.cluster), "units": max(self.cluster) + 1,
            "estimated_s_one_unit": round(self.seconds_one_unit, 1), "estimated_s_chosen": round(self.seconds_chosen, 1),
        }


def seconds(algo: Any, configs: Sequence[dict[str, Any]]) -> float:
    """The estimated seconds of compiling and running `configs` as one padded unit."""
    iterations, work = algo.unit_cost(configs, algo.padded_extents(configs))
    return COMPILE_S + ITERATION_S * iterations + WORK_S * work


def split(algo: Any, configs: Sequence[dict[str, Any]]) -> Split:
    """The cheapest padded units of one structure's configs (see the module docstring)."""
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        flat = flatten(config)
        groups.setdefault(tuple(flat[k] for k in algo.paddable), []).append(i)
    one = seconds(algo, configs)
    if len(groups) == 1 or len(groups) > MOST_GROUPS:
        return Split([0] * len(configs), one, one)
    ordered = sorted(groups.values(), key=lambda ids: seconds(algo, [configs[ids[0]]]))
    best, cut = [0.0] + [float("inf")] * len(ordered), [0] * (len(ordered) + 1)
    for end in range(1, len(ordered) + 1):
        for start in range(end):
            total = best[start] + seconds(algo, [configs[i] for ids in ordered[start:end] for i in ids])
            if total < best[end]:
                best[end], cut[end] = total, start
    cluster, end, index = [0] * len(configs), len(ordered), 0
    while end:  # from the last unit back; numbered so the cheapest groups' unit comes first
        for ids in ordered[cut[end] : end]:
            for i in ids:
                cluster[i] = index
        end, index = cut[end], index + 1
    last = index - 1
    return Split([last - k for k in cluster], one, best[-1])
