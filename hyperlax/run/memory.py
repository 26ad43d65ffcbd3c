"""Memory: what a batch needs (estimated before compiling), what the device has, and what to do when it runs out.

Each algorithm estimates the bytes one lane keeps while training (`lane_bytes`: parameters,
optimizer state, rollout or replay buffer, env states, one minibatch's activations); one without an
estimate is measured by XLA's memory analysis of one lane. A batch needs
lanes x seeds times that. The estimate is logged before compiling; `--hparam-batch-size auto` picks
the largest batch whose estimate fits half the memory available, the other half left to XLA's
temporaries and the rest of the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from hyperlax.algos.common import LANES
from hyperlax.algos.interface import Algorithm, lane_hparams
from hyperlax.config import flatten
from hyperlax.envs import EnvSpec


MiB = 2**20
SAFETY_FRACTION = 0.5


def available_bytes() -> int:
    """Free memory of the default device: device memory on an accelerator, RAM on the CPU."""
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(
        "cannot tell how much memory is available (no device memory stats, no /proc/meminfo); "
        "give --hparam-batch-size a number instead of auto"
    )


def auto_batch_size(bytes_per_lane: int, num_seeds: int, num_samples: int, available: int) -> int:
    """The largest batch (at most num_samples, at least 1) whose lanes fit the safe share of `available`."""
    fits = int(available * SAFETY_FRACTION) // max(1, bytes_per_lane * num_seeds)
    return max(1, min(num_samples, fits))


def is_out_of_memory(error: BaseException) -> bool:
    """True for an allocation failure of XLA (RESOURCE_EXHAUSTED) or of Python."""
    return isinstance(error, MemoryError) or (
        isinstance(error, jax.errors.JaxRuntimeError) and "RESOURCE_EXHAUSTED" in str(error)
    )


def lane_bytes(algo: Algorithm, config: dict[str, Any], env: EnvSpec, extents: dict[str, int]) -> int:
    """Bytes one lane needs: the algorithm's estimate, or else what XLA plans for one lane's init
    and advance (compiled once here, without running)."""
    if algo.lane_bytes is not None:
        return algo.lane_bytes(config, env, extents)
    segments = algo.make_segments(config, env, extents)

    def one_lane(hparams, key, until):
        return segments.advance(segments.init(hparams, key), hparams, until)

    hparams = lane_hparams(algo, [flatten(config)])
    keys = jax.random.PRNGKey(0)[None]
    lowered = jax.jit(jax.vmap(one_lane, in_axes=(0, 0, None), axis_name=LANES)).lower(hparams, keys, jnp.int32(1))
    stats = lowered.compile().memory_analysis()
    return stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
