"""Which samples of one structure share a padded unit: a cost model of compile time against padded work.

Padding samples with different paddable values into one unit compiles once, but its program runs
each loop as long as the longest lane still training needs it, and every lane computes at the
unit's extents. Grouping them by their values wastes nothing but compiles once per group. The
model prices a unit in seconds: `Costs` per compilation, per loop iteration of its program and per
unit of its lanes' work (env steps and sampled gradients), measured per platform, with the
algorithm's `unit_cost` counting iterations and work. It orders the groups of equal paddable values
by their own cost and cuts that order where the total is least (dynamic programming over the
cuts), so it may pad all together, group each apart, or anything between.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import jax

from hyperlax.config import flatten


@dataclasses.dataclass(frozen=True)
class Costs:
    """Seconds per compilation, per loop iteration of a unit's program and per unit of its lanes'
    work, as measured on `platform`."""

    platform: str
    compile_s: float
    iteration_s: float
    work_s: float


# Measured for PPO, each in one sitting; training seconds are wall less the waits for compiles.
COSTS = {
    # A 2-core CPU, jax 0.10.2, `python scripts/bench_sweep.py --case mixed`: 33 compilations took
    # 10.5 s each; training took 29.0 s sequential (16 units: 295,216 iterations, 9.3M work), 27.5 s
    # grouped (15 units: 269,608, 9.3M), 255 s padded (one unit: 180,000, 146M) and 152 s as the
    # previous model split it, into 2 units (126,832, 62M): least squares over the four.
    "cpu": Costs(platform="cpu", compile_s=10.5, iteration_s=53e-6, work_s=1.78e-6),
    # One NVIDIA H200, jax 0.11.2, `bash scripts/bench_device.sh` (docs/bench_gpu.json): 42
    # compilations took 6.5 s each; non-negative least squares over the runs that trained while no
    # compile ran: M16 padded (180,000 iterations, 146M work: 8.6 s), R16 and R64 sequential (460,800,
    # 8.2M: 14.4 s; 1,843,200, 32.8M: 55.2 s) and batched (28,800, 8.2M: 1.7 s; 28,800, 32.8M: 1.9 s).
    "gpu": Costs(platform="gpu", compile_s=6.5, iteration_s=29.6e-6, work_s=2.3e-8),
}
MOST_GROUPS = 128  # more groups of equal paddable values than this: no split is searched (pad together)


@dataclasses.dataclass(frozen=True)
class Split:
    """The cost model's choice for one structure: the padded unit of each of its samples, and why."""

    cluster: list[int]  # per sample (in the given order): the index of its padded unit
    seconds_one_unit: float  # estimated seconds with every sample in one padded unit
    seconds_chosen: float  # estimated seconds of the chosen units
    platform: str  # whose measured costs priced them (`Costs.platform`)

    def summary(self, structure: str) -> dict[str, Any]:
        return {
            "structure": json.loads(structure), "num_samples": len(self.cluster), "units": max(self.cluster) + 1,
            "estimated_s_one_unit": round(self.seconds_one_unit, 1), "estimated_s_chosen": round(self.seconds_chosen, 1),
            "costs_of": self.platform,
        }


def costs(platform: str | None = None) -> Costs:
    """The costs measured on `platform` (default: jax's default backend, where units run); an
    accelerator measured under no name of its own takes the GPU's."""
    platform = platform or jax.default_backend()
    return COSTS.get(platform, COSTS["gpu"])


def seconds(algo: Any, configs: Sequence[dict[str, Any]], costs: Costs) -> float:
    """The estimated seconds of compiling and running `configs` as one padded unit."""
    iterations, work = algo.unit_cost(configs, algo.padded_extents(configs))
    return costs.compile_s + costs.iteration_s * iterations + costs.work_s * work


def split(algo: Any, configs: Sequence[dict[str, Any]], costs: Costs) -> Split:
    """The cheapest padded units of one structure's configs (see the module docstring)."""
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        flat = flatten(config)
        groups.setdefault(tuple(flat[k] for k in algo.paddable), []).append(i)
    one = seconds(algo, configs, costs)
    if len(groups) == 1 or len(groups) > MOST_GROUPS:
        return Split([0] * len(configs), one, one, costs.platform)
    ordered = sorted(groups.values(), key=lambda ids: seconds(algo, [configs[ids[0]]], costs))
    best, cut = [0.0] + [float("inf")] * len(ordered), [0] * (len(ordered) + 1)
    for end in range(1, len(ordered) + 1):
        for start in range(end):
            total = best[start] + seconds(algo, [configs[i] for ids in ordered[start:end] for i in ids], costs)
            if total < best[end]:
                best[end], cut[end] = total, start
    cluster, end, index = [0] * len(configs), len(ordered), 0
    while end:  # from the last unit back; numbered so the cheapest groups' unit comes first
        for ids in ordered[cut[end] : end]:
            for i in ids:
                cluster[i] = index
        end, index = cut[end], index + 1
    last = index - 1
    return Split([last - k for k in cluster], one, best[-1], costs.platform)
