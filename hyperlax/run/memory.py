"""Memory: what a batch needs (estimated before compiling), what the device has, and what to do when it runs out.

Each algorithm estimates the bytes one lane keeps while training (`lane_bytes`: parameters,
optimizer state, rollout or replay buffer, env states, one minibatch's activations); one without an
estimate is measured by XLA's memory analysis of one lane. A batch needs
lanes x seeds times that, split evenly over the devices its lanes are sharded over. The estimate
is logged before compiling; `--hparam-batch-size auto` picks the largest batch whose lanes fit half
the memory available on every device, the other half left to XLA's temporaries and the rest of the
process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from hyperlax.algos.common import LANES, key_shapes
from hyperlax.algos.interface import Algorithm, lane_hparams
from hyperlax.config import flatten
from hyperlax.envs import EnvSpec
from hyperlax.run.devices import padded_lanes


MiB = 2**20
SAFETY_FRACTION = 0.5


def available_bytes(devices: Sequence[jax.Device] = ()) -> int:
    """Free memory per device of `devices` (default: the first device): on accelerators the least
    that any of them has; on the CPU, whose host devices share the RAM, an even share of it."""
    devices = list(devices) or jax.devices()[:1]
    if devices[0].platform != "cpu":
        stats = [device.memory_stats() or {} for device in devices]
        if all("bytes_limit" in s for s in stats):
            return min(int(s["bytes_limit"] - s.get("bytes_in_use", 0)) for s in stats)
    elif len(devices) > 1:
        return _ram_bytes() // len(devices)
    return _ram_bytes()


def _ram_bytes() -> int:
    """MemAvailable of /proc/meminfo."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(
        "cannot tell how much memory is available (no device memory stats, no /proc/meminfo); "
        "give --hparam-batch-size a number instead of auto"
    )


def auto_batch_size(bytes_per_lane: int, num_seeds: int, num_samples: int, available: int, devices: int = 1) -> int:
    """The largest batch (at most num_samples, at least 1) whose lanes x seeds, padded to split
    evenly over `devices`, fit the safe share of `available` (bytes free on each device)."""
    lanes = devices * (int(available * SAFETY_FRACTION) // max(1, bytes_per_lane))
    step = padded_lanes(1, num_seeds, devices)  # batches of a multiple of it need no padding
    fits = lanes // (num_seeds * step) * step or lanes // num_seeds
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
    keys = key_shapes(1)
    lowered = jax.jit(jax.vmap(one_lane, in_axes=(0, 0, None), axis_name=LANES)).lower(hparams, keys, jnp.int32(1))
    stats = lowered.compile().memory_analysis()
    return stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
