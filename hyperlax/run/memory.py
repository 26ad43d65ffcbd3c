"""Memory: what a batch needs (estimated before compiling), what the device has, and what to do when it runs out.

Each algorithm estimates the bytes one lane keeps while training (`lane_bytes`: parameters,
optimizer state, rollout or replay buffer, env states, one minibatch's activations). A batch needs
lanes x seeds times that. The estimate is logged before compiling; `--hparam-batch-size auto` picks
the largest batch whose estimate fits half the memory available, the other half left to XLA's
temporaries and the rest of the process.
"""

from __future__ import annotations

from pathlib import Path

import jax

from hyperlax.errors import OutOfMemoryError  # noqa: F401  (raised by the executor)

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
